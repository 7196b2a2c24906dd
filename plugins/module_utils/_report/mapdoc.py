# -*- coding: utf-8 -*-
# Copyright: (c) 2026, GameOps release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# This module_utils is PRIVATE to gameops.elastic_release; its API may change without notice.
"""The release-map document (docs/release-map.md) from one read of the map, the registry, the
CMDB hosts and the audit's findings: what `_render` draws. No Ansible imports here."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from .._release.config import decode_item
from .._release.names import stored_item

FORMAT = 1


def _data(rmap, release, kind, name):
    value = decode_item(rmap.node_data(release, kind, name) or b'')
    return value if isinstance(value, dict) else {'__raw__': True}


def _server(rmap, release, name, by_ip, moved):
    data = _data(rmap, release, 'servers', name)
    services = data.get('services')
    return {'ip': name, 'hosts': sorted(h for h in by_ip.get(name, []) if h),
            'services': services if isinstance(services, dict) else {}, 'data': data,
            'moved_from': moved['servers'].get(name)}


def build(rmap, registry=None, hosts=None, findings=None, title=None, zookeeper=None):
    registry = registry or {}
    hosts = hosts or []
    by_ip, by_section = {}, {}
    for host in hosts:
        ip = stored_item('servers', str(host.get('inner_ip') or '')) if host.get('inner_ip') else None
        if ip:
            by_ip.setdefault(ip, []).append(host.get('name'))
        for section in host.get('section_ids') or []:
            by_section.setdefault(str(section), []).append(host.get('name'))
    routes = rmap.routes()
    releases = []
    for release in rmap.releases:
        meta = rmap.meta.get(release, {})
        entry = registry.get(release) if isinstance(registry.get(release), dict) else {}
        moved = rmap.moved(release)
        appended = set(meta.get('appended') or [])
        updated = meta.get('updated')
        releases.append({
            'name': release,
            'type': entry.get('type'),
            'location': entry.get('location'),
            'is_default': release == rmap.default_release,
            'global_url': rmap.global_urls.get(release),
            'package': meta.get('package'),
            'updated': time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(updated)) if isinstance(updated, (int, float)) else None,
            'sections': [{'id': name, 'data': _data(rmap, release, 'sections', name),
                          'hosts': sorted(h for h in by_section.get(name, []) if h),
                          'moved_from': moved['sections'].get(name)}
                         for name in sorted(rmap.items(release, 'sections'))],
            'servers': [_server(rmap, release, name, by_ip, moved) for name in sorted(rmap.items(release, 'servers'))],
            'versions': [{'name': name, 'routes_here': routes.get(name) == release,
                          'appended': name in appended and routes.get(name) != release}
                         for name in sorted(rmap.items(release, 'versions'))],
        })
    versions = []
    for name, target in sorted(routes.items()):
        versions.append({'name': name, 'routes_to': target,
                         'global_url': rmap.global_urls.get(target) if target else None,
                         'listed_by': rmap.owners('versions', name)})
    # Hosts that serve sections no release owns. Hosts without sections (global servers, VMS) own
    # nothing by design: they are no finding and no count here.
    unowned = []
    for host in hosts:
        missing = [str(s) for s in host.get('section_ids') or [] if not rmap.owners('sections', str(s))]
        if missing:
            unowned.append({'host': host.get('name'), 'inner_ip': host.get('inner_ip'), 'section_ids': missing})
    return {
        'format': FORMAT,
        'title': title or 'game project',
        'generated': time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime()),
        'zookeeper': zookeeper,
        'default_release': rmap.default_release,
        'releases': releases,
        'versions': versions,
        'hosts_without_owner': unowned,
        'findings': list(findings or []),
    }
