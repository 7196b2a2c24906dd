# -*- coding: utf-8 -*-
# Copyright: (c) 2026, GameOps release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# This module_utils is PRIVATE to gameops.elastic_release; its API may change without notice.
"""The locked write: one change to one or several releases, as one ZooKeeper transaction.

A caller describes what it wants as an *intent* (an object with ``plan(ctx) -> Change``): a
publish, a move, a restore. The engine

1. reads (through ``ctx``: snapshots of releases, the release map), asks the intent to plan, and
   turns the Change into node operations (`_change.prepare`), each touched release getting a revision;
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

from .change import FENCE_ALLOWANCE, Context, Outcome, prepare
from .._release.changes import change_id
from .._release.config import encode
from .._release.names import DEFAULT_RELEASE_PATH, epoch_path, history_path, lock_path, parts_path, release_path
from .._release.revisions import decode_revision
from .._release.snapshot import parse_default, parse_meta, read_fence_stats
from .._zk.session import ZkConflict, ZkError, ZkRequestTooLarge, ZkUnavailable, hosts_without_chroot, request_size


class WriteUnknown(ZkUnavailable):
    """A transaction was sent and its reply lost; whether it was applied could not be found out."""


# ---- the engine ---------------------------------------------------------------------------------

def apply(session, intent, opts, check_mode=False, lock_factory=None):
    """Plan the intent and (unless check_mode) write it. Returns an Outcome."""
    t0 = time.time()
    txn = uuid.uuid4().hex
    ctx = Context(session, opts.admin_root)
    change = intent.plan(ctx)
    prep = prepare(ctx, change, opts, txn)
    out = _outcome(ctx, change, prep, txn)
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


def _outcome(ctx, change, prep, txn):
    out = Outcome()
    out.change_id = None if prep.empty else change_id(txn)
    out.main = change.main
    out.change = change
    out.rmap = ctx._map
    out.notes = dict(change.notes)
    out.notes['given_up'] = dict((kind, dict(items)) for kind, items in change.given_up.items())
    if prep.notes_meta_only:
        out.notes['metadata_only'] = True
    out.report = list(prep.report)
    out.before, out.after = dict(prep.before), dict(prep.after)
    out.default_before = ctx.default_release
    out.default_after = parse_default(change.indicator) if change.indicator is not None else ctx.default_release
    if change.remove_default:
        out.default_after = None
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
        if prep.single is not None:
            how = ('set allow_chunked=true to write it in several transactions (not atomic for readers), or raise '
                   'max_request_bytes together with the servers\' jute.maxbuffer')
        else:
            how = ('a change of several releases is never split: make it smaller (move fewer items at a time), or '
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
                held[name] = session.lock(lock_path(opts.admin_root, name), opts.lock_identifier, opts.lock_timeout,
                                          lock_factory)
        if fresh and not _still_valid(session, ctx):
            fresh = False
        if not fresh:
            ctx = Context(session, opts.admin_root)
            txn = uuid.uuid4().hex
            change = intent.plan(ctx)
            prep = prepare(ctx, change, opts, txn)
            new = _outcome(ctx, change, prep, txn)
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
    release, plan, meta_bytes, snap = prep.single
    rpath = release_path(release)
    meta = parse_meta(meta_bytes) if meta_bytes is not None else None
    pending = dict(meta or {}, pending={'revision': prep.revisions.get(release), 'started': int(time.time())})
    head = list(prep.book)
    ops = list(plan.ops)
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
        tail = [('set', rpath, meta_bytes, final_version)]
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
