# -*- coding: utf-8 -*-
# Copyright: (c) 2026, GameOps release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# This module_utils is PRIVATE to gameops.elastic_release; its API may change without notice.
"""The first step of every release flow: every refusal that does not need ZooKeeper, in one place.

Tianti passes a flow's parameters; this checks them against the release registry (WallE's
SpecialRelease table, kept in the inventory) and the CMDB inventory, resolves paths once, reads the
package, and returns every problem at once - so one run names everything that is wrong, and
nothing is written. The action plugin `flow_check` adds the checks that need ZooKeeper (the
ownership guard, the size of the transaction) by planning the write in check mode.
No Ansible imports here.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import re

from .._host.cmdb import group_suffix
from .gate import mask_url
from .._release.names import InvalidName, validate_item, validate_release

RELEASE_TYPES = ('production', 'review', 'gray')
# flow -> the registry type its release must have (None: any), and what it takes.
FLOWS = {
    'production': {'type': 'production', 'package': True},
    'review': {'type': 'review', 'package': True},
    'gray': {'type': 'gray', 'package': True},
    'promote': {'type': 'gray', 'package': True},
    'rollback': {'type': None},
    'retire': {'type': None},
    'widen': {'type': 'gray', 'items': True},
    'narrow': {'type': 'gray', 'items': True},
    'deploy': {'type': None, 'package': True},
    'audit': {'type': None, 'no_release': True},
    'map': {'type': None, 'no_release': True},
}
PUBLISHING = ('production', 'review', 'gray', 'promote')


def productions(registry):
    return sorted(name for name, entry in registry.items()
                  if isinstance(entry, dict) and entry.get('type') == 'production')


class FlowParams(object):
    def __init__(self, flow, release='', package='', name_pattern='', sections=None, servers=None, steps=None,
                 all_items=False, cwd=None, gate=None, allow_chunked=False, release_items=None,
                 allow_other_build=False, change='', revision='', list_revisions=False):
        self.flow = flow
        self.release = release or ''
        self.package = package or ''
        self.name_pattern = name_pattern or None
        self.sections = sections
        self.servers = servers
        self.steps = steps
        self.all_items = bool(all_items)
        self.cwd = cwd or os.getcwd()
        self.gate = gate or {}
        self.allow_chunked = bool(allow_chunked)
        self.release_items = release_items or []    # sections and servers the operator gives up
        self.allow_other_build = bool(allow_other_build)
        self.change = change or ''
        self.revision = revision or ''
        self.list_revisions = bool(list_revisions)


def check(params, registry, groups, package_name=None, read_package=None):
    """(problems, info). package_name(path, pattern) -> (release, build) raising ValueError;
    read_package(path, release, pattern) -> (config, indicator bytes) raising ValueError."""
    flow = params.flow
    spec = FLOWS.get(flow)
    if spec is None:
        return ['unknown flow %r (known: %s)' % (flow, ', '.join(sorted(FLOWS)))], {}
    problems = []
    info = {'flow': flow, 'release': params.release or None, 'package': None, 'package_path': None, 'build': None,
            'registry_entry': None, 'steps': [], 'config': None, 'indicator': None, 'package_release': None}
    release = params.release
    if spec.get('no_release') and not release:
        return problems, info
    if flow == 'deploy' and not release and params.package and package_name is not None:
        # A deploy takes its release from the package name (-e release=..., when given, must match).
        try:
            release = params.release = package_name(params.package, params.name_pattern)[0]
            info['release'] = release
        except ValueError:
            pass
    if not release:
        problems.append('missing parameter release: pass -e release=<release name>')
    else:
        try:
            validate_release(release)
        except InvalidName as exc:
            problems.append(str(exc))
            release = ''
    if not isinstance(registry, dict):
        problems.append('elastic_release_registry must be a mapping of release name to {type, location}, got %s'
                        % type(registry).__name__)
        registry = {}
    entry = registry.get(release) if release else None
    kind = entry.get('type') if isinstance(entry, dict) else None
    location = entry.get('location') if isinstance(entry, dict) else None
    if release and entry is None:
        problems.append('release %s is not registered in elastic_release_registry (registered: %s): register it in '
                        'the inventory first, see docs/registry.md' % (release, ', '.join(sorted(registry)) or 'none'))
    elif entry is not None and (kind not in RELEASE_TYPES or not location):
        problems.append('release registry entry %s must be a mapping with type (production, review or gray) and '
                        'location, got %r' % (release, entry))
        kind = None
    info['registry_entry'] = entry
    info['location_group'] = 'location_%s' % group_suffix(location) if location else None
    if kind and spec['type'] and kind != spec['type']:
        if flow == 'promote' or spec.get('items'):
            problems.append('release %s is registered as a %s release: the %s flow works on gray releases'
                            % (release, kind, flow))
        else:
            problems.append('release %s is registered as a %s release, not as a %s release: run playbooks/%s.yml'
                            % (release, kind, flow, kind))
    if flow == 'retire' and kind == 'production':
        problems.append('release %s is registered as a production release: the retire flow removes review and gray '
                        'releases only' % release)
    if flow in PUBLISHING and kind == 'review' and location and location != release:
        problems.append('review release %s must be named after its CMDB deploy location, but the registry gives '
                        'location %s' % (release, location))
    if flow in ('production', 'promote') and len(productions(registry)) > 1:
        problems.append('more than one production release is registered (%s): one game project has one default release'
                        % ', '.join(productions(registry)))
    if flow in PUBLISHING and location and groups is not None and 'location_%s' % group_suffix(location) not in groups:
        problems.append('deploy location %s of release %s is not in the CMDB inventory (no group location_%s): check '
                        'the inventory source given with -i' % (location, release, group_suffix(location)))
    info['allow_chunked'] = params.allow_chunked
    if params.allow_chunked and flow not in PUBLISHING:
        problems.append('allow_chunked=true is for the flows that publish a package (%s), not for the %s flow'
                        % (', '.join(PUBLISHING), flow))
    if flow == 'rollback' and params.change and params.revision:
        problems.append('give -e change=<id> or -e revision=<revision>, not both')
    if spec.get('items'):
        info['steps'] = _steps(params, problems)
        info['gate'] = _gate(params.gate, problems)
    if spec.get('package'):
        _package(params, info, problems, release, registry, package_name, read_package)
    return problems, info


def _package(params, info, problems, release, registry, package_name, read_package):
    flow = params.flow
    if not params.package:
        problems.append('missing parameter package: pass -e package=<path of the server package>')
        return
    path = os.path.normpath(os.path.join(params.cwd, os.path.expanduser(params.package)))
    info['package_path'] = path
    info['package'] = os.path.basename(path)
    expected = release
    if flow == 'promote':
        names = productions(registry)
        expected = names[0] if len(names) == 1 else None
        if not names:
            problems.append('no production release is registered: the promote flow publishes the production package')
    try:
        named, build = package_name(path, params.name_pattern)
    except ValueError as exc:
        problems.append(str(exc))
        return
    info['build'] = build
    info['package_release'] = expected
    if expected and named != expected:
        if flow == 'promote':
            problems.append('package %s is a package of release %s, not of the production release %s: promote '
                            'publishes the production package of the build that ran as %s'
                            % (info['package'], named, expected, release))
        else:
            problems.append('package %s is a package of release %s, not of release %s: the release in the package '
                            'name must be the release parameter' % (info['package'], named, expected))
        return
    if not os.path.isfile(path):
        problems.append('package %s does not exist or is not a file%s' % (
            path, ' (a relative path is taken from %s, where ansible-playbook runs)' % params.cwd
            if not os.path.isabs(os.path.expanduser(params.package)) else ''))
        return
    if read_package is None or not expected:
        return
    try:
        info['config'], info['indicator'] = read_package(path, expected, params.name_pattern)
    except ValueError as exc:
        problems.append(str(exc))


def _items(kind, values, problems, where):
    out = []
    if values is None:
        return out
    if isinstance(values, (str, int)) and not isinstance(values, bool):
        values = [v for v in re.split(r'[\s,]+', str(values)) if v]
    if not isinstance(values, (list, tuple)):
        problems.append('%s must be a list of %s, got %r' % (where, kind, values))
        return out
    for value in values:
        try:
            out.append(validate_item(kind, str(value) if isinstance(value, int) and not isinstance(value, bool)
                                     else value))
        except InvalidName as exc:
            problems.append('%s: %s' % (where, exc))
    return out


def _json_value(value, what, problems):
    """A list given on the command line as text (-e 'steps=[[1003],[1004]]') is parsed as JSON."""
    if isinstance(value, str) and value.strip()[:1] in ('[', '{'):
        try:
            return json.loads(value)
        except ValueError as exc:
            problems.append('%s is not valid JSON: %s (write it without spaces, or pass -e \'{"%s": ...}\')'
                            % (what, exc, what))
            return None
    return value


def _gate(gate, problems):
    """The pause and health gate of a widen or narrow, checked before the first step moves anything.
    The URL is returned masked (its credentials and query values are secrets): the move role takes
    the raw one from the flow's -e gate_url."""
    out = {'url': '', 'command': [], 'timeout': 60, 'interval': 5, 'pause': 0, 'try_timeout': 30,
           'follow_redirects': bool(gate.get('follow_redirects'))}
    url = gate.get('url') or ''
    if url:
        shown = mask_url(url) if isinstance(url, str) else '(not a string)'
        if not isinstance(url, str) or not re.match(r'^https?://[\x21-\x7e]+\Z', url):
            problems.append('gate_url must be an http:// or https:// URL, got %r' % (shown,))
        out['url'] = shown
    command = _json_value(gate.get('command'), 'gate_command', problems)
    if command not in (None, '', []):
        if not isinstance(command, list) or not command or not all(isinstance(a, str) for a in command):
            problems.append('gate_command must be a list of arguments (no shell), for example '
                            '\'["/usr/local/bin/check", "gray1"]\', got %r' % (command,))
        else:
            out['command'] = command
    if out['url'] and out['command']:
        problems.append('give gate_url or gate_command, not both')
    for key, low in (('timeout', 0), ('interval', 1), ('pause', 0), ('try_timeout', 1)):
        value = gate.get(key)
        if value in (None, ''):
            continue
        try:
            number = int(value)
        except (TypeError, ValueError):
            number = None
        if number is None or number < low:
            problems.append('%s must be a whole number of seconds (at least %d), got %r'
                            % ('pause_seconds' if key == 'pause' else 'gate_' + key, low, value))
        else:
            out[key] = number
    return out


def _steps(params, problems):
    """[{'sections': [...], 'servers': [...]}] of a widen or narrow: one step, or -e steps."""
    if params.steps not in (None, '', []):
        steps = _json_value(params.steps, 'steps', problems)
        if steps is None:
            return []
        if not isinstance(steps, (list, tuple)) or not all(isinstance(s, (list, tuple, dict)) for s in steps):
            problems.append('steps must be a list of steps, each a list of section ids or a mapping with sections '
                            'and servers, for example [[1003], [1004, 1005]], got %r' % (steps,))
            return []
        out = []
        for i, step in enumerate(steps):
            where = 'steps[%d]' % i
            if isinstance(step, dict):
                unknown = sorted(set(step) - set(['sections', 'servers']))
                if unknown:
                    problems.append('%s: unknown key %s (sections, servers)' % (where, unknown[0]))
                item = {'sections': _items('sections', step.get('sections'), problems, where),
                        'servers': _items('servers', step.get('servers'), problems, where)}
            else:
                item = {'sections': _items('sections', list(step), problems, where), 'servers': []}
            if not item['sections'] and not item['servers']:
                problems.append('%s moves nothing' % where)
            out.append(item)
        if params.sections or params.servers:
            problems.append('give either steps or sections/servers, not both')
        seen = set()
        for item in out:
            for kind in ('sections', 'servers'):
                for name in item[kind]:
                    if (kind, name) in seen:
                        problems.append('%s %s is in more than one step' % (kind[:-1], name))
                    seen.add((kind, name))
        return out
    sections = _items('sections', params.sections, problems, 'sections')
    servers = _items('servers', params.servers, problems, 'servers')
    if not sections and not servers and not (params.flow == 'narrow' and params.all_items):
        problems.append('nothing to %s: pass -e sections=<ids> (and/or -e servers=<ips>)%s'
                        % (params.flow, ', or -e all=true' if params.flow == 'narrow' else ' or -e steps=...'))
    if params.flow == 'widen' and params.all_items:
        problems.append('all=true narrows everything a release holds by a move: use it with the narrow flow')
    return [{'sections': sections, 'servers': servers}] if (sections or servers or params.all_items) else []


def cmdb_hosts(hostnames, hostvars):
    """[{name, inner_ip, section_ids, deploy_location, services}] of the inventory hosts."""
    out = []
    for name in hostnames:
        hv = hostvars(name)
        out.append({'name': name, 'inner_ip': hv.get('inner_ip'), 'section_ids': list(hv.get('section_ids') or []),
                    'deploy_location': hv.get('deploy_location'), 'services': list(hv.get('services') or [])})
    return out
