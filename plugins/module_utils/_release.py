# -*- coding: utf-8 -*-
# Copyright: (c) 2026, GameOps release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# This module_utils is PRIVATE to gameops.elastic_release; its API may change without notice.
"""The release subtree: read it, compare it with a desired state, write the difference atomically.

A publish is read -> plan -> (lock, re-read, re-plan) -> one multi-op holding every change, the
release's previous state as a revision, the trimmed history and a fence on our lock node.
No Ansible imports here.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import getpass
import hashlib
import json
import socket
import threading
import time
import zlib

from ._config import decode_item, encode, item_bytes
from ._names import (DEFAULT_RELEASE_PATH, KINDS, RELEASES_ROOT, global_url_path, history_path,
                     item_path, kind_path, lock_path, release_path)
from ._zk import (ZkConflict, ZkError, ZkRequestTooLarge, ZkUnavailable, _describe, hosts_without_chroot, kex,
                  request_size)

DEFAULT_MAX_REQUEST_BYTES = 1000000
DEFAULT_KEEP = 20
REVISION_PREFIX = 'rev-'
_RAW = '__raw__'


# ---- states --------------------------------------------------------------------------------
# A state is {'exists': bool, 'global_url': bytes|None, 'versions': {name: bytes}, ...}: node
# data exactly as stored. Comparison is semantic (JSON values), writes are canonical.

def empty_state(exists=False):
    state = dict((kind, {}) for kind in KINDS)
    state['exists'] = exists
    state['global_url'] = None
    return state


def state_from_config(cfg):
    """Desired state of a ReleaseConfig (see _config.py)."""
    state = empty_state(True)
    for kind in KINDS:
        state[kind] = dict((name, item_bytes(kind, value)) for name, value in cfg.items(kind).items())
    state['global_url'] = cfg.global_url.encode('utf-8') if cfg.global_url is not None else None
    return state


def same_data(a, b):
    if a == b:
        return True
    if a is None or b is None:
        return False
    return decode_item(a) == decode_item(b)


def _display_value(data):
    value = decode_item(data)
    if isinstance(value, bytes):
        return {_RAW: value.decode('utf-8', 'replace')}
    return value


def state_display(state):
    """JSON-friendly view for diff output and lookups."""
    if not state['exists']:
        return {}
    out = dict((kind, dict((n, _display_value(d)) for n, d in sorted(state[kind].items()))) for kind in KINDS)
    url = state['global_url']
    out['global_url'] = url.decode('utf-8', 'replace') if url is not None else None
    return out


def state_digest(state):
    """SHA-256 of a state's exact bytes: every item's name and data, and global_url.

    Bytes, not JSON values: the item data of a desired state is canonical already, so hashing it
    as stored is exact and costs no decoding (a few ms for 6,050 items). Every field is framed by
    its length, so no two different states hash the same input.
    """
    url = state['global_url']
    parts = [b'elastic_release state v2\n',
             b'global_url -1\n' if url is None else b'global_url %d\n%s' % (len(url), url)]
    for kind in KINDS:
        items = state[kind]
        parts.append(b'%s %d\n' % (kind.encode('ascii'), len(items)))
        for name in sorted(items):
            raw = _bytes(name)
            data = items[name]
            if data is None:  # a node created with null data by another client
                parts.append(b'%d -1\n%s' % (len(raw), raw))
            else:
                parts.append(b'%d %d\n%s%s' % (len(raw), len(data), raw, data))
    return hashlib.sha256(b''.join(parts)).hexdigest()


def _text(data):
    return data.decode('utf-8', 'surrogateescape')


def _bytes(text):
    return text.encode('utf-8', 'surrogateescape')


def state_to_json(state):
    """Exact (byte-preserving) form of a state for revisions."""
    out = {'exists': state['exists'],
           'global_url': _text(state['global_url']) if state['global_url'] is not None else None}
    for kind in KINDS:
        out[kind] = dict((n, _text(d)) for n, d in state[kind].items())
    return out


def state_from_json(doc):
    state = empty_state(bool(doc.get('exists')))
    url = doc.get('global_url')
    state['global_url'] = _bytes(url) if url is not None else None
    for kind in KINDS:
        state[kind] = dict((n, _bytes(d)) for n, d in (doc.get(kind) or {}).items())
    return state


def merge_states(current, desired):
    """merge mode: desired items are added or updated, nothing is removed."""
    out = empty_state(True)
    for kind in KINDS:
        out[kind] = dict(current[kind]) if current['exists'] else {}
        out[kind].update(desired[kind])
    if desired['global_url'] is not None:
        out['global_url'] = desired['global_url']
    elif current['exists']:
        out['global_url'] = current['global_url']
    return out


# ---- reading ---------------------------------------------------------------------------------

class Snapshot(object):
    """What one read of ZooKeeper found for a release, with the stats needed to write safely."""

    def __init__(self, release):
        self.release = release
        self.state = empty_state(False)
        self.meta = {}
        self.meta_stat = None
        self.release_children = []
        self.container_stats = {}
        self.global_url_stat = None
        self.releases_root_exists = False
        self.default_raw = None
        self.default_stat = None
        self.default_release = None
        self.history = []

    @property
    def exists(self):
        return self.state['exists']


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


def read_release(session, release, admin_root, items=True):
    """Read the release subtree, /default_release and the release's history.

    One pipelined round answers everything but the items: the release node, /default_release,
    the children of the release, of its history and of its containers, the containers' stats and
    global_url (requests for nodes that do not exist answer None). With ``items``, a second
    pipelined round reads every item node.
    """
    snap = Snapshot(release)
    rpath = release_path(release)
    hpath = history_path(admin_root, release)
    containers = [kind_path(release, kind) for kind in KINDS]
    url_path = global_url_path(release)
    requests = ([('get', rpath), ('get', DEFAULT_RELEASE_PATH), ('children', rpath), ('children', hpath),
                 ('exists', RELEASES_ROOT), ('get', url_path)]
                + [('exists', path) for path in containers]
                + ([('children', path) for path in containers] if items else []))
    got = dict(zip(requests, session.batch(requests)))
    snap.releases_root_exists = got[('exists', RELEASES_ROOT)] is not None
    snap.history = sorted(c for c in (got[('children', hpath)] or []) if c.startswith(REVISION_PREFIX))
    if got[('get', DEFAULT_RELEASE_PATH)] is not None:
        snap.default_raw, snap.default_stat = got[('get', DEFAULT_RELEASE_PATH)]
        snap.default_release = parse_default(snap.default_raw)
    if got[('get', rpath)] is None:
        return snap
    data, snap.meta_stat = got[('get', rpath)]
    meta = decode_item(data)
    snap.meta = meta if isinstance(meta, dict) else {}
    snap.state['exists'] = True
    snap.release_children = sorted(got[('children', rpath)] or [])
    for kind, path in zip(KINDS, containers):
        snap.container_stats[kind] = got[('exists', path)]
    if got[('get', url_path)] is not None:
        snap.state['global_url'], snap.global_url_stat = got[('get', url_path)]
    if not items:
        return snap
    paths = []
    for kind, path in zip(KINDS, containers):
        for name in got[('children', path)] or []:
            paths.append((kind, name, item_path(release, kind, name)))
    values = session.get_many([entry[2] for entry in paths])
    for kind, name, path in paths:
        if values[path] is not None:
            snap.state[kind][name] = values[path][0]
    return snap


def fast_unchanged(session, snap, desired, digest=None):
    """True when the release provably still holds what we wrote last time, without reading items.

    The release node's metadata keeps the digest of the state written with it. Any child created
    or deleted later moves a container's pzxid past the metadata's mzxid, and any write to
    global_url moves its mzxid: both are detected. An in-place data edit of an existing item node
    is NOT detected: that is why verify=fast is opt-in (see docs/design.md).
    """
    if digest is None:
        digest = state_digest(desired)
    if not snap.exists or snap.meta.get('digest') != digest:
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


# ---- planning --------------------------------------------------------------------------------

class Plan(object):
    def __init__(self):
        self.ops = []          # transaction ops, in a safe order
        self.report = []       # [{'op': ..., 'path': ...}] for people and Tianti

    def add(self, op, path, *rest):
        self.ops.append((op, path) + rest)
        self.report.append({'op': op, 'path': path})

    def __len__(self):
        return len(self.ops)


def plan_release(snap, desired, meta):
    """Ops turning snap.state into desired (a full state; exists=False removes the release)."""
    plan = Plan()
    release = snap.release
    rpath = release_path(release)
    cur = snap.state
    if not desired['exists']:
        if not cur['exists']:
            return plan
        unknown = [c for c in snap.release_children if c not in KINDS + ('global_url',)]
        if unknown:
            raise ZkError('refusing to remove %s: it holds nodes this collection does not manage: %s'
                          % (rpath, ', '.join(unknown)))
        for kind in KINDS:
            for name in sorted(cur[kind]):
                plan.add('delete', item_path(release, kind, name), -1)
            if snap.container_stats.get(kind) is not None:
                plan.add('delete', kind_path(release, kind), -1)
        if 'global_url' in snap.release_children:
            plan.add('delete', global_url_path(release), -1)
        plan.add('delete', rpath, snap.meta_stat.version)
        return plan
    if not cur['exists']:
        if not snap.releases_root_exists:
            plan.add('create', RELEASES_ROOT, b'')
        plan.add('create', rpath, encode(meta))
    for kind in KINDS:
        if snap.container_stats.get(kind) is None:
            plan.add('create', kind_path(release, kind), b'')
        have, want = cur[kind], desired[kind]
        for name in sorted(set(have) - set(want)):
            plan.add('delete', item_path(release, kind, name), -1)
        for name in sorted(want):
            if name not in have:
                plan.add('create', item_path(release, kind, name), want[name])
            elif not same_data(have[name], want[name]):
                plan.add('set', item_path(release, kind, name), want[name], -1)
    url_have, url_want = cur['global_url'], desired['global_url']
    if url_want is None and url_have is not None:
        plan.add('delete', global_url_path(release), -1)
    elif url_want is not None and url_have is None:
        plan.add('create', global_url_path(release), url_want)
    elif url_want is not None and url_want != url_have:
        plan.add('set', global_url_path(release), url_want, -1)
    return plan


def plan_default(snap, indicator):
    """Ops writing /default_release (indicator: bytes) unless it already says the same."""
    plan = Plan()
    if indicator is None:
        return plan
    if snap.default_raw is None and snap.default_stat is None:
        plan.add('create', DEFAULT_RELEASE_PATH, indicator)
    elif not same_data(snap.default_raw, indicator):
        plan.add('set', DEFAULT_RELEASE_PATH, indicator, snap.default_stat.version)
    return plan


def plan_append(session, default_release, versions):
    """Ops creating the versions under the default release's versions that are not there yet."""
    plan = Plan()
    if not versions:
        return plan
    rpath = release_path(default_release)
    vpath = kind_path(default_release, 'versions')
    paths = [rpath, vpath] + [item_path(default_release, 'versions', v) for v in sorted(versions)]
    stats = session.exists_many(paths)
    if stats[rpath] is None:
        raise ZkError('the default release %s named by %s does not exist under %s'
                      % (default_release, DEFAULT_RELEASE_PATH, RELEASES_ROOT))
    if stats[vpath] is None:
        plan.add('create', vpath, b'')
    for v in sorted(versions):
        if stats[item_path(default_release, 'versions', v)] is None:
            plan.add('create', item_path(default_release, 'versions', v), b'')
    return plan


def appended_versions(session, release, candidates):
    """The candidate versions of `release` that another release also lists, sorted.

    The review and gray flows append their versions to the default release's versions. A replace
    publish of the default release keeps those while the release that owns them still lists them
    (so rerunning the production flow does not unlist the gray clients), and drops them once that
    release no longer does (retired, or republished without the version).
    """
    if not candidates:
        return []
    others = [r for r in (session.children(RELEASES_ROOT) or []) if r != release]
    paths = [(v, item_path(r, 'versions', v)) for r in others for v in sorted(candidates)]
    found = session.exists_many([p for dummy, p in paths]) if paths else {}
    return sorted(set(v for v, p in paths if found[p] is not None))


# ---- revisions -------------------------------------------------------------------------------

def operator_name():
    try:
        user = getpass.getuser()
    except Exception:  # no passwd entry in some containers
        user = 'unknown'
    return '%s@%s' % (user, socket.gethostname())


def encode_revision(doc):
    # ASCII escapes keep undecodable node data (surrogate-escaped bytes) exact through JSON.
    return zlib.compress(json.dumps(doc, sort_keys=True, separators=(',', ':')).encode('ascii'), 6)


def decode_revision(data, where):
    try:
        return json.loads(zlib.decompress(data).decode('utf-8'))
    except (zlib.error, ValueError, UnicodeDecodeError):
        raise ZkError('revision %s is not a revision this collection wrote (not zlib-compressed JSON)' % where)


def next_revision(history):
    last = 0
    for name in history:
        try:
            last = max(last, int(name[len(REVISION_PREFIX):]))
        except ValueError:
            continue
    return '%s%010d' % (REVISION_PREFIX, last + 1)


def list_revisions(session, release, admin_root, with_state=False):
    hpath = history_path(admin_root, release)
    names = sorted(c for c in (session.children(hpath) or []) if c.startswith(REVISION_PREFIX))
    got = session.get_many(['%s/%s' % (hpath, n) for n in names])
    out = []
    for name in names:
        entry = got['%s/%s' % (hpath, name)]
        if entry is None:
            continue
        doc = decode_revision(entry[0], '%s/%s' % (hpath, name))
        row = dict((k, doc.get(k)) for k in ('time', 'operator', 'package', 'action', 'digest_before', 'digest_after'))
        row['revision'] = name
        row['release_existed_before'] = bool((doc.get('before') or {}).get('exists'))
        if with_state:
            row['before'] = doc.get('before')
        out.append(row)
    return out


def read_revision(session, release, admin_root, revision=None):
    """The state kept by a revision (default: the newest, which holds the state before the last write)."""
    hpath = history_path(admin_root, release)
    names = sorted(c for c in (session.children(hpath) or []) if c.startswith(REVISION_PREFIX))
    if not names:
        raise ZkError('release %s has no kept revisions under %s' % (release, hpath))
    if revision is None:
        revision = names[-1]
    elif revision not in names:
        if str(revision).isdigit() and '%s%010d' % (REVISION_PREFIX, int(revision)) in names:
            revision = '%s%010d' % (REVISION_PREFIX, int(revision))
        else:
            raise ZkError('release %s has no revision %s (kept: %s)' % (release, revision, ', '.join(names)))
    entry = session.get('%s/%s' % (hpath, revision))
    if entry is None:
        raise ZkError('revision %s/%s disappeared while reading' % (hpath, revision))
    doc = decode_revision(entry[0], '%s/%s' % (hpath, revision))
    return revision, doc, state_from_json(doc.get('before') or {})


# ---- writing ---------------------------------------------------------------------------------

class Request(object):
    """What a caller wants done to one release. Build with validated inputs only."""

    def __init__(self, release, desired=None, mode='replace', indicator=None, append_to_default=False,
                 admin_root='/elastic_release', keep=DEFAULT_KEEP, max_request_bytes=DEFAULT_MAX_REQUEST_BYTES,
                 allow_chunked=False, lock_timeout=30.0, verify='full', package=None, action='publish',
                 operator=None, max_attempts=5, keep_appended=True):
        self.release = release
        self.desired = desired          # a state; exists=False removes the release
        self.mode = mode
        self.indicator = indicator      # bytes for /default_release, or None
        self.append_to_default = append_to_default
        self.admin_root = admin_root
        self.keep = keep
        self.max_request_bytes = max_request_bytes
        self.allow_chunked = allow_chunked
        self.lock_timeout = lock_timeout
        self.verify = verify
        self.package = package
        self.action = action
        self.operator = operator or operator_name()
        self.max_attempts = max_attempts
        self.keep_appended = keep_appended  # replace on the default release keeps others' versions
        # Computed once, with the request (CPU only, before any ZooKeeper request): the fast
        # rerun compares it, and every attempt of a publish stores it.
        self.digest = state_digest(desired) if desired is not None and desired['exists'] else None


class Outcome(object):
    def __init__(self):
        self.changed = False
        self.report = []
        self.revision = None
        self.before = None
        self.after = None
        self.default_before = None
        self.default_after = None
        self.transactions = 0
        self.verified = None
        self.zk_seconds = 0.0
        self.attempts = 0
        self.kept_versions = []

    def as_dict(self):
        return {
            'changed': self.changed, 'operations': self.report, 'operations_count': len(self.report),
            'revision': self.revision, 'transactions': self.transactions, 'verified': self.verified,
            'default_release': self.default_after, 'zk_seconds': round(self.zk_seconds, 4),
            'kept_versions': self.kept_versions,
        }


def _prepare(session, req, snap):
    """Target state, metadata and all planned ops for one attempt."""
    if req.desired['exists'] and req.mode == 'merge':
        target = merge_states(snap.state, req.desired)
    else:
        target = req.desired
    default_after = parse_default(req.indicator) if req.indicator is not None else snap.default_release
    kept = []
    if target['exists'] and req.mode == 'replace' and req.keep_appended and default_after == req.release:
        kept = appended_versions(session, req.release, set(snap.state['versions']) - set(target['versions']))
        if kept:
            target = dict(target, versions=dict(target['versions']))
            for name in kept:
                target['versions'][name] = snap.state['versions'][name]
    if not target['exists']:
        digest = None
    elif target is req.desired:
        digest = req.digest
    else:
        digest = state_digest(target)
    meta = {'digest': digest, 'updated': int(time.time()), 'package': req.package, 'action': req.action}
    plan = plan_release(snap, target, meta)
    if not target['exists'] and snap.default_release == req.release:
        raise ZkError('refusing to remove %s: it is the default release named by %s'
                      % (release_path(req.release), DEFAULT_RELEASE_PATH))
    dplan = plan_default(snap, req.indicator)
    aplan = Plan()
    if req.append_to_default and target['exists']:
        if default_after is None:
            raise ZkError('cannot append versions to the default release: %s does not exist '
                          '(publish the production release first)' % DEFAULT_RELEASE_PATH)
        if default_after != req.release:
            aplan = plan_append(session, default_after, list(target['versions']))
    return target, meta, plan, dplan, aplan, default_after, kept


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


def apply(session, req, check_mode=False, lock_factory=None):
    """Read, plan and (unless check_mode) write one release. Returns an Outcome."""
    out = Outcome()
    t0 = time.time()
    snap = read_release(session, req.release, req.admin_root, items=(req.verify != 'fast'))
    if req.verify == 'fast' and req.desired['exists'] and req.mode == 'replace':
        if fast_unchanged(session, snap, req.desired, req.digest) and not plan_default(snap, req.indicator).ops:
            if not req.append_to_default or not _prepare(session, req, snap)[4].ops:
                out.verified = 'fast'
                out.default_after = out.default_before = snap.default_release
                out.zk_seconds = time.time() - t0
                return out
        snap = read_release(session, req.release, req.admin_root, items=True)
    out.verified = 'full'
    target, meta, plan, dplan, aplan, default_after, out.kept_versions = _prepare(session, req, snap)
    out.before, out.after = snap.state, target
    out.default_before, out.default_after = snap.default_release, default_after
    if not (plan.ops or dplan.ops or aplan.ops):
        out.zk_seconds = time.time() - t0
        return out
    out.changed = True
    out.report = plan.report + dplan.report + aplan.report
    locks = sorted(set([req.release] + ([default_after] if aplan.ops else [])))
    # Refuse an oversize change before taking locks or creating any bookkeeping node. Chunks split
    # a change between operations, never inside one: an operation too large for a request on its
    # own would make the server drop the connection on every attempt, chunked or not.
    body, book = _transaction(req, snap, target, meta, plan, dplan, aplan)[1:3]
    chroot = hosts_without_chroot(session.hosts)[1]
    for op in body + book:
        one = request_size([op], session.acl, chroot) + FENCE_ALLOWANCE * (len(locks) + 1)
        if one > req.max_request_bytes:
            raise ZkRequestTooLarge(
                'cannot write %s: the operation alone needs a %d-byte request, over the %d-byte limit '
                'of one ZooKeeper transaction (allow_chunked splits a change between nodes, never '
                'inside a node); nothing was written. Make the node smaller, or raise '
                'max_request_bytes together with the servers\' jute.maxbuffer'
                % (op[1], one, req.max_request_bytes))
    if not req.allow_chunked:
        size = request_size(body + book, session.acl, chroot)
        if size + FENCE_ALLOWANCE * len(locks) > req.max_request_bytes:
            raise _too_large(req, len(body), size + FENCE_ALLOWANCE * len(locks))
    if check_mode:
        out.zk_seconds = time.time() - t0
        return out
    held = []
    try:
        for name in locks:
            held.append(_lock(session, req, name, lock_factory))
        out = _write_locked(session, req, held, out, t0)
    finally:
        for lock in reversed(held):
            _unlock(session, lock)
    return out


def _unlock(session, lock):
    """Release a lock without waiting forever.

    kazoo's Lock.release() blocks for as long as the session is suspended (an ensemble without
    quorum queues the delete): a module that had already failed would then hang. The lock node is
    deleted within the session's deadline instead; if that fails, the ephemeral node goes with the
    session (closed by the caller, or expired by the ensemble).
    """
    node = getattr(lock, 'node', None)
    try:
        # A leader election takes about a second: wait that long, not for a lost quorum.
        if not session._wait_connected(time.time() + min(session.timeout, 3.0)):
            return
        if node and getattr(lock, 'path', None):
            session.wait(session.client.delete_async('%s/%s' % (lock.path, node)),
                         'release the lock %s' % lock.path)
            lock.is_acquired = False
        else:
            lock.release()
    except Exception:  # a lost session already dropped the ephemeral lock node
        pass


def _lock(session, req, name, lock_factory):
    path = lock_path(req.admin_root, name)
    lock = (lock_factory or session.client.Lock)(path, req.operator)
    # kazoo's Lock.acquire() makes blocking calls that wait forever while the session is
    # suspended (an ensemble that lost quorum): run it aside and stop waiting once the session
    # has been disconnected for `timeout` seconds.
    box = {}

    def acquire():
        try:
            box['acquired'] = lock.acquire(timeout=req.lock_timeout)
        except Exception as exc:
            box['error'] = exc

    worker = threading.Thread(target=acquire, name='elastic-release-lock')
    worker.daemon = True
    worker.start()
    deadline = time.time() + req.lock_timeout + session.timeout
    down_since = None
    while worker.is_alive():
        worker.join(0.05)
        now = time.time()
        if session.client.connected:
            down_since = None
        elif down_since is None:
            down_since = now
        if worker.is_alive() and (now >= deadline or (down_since is not None and now - down_since >= session.timeout)):
            try:
                lock.cancel()
            except Exception:
                pass
            raise ZkUnavailable('cannot take the lock %s: ZooKeeper did not answer within %ss (connection '
                                'suspended: the ensemble has no quorum or is unreachable); nothing was written'
                                % (path, session.timeout))
    exc = box.get('error')
    if exc is not None:
        if isinstance(exc, ZkError):
            raise exc
        if type(exc).__name__ == 'LockTimeout':
            box['acquired'] = False
        elif kex is not None and isinstance(exc, (kex.ConnectionLoss, kex.SessionExpiredError, kex.ConnectionClosedError)):
            raise ZkUnavailable('cannot take the lock %s: %s; nothing was written' % (path, _describe(exc)))
        else:
            raise ZkError('cannot take the lock %s: %s; nothing was written' % (path, _describe(exc)))
    if not box.get('acquired'):
        raise ZkError('another writer holds the lock %s for more than %ss; nothing was written'
                      % (path, req.lock_timeout))
    return lock


def _fences(session, held):
    fences = []
    for lock in held:
        node = getattr(lock, 'node', None)
        if node:
            fences.append(('check', '%s/%s' % (lock.path, node), 0))
    return fences


def _transaction(req, snap, target, meta, plan, dplan, aplan):
    """(revision id, body ops, bookkeeping ops, guard ops) of one publish, fences excluded."""
    hpath = history_path(req.admin_root, req.release)
    revision = next_revision(snap.history)
    record = {
        'format': 1, 'release': req.release, 'revision': revision,
        'time': time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime()),
        'operator': req.operator, 'package': req.package, 'action': req.action,
        'digest_before': state_digest(snap.state) if snap.exists else None,
        'digest_after': meta['digest'], 'default_release_before': snap.default_release,
        'before': state_to_json(snap.state),
    }
    book = [('create', '%s/%s' % (hpath, revision), encode_revision(record))]
    excess = len(snap.history) + 1 - max(1, req.keep)
    for old in snap.history[:max(0, excess)]:
        book.append(('delete', '%s/%s' % (hpath, old), -1))
    body = plan.ops + dplan.ops + aplan.ops
    guard = []
    if snap.exists and target['exists']:
        # The versioned metadata write fails the commit if anyone touched the release node since
        # we read it; chunked writes check the same version in their first part.
        body.append(('set', release_path(req.release), encode(meta), snap.meta_stat.version))
        guard = [('check', release_path(req.release), snap.meta_stat.version)]
    return revision, body, book, guard


def _too_large(req, count, size):
    return ZkRequestTooLarge(
        'the change to %s is %d operations in a %d-byte request, over the %d-byte limit of one '
        'ZooKeeper transaction (jute.maxbuffer); nothing was written. Set allow_chunked=true to '
        'write it in several transactions (not atomic for readers), or raise max_request_bytes '
        'together with the servers\' jute.maxbuffer' % (release_path(req.release), count, size, req.max_request_bytes))


FENCE_ALLOWANCE = 160  # bytes per lock fence (a check op on the lock node), added before locking


def _write_locked(session, req, held, out, t0):
    chroot = hosts_without_chroot(session.hosts)[1]
    hpath = history_path(req.admin_root, req.release)
    attempt = 0
    while True:
        attempt += 1
        out.attempts = attempt
        if session.session_lost:
            raise ZkUnavailable('the ZooKeeper session expired while holding the lock of %s: the lock '
                                'is no longer held; nothing more was written' % req.release)
        snap = read_release(session, req.release, req.admin_root, items=True)
        target, meta, plan, dplan, aplan, default_after, out.kept_versions = _prepare(session, req, snap)
        out.before, out.after = snap.state, target
        out.default_before, out.default_after = snap.default_release, default_after
        if not (plan.ops or dplan.ops or aplan.ops):
            # Someone (or our own lost-then-applied commit) already wrote exactly this.
            out.changed = attempt > 1 and out.changed
            if out.changed and snap.history:
                out.revision = snap.history[-1]
            out.zk_seconds = time.time() - t0
            return out
        out.report = plan.report + dplan.report + aplan.report
        if not snap.history:
            session.ensure_path(hpath)
        revision, body, book, guard = _transaction(req, snap, target, meta, plan, dplan, aplan)
        fences = _fences(session, held)
        ops = fences + body + book
        size = request_size(ops, session.acl, chroot)
        try:
            if size <= req.max_request_bytes:
                session.commit(ops, 'publish %s' % release_path(req.release))
                out.transactions = 1
            elif not req.allow_chunked:
                raise _too_large(req, len(body), size)
            else:
                # Metadata and the revision go last, so an interrupted chunked write is re-planned
                # and completed by the next run, and verify=fast never trusts a partial write.
                tail = [op for op in body if op[1] == release_path(req.release) and op[0] == 'set'] + book
                head = [op for op in body if op not in tail]
                limit = req.max_request_bytes - request_size(fences + guard, session.acl, chroot)
                chunks = list(_chunks(head, limit, session.acl, chroot))
                n = 0
                for i, chunk in enumerate(chunks):
                    session.commit(fences + (guard if i == 0 else []) + chunk,
                                   'publish %s (part %d of %d)' % (release_path(req.release), i + 1, len(chunks) + 1))
                    n += 1
                session.commit(fences + tail, 'publish %s (last part)' % release_path(req.release))
                out.transactions = n + 1
            out.revision = revision
            out.changed = True
            out.zk_seconds = time.time() - t0
            return out
        except ZkConflict:
            # A fence failed when our lock node is gone: the session that held it expired (kazoo
            # may already have reconnected with a new one). The lock is lost; retrying cannot help.
            gone = [fence[1] for fence in fences if session.exists_many([fence[1]])[fence[1]] is None]
            if gone:
                raise ZkUnavailable('publish %s: the lock is no longer held (its node %s is gone: the '
                                    'ZooKeeper session that took it expired); nothing was written'
                                    % (release_path(req.release), gone[0]))
            if attempt >= req.max_attempts:
                raise
        except ZkUnavailable as exc:
            # The commit may or may not have been applied: reconnect, re-read and re-plan. An applied
            # commit re-plans to nothing; a lost lock (expired session) stops us above.
            if attempt >= req.max_attempts:
                raise ZkUnavailable('%s (attempt %d of %d): the last transaction may or may not have been '
                                    'applied (all of it or none of it); run again to converge'
                                    % (exc, attempt, req.max_attempts))
            if not session._wait_connected(time.time() + session.timeout):
                raise ZkUnavailable('%s, and no ZooKeeper server answered again within %ss (the ensemble has '
                                    'no quorum or is unreachable): the transaction may or may not have been '
                                    'applied (all of it or none of it); run again to converge'
                                    % (exc, session.timeout))
            out.changed = True
