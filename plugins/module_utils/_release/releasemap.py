# -*- coding: utf-8 -*-
# Copyright: (c) 2026, GameOps release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# This module_utils is PRIVATE to gameops.elastic_release; its API may change without notice.
"""The release map: every release's sections, servers and versions, read at once, and the rule
that says who owns an item.

The rules that say who owns an item are `_release/ownership.py`'s; lookups, the inventory, the
ownership guard of every write, the audit and the impact of a change read the map through this
class and decide with them.
Names are compared in canonical form (an IPv6 address written `2001:DB8:0::1` by another tool is
`2001:db8::1`). No Ansible imports here.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from .names import (DEFAULT_RELEASE_PATH, KIND_LABEL, KINDS, RELEASES_ROOT, epoch_path, global_url_path, item_path,
                    kind_path, release_path, stored_item, valid_release_name)
from .ownership import OwnershipError, conflicts, route, route_or_none
from .snapshot import moved_items, parse_default, parse_meta
from .._zk.session import Unreadable, ZkError


class ReleaseMap(object):
    """Membership of every release under /releases, from one read."""

    def __init__(self):
        self.default_raw = None
        self.default_stat = None
        self.default_release = None
        self.releases = []          # valid release names, sorted
        self.invalid_releases = []  # other children of /releases
        self.meta = {}              # release -> metadata dict
        self.meta_raw = {}          # release -> release node data as stored
        self.meta_stats = {}        # release -> stat of the release node
        self.global_urls = {}       # release -> str or None
        self.release_children = {}  # release -> children of /releases/{release}
        self.children = {}          # (release, kind) -> stored child names, None if the container is missing
        self.members = {}           # (kind, canonical name) -> [releases]
        self.data = {}              # (release, kind, canonical name) -> bytes or None (kinds read with data)
        self.stored = {}            # (release, kind, canonical name) -> stored child name
        self.epoch_stat = None
        self.with_data = ()
        # Nodes ZooKeeper refused to read (a foreign ACL): path -> release. The map holds the rest;
        # who owns the items of an unreadable kind container is unknown (see check_readable).
        self.unreadable = {}
        self.stats = {}             # path -> stat of a release node, global_url and items read with data

    @classmethod
    def load(cls, session, with_data=(), admin_root=None):
        """Read the map: 2 request rounds (3 with data). with_data: kinds whose node data to read."""
        rmap = cls()
        rmap.with_data = tuple(with_data)
        first = [('get', DEFAULT_RELEASE_PATH), ('children', RELEASES_ROOT)]
        if admin_root:
            first.append(('exists', epoch_path(admin_root)))
        got = session.batch(first)
        if got[0] is not None:
            rmap.default_raw, rmap.default_stat = got[0]
            rmap.default_release = parse_default(rmap.default_raw)
        if isinstance(got[1], Unreadable):
            raise ZkError('cannot list %s: not authorised (ACL refuses this identity): the release map cannot be read '
                          'at all; give this client READ on it' % RELEASES_ROOT)
        names = sorted(got[1] or [])
        if admin_root:
            rmap.epoch_stat = got[2]
        rmap.releases = [r for r in names if valid_release_name(r)]
        rmap.invalid_releases = [r for r in names if not valid_release_name(r)]
        requests = []
        for release in rmap.releases:
            requests.append(('get', release_path(release)))
            requests.append(('children', release_path(release)))
            requests.append(('get', global_url_path(release)))
            requests.extend(('children', kind_path(release, kind)) for kind in KINDS)
        results = session.batch(requests, unreadable=True)
        for request, value in zip(requests, results):
            if isinstance(value, Unreadable):
                rmap.unreadable[request[1]] = request[1].split('/')[2]
        wanted = []
        pos = 0
        for release in rmap.releases:
            node, kids, url = results[pos:pos + 3]
            pos += 3
            if node is None:   # removed between the two reads
                pos += len(KINDS)
                continue
            if node:
                rmap.meta_raw[release], rmap.meta_stats[release] = node
                rmap.stats[release_path(release)] = node[1]
            else:   # it exists, but what it holds is unknown
                rmap.meta_raw[release], rmap.meta_stats[release] = None, None
            rmap.meta[release] = parse_meta(node[0]) if node else {}
            rmap.release_children[release] = sorted(kids or [])
            if url:
                rmap.stats[global_url_path(release)] = url[1]
            rmap.global_urls[release] = url[0].decode('utf-8', 'replace') if url and url[0] is not None else None
            for kind in KINDS:
                stored = results[pos]
                pos += 1
                rmap.children[(release, kind)] = sorted(stored) if stored else (None if stored is None else [])
                for name in stored or []:
                    canonical = stored_item(kind, name)
                    if canonical is None:
                        continue
                    owners = rmap.members.setdefault((kind, canonical), [])
                    if release not in owners:
                        owners.append(release)
                    # Two spellings of one item in one release: the canonical one is the item.
                    if (release, kind, canonical) not in rmap.stored or name == canonical:
                        rmap.stored[(release, kind, canonical)] = name
                    if kind in rmap.with_data:
                        wanted.append((release, kind, canonical, name))
        rmap.releases = [r for r in rmap.releases if r in rmap.meta]
        if wanted:
            got = session.get_many([item_path(r, k, n) for r, k, c, n in wanted], unreadable=True)
            for release, kind, canonical, name in wanted:
                if rmap.stored[(release, kind, canonical)] != name:
                    continue
                path = item_path(release, kind, name)
                entry = got[path]
                if isinstance(entry, Unreadable):
                    rmap.unreadable[path] = release
                elif entry is not None:
                    rmap.data[(release, kind, canonical)] = entry[0]
                    rmap.stats[path] = entry[1]
        return rmap

    # ---- questions ------------------------------------------------------------------------
    def unreadable_containers(self, kind, skip=()):
        """Paths of the `kind` containers ZooKeeper refused to list (other than skip's releases):
        the items they hold are unknown, so is whether they own any given item of that kind."""
        return sorted(path for path, release in self.unreadable.items()
                      if release not in skip and path == kind_path(release, kind))

    def check_readable(self, kind, names, skip=()):
        """Refuse, naming the node, a write that gives `names` of `kind` an owner while another
        release's container of that kind cannot be read (it may list them: a second owner)."""
        hidden = self.unreadable_containers(kind, skip) if names else []
        if hidden:
            raise OwnershipError(
                'cannot tell who owns %s %s: ZooKeeper refuses to read %s (its ACL gives this client no READ '
                'right: a node written by another tool?), which may list them too; nothing was written. Give this '
                'collection\'s credential READ on it, or remove that node; the audit flow lists every node it '
                'cannot read' % (KIND_LABEL[kind], ', '.join(sorted(names)[:20]), ' and '.join(hidden)))

    def exists(self, release):
        return release in self.meta

    def owners(self, kind, name):
        return sorted(self.members.get((kind, name), []))

    def items(self, release, kind):
        """Canonical names of `kind` that `release` lists."""
        return set(c for (r, k, c) in self.stored if r == release and k == kind)

    def node_data(self, release, kind, name):
        return self.data.get((release, kind, name))

    def moved(self, release):
        return moved_items(self.meta.get(release, {}))

    def owner(self, kind, name):
        """(release or None, found) by the routing rule; OwnershipError on two owners."""
        return route(kind, name, self.owners(kind, name), self.default_release)

    def conflicts(self):
        """[(kind, name, owners)] where the one-owner rule does not hold."""
        return conflicts(self.members, self.default_release)

    def routes(self):
        """{version: release it routes to} for every listed version (None when ambiguous)."""
        return dict((name, route_or_none(kind, name, owners, self.default_release)[0])
                    for (kind, name), owners in self.members.items() if kind == 'versions')
