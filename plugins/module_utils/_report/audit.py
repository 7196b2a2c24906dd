# -*- coding: utf-8 -*-
# Copyright: (c) 2026, GameOps release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# This module_utils is PRIVATE to gameops.elastic_release; its API may change without notice.
"""The release audit: one read of the whole chroot, and every way it breaks what readers rely on.

Each finding is data - severity (error, warning, info), kind, the items and releases it names,
and a sentence saying what is wrong and what to do. Errors are what makes a lookup or a start
fail (two owners, no /default_release, no startable version, a section a host serves with no
owner, a half-written publish, a change half undone); warnings are what will bite later or was
written by another tool; info is bookkeeping (items given up on purpose, named with their change).
The ownership and routing rules are `_release/ownership.py`'s. Read-only. No Ansible imports here.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re

from .._release.changes import builds_of, parse_index
from .._release.config import decode_item
from .._release.names import (DEFAULT_RELEASE_PATH, KIND_LABEL, KINDS, RELEASE_CHILDREN, RELEASES_ROOT, given_up_path,
                              history_path, stored_item, valid_release_name)
from .._release.releasemap import ReleaseMap
from .._release.revisions import decode_revision
from .._release.snapshot import moved_items
from .._zk.base import ZkError
from .._release.start_version import NoStartVersion, version_for

SEVERITIES = ('error', 'warning', 'info')
# The name ZooKeeper gives a sequential node created with an empty prefix (`create -s /releases/`):
# ten digits, zero-padded. Real section ids do not start with 0.
SEQUENTIAL_RE = re.compile(r'^0\d{9}\Z')


class Finding(dict):
    def __init__(self, severity, kind, message, items=(), releases=()):
        dict.__init__(self, severity=severity, kind=kind, items=sorted(set(items)), releases=sorted(set(releases)),
                      message=message)


def read(session, admin_root):
    """The map with every node's data, and what the audit reads besides (revision parts)."""
    rmap = ReleaseMap.load(session, with_data=KINDS, admin_root=admin_root)
    parts = session.children('%s/parts' % admin_root) or []
    part_children = session.children_many(['%s/parts/%s' % (admin_root, r) for r in parts]) if parts else {}
    histories = session.children_many(['%s/history/%s' % (admin_root, r) for r in parts]) if parts else {}
    orphans = {}
    for release in parts:
        names = part_children.get('%s/parts/%s' % (admin_root, release)) or []
        kept = set(histories.get('%s/history/%s' % (admin_root, release)) or [])
        lost = sorted(n for n in names if n.split('.', 1)[0] not in kept)
        if lost:
            orphans[release] = lost
    return rmap, orphans


class History(object):
    """What the audit reads of the collection's bookkeeping: each history's revision names and index,
    the newest revisions written before changes were indexed, and the given-up record."""

    def __init__(self):
        self.names = {}         # release -> revision names, oldest first
        self.index = {}         # release -> {revision: index entry}
        self.legacy = {}        # (release, revision) -> record of a revision written before the index
        self.given_up = {}      # {kind: {name: {change, owner, time}}}


def read_history(session, admin_root):
    """The History, in three request rounds (the legacy records only when there are some)."""
    hist = History()
    releases = sorted(session.children('%s/history' % admin_root) or [])
    requests = [('get', given_up_path(admin_root))]
    for release in releases:
        requests += [('get', history_path(admin_root, release)), ('children', history_path(admin_root, release))]
    got = session.batch(requests)
    try:
        hist.given_up = json.loads(got[0][0].decode('utf-8')) if got[0] and got[0][0] else {}
    except (UnicodeDecodeError, ValueError):
        hist.given_up = {}
    wanted = []
    for i, release in enumerate(releases):
        node, names = got[1 + 2 * i], got[2 + 2 * i]
        hist.names[release] = sorted(n for n in names or [] if n.startswith('rev-'))
        hist.index[release] = parse_index(node[0] if node else None)
        wanted.extend((release, n) for n in hist.names[release][-2:] if n not in hist.index[release])
    if wanted:
        paths = ['%s/%s' % (history_path(admin_root, r), n) for r, n in wanted]
        found = session.get_many(paths)
        for (release, name), path in zip(wanted, paths):
            if found.get(path) is not None:
                try:
                    hist.legacy[(release, name)] = decode_revision(found[path][0], path)
                except ZkError:     # a damaged node is not this check's finding
                    continue
    return hist


def audit(rmap, registry=None, hosts=None, orphan_parts=None, history=None):
    """[Finding] for a map read with every kind's data. registry: {release: {type, location}} or
    None (not checked); hosts: CMDB hosts [{name, inner_ip, section_ids, deploy_location, services}]
    or None (not checked); history: read_history()'s History, or None (not checked)."""
    out = []
    out.extend(_owners(rmap))
    out.extend(_default(rmap))
    out.extend(_foreign(rmap))
    out.extend(_other_tools(rmap))
    out.extend(_bookkeeping(rmap, orphan_parts or {}))
    if history is not None:
        out.extend(_changes(rmap, history))
    if registry is not None:
        out.extend(_registry(rmap, registry))
    if hosts is not None:
        out.extend(_hosts(rmap, registry or {}, hosts))
        out.extend(_unowned(rmap, hosts, history.given_up if history is not None else {}))
    order = dict((s, i) for i, s in enumerate(SEVERITIES))
    return sorted(out, key=lambda f: (order[f['severity']], f['kind'], f['items'], f['releases']))


def summary(findings):
    counts = dict((s, 0) for s in SEVERITIES)
    for finding in findings:
        counts[finding['severity']] += 1
    return counts


def _owners(rmap):
    out = []
    routable = rmap.default_release is not None and rmap.exists(rmap.default_release)
    for kind, name, owners in rmap.conflicts():
        if kind == 'versions' and not routable:
            continue   # without a default release every version looks doubly listed: its own finding says why
        if kind == 'versions':
            out.append(Finding('error', 'version_two_releases', 'version %s is listed by %d non-default releases: '
                               '%s; VMS cannot route it. Remove it from all but one (republish, or narrow/retire '
                               'a release)' % (name, len(owners), ', '.join(owners)), [name], owners))
        else:
            out.append(Finding('error', '%s_two_owners' % kind[:-1], '%s %s is owned by %d releases: %s; lookups and '
                               'starts of it fail. Keep it in one (zk_release_move, or republish the others '
                               'without it)' % (KIND_LABEL[kind], name, len(owners), ', '.join(owners)), [name], owners))
    return out


def _default(rmap):
    out = []
    if rmap.default_stat is None:
        if rmap.releases:
            out.append(Finding('error', 'default_release_missing', '%s does not exist: versions listed by no '
                               'special release route nowhere. Run the production flow' % DEFAULT_RELEASE_PATH))
        return out
    name = rmap.default_release
    if name is None or not valid_release_name(name):
        out.append(Finding('error', 'default_release_malformed', '%s holds %r, which names no release (it must be '
                           'JSON such as {"name": "production"}). Run the production flow'
                           % (DEFAULT_RELEASE_PATH, (rmap.default_raw or b'')[:80])))
        return out
    if not rmap.exists(name):
        out.append(Finding('error', 'default_release_dangling', '%s names release %s, which does not exist under %s. '
                           'Run the production flow' % (DEFAULT_RELEASE_PATH, name, RELEASES_ROOT), [], [name]))
        return out
    appended = rmap.meta.get(name, {}).get('appended') or []
    listed = rmap.items(name, 'versions')
    orphans = sorted(v for v in appended if v in listed and not [r for r in rmap.owners('versions', v) if r != name])
    if orphans:
        out.append(Finding('warning', 'appended_version_orphaned', 'versions %s were appended to the default release %s '
                           'by a review or gray release that no longer lists them; they route to %s until the next '
                           'production publish drops them' % (', '.join(orphans), name, name), orphans, [name]))
    return out


def _foreign(rmap):
    out = []
    for name in rmap.invalid_releases:
        if SEQUENTIAL_RE.match(name):
            continue    # _other_tools names it
        out.append(Finding('warning', 'foreign_node', '%s/%s is not a valid release name: readers skip it (written by '
                           'another tool?)' % (RELEASES_ROOT, name), [name]))
    for release in rmap.releases:
        unknown = [c for c in rmap.release_children.get(release, []) if c not in RELEASE_CHILDREN]
        if unknown:
            out.append(Finding('warning', 'foreign_node', '%s/%s holds nodes this collection does not manage: %s '
                               '(retiring the release is refused until they are removed)'
                               % (RELEASES_ROOT, release, ', '.join(unknown)), unknown, [release]))
        for kind in KINDS:
            for stored in rmap.children.get((release, kind)) or []:
                canonical = stored_item(kind, stored)
                if canonical is None and SEQUENTIAL_RE.match(stored):
                    continue    # _other_tools names it, once
                if canonical is None:
                    out.append(Finding('warning', 'foreign_node', '%s/%s/%s/%s is not a valid %s: lookups skip it; the '
                                       'next publish of %s removes it' % (RELEASES_ROOT, release, kind, stored,
                                                                          KIND_LABEL[kind], release), [stored], [release]))
                elif canonical != stored:
                    out.append(Finding('warning', 'non_canonical_name', '%s/%s/%s/%s is %s written another way: lookups '
                                       'read it as %s; the next publish of %s renames it'
                                       % (RELEASES_ROOT, release, kind, stored, canonical, canonical, release),
                                       [canonical], [release]))
            for name in sorted(rmap.items(release, kind)):
                data = rmap.node_data(release, kind, name)
                if (release, kind, name) in rmap.data and data is None:
                    out.append(Finding('warning', 'null_data', '%s/%s/%s/%s has NULL data (created by another tool '
                                       'without data); the next publish of %s writes it'
                                       % (RELEASES_ROOT, release, kind, rmap.stored[(release, kind, name)], release),
                                       [name], [release]))
                elif data and kind != 'versions' and not isinstance(decode_item(data), dict):
                    out.append(Finding('warning', 'non_json_data', '%s/%s/%s/%s does not hold a JSON object; readers '
                                       'that parse it fail' % (RELEASES_ROOT, release, kind, name), [name], [release]))
    return out


def _other_tools(rmap):
    """Nodes under /releases this collection never writes: unreadable (a foreign ACL), ephemeral,
    sequential, release metadata that is not JSON."""
    out = []
    for path, release in sorted(rmap.unreadable.items()):
        out.append(Finding('error', 'unreadable_node', 'ZooKeeper refuses to read %s (its ACL gives this client no READ '
                           'right: written by another tool?): what it holds is unknown, and writes that need it are '
                           'refused (a section, server or version it may list is never given a second owner). Give '
                           'this collection\'s credential READ on it (setAcl), or remove it' % path, [], [release]))
    for path, stat in sorted(rmap.stats.items()):
        if getattr(stat, 'ephemeralOwner', 0):
            out.append(Finding('error', 'ephemeral_node', '%s is an ephemeral node (of ZooKeeper session 0x%x): it '
                               'vanishes when the session of the tool that made it ends, and what it says with it. '
                               'Publish the release again (it writes persistent nodes), or remove it'
                               % (path, stat.ephemeralOwner), [path.rsplit('/', 1)[1]], [path.split('/')[2]]))
    for name in rmap.invalid_releases:
        if SEQUENTIAL_RE.match(name):
            out.append(Finding('warning', 'sequential_node', '%s/%s looks like a sequential node another tool created '
                               '(create -s): readers skip it; remove it' % (RELEASES_ROOT, name), [name]))
    for (release, kind), stored in sorted(rmap.children.items()):
        for name in stored or []:
            if SEQUENTIAL_RE.match(name):
                # a version may have this name (lookups answer it); a section id may not (zone numbers
                # have no leading zero), so lookups skip such a section node
                read = 'lookups take it for one' if stored_item(kind, name) is not None else 'lookups skip it'
                out.append(Finding('warning', 'sequential_node', '%s/%s/%s/%s looks like a sequential node another tool '
                                   'created (create -s), not a %s: %s. Remove it, or publish %s again without it'
                                   % (RELEASES_ROOT, release, kind, name, KIND_LABEL[kind], read, release),
                                   [name], [release]))
    for release in rmap.releases:
        raw = rmap.meta_raw.get(release)
        if raw and not isinstance(decode_item(raw), dict):
            out.append(Finding('warning', 'non_json_metadata', '%s/%s holds data that is not a JSON object (%r): its '
                               'bookkeeping (package, items lent by a move, appended versions) reads as empty. The '
                               'next publish of %s rewrites it' % (RELEASES_ROOT, release, raw[:40], release),
                               [], [release]))
    return out


def _bookkeeping(rmap, orphans):
    out = []
    for release in rmap.releases:
        meta = rmap.meta.get(release, {})
        if meta.get('pending'):
            pending = meta['pending'] if isinstance(meta['pending'], dict) else {}
            out.append(Finding('error', 'half_written', 'a chunked publish of %s was interrupted: readers see part of '
                               'it. Run the publish again to complete it, or roll back to %s'
                               % (release, pending.get('revision') or 'the revision it kept'), [], [release]))
        for kind, items in moved_items(meta).items():
            gone = sorted(set(o for o in items.values() if not rmap.exists(o)))
            if gone:
                out.append(Finding('warning', 'moved_from_missing', '%s holds %s moved from %s, which no longer exists: '
                                   'narrowing them back is impossible; move them to another release'
                                   % (release, kind, ', '.join(gone)), sorted(items), [release] + gone))
    for release, names in sorted(orphans.items()):
        out.append(Finding('info', 'orphan_revision_parts', '%d revision parts of %s belong to no revision (a write that '
                           'never committed); the next write of %s removes them' % (len(names), release, release),
                           names, [release]))
    return out


def _changes(rmap, hist):
    """A change undone in one release and not in another; bookkeeping a recorded change did not leave."""
    out = []
    newest = {}
    for release, names in hist.names.items():
        if names:
            doc = hist.legacy.get((release, names[-1]))
            newest[release] = (doc or {}).get('txn') if doc is not None else None
    for release, names in sorted(hist.names.items()):
        if len(names) < 2 or (release, names[-1]) not in hist.legacy:
            continue
        last, previous = hist.legacy[(release, names[-1])], hist.legacy.get((release, names[-2]))
        if last.get('action') != 'rollback' or not previous or not previous.get('txn'):
            continue
        # An earlier version's rollback restored one release of a change that wrote several: the
        # others still hold what the change left (it is still their newest revision).
        others = sorted(r for r, txn in newest.items() if r != release and txn == previous['txn'])
        if others:
            change = previous['txn'][:12]
            out.append(Finding('error', 'change_half_undone', 'change %s (%s) wrote %s, but only %s was rolled back: %s '
                               'still hold%s what the change left, a map no undo made. Restore the others by hand to '
                               'match %s (the rollback flow of that version restored one release at a time)'
                               % (change, previous.get('action'), ', '.join(sorted([release] + others)), release,
                                  ', '.join(others), 's' if len(others) == 1 else '', release), [change],
                               [release] + others))
    for release in rmap.releases:
        index = hist.index.get(release) or {}
        if not index:
            continue
        entry = index[max(index)]
        mine = (entry.get('releases') or {}).get(release)
        if not mine or 'services_after' not in mine:
            continue
        meta = rmap.meta.get(release, {})
        package = builds_of(entry, release)[1]
        services = meta.get('services') if isinstance(meta.get('services'), dict) else None
        if meta.get('package') != package or (services or None) != (mine.get('services_after') or None):
            out.append(Finding('warning', 'package_services_mismatch', 'release %s records package %s with services %s, '
                               'but its last change (%s) left package %s with services %s: the node was edited '
                               'outside this collection, and a start may run versions the live build did not ship. '
                               'Publish the build again' % (release, meta.get('package'), _short(services),
                                                            entry.get('change'), package,
                                                            _short(mine.get('services_after'))), [], [release]))
    return out


def _short(value):
    return json.dumps(value, sort_keys=True) if value else 'none'


def _unowned(rmap, hosts, given_up):
    """Sections and host IPs of the CMDB that no release owns."""
    out = []
    for host in hosts:
        name = host.get('name')
        serves = bool(host.get('services'))
        ip = stored_item('servers', str(host.get('inner_ip') or '')) if host.get('inner_ip') else None
        items = [('sections', str(s)) for s in host.get('section_ids') or []] + ([('servers', ip)] if ip else [])
        for kind, item in items:
            if rmap.owners(kind, item):
                continue
            gave = ((given_up or {}).get(kind) or {}).get(item)
            label = KIND_LABEL[kind]
            if isinstance(gave, dict):
                out.append(Finding('info', 'given_up', '%s %s (host %s) has no owner: change %s gave it up on purpose '
                                   '(it was %s\'s). Publish or move it to a release to serve it again'
                                   % (label, item, name, gave.get('change'), gave.get('owner')), [item],
                                   [gave.get('owner')] if gave.get('owner') else []))
            elif kind == 'sections':
                out.append(Finding('error' if serves else 'warning', 'section_unowned', 'section %s of host %s is owned '
                                   'by no release: %s. Give it to a release (publish a config that lists it, or move '
                                   'it back: playbooks/narrow.yml, playbooks/rollback.yml)'
                                   % (item, name, 'its services cannot start for it' if serves else 'nothing runs '
                                      'there yet'), [item]))
            else:
                out.append(Finding('warning', 'server_unowned', 'inner IP %s of host %s is owned by no release: a '
                                   'service started per host cannot find its release there. List it in the servers '
                                   'of a release\'s config.zoo' % (item, name), [item]))
    return out


def _registry(rmap, registry):
    out = []
    for release in rmap.releases:
        if release not in registry:
            out.append(Finding('warning', 'unregistered_release', 'release %s is under %s but not in the release '
                               'registry (elastic_release_registry): no flow may write it. Register it, or retire it'
                               % (release, RELEASES_ROOT), [], [release]))
    for release in sorted(registry):
        if not rmap.exists(release):
            out.append(Finding('info', 'registered_not_published', 'release %s is registered but not published under %s'
                               % (release, RELEASES_ROOT), [], [release]))
    return out


def _hosts(rmap, registry, hosts):
    out = []
    by_ip = {}
    for host in hosts:
        ip = stored_item('servers', str(host.get('inner_ip') or '')) if host.get('inner_ip') else None
        if ip:
            by_ip.setdefault(ip, []).append(host)
    for (kind, ip), owners in sorted(rmap.members.items()):
        if kind != 'servers':
            continue
        if ip not in by_ip:
            out.append(Finding('warning', 'server_not_in_cmdb', 'server %s (release %s) is no host of the CMDB inventory'
                               % (ip, ', '.join(owners)), [ip], owners))
            continue
        for release in owners:
            location = (registry.get(release) or {}).get('location') if isinstance(registry.get(release), dict) else None
            for host in by_ip[ip]:
                where = host.get('deploy_location')
                if location and where and where != location:
                    out.append(Finding('warning', 'server_wrong_location', 'server %s of release %s is host %s in deploy '
                                       'location %s, but the registry puts %s in %s' % (ip, release, host.get('name'), where,
                                                                                        release, location), [ip], [release]))
    for host in hosts:
        out.extend(_startable(rmap, host))
    return out


def _startable(rmap, host):
    """Every service of a CMDB host has a version to start, by the start-version order."""
    out = []
    services = host.get('services') or []
    ip = stored_item('servers', str(host.get('inner_ip') or '')) if host.get('inner_ip') else None
    sections = [str(s) for s in host.get('section_ids') or []] or [None]
    for service in services:
        for section in sections:
            if section is not None:
                release = _single(rmap, 'sections', section)
                if release is None:
                    continue   # no owner (or two): a start fails, but for a reason reported elsewhere
                steps = [('%s/%s/sections/%s' % (RELEASES_ROOT, release, section), _data(rmap, release, 'sections', section))]
            else:
                release = _single(rmap, 'servers', ip) if ip else None
                if release is None:
                    continue
                steps = []
            if ip:
                steps.append(('%s/%s/servers/%s' % (RELEASES_ROOT, release, ip), _data(rmap, release, 'servers', ip)))
            steps.append(('the services of release %s' % release, {'services': rmap.meta.get(release, {}).get('services') or {}}))
            try:
                version_for(service, steps)
            except NoStartVersion as exc:
                out.append(Finding('error', 'not_startable', 'host %s cannot start %s%s: %s'
                                   % (host.get('name'), service, ' for section %s' % section if section else '', exc),
                                   [section or ip], [release]))
    return out


def _single(rmap, kind, name):
    owners = rmap.owners(kind, name)
    return owners[0] if len(owners) == 1 else None


def _data(rmap, release, kind, name):
    if (release, kind, name) not in rmap.stored:
        return None
    value = decode_item(rmap.node_data(release, kind, name) or b'')
    return value if isinstance(value, dict) else {'__raw__': True}
