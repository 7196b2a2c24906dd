# -*- coding: utf-8 -*-
# Copyright: (c) 2026, GameOps release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# This module_utils is PRIVATE to gameops.elastic_release; its API may change without notice.
"""The impact of a change on the release map: what an engineer reads before approving it.

Which sections and servers change owner (from, to), which client versions change route (release
and global_url before and after) or enter or leave routing (listed by a release, or by none), which
nodes a service reads change, and therefore which CMDB hosts need a restart; the items another
release holds by a move and keeps, and the items given up (left with no owner on purpose).
Computed from the map as read and the before/after states of the releases a write touches (in
check mode, the planned ones), with the routing rule of `_release/ownership.py`.
No Ansible imports here.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from .._release.names import KINDS, OWNED_KINDS, stored_item
from .._release.ownership import route_or_none
from .._release.state import same_data

LABEL = {'sections': 'section', 'servers': 'server', 'versions': 'version'}


class View(object):
    """Membership, node data and global_url of every release: the map with some releases replaced."""

    def __init__(self, rmap, states, default_release):
        self.default_release = default_release
        self.members = {}
        self.data = {}
        self.urls = {}
        for release in rmap.releases:
            if release in states:
                continue
            self.urls[release] = rmap.global_urls.get(release)
            for kind in KINDS:
                for name in rmap.items(release, kind):
                    self.members.setdefault((kind, name), set()).add(release)
                    self.data[(release, kind, name)] = rmap.node_data(release, kind, name)
        for release, state in states.items():
            if state is None or not state['exists']:
                continue
            url = state['global_url']
            self.urls[release] = url.decode('utf-8', 'replace') if url is not None else None
            for kind in KINDS:
                for name, data in state[kind].items():
                    self.members.setdefault((kind, name), set()).add(release)
                    self.data[(release, kind, name)] = data

    def owner(self, kind, name):
        return self.route(kind, name)[0]

    def route(self, kind, name):
        return route_or_none(kind, name, self.members.get((kind, name), ()), self.default_release)


def compute(rmap, before, after, default_before, default_after, hosts=None, notes=None):
    """The impact as data. before/after: {release: state} of the releases the write touches; notes:
    the write's held_elsewhere and given_up."""
    touched = set(before) | set(after)
    notes = notes or {}
    old = View(rmap, before, default_before)
    # Versions appended to the default release by this write were not listed there before it.
    for release, versions in (notes.get('appended_versions') or {}).items():
        for version in versions:
            old.members.get(('versions', version), set()).discard(release)
    new = View(rmap, after, default_after)
    owners, data_changed = [], []
    for kind in OWNED_KINDS:
        names = set()
        for release in touched:
            for states in (before, after):
                state = states.get(release)
                if state is not None and state['exists']:
                    names.update(state[kind])
        for name in sorted(names):
            was, now = old.owner(kind, name), new.owner(kind, name)
            if was != now:
                owners.append({'kind': kind, 'name': name, 'from': was, 'to': now})
            elif now is not None and now in touched and \
                    not same_data(old.data.get((was, kind, name)), new.data.get((now, kind, name))):
                data_changed.append({'kind': kind, 'name': name, 'release': now})
    versions = []
    candidates = set(name for (kind, name) in list(old.members) + list(new.members) if kind == 'versions')
    if default_before == default_after:
        candidates = set(v for v in candidates
                         if any(r in touched for r in old.members.get(('versions', v), ()))
                         or any(r in touched for r in new.members.get(('versions', v), ())))
    for name in sorted(candidates):
        (was, was_listed), (now, now_listed) = old.route('versions', name), new.route('versions', name)
        was_url, now_url = old.urls.get(was), new.urls.get(now)
        # A version no release lists any more still routes to the default release, but it left routing.
        if (was, was_url, was_listed) != (now, now_url, now_listed):
            versions.append({'version': name, 'from': {'release': was, 'global_url': was_url, 'listed': was_listed},
                             'to': {'release': now, 'global_url': now_url, 'listed': now_listed}})
    urls = []
    for release in sorted(touched):
        if old.urls.get(release) != new.urls.get(release):
            urls.append({'release': release, 'from': old.urls.get(release), 'to': new.urls.get(release)})
    impact = {'owners': owners, 'versions': versions, 'data': data_changed, 'global_urls': urls,
              'default_release': {'from': default_before, 'to': default_after} if default_before != default_after else None,
              'held_elsewhere': [{'kind': kind, 'name': name, 'holder': holder}
                                 for kind in OWNED_KINDS for name, holder in sorted((notes.get('held_elsewhere') or {})
                                                                                    .get(kind, {}).items())],
              'given_up': [{'kind': kind, 'name': name, 'owner': owner}
                           for kind in OWNED_KINDS for name, owner in sorted((notes.get('given_up') or {})
                                                                             .get(kind, {}).items())]}
    impact['hosts'] = restarts(impact, hosts or [])
    impact['restart'] = [row['host'] for row in impact['hosts']]
    return impact


def restarts(impact, hosts):
    """CMDB hosts whose service must restart: their inner IP or one of their sections changes owner,
    or the node their service version comes from changes."""
    moved = dict(((row['kind'], row['name']), row) for row in impact['owners'])
    edited = dict(((row['kind'], row['name']), row) for row in impact['data'])
    out = []
    for host in hosts:
        reasons = []
        keys = []
        ip = stored_item('servers', str(host.get('inner_ip') or '')) if host.get('inner_ip') else None
        if ip:
            keys.append(('servers', ip))
        for section in host.get('section_ids') or []:
            keys.append(('sections', str(section)))
        for key in keys:
            if key in moved:
                row = moved[key]
                reasons.append('%s %s: %s -> %s' % (LABEL[key[0]], key[1], row['from'] or '(none)', row['to'] or '(none)'))
            elif key in edited:
                reasons.append('%s %s: node data changed in %s' % (LABEL[key[0]], key[1], edited[key]['release']))
        if reasons:
            out.append({'host': host.get('name'), 'inner_ip': ip, 'reasons': reasons})
    return sorted(out, key=lambda row: row['host'] or '')


def table(impact):
    """The impact as plain-text lines, for people (flow output, AWX job logs)."""
    lines = []
    if impact.get('default_release'):
        # The first production publish of a project: no /default_release before it.
        lines.append('default release: %s -> %s' % (impact['default_release']['from'] or '(none yet: first default release)',
                                                    impact['default_release']['to'] or '(none)'))
    for row in impact['owners']:
        lines.append('%-8s %-22s %s -> %s' % (LABEL[row['kind']], row['name'], row['from'] or '(none)', row['to'] or '(none)'))
    for row in impact['versions']:
        lines.append('%-8s %-22s %s -> %s' % ('version', row['version'], _route(row['from']), _route(row['to'])))
    for row in impact['global_urls']:
        lines.append('%-8s %-22s %s -> %s' % ('url', row['release'], row['from'] or '(none)', row['to'] or '(none)'))
    for row in impact['data']:
        lines.append('%-8s %-22s data changed in %s' % (LABEL[row['kind']], row['name'], row['release']))
    for row in impact.get('held_elsewhere') or []:
        lines.append('%-8s %-22s stays with %s (it holds it by a move)' % (LABEL[row['kind']], row['name'], row['holder']))
    for row in impact.get('given_up') or []:
        lines.append('%-8s %-22s given up: %s -> (none), no release owns it now (release_items)'
                     % (LABEL[row['kind']], row['name'], row['owner']))
    for row in impact['hosts']:
        lines.append('restart  %-22s %s' % (row['host'], '; '.join(row['reasons'])))
    return lines or ['no section, server or version changes owner or route; no host needs a restart']


def _route(side):
    """'gray1 (http://...)', or '(unlisted) production' for a version no release lists."""
    if side.get('listed') is False:
        return '(unlisted, routes to %s)' % (side['release'] or 'nothing') if side['release'] else '(unlisted)'
    return '%s (%s)' % (side['release'] or '(none)', side['global_url'] or '-')


# ---- a run of several writes (the steps of a widen or narrow, and an undo) -----------------------

SUMMED = ('operations_count', 'transactions')


def totals(results, with_net=False):
    """The totals of a run of writes, from their results in order: every transaction, node and item it
    moved, not only those of its last write; with_net, also `net_impact` (what differs between the
    start and the end of the run: empty when an undo moved everything back)."""
    results = [r for r in results if r]
    out = {'changed': any(r.get('changed') for r in results), 'revisions_written': {}, 'changes': [],
           'revision': None, 'write_outcome': None}
    for key in SUMMED:
        out[key] = sum(int(r.get(key) or 0) for r in results)
    impacts = [r.get('impact') or {} for r in results]
    hosts = {}
    for impact in impacts:
        for row in impact.get('hosts') or []:
            entry = hosts.setdefault(row.get('host'), dict(row, reasons=[]))
            entry['reasons'] = entry['reasons'] + list(row.get('reasons') or [])
    merged = dict((key, [row for impact in impacts for row in impact.get(key) or []])
                  for key in ('owners', 'versions', 'data', 'global_urls', 'held_elsewhere', 'given_up'))
    merged.update(default_release=None, hosts=[hosts[h] for h in sorted(hosts, key=lambda h: h or '')])
    merged['restart'] = sorted(set(h for impact in impacts for h in impact.get('restart') or []))
    out['impact'] = merged
    for r in results:
        out['revisions_written'].update(r.get('revisions_written') or {})
        if r.get('change'):
            out['changes'].append(r['change'])
        for key in ('revision', 'write_outcome'):
            if r.get(key) is not None:
                out[key] = r[key]
    if with_net:
        out['net_impact'] = net(impacts)
    return out


def net(impacts):
    """Owners and routes that differ between the start and the end of a run of writes."""
    first, last = {}, {}
    for impact in impacts:
        for row in impact.get('owners') or []:
            key = ('owners', row['kind'], row['name'])
            first.setdefault(key, row['from'])
            last[key] = row['to']
        for row in impact.get('versions') or []:
            key = ('versions', 'versions', row['version'])
            first.setdefault(key, row['from'])
            last[key] = row['to']
    out = {'owners': [], 'versions': []}
    for key in sorted(first):
        if first[key] == last[key]:
            continue
        if key[0] == 'owners':
            out['owners'].append({'kind': key[1], 'name': key[2], 'from': first[key], 'to': last[key]})
        else:
            out['versions'].append({'version': key[2], 'from': first[key], 'to': last[key]})
    if not out['owners'] and not out['versions']:
        return {}
    moved = set((row['kind'], row['name']) for row in out['owners'])
    hosts = {}
    for impact in impacts:
        for row in impact.get('hosts') or []:
            reasons = [r for r in row.get('reasons') or [] if _reason_item(r) in moved]
            if reasons:
                hosts.setdefault(row.get('host'), dict(row, reasons=[]))['reasons'] = reasons
    out['hosts'] = [hosts[h] for h in sorted(hosts, key=lambda h: h or '')]
    out['restart'] = sorted(h for h in hosts if h)
    return out


def _reason_item(reason):
    """('sections', '1003') of a restart reason 'section 1003: production -> gray1'."""
    words = reason.split(':', 1)[0].split(' ', 1)
    kinds = dict((label, kind) for kind, label in LABEL.items())
    return (kinds.get(words[0]), words[1]) if len(words) == 2 else (None, None)
