# -*- coding: utf-8 -*-
# Copyright: (c) 2026, GameOps release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# This module_utils is PRIVATE to gameops.elastic_release; its API may change without notice.
"""The instances a fleet should run, decided on the controller from the inventory and one map read.

A service runs per section (one instance per section id the CMDB gives the host, with the release
that owns that section) or per host (one instance, with the release that owns the inner IP). The
inventory says which in `elastic_release_services`; a service it does not name runs per host.

`plan_host` turns one host's inventory facts into its instances (no ZooKeeper); `resolve` gives
each instance its owner, the build it should run (the start-version order) and its global URL from
a `ReleaseIndex` loaded once for the whole play. No Ansible imports here.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from .._release.names import InvalidName, validate_item
from .._report.lookup import LookupFailed
from .service import DEFAULT_COMMAND, PLACEHOLDERS, SECTION_ARGS, ServiceError, answer_version, render_command, validate_service

PER = ('section', 'host')
DEFAULT_PER = 'host'
SPEC_KEYS = ('per', 'command')


class Spec(object):
    """How one service runs: per section or per host, and its command template.

    command: the service's own (elastic_release_services), the same on every host; None leaves the
    command to each host's task (server_start_command, templated per host, else the default)."""

    def __init__(self, name, per=DEFAULT_PER, command=None):
        self.name = name
        self.per = per
        self.command = command

    def template(self, per=None):
        """per: the instance's own (a host pinned to one section runs a per-host service for it)."""
        if self.command:
            return list(self.command)
        return list(DEFAULT_COMMAND) + (list(SECTION_ARGS) if (per or self.per) == 'section' else [])


def parse_specs(mapping, services, default_command=None):
    """{service: Spec} for the services to run.

    mapping: the inventory's `elastic_release_services` ({name: {per, command}}); services: the names
    to run (every key of the mapping when it is not empty). default_command: the template of a
    service whose entry has no command (the role's server_start_command). Refuses before anything
    is read: an unknown `per`, a command that is not a list of strings, a per-section service whose
    command lacks {section_id} (every section's instance would run the same command line).
    """
    where = 'elastic_release_services'
    if mapping in (None, ''):
        mapping = {}
    if not isinstance(mapping, dict):
        raise ServiceError('%s must be a mapping of service name to {"per": "section" or "host"}, got %r'
                           % (where, mapping))
    out = {}
    for name in services:
        validate_service(name)
        entry = mapping.get(name)
        entry = {} if entry is None else entry
        if not isinstance(entry, dict):
            raise ServiceError('%s.%s must be a mapping such as {"per": "section"}, got %r' % (where, name, entry))
        unknown = sorted(set(entry) - set(SPEC_KEYS))
        if unknown:
            raise ServiceError('%s.%s has unknown keys %s (known: %s)' % (where, name, ', '.join(unknown), ', '.join(SPEC_KEYS)))
        per = entry.get('per') or DEFAULT_PER
        if per not in PER:
            raise ServiceError('%s.%s.per is %r: write "section" (an instance per section id the CMDB gives the host) '
                               'or "host" (one instance per host)' % (where, name, per))
        own = entry.get('command') or None
        command = own or default_command or None
        if command is not None:
            if not isinstance(command, (list, tuple)) or not all(isinstance(a, (str, int)) for a in command):
                raise ServiceError('%s.%s.command must be a list of argument templates (strings), got %r' % (where, name, command))
            # A templated argument ("{{ port }}") may arrive as a number.
            command = [str(a) for a in command]
            render_command(command, dict((k, '/x') for k in PLACEHOLDERS))
            if per == 'section' and not any('{section_id}' in arg for arg in command):
                raise ServiceError('%s runs per section but its command %s lacks {section_id}: every section of a host '
                                   'would run the same command line. Add "--section", "{section_id}" (or the option your '
                                   'service takes) to %s.%s.command' % (name, list(command), where, name))
        out[name] = Spec(name, per, [str(a) for a in own] if own else None)
    return out


def _section_list(value):
    if value in (None, ''):
        return None
    values = value if isinstance(value, (list, tuple)) else [value]
    return [validate_item('sections', str(item)) for item in values]


def _runs(facts, name):
    services = facts.get('services')
    if services is None or isinstance(services, str) or not hasattr(services, '__iter__'):
        return True
    return name in services


def plan_host(host, facts, specs, sections=None):
    """One host's instances: [{service, per, section_id}] and the sections it serves per service.

    facts: the host's inventory values - `inner_ip`, `section_ids` (the CMDB's), `services` (a host
    whose list lacks a service does not run it) and `section_id` (a single section the inventory
    pins, server_start_section_id). sections: only the instances of these sections (then no
    per-host instance). Returns (instances, served, error); error is a refusal for this host.
    """
    instances, served = [], {}
    what = 'cannot start %s on %s' % (', '.join(n for n in sorted(specs) if _runs(facts, n)) or 'anything', host)
    try:
        cmdb = _section_list(facts.get('section_ids'))
        pinned = _section_list(facts.get('section_id'))
    except InvalidName as exc:
        return [], {}, '%s: %s' % (what, exc)
    if pinned and cmdb is not None and pinned[0] not in cmdb:
        return [], {}, ('%s: section %s is not a section of %s in the CMDB (its sections: %s): fix server_start_section_id '
                        'or the CMDB entry' % (what, pinned[0], host, ', '.join(cmdb) or 'none'))
    for name in sorted(specs):
        spec = specs[name]
        if not _runs(facts, name):
            continue
        if spec.per == 'section' or pinned:
            ids = pinned or cmdb or []
            served[name] = list(ids)
            for sid in ids:
                if sections is None or sid in sections:
                    instances.append({'service': name, 'per': 'section', 'section_id': sid})
        elif sections is None:
            instances.append({'service': name, 'per': 'host', 'section_id': None})
    return instances, served, None


def resolve(index, host, inner_ip, instances, specs, version=None):
    """Give each instance its owner, expected build and global URL from the map (a ReleaseIndex).

    An instance that cannot start gets `error` (no owner, two owners, no build for the service: the
    message says what to add), and `owner` when one is known."""
    ip = None
    if inner_ip not in (None, ''):
        try:
            ip = validate_item('servers', str(inner_ip))
        except InvalidName as exc:
            ip = exc
    out = []
    for inst in instances:
        entry = dict(inst, owner=None, build=None, global_url=None, error=None, package=None)
        spec = specs.get(inst['service'])
        entry['command'] = spec.command if spec else None
        sid = inst.get('section_id')
        try:
            if isinstance(ip, Exception):
                raise ServiceError('invalid inner_ip of %s: %s' % (host, ip))
            if sid:
                answer = index.find('sections', sid, True, host_ip=ip)
            elif ip:
                answer = index.find('servers', ip, True)
            else:
                raise ServiceError('it has neither an inner_ip variable nor server_start_section_id, so its owning release '
                                   'cannot be looked up')
            entry.update(owner=answer['release'], global_url=answer['global_url'])
            # The package the owner was published from: what sync deploys where its build is missing.
            entry['package'] = (index.map.meta.get(answer['release']) or {}).get('package')
            entry['build'] = version or answer_version(answer, inst['service'])
        except (LookupFailed, ServiceError, ValueError) as exc:
            entry['error'] = 'cannot start %s%s on %s: %s' % (inst['service'], ' of section %s' % sid if sid else '', host, exc)
        out.append(entry)
    return out
