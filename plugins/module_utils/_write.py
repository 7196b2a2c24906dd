# -*- coding: utf-8 -*-
# Copyright: (c) 2026, GameOps release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# This module_utils is PRIVATE to gameops.elastic_release; its API may change without notice.
"""The locked write: one change to one or several releases, as one ZooKeeper transaction.

A caller describes what it wants as an *intent* (an object with ``plan(ctx) -> Change``): a
publish, a move, a restore. The engine

1. reads (through ``ctx``: snapshots of releases, the release map), asks the intent to plan, and
   turns the Change into node operations, each touched release getting a revision;
2. returns at once when there is nothing to write (no lock taken, nothing written) or in check mode;
3. takes the locks of every touched release, in name order, and compares fresh stats of what it
   read (release nodes, containers, global_url, /default_release, the map epoch) with the first
   read: equal, the plan stands; different, it reads again and re-plans (never a second full read
   when nothing moved);
4. commits one multi-op holding the change, the revisions, a versioned write of each touched
   release's metadata, the map epoch when ownership changes, and a fence on every lock node.

A reply lost on the way back (connection loss, expired session) leaves the outcome unknown: the
engine reconnects, syncs and looks for the revision node that the transaction created (it carries
the transaction's id), so it reports what happened instead of guessing; when it cannot find out,
it says so. No Ansible imports here.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time
import uuid

from ._config import decode_item, encode
from ._names import (DEFAULT_KEEP_REVISIONS, DEFAULT_LOCK_TIMEOUT, DEFAULT_MAX_REQUEST_BYTES, DEFAULT_RELEASE_PATH,
                     epoch_path, history_path, lock_path, parts_path, release_path)
from ._plan import membership_changes, plan_append, plan_default, plan_release
from ._releasemap import ReleaseMap
from ._revisions import build_record, decode_revision, next_revision, operator_name, orphan_parts, store_revision, trimmed
from ._snapshot import parse_default, read_fence_stats, read_release
from ._state import state_digest
from ._zk import ZkConflict, ZkError, ZkRequestTooLarge, ZkUnavailable, hosts_without_chroot, request_size

FENCE_ALLOWANCE = 160   # bytes per lock fence (a check op on the lock node), added before locking
# Metadata whose change alone is a write (the digests follow the content: they change with it).
META_KEYS = ('package', 'moved', 'appended', 'services', 'pending')


class WriteUnknown(ZkUnavailable):
    """A transaction was sent and its reply lost; whether it was applied could not be found out."""


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


# ---- the engine ---------------------------------------------------------------------------------

def apply(session, intent, opts, check_mode=False, lock_factory=None):
    """Plan the intent and (unless check_mode) write it. Returns an Outcome."""
    t0 = time.time()
    txn = uuid.uuid4().hex
    ctx = Context(session, opts.admin_root)
    change = intent.plan(ctx)
    prep = prepare(ctx, change, opts, txn)
    out = _outcome(ctx, change, prep)
    if prep.empty:
        out.zk_seconds = time.time() - t0
        return out
    out.changed = True
    out.write_outcome = 'planned' if check_mode else 'written'
    _check_sizes(session, opts, prep, out)
    if check_mode:
        out.zk_seconds = time.time() - t0
        return out
    held = {}
    try:
        out = _write_locked(session, intent, opts, ctx, change, prep, out, held, txn, lock_factory)
    finally:
        for name in sorted(held, reverse=True):
            session.unlock(held[name])
    out.zk_seconds = time.time() - t0
    return out


def _outcome(ctx, change, prep):
    out = Outcome()
    out.main = change.main
    out.change = change
    out.rmap = ctx._map
    out.notes = dict(change.notes)
    if prep.notes_meta_only:
        out.notes['metadata_only'] = True
    out.report = list(prep.report)
    out.before, out.after = dict(prep.before), dict(prep.after)
    out.default_before = ctx.default_release
    out.default_after = parse_default(change.indicator) if change.indicator is not None else ctx.default_release
    out.verified = getattr(change, 'verified', 'full')
    return out


def _check_sizes(session, opts, prep, out):
    """Refuse an oversize change before taking locks or creating any bookkeeping node."""
    chroot = hosts_without_chroot(session.hosts)[1]
    fences = FENCE_ALLOWANCE * (len(prep.locks) + 1)
    for op in prep.body + prep.book:
        one = request_size([op], session.acl, chroot) + fences
        if one > opts.max_request_bytes:
            raise ZkRequestTooLarge(
                'cannot write %s: the operation alone needs a %d-byte request, over the %d-byte limit '
                'of one ZooKeeper transaction (allow_chunked splits a change between nodes, never '
                'inside a node); nothing was written. Make the node smaller, or raise '
                'max_request_bytes together with the servers\' jute.maxbuffer'
                % (op[1], one, opts.max_request_bytes))
    size = request_size(prep.body + prep.book, session.acl, chroot) + fences
    out.size = size
    if size <= opts.max_request_bytes:
        return
    if not opts.allow_chunked or prep.single is None:
        releases = ', '.join(sorted(prep.locks))
        how = ('set allow_chunked=true to write it in several transactions (not atomic for readers), or raise '
               'max_request_bytes together with the servers\' jute.maxbuffer') if prep.single is not None else (
               'a change of several releases is never split: make it smaller (move fewer items at a time), or '
               'raise max_request_bytes together with the servers\' jute.maxbuffer')
        raise ZkRequestTooLarge(
            'the change to %s is %d operations in a %d-byte request, over the %d-byte limit of one '
            'ZooKeeper transaction (jute.maxbuffer); nothing was written. %s%s'
            % (releases, len(prep.body), size, opts.max_request_bytes, how[0].upper(), how[1:]))


def _write_locked(session, intent, opts, ctx, change, prep, out, held, txn, lock_factory):
    attempt = 0
    fresh = True    # the plan comes from reads made before the locks: check them first
    while True:
        attempt += 1
        out.attempts = attempt
        for name in sorted(prep.locks):   # in name order, so two writers never wait for each other
            if name not in held:
                held[name] = session.lock(lock_path(opts.admin_root, name), opts.operator, opts.lock_timeout,
                                          lock_factory)
        if fresh and not _still_valid(session, ctx):
            fresh = False
        if not fresh:
            ctx = Context(session, opts.admin_root)
            txn = uuid.uuid4().hex
            change = intent.plan(ctx)
            prep = prepare(ctx, change, opts, txn)
            new = _outcome(ctx, change, prep)
            new.attempts, new.transactions = attempt, out.transactions
            if prep.empty:
                # Someone else wrote exactly this while we waited for the lock: we wrote nothing.
                return new
            new.changed, new.write_outcome = True, 'written'
            _check_sizes(session, opts, prep, new)
            out = new
            if not prep.locks.issubset(held):
                for name in sorted(held, reverse=True):
                    session.unlock(held.pop(name))
                fresh = True
                continue
        fresh = False
        try:
            out.transactions += _commit(session, opts, prep, held)
            out.revisions = dict(prep.revisions)
            out.write_outcome = 'written'
            return out
        except ZkConflict:
            gone = _lost_locks(session, held)
            for name in gone:
                held.pop(name, None)
            if attempt >= opts.max_attempts:
                if gone:
                    raise ZkUnavailable('%s: the lock is no longer held (its node is gone: the ZooKeeper session '
                                        'expired) on each of %d attempts; nothing was written'
                                        % (_what(prep), attempt))
                raise
        except ZkUnavailable as exc:
            applied = _find_out(session, prep, exc)
            if applied:
                out.revisions = dict(prep.revisions)
                out.transactions += 1
                out.write_outcome = 'written'
                out.notes['confirmed_after_reconnect'] = True
                return out
            # Not applied (the revision it would have created is not there): our locks may be gone
            # with an expired session; take them again and start over.
            for name in _lost_locks(session, held):
                held.pop(name, None)
            if attempt >= opts.max_attempts:
                raise ZkUnavailable('%s (attempt %d of %d); the last transaction was not applied (its revision '
                                    'is not there); nothing more was written: run again' % (exc, attempt, opts.max_attempts))


def _what(prep):
    return 'write %s' % ', '.join(release_path(r) for r in sorted(prep.locks))


def _still_valid(session, ctx):
    """Fresh stats of everything the plan was made from (one request round): unchanged, the plan
    stands; changed, the caller reads again and re-plans. Item data edited in place by another
    tool in the instant between is not seen: this collection's writers are fenced by the versioned
    metadata write, the lock fences and the map epoch."""
    snaps = list(ctx.snaps.values())
    stats, (epoch, default) = read_fence_stats(session, snaps, [epoch_path(ctx.admin_root), DEFAULT_RELEASE_PATH])
    for snap in snaps:
        if stats[snap.release] != snap.fence_stats():
            return False
    return _version(epoch) == _version(ctx.epoch_stat) and _version(default) == _version(ctx.default_stat)


def _version(stat):
    return None if stat is None else (stat.version, stat.mzxid)


def _commit(session, opts, prep, held):
    """Write a prepared change. Returns the number of transactions committed."""
    chroot = hosts_without_chroot(session.hosts)[1]
    what = _what(prep)
    fences = session.fences([held[n] for n in sorted(held)])
    count = 0
    session.ensure_path('%s/history' % opts.admin_root)
    for release in sorted(prep.revisions):
        session.ensure_path(history_path(opts.admin_root, release))
    if prep.parts:
        for release in sorted(prep.revisions):
            session.ensure_path(parts_path(opts.admin_root, release))
        for path, data in prep.parts:
            session.commit(fences + [('create', path, data)], '%s (revision part %s)' % (what, path.rsplit('/', 1)[1]))
            count += 1
    ops = fences + prep.body + prep.book
    if request_size(ops, session.acl, chroot) <= opts.max_request_bytes:
        session.commit(ops, what)
        return count + 1
    return count + _commit_chunked(session, opts, prep, fences, chroot, what)


def _commit_chunked(session, opts, prep, fences, chroot, what):
    """One release too large for one transaction (allow_chunked): the revision and a `pending`
    mark first, so the state before the write is kept before the first part lands; then the
    parts of the change; then the final metadata. An interrupted write is visible (pending) and
    completed by the next run."""
    release, plan, meta, snap = prep.single
    rpath = release_path(release)
    pending = dict(meta or {}, pending={'revision': prep.revisions.get(release), 'started': int(time.time())})
    head = list(prep.book)
    ops = [op for op in plan.ops]
    if snap.exists:
        head.append(('set', rpath, encode(pending), snap.meta_stat.version))
        final_version = snap.meta_stat.version + 1
    else:
        # A new release: /releases and the release node (marked pending) come first.
        first = [op for op in ops if op[1] in ('/releases', rpath) and op[0] == 'create']
        ops = [op for op in ops if op not in first]
        head.extend(('create', op[1], encode(pending)) if op[1] == rpath else op for op in first)
        final_version = 0
    if meta is None:  # removing the release: its node goes last
        ops = [op for op in ops if op[1] != rpath]
        tail = [('delete', rpath, final_version)]
    else:
        tail = [('set', rpath, encode(meta), final_version)]
    planned = set(plan.ops)
    rest = [op for op in prep.body if op[1] != rpath and op not in planned]
    tail.extend(rest)
    session.commit(fences + head, '%s (revision and start mark)' % what)
    limit = opts.max_request_bytes - request_size(fences, session.acl, chroot) - 64
    chunks = list(_chunks(ops, limit, session.acl, chroot))
    for i, chunk in enumerate(chunks):
        session.commit(fences + chunk, '%s (part %d of %d)' % (what, i + 1, len(chunks) + 1))
    session.commit(fences + tail, '%s (last part)' % what)
    return len(chunks) + 2


def _chunks(ops, limit, acl, chroot):
    chunk, size = [], 0
    for op in ops:
        one = request_size([op], acl, chroot) - 21
        if chunk and size + one > limit:
            yield chunk
            chunk, size = [], 0
        chunk.append(op)
        size += one
    if chunk:
        yield chunk


def _find_out(session, prep, exc):
    """After a lost reply: reconnect, sync, and look for the revision node the transaction made.

    The transaction was either applied whole or not at all; its revision node exists exactly in
    the first case and carries our transaction id. Raises WriteUnknown when no server answers.
    """
    deadline = time.time() + session.timeout
    if not session.wait_connected(deadline):
        raise WriteUnknown('%s, and no ZooKeeper server answered again within %ss: the transaction may or may '
                           'not have been applied (all of it or none of it); run again to converge (a rerun '
                           'writes only what is missing)' % (exc, session.timeout))
    if not prep.markers:
        return False
    path, txn = prep.markers[0]
    try:
        # sync: the answer reflects every transaction ZooKeeper ordered before it, ours included.
        entry = session.get_many([path], sync=True)[path]
    except ZkError as again:
        raise WriteUnknown('%s; then checking whether it was applied failed too (%s): the transaction may or may '
                           'not have been applied (all of it or none of it); run again to converge' % (exc, again))
    if entry is None:
        return False
    try:
        return decode_revision(entry[0], path).get('txn') == txn
    except ZkError:
        return False


def _lost_locks(session, held):
    """The releases whose lock node is gone (its session expired): their locks must be taken again."""
    paths = dict((name, '%s/%s' % (lock.path, lock.node)) for name, lock in held.items() if getattr(lock, 'node', None))
    stats = session.exists_many(list(paths.values())) if paths else {}
    return sorted(name for name, path in paths.items() if stats.get(path) is None)
