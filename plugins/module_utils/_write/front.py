# -*- coding: utf-8 -*-
# Copyright: (c) 2026, GameOps release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# This module_utils is PRIVATE to gameops.elastic_release; its API may change without notice.
"""The front of every module that writes release nodes (zk_release_node, zk_release_move,
zk_release_revision): the write options, the session, the failure handling, the result and the
diff, written once.

`execute` runs a module's work and maps every failure to one `fail_json` that says whether
anything was written: `write_outcome: unknown` when a transaction's fate is not known (with how to
converge), `not_written` when the write was refused or failed before committing.
No Ansible imports here: the module object is used through its methods only.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re

from .._release.config import ConfigError
from .._release.names import (DEFAULT_ADMIN_ROOT, DEFAULT_KEEP_BUILDS, DEFAULT_KEEP_REVISIONS, DEFAULT_LOCK_TIMEOUT,
                              DEFAULT_MAX_REQUEST_BYTES, DEFAULT_RELEASE_PATH, InvalidName, RELEASES_ROOT,
                              validate_admin_root, validate_item)
from .._release.ownership import ALL_ITEMS
from .._release.releasemap import ReleaseMap
from .._release.state import state_display
from .._zk.options import OptionAdapter, argument_spec
from .._zk.session import ZkError
from . import impact as _impact
from .change import Options
from .transaction import WriteUnknown, apply

REQUEST_ID = re.compile(r'^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}\Z')
# Errors a caller can fix (bad input, a refusal, ZooKeeper's answer): reported, never a traceback.
USER_ERRORS = (ConfigError, InvalidName, ZkError, ValueError, OSError)


def write_spec():
    """The options of every module that writes release nodes (doc fragment gameops.elastic_release.write)."""
    return dict(
        admin_root=dict(type='str', default=DEFAULT_ADMIN_ROOT),
        keep_changes=dict(type='int', default=DEFAULT_KEEP_REVISIONS, aliases=['keep_revisions']),
        keep_builds=dict(type='int', default=DEFAULT_KEEP_BUILDS),
        release_items=dict(type='list', elements='str', default=[]),
        lock_timeout=dict(type='float', default=DEFAULT_LOCK_TIMEOUT),
        max_request_bytes=dict(type='int', default=DEFAULT_MAX_REQUEST_BYTES),
        allow_chunked=dict(type='bool', default=False),
        impact_hosts=dict(type='list', elements='dict', default=[]),
        acl=dict(type='str', default='auto', choices=['auto', 'open', 'private']),
        request_id=dict(type='str'),
    )


def write_argument_spec(**own):
    """connection options + write options + the module's own."""
    spec = write_spec()
    spec.update(own)
    return argument_spec(**spec)


def execute(module, work, prepare=None, prefix='', unknown_prefix=None, base=None, invocation=False):
    """Run a writing module's request and return what work(session, opts, prepared) returns.

    prepare(opts), when given, checks and builds the request before any connection (a bad request
    is refused without talking to ZooKeeper). Every failure ends the module here:
    `write_outcome: unknown` when a commit's fate is not known, `not_written` otherwise. prefix
    starts the message (unknown_prefix that of an unknown outcome, prefix when not given); base is
    merged into the failure result; invocation=True reports the (printable) parameters of a
    refused request.
    """
    try:
        opts = options_from_params(module.params)
        prepared = prepare(opts) if prepare else None
        with OptionAdapter.from_module(module).session() as session:
            return work(session, opts, prepared)
    except WriteUnknown as exc:
        module.fail_json(msg=(prefix if unknown_prefix is None else unknown_prefix) + str(exc),
                         write_outcome='unknown', **_failed(base))
    except USER_ERRORS as exc:
        extra = _failed(base)
        if invocation:
            extra['invocation'] = {'module_args': printable(module.params)}
        module.fail_json(msg=prefix + str(exc), write_outcome='not_written', **extra)


def _failed(base):
    # read when the failure happens: work may have added to base (what it read before failing)
    out = dict(base or {})
    out.setdefault('changed', False)
    return out


def finish(module, release, outcome, extra=None, indicator=None, max_reported=1000, drop=()):
    """The module's result of a write, with `extra` on top (and the diff when diff mode is on),
    then exit_json."""
    out = result(release, outcome, max_reported)
    for key in drop:
        out.pop(key, None)
    out.update(extra or {})
    if module._diff:
        out['diff'] = diff(outcome, release, indicator)
    module.exit_json(**out)


def run(session, intent, opts, check_mode, impact_hosts=None):
    """Plan and write (or, in check mode, plan) the intent; the outcome carries its impact."""
    outcome = apply(session, intent, opts, check_mode=check_mode)
    attach_impact(session, outcome, impact_hosts)
    return outcome


def options_from_params(p):
    """The write options (doc fragment gameops.elastic_release.write), validated."""
    admin_root = validate_admin_root(p.get('admin_root') or DEFAULT_ADMIN_ROOT)
    keep = p.get('keep_changes', p.get('keep_revisions'))
    if keep is not None and keep < 1:
        # named as the task wrote it (keep_revisions is the option's earlier name)
        named = 'keep_revisions' if p.get('keep_revisions') is not None else 'keep_changes'
        raise ValueError('%s must be at least 1, got %d' % (named, keep))
    keep_builds = p.get('keep_builds')
    if keep_builds is not None and keep_builds < 0:
        raise ValueError('keep_builds must not be negative, got %d' % keep_builds)
    limit = p.get('max_request_bytes')
    if limit is not None and limit < 4096:
        raise ValueError('max_request_bytes must be at least 4096, got %d' % limit)
    lock_timeout = p.get('lock_timeout')
    if lock_timeout is not None and lock_timeout < 0:
        raise ValueError('lock_timeout must not be negative, got %s' % lock_timeout)
    return Options(admin_root=admin_root, keep=DEFAULT_KEEP_REVISIONS if keep is None else keep,
                   max_request_bytes=DEFAULT_MAX_REQUEST_BYTES if limit is None else limit,
                   allow_chunked=bool(p.get('allow_chunked')),
                   lock_timeout=DEFAULT_LOCK_TIMEOUT if lock_timeout is None else float(lock_timeout),
                   keep_builds=DEFAULT_KEEP_BUILDS if keep_builds is None else keep_builds,
                   release_items=release_items(p.get('release_items')),
                   request_id=request_id(p.get('request_id')))


def request_id(value):
    """A write's request id as the flows pass it; None when not given."""
    if value in (None, ''):
        return None
    if not isinstance(value, str) or not REQUEST_ID.match(value):
        raise ValueError('request_id must be 1-100 letters, digits, ".", "_", ":" or "-", starting with a letter '
                         'or a digit, got %r' % (value,))
    return value


def release_items(values):
    """The sections and servers an operator gives up: names (a list, or text separated by commas or
    spaces, as -e release_items=1003,10.1.0.12 passes them), or 'all'. Invalid names are refused."""
    if isinstance(values, str):
        values = values.replace(',', ' ').split()
    out = []
    for value in values or []:
        value = str(value).strip()
        if not value:
            continue
        if value != ALL_ITEMS:
            try:
                value = validate_item('servers', value)
            except InvalidName:
                value = validate_item('sections', value)
        if value not in out:
            out.append(value)
    return out


def printable(value):
    """value with strings UTF-8 cannot encode (lone surrogates) shown as escapes, so that a result
    echoing a refused parameter can still be read by the controller."""
    if isinstance(value, str):
        try:
            value.encode('utf-8')
            return value
        except UnicodeEncodeError:
            return value.encode('utf-8', 'backslashreplace').decode('utf-8')
    if isinstance(value, dict):
        return dict((printable(k), printable(v)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return [printable(v) for v in value]
    return value


def attach_impact(session, outcome, hosts=None):
    """outcome.impact: what the change does to the release map (empty when nothing changes)."""
    if not outcome.changed:
        outcome.impact = _impact.compute(ReleaseMap(), {}, {}, outcome.default_before, outcome.default_after, [],
                                         outcome.notes)
        return outcome
    # Membership of the releases the write did not touch is all the impact needs of them: an item's
    # data counts only where it stays with a touched release, and those states are in the outcome.
    rmap = outcome.rmap
    if rmap is None:
        rmap = ReleaseMap.load(session)
    outcome.impact = _impact.compute(rmap, outcome.before, outcome.after, outcome.default_before,
                                     outcome.default_after, hosts or [], outcome.notes)
    return outcome


def result(release, outcome, max_reported=1000):
    out = outcome.as_dict()
    out['release'] = release
    impact = getattr(outcome, 'impact', None)
    if impact is not None:
        out['impact'] = impact
        out['impact_table'] = _impact.table(impact)
    ops = out['operations']
    out['operations_truncated'] = len(ops) > max_reported
    out['operations'] = ops[:max_reported]
    return out


def diff(outcome, release, indicator=None):
    """before/after of every release the write touched (the main release first), as JSON text."""
    names = [release] + sorted(r for r in outcome.before if r != release)
    before, after = [], []
    for name in names:
        if name not in outcome.before:
            continue
        header = '' if name == release else '# %s/%s\n' % (RELEASES_ROOT, name)
        before.append(header + _json(outcome.before[name]))
        after.append(header + _json(outcome.after.get(name)))
    out = {
        'before': ''.join(before) or '{}\n',
        'after': ''.join(after) or '{}\n',
        'before_header': '%s/%s' % (RELEASES_ROOT, release),
        'after_header': '%s/%s' % (RELEASES_ROOT, release),
    }
    if indicator is not None and outcome.default_before != outcome.default_after:
        out['before'] += '%s: %s\n' % (DEFAULT_RELEASE_PATH, outcome.default_before)
        out['after'] += '%s: %s\n' % (DEFAULT_RELEASE_PATH, outcome.default_after)
    return out


def _json(state):
    return json.dumps(state_display(state) if state else {}, indent=2, sort_keys=True) + '\n'
