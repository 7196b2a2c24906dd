# -*- coding: utf-8 -*-
# Copyright: (c) 2026, GameOps release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# This module_utils is PRIVATE to gameops.elastic_release; its API may change without notice.
"""A change: what a write does to one or several releases, and the node operations it takes.

An intent (a publish, a move, a restore) plans a `Change` - a target state per release it touches,
/default_release, versions appended to the default release - from the reads it makes through a
`Context`. `prepare` turns it into operations: each touched release's node operations and
versioned metadata, its revision, the trimmed history, the map epoch. `_write.apply` writes them.
No Ansible imports here.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from .._release.config import decode_item, encode
from .._release.names import (DEFAULT_KEEP_REVISIONS, DEFAULT_LOCK_TIMEOUT, DEFAULT_MAX_REQUEST_BYTES, epoch_path, history_path,
                              parts_path, release_path)
from .plan import membership_changes, plan_append, plan_default, plan_release
from .._release.releasemap import ReleaseMap
from .._release.revisions import build_record, next_revision, operator_name, orphan_parts, store_revision, trimmed
from .._release.snapshot import read_release
from .._release.state import state_digest
from .._zk.session import request_size

FENCE_ALLOWANCE = 160   # bytes per lock fence (a check op on the lock node), added before locking
# Metadata whose change alone is a write (the digests follow the content: they change with it).
META_KEYS = ('package', 'moved', 'appended', 'services', 'pending')


class Options(object):
    """The write options every writing module shares (see doc_fragments/write.py)."""

    def __init__(self, admin_root='/elastic_release', keep=DEFAULT_KEEP_REVISIONS,
                 max_request_bytes=DEFAULT_MAX_REQUEST_BYTES, allow_chunked=False,
                 lock_timeout=DEFAULT_LOCK_TIMEOUT, operator=None, max_attempts=5):
        self.admin_root = admin_root
        self.keep = keep
        self.max_request_bytes = max_request_bytes
        self.allow_chunked = allow_chunked
        self.lock_timeout = lock_timeout
        self.operator = operator or operator_name()
        self.max_attempts = max_attempts


class Target(object):
    """What one release becomes in a change."""

    def __init__(self, release, state, action='publish', package=None):
        self.release = release
        self.state = state                  # full state; exists=False removes the release
        self.action = action
        self.package = package              # None: keep the metadata's package while the content stays
        self.keep_package = False           # keep the metadata's package whatever changes (moves)
        self.config_digest = None           # digest of what was asked, when `state` keeps other items too
        self.moved = None                   # new {kind: {name: origin}} record; None keeps the current one
        self.appended = None                # new appended-versions list (default release); None keeps it
        self.extra = {}                     # more fields for the revision record (moves, linked)
        self.prune_foreign = True           # remove nodes with names this collection does not write


class Change(object):
    """Targets (releases that get a revision), /default_release, and versions appended to the default release."""

    def __init__(self, main=None):
        self.main = main
        self.targets = []
        self.indicator = None               # bytes for /default_release
        self.append_to = None               # the default release versions are appended to
        self.append_versions = []
        self.notes = {}                     # carried to the result as they are

    def add(self, target):
        self.targets.append(target)
        return target

    def target(self, release):
        for target in self.targets:
            if target.release == release:
                return target
        return None


class Context(object):
    """Reads made while planning one attempt; each is made once."""

    def __init__(self, session, admin_root):
        self.session = session
        self.admin_root = admin_root
        self.snaps = {}
        self._map = None
        self.epoch_stat = None
        self.default_stat = None
        self._first = True

    def _seen(self, epoch_stat, default_stat):
        if self._first:
            self.epoch_stat, self.default_stat, self._first = epoch_stat, default_stat, False

    def snapshot(self, release, items=True):
        snap = self.snaps.get(release)
        if snap is None or (items and not snap.items_read):
            snap = read_release(self.session, release, self.admin_root, items=items)
            self.snaps[release] = snap
            self._seen(snap.epoch_stat, snap.default_stat)
        return snap

    def map(self):
        if self._map is None:
            self._map = ReleaseMap.load(self.session, admin_root=self.admin_root)
            self._seen(self._map.epoch_stat, self._map.default_stat)
        return self._map

    @property
    def default_release(self):
        if self._map is not None:
            return self._map.default_release
        for snap in self.snaps.values():
            return snap.default_release
        return None


class Outcome(object):
    def __init__(self):
        self.changed = False
        self.report = []
        self.revisions = {}
        self.main = None
        self.before = {}
        self.after = {}
        self.default_before = None
        self.default_after = None
        self.transactions = 0
        self.verified = 'full'
        self.zk_seconds = 0.0
        self.attempts = 0
        self.notes = {}
        self.write_outcome = 'unchanged'
        self.size = 0
        self.rmap = None        # the map the plan was checked against (when read)
        self.change = None

    @property
    def revision(self):
        return self.revisions.get(self.main)

    def as_dict(self):
        out = {
            'changed': self.changed, 'operations': self.report, 'operations_count': len(self.report),
            'revision': self.revision, 'revisions_written': dict(self.revisions), 'transactions': self.transactions,
            'verified': self.verified, 'default_release': self.default_after, 'zk_seconds': round(self.zk_seconds, 4),
            'write_outcome': self.write_outcome, 'request_bytes': self.size,
        }
        out.update(self.notes)
        out.setdefault('kept_versions', [])
        return out


# ---- from a Change to node operations -------------------------------------------------------

class Prepared(object):
    def __init__(self):
        self.body = []          # the change: release ops, metadata sets, /default_release, appends
        self.book = []          # revision nodes, trimmed revisions, orphan parts
        self.parts = []         # [(path, bytes)] written before the change (large revisions)
        self.markers = []       # [(revision path, txn id)]: exist exactly when the change committed
        self.report = []
        self.locks = set()
        self.revisions = {}
        self.before = {}
        self.after = {}
        self.notes_meta_only = []
        self.single = None      # (release, plan, meta_version) for a chunked write of one release

    @property
    def empty(self):
        return not self.body


def _meta(snap, target, digest_after):
    meta = {'digest': digest_after, 'updated': int(time.time()), 'action': target.action}
    package = target.package
    if package is None and snap.exists and (target.keep_package or state_digest(snap.state) == digest_after):
        # A move changes which items a release holds, not which build it runs.
        package = snap.meta.get('package')
    if package is not None:
        meta['package'] = package
    if target.config_digest is not None and target.config_digest != digest_after:
        meta['config_digest'] = target.config_digest
    moved = target.moved if target.moved is not None else snap.moved()
    moved = dict((k, dict(v)) for k, v in moved.items() if v)
    if moved:
        meta['moved'] = moved
    appended = target.appended if target.appended is not None else snap.meta.get('appended')
    if appended:
        meta['appended'] = sorted(appended)
    if target.state.get('services') is not None:
        meta['services'] = decode_item(target.state['services'])
    return meta


def _meaningful(meta):
    return dict((k, meta.get(k)) for k in META_KEYS if meta.get(k) not in (None, {}, []))


def prepare(ctx, change, opts, txn):
    prep = Prepared()
    hist_sizes = {}
    for target in change.targets:
        snap = ctx.snapshot(target.release)
        state = target.state
        digest_after = state_digest(state) if state['exists'] else None
        meta = _meta(snap, target, digest_after) if state['exists'] else None
        plan = plan_release(snap, state, encode(meta) if meta is not None else b'', target.prune_foreign)
        meta_changed = bool(snap.exists and state['exists'] and _meaningful(snap.meta) != _meaningful(meta))
        if not plan.ops and not meta_changed:
            prep.before[target.release] = snap.state
            prep.after[target.release] = snap.state
            continue
        rpath = release_path(target.release)
        prep.locks.add(target.release)
        prep.body.extend(plan.ops)
        prep.report.extend(plan.report)
        if snap.exists and state['exists']:
            prep.body.append(('set', rpath, encode(meta), snap.meta_stat.version))
            if not plan.ops:
                prep.report.append({'op': 'set', 'path': rpath})
                prep.notes_meta_only.append(target.release)
        prep.before[target.release] = snap.state
        prep.after[target.release] = state
        revision = next_revision(snap.history)
        record = build_record(snap, revision, txn, target.action, target.package, digest_after, opts.operator,
                              dict(target.extra))
        hist_sizes[target.release] = (snap, record, plan, meta)
        prep.revisions[target.release] = revision
    default_snap = next(iter(ctx.snaps.values()), None)
    if change.indicator is not None and default_snap is not None:
        dplan = plan_default(default_snap, change.indicator)
        prep.body.extend(dplan.ops)
        prep.report.extend(dplan.report)
    if change.append_to and change.append_versions:
        _prepare_append(ctx, change, prep)
    if not prep.body:
        return prep
    if membership_changes(prep.body):
        epoch = epoch_path(opts.admin_root)
        if ctx.epoch_stat is None:
            prep.body.append(('create', epoch, b''))
        else:
            prep.body.append(('set', epoch, b'', ctx.epoch_stat.version))
    # Revisions last: their size depends on what room the change leaves in the transaction.
    room = opts.max_request_bytes - request_size(prep.body, ctx.session.acl) - FENCE_ALLOWANCE * (len(prep.locks) + 1)
    share = max(4096, room // max(1, len(hist_sizes)) - 4096)
    for release, (snap, record, plan, meta) in sorted(hist_sizes.items()):
        stored = store_revision(record, opts.admin_root, share, opts.max_request_bytes - 8192)
        prep.book.append(('create', stored.path, stored.head))
        prep.markers.append((stored.path, txn))
        prep.parts.extend(stored.parts)
        hpath = history_path(opts.admin_root, release)
        dropped = trimmed(snap.history, opts.keep)
        for old in dropped:
            prep.book.append(('delete', '%s/%s' % (hpath, old), -1))
        kept_history = [h for h in snap.history if h not in dropped]
        own = set(p.rsplit('/', 1)[1] for p, d in stored.parts)
        ppath = parts_path(opts.admin_root, release)
        for name in orphan_parts([n for n in snap.parts if n not in own], kept_history):
            prep.book.append(('delete', '%s/%s' % (ppath, name), -1))
        if len(change.targets) == 1:
            prep.single = (release, plan, meta, snap)
    return prep


def _prepare_append(ctx, change, prep):
    """Versions a review or gray publish appends to the default release (routing, no revision)."""
    default = change.append_to
    target = change.target(default)
    versions = sorted(set(change.append_versions))
    if target is not None:
        # The default release is itself rewritten by this change: its target lists the versions.
        return
    dsnap = ctx.snapshot(default, items=False)
    present = ctx.map().items(default, 'versions')
    aplan = plan_append(dsnap, versions, present)
    appended = set(dsnap.meta.get('appended') or []) | set(v for v in versions if v not in present or
                                                           v in (dsnap.meta.get('appended') or []))
    new_meta = dict(dsnap.meta)
    if appended:
        new_meta['appended'] = sorted(appended)
    if not aplan.ops and _meaningful(new_meta) == _meaningful(dsnap.meta):
        return
    prep.locks.add(default)
    prep.body.extend(aplan.ops)
    prep.report.extend(aplan.report)
    prep.body.append(('set', release_path(default), encode(new_meta), dsnap.meta_stat.version))
    if not aplan.ops:
        prep.report.append({'op': 'set', 'path': release_path(default)})
