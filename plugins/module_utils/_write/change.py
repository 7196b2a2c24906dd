# -*- coding: utf-8 -*-
# Copyright: (c) 2026, GameOps release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# This module_utils is PRIVATE to gameops.elastic_release; its API may change without notice.
"""A change: what a write does to one or several releases, and the node operations it takes.

An intent (a publish, a move, an undo) plans a `Change` - a target state per release it touches,
/default_release, versions appended to the default release - from the reads it makes through a
`Context`. `prepare` checks that no section or server is left without an owner unless the operator
gave it up (`_write/guard.py`), and turns the change into operations: each touched release's node
operations and versioned metadata, its revision (one per release, all carrying the change's id and
what it altered: `_release/changes.py`), its history index and the trimmed history, the given-up
record, the map epoch. `_write/transaction.py` writes them. No Ansible imports here.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import time

from .._release.changes import ABSENT, change_id, encode_index, index_entry, parse_index, retained
from .._release.config import decode_item, encode
from .._release.names import (DEFAULT_KEEP_BUILDS, DEFAULT_KEEP_REVISIONS, DEFAULT_LOCK_TIMEOUT, DEFAULT_MAX_REQUEST_BYTES,
                              DEFAULT_RELEASE_PATH, OWNED_KINDS, epoch_path, given_up_path, history_path, parts_path,
                              lock_identifier as identify_lock, release_path)
from .._release.releasemap import ReleaseMap
from .._release.revisions import build_record, next_revision, operator_name, orphan_parts, store_revision
from .._release.snapshot import parse_meta, read_release
from .._release.state import state_digest
from .._zk.session import request_size
from .guard import check_given_up
from .plan import membership_changes, plan_append, plan_default, plan_release

FENCE_ALLOWANCE = 160   # bytes per lock fence (a check op on the lock node), added before locking
# Metadata whose change alone is a write (the digests follow the content: they change with it).
META_KEYS = ('package', 'moved', 'appended', 'services', 'pending')


class Options(object):
    """The write options every writing module shares (see doc_fragments/write.py)."""

    def __init__(self, admin_root='/elastic_release', keep=DEFAULT_KEEP_REVISIONS,
                 max_request_bytes=DEFAULT_MAX_REQUEST_BYTES, allow_chunked=False,
                 lock_timeout=DEFAULT_LOCK_TIMEOUT, operator=None, max_attempts=5, keep_builds=DEFAULT_KEEP_BUILDS,
                 release_items=(), request_id=None):
        self.admin_root = admin_root
        self.keep = keep                    # changes kept per release
        self.keep_builds = keep_builds      # and the changes that replaced its last N builds
        self.release_items = tuple(release_items or ())   # sections and servers the operator gives up
        self.max_request_bytes = max_request_bytes
        self.allow_chunked = allow_chunked
        self.lock_timeout = lock_timeout
        self.operator = operator or operator_name()
        self.max_attempts = max_attempts
        # The caller's name for this write, recorded with the change and on the lock node: a flow that
        # lost the module's result finds out from them whether the write happened (_write/readback.py).
        self.request_id = request_id or None

    @property
    def lock_identifier(self):
        return identify_lock(self.operator, self.request_id)


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
        self.meta_raw = None                # exact bytes for the release node (an undo restoring them)
        self.meta_fields = None             # bookkeeping an undo sets: {package, moved, appended}; None keeps


class Change(object):
    """Targets (releases that get a revision), /default_release, and versions appended to the default release."""

    def __init__(self, main=None, action=None, what=None):
        self.main = main
        self.action = action                # what the change is (publish, move, promote, retire, undo, ...)
        self.what = what or 'write release %s' % main   # for refusals: "refusing to <what>: ..."
        self.targets = []
        self.indicator = None               # bytes for /default_release
        self.remove_default = False         # delete /default_release (an undo of the write that created it)
        self.append_to = None               # the default release versions are appended to
        self.append_versions = []
        self.notes = {}                     # carried to the result as they are
        self.origin = None                  # free text recorded with the change (a Tianti job id)
        self.undoes = None                  # the change an undo undoes
        self.given_up = {}                  # {kind: {name: owner}} left without an owner on purpose

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
        self.given_up = None    # (data, stat) of the given-up record (None: no such node), once a snapshot is read
        self._given_up_read = False
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
            if not self._given_up_read:
                self.given_up, self._given_up_read = snap.given_up, True
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
        self.change_id = None   # the id of the change written (or planned), None when nothing changes

    @property
    def revision(self):
        return self.revisions.get(self.main)

    def as_dict(self):
        out = {
            'changed': self.changed, 'operations': self.report, 'operations_count': len(self.report),
            'revision': self.revision, 'revisions_written': dict(self.revisions), 'transactions': self.transactions,
            'verified': self.verified, 'default_release': self.default_after, 'zk_seconds': round(self.zk_seconds, 4),
            'write_outcome': self.write_outcome, 'request_bytes': self.size, 'change': self.change_id,
        }
        out.update(self.notes)
        out.setdefault('kept_versions', [])
        return out


# ---- from a Change to node operations -------------------------------------------------------

class Prepared(object):
    def __init__(self):
        self.body = []          # the change: release ops, metadata sets, /default_release, appends
        self.book = []          # revision nodes, history indexes, trimmed revisions, orphan parts, given-up record
        self.parts = []         # [(path, bytes)] written before the change (large revisions)
        self.markers = []       # [(revision path, txn id)]: exist exactly when the change committed
        self.report = []
        self.locks = set()
        self.revisions = {}
        self.before = {}
        self.after = {}
        self.notes_meta_only = []
        self.single = None      # (release, plan, meta bytes, snap) for a chunked write of one release
        self.records = []       # [(snap, record)] of the revisions, in release order

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
    for key, value in sorted((target.meta_fields or {}).items()):
        if value in (None, {}, []) or (key == 'moved' and not any(value.values())):
            meta.pop(key, None)
        else:
            meta[key] = dict((k, dict(v)) for k, v in value.items() if v) if key == 'moved' else value
    return meta


def _meaningful(meta):
    return dict((k, meta.get(k)) for k in META_KEYS if meta.get(k) not in (None, {}, []))


def prepare(ctx, change, opts, txn):
    prep = Prepared()
    check_given_up(ctx, change, opts.release_items)
    pending = []
    for target in change.targets:
        snap = ctx.snapshot(target.release)
        state = target.state
        digest_after = state_digest(state) if state['exists'] else None
        meta = _meta(snap, target, digest_after) if state['exists'] else None
        meta_bytes = None
        if meta is not None:
            meta_bytes = target.meta_raw if target.meta_raw is not None else encode(meta)
        plan = plan_release(snap, state, meta_bytes if meta_bytes is not None else b'', target.prune_foreign)
        meta_changed = bool(snap.exists and state['exists'] and _meaningful(snap.meta) != _meaningful(parse_meta(meta_bytes)))
        if not plan.ops and not meta_changed:
            prep.before[target.release] = snap.state
            prep.after[target.release] = snap.state
            continue
        rpath = release_path(target.release)
        prep.locks.add(target.release)
        prep.body.extend(plan.ops)
        prep.report.extend(plan.report)
        if snap.exists and state['exists']:
            prep.body.append(('set', rpath, meta_bytes, snap.meta_stat.version))
            if not plan.ops:
                prep.report.append({'op': 'set', 'path': rpath})
                prep.notes_meta_only.append(target.release)
        prep.before[target.release] = snap.state
        prep.after[target.release] = state
        revision = next_revision(snap.history)
        pending.append((snap, build_record(snap, target, meta_bytes, revision, txn, opts.operator), plan, meta_bytes))
        prep.revisions[target.release] = revision
    default_snap = next(iter(ctx.snaps.values()), None)
    default_pair = None
    if default_snap is not None and (change.indicator is not None or change.remove_default):
        if change.remove_default:
            dops = [('delete', DEFAULT_RELEASE_PATH, default_snap.default_stat.version)] \
                if default_snap.default_stat is not None else []
            prep.report.extend({'op': op[0], 'path': op[1]} for op in dops)
            prep.body.extend(dops)
        else:
            dplan = plan_default(default_snap, change.indicator)
            dops = dplan.ops
            prep.body.extend(dplan.ops)
            prep.report.extend(dplan.report)
        if dops:
            default_pair = [_text(default_snap.default_raw) if default_snap.default_stat is not None else ABSENT,
                            ABSENT if change.remove_default else _text(change.indicator)]
    if change.append_to and change.append_versions:
        entry = _prepare_append(ctx, change, prep, txn, opts)
        if entry is not None:
            pending.append(entry)
    if not prep.body:
        return prep
    if membership_changes(prep.body):
        epoch = epoch_path(opts.admin_root)
        if ctx.epoch_stat is None:
            prep.body.append(('create', epoch, b''))
        else:
            prep.body.append(('set', epoch, b'', ctx.epoch_stat.version))
    _given_up_record(ctx, change, prep, opts, change_id(txn))
    summary = {}
    for snap, record, plan, meta_bytes in pending:
        after = parse_meta(meta_bytes) if meta_bytes is not None else {}
        summary[snap.release] = {'revision': record['revision'], 'existed': snap.exists,
                                 'exists': meta_bytes is not None,
                                 'package_before': snap.meta.get('package') if snap.exists else None,
                                 'package_after': after.get('package'),
                                 # what the audit compares the live bookkeeping with
                                 'services_after': after.get('services') if isinstance(after.get('services'), dict) else None}
    for snap, record, plan, meta_bytes in pending:
        record.update(releases=summary, action=record.get('action') or change.action)
        for key, value in (('origin', change.origin), ('undoes', change.undoes), ('given_up', change.given_up),
                           ('default', default_pair), ('change_action', change.action), ('request', opts.request_id)):
            if value:
                record[key] = value
    # Revisions last: their size depends on what room the change leaves in the transaction.
    room = opts.max_request_bytes - request_size(prep.body, ctx.session.acl) - FENCE_ALLOWANCE * (len(prep.locks) + 1)
    share = max(4096, room // max(1, len(pending)) - 4096)
    for snap, record, plan, meta_bytes in sorted(pending, key=lambda entry: entry[0].release):
        release = snap.release
        stored = store_revision(record, opts.admin_root, share, opts.max_request_bytes - 8192)
        prep.book.append(('create', stored.path, stored.head))
        prep.markers.append((stored.path, txn))
        prep.parts.extend(stored.parts)
        prep.records.append((snap, record))
        hpath = history_path(opts.admin_root, release)
        index = parse_index(snap.index)
        kept = retained(snap.history, index, opts.keep, opts.keep_builds, release)
        for old in snap.history:
            if old not in kept:
                prep.book.append(('delete', '%s/%s' % (hpath, old), -1))
                index.pop(old, None)
        index = dict((name, entry) for name, entry in index.items() if name in kept)
        index[record['revision']] = index_entry(record)
        # The folder node exists (made before the transaction) and the release's lock is held.
        prep.book.append(('set', hpath, encode_index(index), -1))
        own = set(p.rsplit('/', 1)[1] for p, d in stored.parts)
        ppath = parts_path(opts.admin_root, release)
        for name in orphan_parts([n for n in snap.parts if n not in own], kept):
            prep.book.append(('delete', '%s/%s' % (ppath, name), -1))
        if len(change.targets) == 1 and release == change.targets[0].release:
            # One release rewritten (versions appended to the default release travel with its last part).
            prep.single = (release, plan, meta_bytes, snap)
    return prep


def _text(data):
    return data.decode('utf-8', 'surrogateescape') if data is not None else None


def _given_up_record(ctx, change, prep, opts, cid):
    """Keep the given-up record true: items given up by this change join it; items this change gives
    an owner leave it."""
    data, stat = ctx.given_up if ctx.given_up else (None, None)
    try:
        record = json.loads((data or b'{}').decode('utf-8'))
    except (UnicodeDecodeError, ValueError):
        record = {}
    record = dict((kind, dict(record.get(kind) or {})) for kind in OWNED_KINDS if isinstance(record, dict))
    before = json.dumps(record, sort_keys=True)
    for release, state in prep.after.items():
        if state is not None and state['exists']:
            for kind in OWNED_KINDS:
                for name in state[kind]:
                    record[kind].pop(name, None)
    now = time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())
    for kind, items in change.given_up.items():
        for name, owner in items.items():
            record[kind][name] = {'change': cid, 'owner': owner, 'time': now}
    if json.dumps(record, sort_keys=True) == before:
        return
    path = given_up_path(opts.admin_root)
    data = encode(dict((k, v) for k, v in record.items() if v))
    prep.book.append(('create', path, data) if stat is None else ('set', path, data, stat.version))


def _prepare_append(ctx, change, prep, txn, opts):
    """Versions a review or gray publish appends to the default release: node creates, the `appended`
    record, and a revision of the default release that records just that (its undo removes them)."""
    default = change.append_to
    if change.target(default) is not None:
        # The default release is itself rewritten by this change: its target lists the versions.
        return None
    versions = sorted(set(change.append_versions))
    dsnap = ctx.snapshot(default, items=False)
    present = ctx.map().items(default, 'versions')
    aplan = plan_append(dsnap, versions, present)
    appended = set(dsnap.meta.get('appended') or []) | set(v for v in versions if v not in present or
                                                           v in (dsnap.meta.get('appended') or []))
    new_meta = dict(dsnap.meta)
    if appended:
        new_meta['appended'] = sorted(appended)
    if not aplan.ops and _meaningful(new_meta) == _meaningful(dsnap.meta):
        return None
    new_meta.update(updated=int(time.time()), action='append')
    meta_bytes = encode(new_meta)
    prep.locks.add(default)
    prep.body.extend(aplan.ops)
    prep.report.extend(aplan.report)
    prep.body.append(('set', release_path(default), meta_bytes, dsnap.meta_stat.version))
    if not aplan.ops:
        prep.report.append({'op': 'set', 'path': release_path(default)})
    target = Target(default, None, 'append')
    delta = {'versions': dict((v, [ABSENT, '']) for v in versions if v not in present)}
    change.notes['appended_versions'] = {default: sorted(delta['versions'])}
    revision = next_revision(dsnap.history)
    prep.revisions[default] = revision
    record = build_record(dsnap, target, meta_bytes, revision, txn, opts.operator, delta=delta)
    return dsnap, record, aplan, meta_bytes
