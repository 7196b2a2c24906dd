# -*- coding: utf-8 -*-
# Copyright: (c) 2026, GameOps release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# This module_utils is PRIVATE to gameops.elastic_release; its API may change without notice.
"""Which instances a flow with -e sync=true syncs after a write: the hosts and sections of its impact.

A move changes the owner of some sections and servers; only the instances of those (on the CMDB
hosts that serve them) must follow. An item given up (no owner afterwards) has nothing to follow:
sync would report its instance as not owned, so it is left out and the summary names it. A write
that changes a whole release's build (a promote, an undo) concerns every instance of the fleet.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from .._release.names import stored_item


def sync_targets(impact, hosts, whole=False):
    """{'hosts': [names], 'sections': [ids], 'left': [items given up]} for playbooks/sync.yml.

    impact: a write's impact (owners, data); hosts: the flow's CMDB hosts ({name, inner_ip,
    section_ids}); whole: every host, every instance. An empty `sections` means every instance of
    the hosts (a server moved: its per-host instances follow the IP)."""
    impact = impact or {}
    followed = set()
    left = []
    for row in impact.get('owners') or []:
        if row.get('to'):
            followed.add((row['kind'], str(row['name'])))
        else:
            left.append('%s %s' % (row['kind'][:-1], row['name']))
    for row in impact.get('data') or []:
        followed.add((row['kind'], str(row['name'])))
    if whole:
        return {'hosts': sorted(h['name'] for h in hosts if h.get('name')), 'sections': [], 'left': left}
    names, sections, whole_host = [], set(), False
    for host in hosts:
        ip = stored_item('servers', str(host.get('inner_ip'))) if host.get('inner_ip') else None
        mine = set(str(s) for s in host.get('section_ids') or [] if ('sections', str(s)) in followed)
        if ip and ('servers', ip) in followed:
            whole_host = True
        elif not mine:
            continue
        names.append(host['name'])
        sections |= mine
    return {'hosts': sorted(names), 'sections': [] if whole_host else sorted(sections), 'left': left}
