# -*- coding: utf-8 -*-
# Copyright: (c) 2026, GameOps release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# This module_utils is PRIVATE to gameops.elastic_release; its API may change without notice.
"""A move keeps every moved section startable: the check of the first step of widen, narrow and promote.

A service run per section starts each section's instance with the version of the start-version
order in the release that owns the section (`_release/start_version.py`): the section node, the
host's server node in that release, the release's own `services`. A move changes the owner, so
after it the receiving release must name a version, for every service the section's hosts run per
section. Configs that give services per server only (as build_packages and the demo write them)
name none for the production hosts a widen gives a gray release: the move is refused, naming the
section and what to add.

A section node that pins a version (`{"services": {"gameserver": "v"}}`) travels with the section.
When the receiving release would start another version there, the move is refused rather than the
pin rewritten: a pin is set on purpose (a hotfix build for one zone), and a rewritten pin could not
come back - a narrow, or the undo of a failed gate, moves the node data back as it is.
No Ansible imports here.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from .._release.config import decode_item
from .._release.names import InvalidName, validate_item
from .._release.start_version import NoStartVersion, version_for


def section_services(mapping, host_services):
    """The services a host runs per section: those `elastic_release_services` marks per section that
    the host's CMDB `services` list holds (a host without one runs them all)."""
    if not isinstance(mapping, dict):
        return []
    out = []
    for name, entry in sorted(mapping.items()):
        if isinstance(entry, dict) and entry.get('per') == 'section':
            if host_services is None or isinstance(host_services, str) or name in host_services:
                out.append(name)
    return out


def _node(state, kind, name):
    if state is None or not state.get('exists'):
        return None
    data = state[kind].get(name)
    if data is None and name not in state[kind]:
        return None
    value = decode_item(data)
    return value if isinstance(value, dict) else {}


def _release_wide(state):
    raw = state.get('services') if state else None
    value = decode_item(raw) if raw else {}
    return {'services': value if isinstance(value, dict) else {}}


def _ip(host):
    try:
        return validate_item('servers', str(host.get('inner_ip'))) if host.get('inner_ip') else None
    except InvalidName:
        return None


def problems(owners, before, after, hosts, flow):
    """[refusal] for the moved sections. owners: the impact's owner changes ({kind, name, from, to});
    before/after: {release: state} of the releases the change touches; hosts: [{name, inner_ip,
    section_ids, services, per_section}] with per_section the services the host runs per section."""
    out = []
    for row in owners:
        if row['kind'] != 'sections' or not row.get('to') or row['to'] not in after:
            continue
        section, receiver, giver = row['name'], row['to'], row.get('from')
        state = after[receiver]
        serving = [h for h in hosts if h.get('per_section') and section in [str(s) for s in h.get('section_ids') or []]]
        for service in sorted(set(s for h in serving for s in h['per_section'])):
            names = sorted(h['name'] for h in serving if service in h['per_section'])
            for host in [h for h in serving if service in h['per_section']]:
                ip = _ip(host)
                server = ('/releases/%s/servers/%s' % (receiver, ip), _node(state, 'servers', ip)) if ip else None
                wide = ('the release-wide services of %s' % receiver, _release_wide(state))
                pinned = ((_node(state, 'sections', section) or {}).get('services') or {}).get(service)
                unpinned = [step for step in (server, wide) if step is not None]
                try:
                    would = version_for(service, unpinned)[0]
                except NoStartVersion:
                    would = None
                if pinned not in (None, ''):
                    if would is not None and would != pinned:
                        out.append('section %s pins %s %s in its node (its "services"), but %s starts %s %s on %s: the %s '
                                   'would run %s with the build pinned under %s. Remove the pin from section %s (publish '
                                   '%s\'s config.zoo without "services" in that section) or pin %s, then run the %s again'
                                   % (section, service, pinned, receiver, service, would, host['name'], flow, receiver,
                                      giver or 'its owner', section, giver or 'its owner', would, flow))
                    break
                if would is None:
                    out.append('after this %s section %s would have no version of %s to start under %s (%s run%s %s per '
                               'section): %s has no server node of %s with "services" and no release-wide "services". '
                               'Add "services": {"%s": "<version>"} to %s\'s config.zoo (release-wide) and publish it, '
                               'then run the %s again'
                               % (flow, section, service, receiver, ', '.join(names), 's' if len(names) == 1 else '',
                                  service, receiver, ip or host['name'], service, receiver, flow))
                    break
    return out
