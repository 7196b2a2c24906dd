# -*- coding: utf-8 -*-
# Copyright: (c) 2026, GameOps release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# This module_utils is PRIVATE to gameops.elastic_release; its API may change without notice.
"""One read of one release: its state, the stats needed to write it safely, and its metadata.

The release node /releases/{release} holds a small JSON object of metadata this collection keeps
(see docs/zookeeper-tree.md): the digest of what the last write left, the package, the action,
the items another release lent it (`moved`), the versions appended to it (`appended`, default
release only) and the config's release-wide `services`. No Ansible imports here.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from .config import decode_item, encode
from .names import (DEFAULT_RELEASE_PATH, KINDS, RELEASE_CHILDREN, RELEASES_ROOT, epoch_path, given_up_path,
                    global_url_path, history_path, item_path, kind_path, parts_path, release_path, stored_item)
from .state import empty_state

REVISION_PREFIX = 'rev-'


def parse_default(data):
    """Release named by /default_release data: the indicator JSON, or a bare name."""
    if data is None:
        return None
    text = data.decode('utf-8', 'replace').strip()
    if not text:
        return None
    try:
        doc = json.loads(text)
    except ValueError:
        return text
    if isinstance(doc, dict):
        name = doc.get('name')
        return name if isinstance(name, str) else None
    return doc if isinstance(doc, str) else None


def parse_meta(data):
    """The release node's metadata as a dict ({} for empty, NULL or foreign data)."""
    value = decode_item(data) if data is not None else {}
    return value if isinstance(value, dict) else {}


def moved_items(meta):
    """{kind: {name: origin release}} of the items another release lent this one by a move."""
    moved = meta.get('moved')
    out = dict((kind, {}) for kind in ('sections', 'servers'))
    if isinstance(moved, dict):
        for kind in out:
            entries = moved.get(kind)
            if isinstance(entries, dict):
                out[kind] = dict((n, o) for n, o in entries.items() if isinstance(o, str))
    return out


class Snapshot(object):
    """What one read of ZooKeeper found for a release, with the stats needed to write safely."""

    def __init__(self, release):
        self.release = release
        self.state = empty_state(False)
        self.nodes = dict((kind, {}) for kind in KINDS)    # stored child name -> data, as found
        self.meta = {}
        self.meta_raw = None    # the release node's data exactly as stored
        self.meta_stat = None
        self.release_children = []
        self.container_stats = {}
        self.global_url_stat = None
        self.releases_root_exists = False
        self.default_raw = None
        self.default_stat = None
        self.default_release = None
        self.epoch_stat = None
        self.history = []
        self.index = None       # data of the history folder node (the index of its revisions), or None
        self.given_up = None    # (data, stat) of the given-up record, or None
        self.parts = []         # children of the release's revision parts folder
        self.items_read = False

    @property
    def exists(self):
        return self.state['exists']

    @property
    def unknown_children(self):
        """Children of the release node this collection does not manage."""
        return [c for c in self.release_children if c not in RELEASE_CHILDREN]

    def stored_names(self, kind, name):
        """The stored child names under `kind` whose canonical form is `name`."""
        return sorted(n for n in self.nodes[kind] if n == name or stored_item(kind, n) == name)

    def foreign(self, kind):
        """Stored child names that are not canonical (another tool's spelling, or no valid name)."""
        return sorted(n for n in self.nodes[kind] if stored_item(kind, n) != n)

    def moved(self):
        return moved_items(self.meta)

    def fence_stats(self):
        """What a write under the lock compares with a fresh stat read (see _write.py)."""
        out = {'release': _stat_key(self.meta_stat), 'global_url': _stat_key(self.global_url_stat)}
        for kind in KINDS:
            out[kind] = _stat_key(self.container_stats.get(kind))
        return out


def _stat_key(stat):
    return None if stat is None else (stat.mzxid, stat.pzxid, stat.version, stat.cversion)


def _fill_items(snap, kind, found):
    """Stored children -> canonical state. Two spellings of one item: the canonical one wins."""
    snap.nodes[kind] = dict(found)
    state = snap.state[kind]
    for name in sorted(found, key=lambda n: (stored_item(kind, n) != n, n)):
        canonical = stored_item(kind, name)
        if canonical is not None and canonical not in state:
            state[canonical] = found[name]


def read_release(session, release, admin_root, items=True):
    """Read the release subtree, /default_release, the release's history and the map epoch.

    One request round answers everything but the items (nodes that do not exist answer None);
    with ``items``, a second round reads every item node.
    """
    snap = Snapshot(release)
    rpath = release_path(release)
    hpath = history_path(admin_root, release)
    containers = [kind_path(release, kind) for kind in KINDS]
    url_path = global_url_path(release)
    epoch = epoch_path(admin_root)
    ppath = parts_path(admin_root, release)
    requests = ([('get', rpath), ('get', DEFAULT_RELEASE_PATH), ('children', rpath), ('children', hpath),
                 ('exists', RELEASES_ROOT), ('get', url_path), ('exists', epoch), ('children', ppath),
                 ('get', hpath), ('get', given_up_path(admin_root))]
                + [('exists', path) for path in containers]
                + ([('children', path) for path in containers] if items else []))
    got = dict(zip(requests, session.batch(requests)))
    snap.releases_root_exists = got[('exists', RELEASES_ROOT)] is not None
    snap.epoch_stat = got[('exists', epoch)]
    snap.history = sorted(c for c in (got[('children', hpath)] or []) if c.startswith(REVISION_PREFIX))
    snap.parts = sorted(got[('children', ppath)] or [])
    index = got[('get', hpath)]
    snap.index = index[0] if index else None
    snap.given_up = got[('get', given_up_path(admin_root))]
    if got[('get', DEFAULT_RELEASE_PATH)] is not None:
        snap.default_raw, snap.default_stat = got[('get', DEFAULT_RELEASE_PATH)]
        snap.default_release = parse_default(snap.default_raw)
    if got[('get', rpath)] is None:
        return snap
    data, snap.meta_stat = got[('get', rpath)]
    snap.meta_raw = data
    snap.meta = parse_meta(data)
    services = snap.meta.get('services')
    snap.state['services'] = encode(services) if isinstance(services, dict) else None
    snap.state['exists'] = True
    snap.release_children = sorted(got[('children', rpath)] or [])
    for kind, path in zip(KINDS, containers):
        snap.container_stats[kind] = got[('exists', path)]
    if got[('get', url_path)] is not None:
        snap.state['global_url'], snap.global_url_stat = got[('get', url_path)]
    if not items:
        return snap
    snap.items_read = True
    paths = []
    for kind, path in zip(KINDS, containers):
        for name in got[('children', path)] or []:
            paths.append((kind, name, item_path(release, kind, name)))
    values = session.get_many([entry[2] for entry in paths])
    found = dict((kind, {}) for kind in KINDS)
    for kind, name, path in paths:
        if values[path] is not None:
            found[kind][name] = values[path][0]
    for kind in KINDS:
        _fill_items(snap, kind, found[kind])
    return snap


def read_fence_stats(session, snaps, extra=()):
    """Fresh fence_stats() of several snapshots (and stats of `extra` paths), in one request round.
    Returns ({release: fence stats}, [stat or None of each extra path])."""
    requests = []
    for snap in snaps:
        requests.append(('exists', release_path(snap.release)))
        requests.append(('exists', global_url_path(snap.release)))
        requests.extend(('exists', kind_path(snap.release, kind)) for kind in KINDS)
    requests.extend(('exists', path) for path in extra)
    got = session.batch(requests)
    out = {}
    pos = 0
    for snap in snaps:
        entry = {'release': _stat_key(got[pos]), 'global_url': _stat_key(got[pos + 1])}
        for i, kind in enumerate(KINDS):
            entry[kind] = _stat_key(got[pos + 2 + i])
        out[snap.release] = entry
        pos += 2 + len(KINDS)
    return out, got[pos:]


def fast_unchanged(snap, digest):
    """True when the release provably still holds what we wrote last time, without reading items.

    The release node's metadata keeps the digest of the config written with it. Any child created
    or deleted later moves a container's pzxid past the metadata's mzxid, and any write to
    global_url moves its mzxid: both are detected. An in-place data edit of an existing item node
    is NOT detected: that is why verify=fast is opt-in (see docs/design.md). A release that holds
    items lent by a move, or versions appended by other releases, is always read in full: what a
    replace keeps of those depends on other releases.
    """
    meta = snap.meta
    if not snap.exists or meta.get('config_digest', meta.get('digest')) != digest:
        return False
    if meta.get('appended') or any(snap.moved().values()) or meta.get('pending'):
        return False
    written = snap.meta_stat.mzxid
    if snap.meta_stat.pzxid > written:
        return False
    for kind in KINDS:
        stat = snap.container_stats.get(kind)
        if stat is None or stat.pzxid > written or stat.mzxid > written:
            return False
    if snap.global_url_stat is not None and snap.global_url_stat.mzxid > written:
        return False
    return True
