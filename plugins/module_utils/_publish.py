# -*- coding: utf-8 -*-
# Copyright: (c) 2026, GameOps release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# This module_utils is PRIVATE to gameops.elastic_release; its API may change without notice.
"""From module parameters to a release Request, and from an Outcome to the module's result.

Everything here runs before connecting: invalid names, configs or packages fail with nothing written.
No Ansible imports here.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ._config import ConfigError, encode, parse_config, parse_config_text
from ._names import NameError_, validate_admin_root, validate_release
from ._release import Request, apply, empty_state, state_display, state_from_config
from ._zk import ZkError

USER_ERRORS = (ConfigError, NameError_, ZkError, ValueError, OSError)


def load_config_file(path):
    try:
        with open(path, 'rb') as f:
            data = f.read(8 * 1024 * 1024 + 1)
    except (IOError, OSError) as exc:
        raise ConfigError('cannot read config file %s: %s' % (path, exc.strerror or exc))
    return parse_config_text(data, source=path)


def load_package(path, release, name_pattern=None):
    """(ReleaseConfig, indicator bytes) read from inside a server package, checked against release."""
    from ._server_package import read_package_for_publish
    return read_package_for_publish(path, release, name_pattern)


def request_from_params(p, package_label=None):
    release = validate_release(p['release'])
    admin_root = validate_admin_root(p.get('admin_root') or '/elastic_release')
    if p.get('keep_revisions') is not None and p['keep_revisions'] < 1:
        raise ValueError('keep_revisions must be at least 1, got %d' % p['keep_revisions'])
    if p.get('max_request_bytes') is not None and p['max_request_bytes'] < 4096:
        raise ValueError('max_request_bytes must be at least 4096, got %d' % p['max_request_bytes'])
    indicator = None
    if p.get('state', 'present') == 'absent':
        desired = empty_state(False)
        if p.get('set_default') or p.get('append_versions_to_default'):
            raise ValueError('set_default and append_versions_to_default need state=present')
    else:
        if p.get('package'):
            cfg, indicator_bytes = load_package(p['package'], release, p.get('name_pattern'))
        elif p.get('config_file'):
            cfg, indicator_bytes = load_config_file(p['config_file']), None
        else:
            cfg, indicator_bytes = parse_config(p['config'], source='config'), None
        desired = state_from_config(cfg)
        if p.get('set_default'):
            indicator = indicator_bytes if indicator_bytes is not None else encode({'name': release})
    if p.get('verify') == 'fast' and p.get('mode') == 'merge':
        raise ValueError('verify=fast works with mode=replace only (merge must read every node)')
    return Request(
        release, desired=desired, mode=p.get('mode') or 'replace', indicator=indicator,
        append_to_default=bool(p.get('append_versions_to_default')), admin_root=admin_root,
        keep=p.get('keep_revisions') or 20, max_request_bytes=p.get('max_request_bytes') or 1000000,
        allow_chunked=bool(p.get('allow_chunked')), lock_timeout=p.get('lock_timeout') or 30.0,
        verify=p.get('verify') or 'full', package=p.get('origin') or package_label,
        action=p.get('action') or 'publish', keep_appended=p.get('keep_appended_versions', True) is not False)


def run(session, request, check_mode):
    return apply(session, request, check_mode=check_mode)


def result(release, outcome, max_reported=1000):
    out = outcome.as_dict()
    out['release'] = release
    ops = out['operations']
    out['operations_truncated'] = len(ops) > max_reported
    out['operations'] = ops[:max_reported]
    return out


def diff(outcome, request):
    before = state_display(outcome.before) if outcome.before else {}
    after = state_display(outcome.after) if outcome.after else {}
    out = {
        'before': json.dumps(before, indent=2, sort_keys=True) + '\n',
        'after': json.dumps(after, indent=2, sort_keys=True) + '\n',
        'before_header': '/releases/%s' % request.release,
        'after_header': '/releases/%s' % request.release,
    }
    if request.indicator is not None and outcome.default_before != outcome.default_after:
        out['before'] += '/default_release: %s\n' % outcome.default_before
        out['after'] += '/default_release: %s\n' % outcome.default_after
    return out
