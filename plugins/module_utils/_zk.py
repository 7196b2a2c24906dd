# -*- coding: utf-8 -*-
# Copyright: (c) 2026, GameOps release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# This module_utils is PRIVATE to gameops.elastic_release; its API may change without notice.
"""One ZooKeeper session: deadlines per answer, many reads in few requests, checked transactions,
the lock protocol.

Plain kazoo calls block forever while the session is SUSPENDED (an ensemble without quorum):
every wait here is bounded. A wait ends `timeout` seconds after the last progress (an answer, a
reconnection), never after a fixed time for a whole batch: a slow but healthy server never fails a
big read. When a wait runs out the error tells a connected but silent server (ZkBusy) from no
connection at all (ZkUnavailable).
No Ansible imports: modules, plugins, tests and benchmarks share this code.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import collections
import logging
import os
import threading
import time

from . import _zkproto

try:
    from kazoo import exceptions as kex
    HAS_KAZOO = True
    KAZOO_IMPORT_ERROR = None
except ImportError as _exc:  # pragma: no cover - reported by the adapters
    HAS_KAZOO = False
    KAZOO_IMPORT_ERROR = _exc
    kex = None

# kazoo's client, loaded by _load_client() when a session is first made: importing it costs a few
# tens of ms, which a module that never connects (server_start resolved by the controller, on
# every host of a fleet) should not pay.
KazooClient = KazooState = make_digest_acl = make_acl = OPEN_ACL_UNSAFE = None
KazooTimeoutError = Exception


def _load_client():
    global KazooClient, KazooState, KazooTimeoutError, make_digest_acl, make_acl, OPEN_ACL_UNSAFE
    if KazooClient is None and HAS_KAZOO:
        from kazoo.client import KazooClient as client, KazooState as state
        from kazoo.handlers.threading import KazooTimeoutError as timeout_error
        from kazoo.security import OPEN_ACL_UNSAFE as open_acl, make_acl as acl, make_digest_acl as digest_acl
        KazooClient, KazooState, KazooTimeoutError = client, state, timeout_error
        make_digest_acl, make_acl, OPEN_ACL_UNSAFE = digest_acl, acl, open_acl

# The connection options every module and plugin shares (documented in doc_fragments/zookeeper.py).
CONNECTION_DEFAULTS = {
    'hosts': None,
    'timeout': 10.0,
    'auth_scheme': 'digest',
    'auth_credential': None,
    'use_tls': False,
    'ca_cert': None,
    'client_cert': None,
    'client_key': None,
    'validate_certs': True,
    'acl': 'auto',
}
ENV_HOSTS = 'ELASTIC_RELEASE_ZK_HOSTS'
# Requests in flight at once: single reads (the pipelined path), and multi-reads (sized by
# _zkproto.plan; few at once, as the server holds every answer it built until we read it).
PIPELINE_WINDOW = 100
MULTI_READ_WINDOW = 4
# Connection losses in a row, with no answer in between, before a read gives up.
MAX_DROPS = 3
# unlock() waits this long for a connection (a leader election takes about a second), not for a
# lost quorum: the ephemeral lock node goes with the session anyway.
UNLOCK_WAIT = 3.0
# kazoo logs reconnects at WARNING through logging's last-resort handler (stderr noise in plugin
# output); our errors carry their own messages.
logging.getLogger('kazoo').addHandler(logging.NullHandler())


class _LastConnectionError(logging.Handler):
    """Remembers why kazoo's last connection attempt failed (a refused TLS certificate, a refused
    connection): kazoo only logs it and lets start() time out."""

    def __init__(self):
        logging.Handler.__init__(self, logging.WARNING)
        self.last = None

    def emit(self, record):
        try:
            text = record.getMessage()
            if record.exc_info and record.exc_info[1] is not None:
                text = '%s: %s' % (text, record.exc_info[1])
        except Exception:  # never let logging break the connection thread
            return
        if text.startswith(('Connection dropped', 'Connection time-out', 'AUTH_FAILED', 'Unhandled exception')):
            self.last = text


class ZkError(Exception):
    """A ZooKeeper operation that failed; the message names the path and the operation."""


class ZkUnavailable(ZkError):
    """No usable session within the deadline: unreachable servers, or an ensemble without quorum."""


class ZkBusy(ZkUnavailable):
    """Connected, but ZooKeeper did not answer within the deadline: a busy server or an overloaded
    machine. A write whose answer never came may or may not have been applied."""


class ZkConflict(ZkError):
    """Someone else changed what we read (a version check failed): read again and re-plan."""


class ZkRequestTooLarge(ZkError):
    pass


class ZkLocked(ZkError):
    """Another writer held the lock for longer than we were asked to wait."""


class _Dropped(Exception):
    """The connection went away under a read: the answers in flight are lost, not refused."""


# What each read verb is called in messages.
_VERBS = {'get': 'read', 'children': 'list children of', 'exists': 'stat'}


def _describe(exc):
    name = type(exc).__name__
    text = {
        'NoNodeError': 'node does not exist',
        'NodeExistsError': 'node exists',
        'BadVersionError': 'version changed since it was read',
        'NotEmptyError': 'node has children',
        'NoAuthError': 'not authorised (ACL refuses this identity)',
        'AuthFailedError': 'authentication failed',
        'NoChildrenForEphemeralsError': 'ephemeral nodes cannot have children',
        'RolledBackError': 'rolled back with the transaction',
        'RuntimeInconsistency': 'rolled back with the transaction',
        'ConnectionLoss': 'connection lost',
        'SessionExpiredError': 'session expired',
        'MarshallingError': 'request could not be marshalled',
        'UnimplementedError': 'operation unknown to this ZooKeeper server',
    }.get(name)
    return text or ('%s %s' % (name, exc)).strip()


def build_acl(auth_scheme, auth_credential, mode):
    """ACL for nodes the collection creates.

    auto: with a digest credential the writer may do everything and anyone may read (game services
    and VMS read without credentials); without credentials the nodes stay open.
    open: world-writable, as ZooKeeper's default. private: the writer only.
    """
    _load_client()
    if mode not in ('auto', 'open', 'private'):
        raise ZkError('invalid acl %r: choose auto, open or private' % (mode,))
    if mode == 'open' or not auth_credential:
        if mode == 'private':
            raise ZkError('acl=private needs auth_credential')
        return list(OPEN_ACL_UNSAFE)
    if auth_scheme != 'digest':
        raise ZkError('acl=%s is only supported with auth_scheme=digest' % mode)
    user, sep, password = auth_credential.partition(':')
    if not sep or not user:
        raise ZkError('auth_credential must be "user:password" for digest authentication')
    acl = [make_digest_acl(user, password, all=True)]
    if mode == 'auto':
        acl.append(make_acl('world', 'anyone', read=True))
    return acl


def hosts_without_chroot(hosts):
    server, slash, chroot = hosts.partition('/')
    return server, ('/' + chroot if slash else '')


def _secs(value):
    return '%g' % value


def _keep(key, value, out):
    if isinstance(value, kex.NoNodeError):
        value = None
    elif isinstance(value, Exception):
        raise ZkError('cannot %s %s: %s' % (_VERBS[key[0]], key[1], _describe(value)))
    out[key] = value


class ZkSession(object):
    """A started kazoo client plus the deadline rules of the collection.

    multi_read: None (default) asks the server once, at the first read of several nodes, whether
    it knows multi-read (ZooKeeper 3.6+), and otherwise falls back to pipelined single reads;
    True uses it without asking, False never uses it. The attribute holds the answer afterwards.
    """

    def __init__(self, hosts=None, timeout=10.0, auth_scheme='digest', auth_credential=None,
                 use_tls=False, ca_cert=None, client_cert=None, client_key=None,
                 validate_certs=True, acl='auto', client=None, multi_read=None):
        if not HAS_KAZOO:
            raise ZkError('the kazoo Python library is required on the host that runs this '
                          '(pip install kazoo): %s' % KAZOO_IMPORT_ERROR)
        _load_client()
        hosts = hosts or os.environ.get(ENV_HOSTS)
        if not hosts:
            raise ZkError('no ZooKeeper hosts: set the hosts option or %s' % ENV_HOSTS)
        self.hosts = hosts
        self.timeout = float(timeout)
        if self.timeout <= 0:
            raise ZkError('timeout must be positive, got %s' % timeout)
        self.acl = build_acl(auth_scheme, auth_credential, acl)
        self.multi_read = multi_read
        self._lost = threading.Event()
        self._owned = client is None
        if client is not None:
            self.client = client
            self.client.add_listener(self._listen)
            return
        for label, path in (('ca_cert', ca_cert), ('client_cert', client_cert), ('client_key', client_key)):
            if path and not os.path.isfile(path):
                raise ZkError('%s file %s does not exist' % (label, path))
        # A logger of this session's own (not registered, so nothing accumulates), below 'kazoo'.
        self._last_error = _LastConnectionError()
        logger = logging.Logger('kazoo.elastic_release')
        logger.parent = logging.getLogger('kazoo')
        logger.addHandler(self._last_error)
        kwargs = dict(hosts=hosts, timeout=max(self.timeout, 4.0), default_acl=self.acl, logger=logger)
        if auth_credential:
            kwargs['auth_data'] = [(auth_scheme, auth_credential)]
        if use_tls:
            kwargs.update(use_ssl=True, verify_certs=validate_certs, ca=ca_cert,
                          certfile=client_cert, keyfile=client_key)
        self.client = KazooClient(**kwargs)
        self.client.add_listener(self._listen)

    def _listen(self, state):
        if state == KazooState.LOST:
            self._lost.set()

    @property
    def session_lost(self):
        """True once the session expired: ephemeral nodes (locks) held before are gone."""
        return self._lost.is_set()

    def start(self):
        if not self._owned:
            return self
        server, chroot = hosts_without_chroot(self.hosts)
        try:
            self.client.start(timeout=self.timeout)
        except Exception as exc:  # a timeout, AuthFailedError, SSLError, socket errors
            self.client.stop()
            self.client.close()
            if isinstance(exc, KazooTimeoutError):
                last = self._last_error.last
                raise ZkUnavailable('cannot connect to ZooKeeper at %s within %ss: no server answered, '
                                    'TLS or authentication failed, or the ensemble has no quorum%s'
                                    % (server, _secs(self.timeout), ' (last error: %s)' % last if last else ''))
            raise ZkUnavailable('cannot connect to ZooKeeper at %s: %s' % (server, _describe(exc)))
        if chroot:
            try:
                present = self.wait(self.client.exists_async('/'), 'check chroot %s' % chroot)
            except ZkError:
                self.close()
                raise
            if present is None:
                self.close()
                raise ZkError('the chroot %s does not exist on %s: create it once (for example '
                              'with zkCli.sh create %s "")' % (chroot, server, chroot))
        return self

    def close(self):
        if self._owned:
            try:
                self.client.stop()
                self.client.close()
            except Exception:  # closing must never hide the real error
                pass

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()

    # ---- waiting with deadlines -------------------------------------------------------------
    def _no_answer(self, what, waited):
        if self.client.connected:
            return ZkBusy('%s: connected, but ZooKeeper did not answer within %ss (busy server or '
                          'overloaded machine)' % (what, _secs(waited)))
        return ZkUnavailable('%s: not connected: the ensemble has no quorum or is unreachable (no answer '
                             'within %ss)' % (what, _secs(waited)))

    def wait(self, async_result, what, timeout=None):
        """The value of one kazoo async result, waiting at most `timeout` (default: the session's).

        Raises ZkBusy (connected, no answer), ZkUnavailable (not connected, connection lost, session
        expired) or kazoo's own error for a refused operation.
        """
        waited = self.timeout if timeout is None else timeout
        try:
            return async_result.get(timeout=waited)
        except KazooTimeoutError:
            raise self._no_answer(what, waited)
        except (kex.ConnectionLoss, kex.SessionExpiredError, kex.ConnectionClosedError) as exc:
            raise ZkUnavailable('%s: %s' % (what, _describe(exc)))

    def wait_connected(self, deadline):
        """Wait until the client is connected or time.time() reaches deadline; True if connected."""
        while True:
            if self.client.state == KazooState.CONNECTED:
                return True
            if time.time() >= deadline:
                return False
            time.sleep(0.02)

    _wait_connected = wait_connected  # the old private name, until every caller uses the public one

    def _reconnect(self, exc):
        """After a lost connection: wait `timeout` for a new one, or fail saying why."""
        if not self.wait_connected(time.time() + self.timeout):
            raise ZkUnavailable('%s, and no ZooKeeper server answered again within %ss (not connected: the '
                                'ensemble has no quorum or is unreachable)' % (exc, _secs(self.timeout)))

    def sync(self, path='/'):
        """ZooKeeper's sync, bounded like a read: once it returns, reads on this connection see
        every write the ensemble committed before. Use it before re-reading what a lost answer may
        have changed (the server we reconnected to may lag behind the leader)."""
        for attempt in range(1, MAX_DROPS + 1):
            try:
                value = self._answer(self.client.sync_async(path), 'sync %s' % path)
            except _Dropped as exc:
                if attempt == MAX_DROPS:
                    raise ZkUnavailable('%s (%d times in a row)' % (exc, attempt))
                self._reconnect(exc)
                continue
            if isinstance(value, Exception):
                raise ZkError('cannot sync %s: %s' % (path, _describe(value)))
            return

    # ---- reads ------------------------------------------------------------------------------
    def batch(self, requests, sync=False, node_bytes=None):
        """[(verb, path)] with verb in get/children/exists -> [result or None], in order.

        get -> (data, ZnodeStat), children -> [names], exists -> ZnodeStat; None for a missing
        node. With sync=True the reads come after a sync (see sync()). node_bytes: how much data
        one node may hold, when that may be over ~2 kB (fewer reads share a multi-read then, see
        _zkproto.ops_per_read).
        """
        keyed = list(requests)
        got = self._read(keyed, sync, node_bytes)
        return [got[key] for key in keyed]

    def get_many(self, paths, sync=False, node_bytes=None):
        """{path: (data, stat) or None}."""
        return self._by_path('get', paths, sync, node_bytes)

    def children_many(self, paths, sync=False):
        """{path: [children] or None}."""
        return self._by_path('children', paths, sync)

    def exists_many(self, paths, sync=False, node_bytes=None):
        """{path: stat or None}. (A multi-read asks exists as getData: the data travels too.)"""
        return self._by_path('exists', paths, sync, node_bytes)

    def get(self, path):
        return self.get_many([path])[path]

    def children(self, path):
        return self.children_many([path])[path]

    def _by_path(self, verb, paths, sync, node_bytes=None):
        got = self._read([(verb, path) for path in paths], sync, node_bytes)
        return dict((key[1], value) for key, value in got.items())

    def _read(self, keys, sync=False, node_bytes=None):
        """{(verb, path): result}: every key answered, each answer within `timeout` of the last
        progress. A lost connection re-asks what is still unanswered once reconnected."""
        keys = list(collections.OrderedDict.fromkeys(keys))
        for verb, path in keys:
            if verb not in _VERBS:
                raise ValueError('unknown read verb %r for %s' % (verb, path))
        out = {}
        drops = 0
        while len(out) < len(keys):
            answered = len(out)
            try:
                self._read_round([key for key in keys if key not in out], out, sync, node_bytes)
            except _Dropped as exc:
                drops = drops + 1 if len(out) == answered else 1
                if drops >= MAX_DROPS:
                    raise ZkUnavailable('%s (%d times in a row, with no answer in between)' % (exc, drops))
                self._reconnect(exc)
        return out

    def _read_round(self, keys, out, sync, node_bytes, multi=True):
        if multi and len(keys) > 1 and self._multi_read_usable():
            requests = [('multi', part, request) for part, request in
                        _zkproto.plan(keys, self.client.chroot, node_bytes)]
            window = MULTI_READ_WINDOW
        else:
            requests = [('plain', [key], key) for key in keys]
            window = PIPELINE_WINDOW
        if sync:
            requests.insert(0, ('sync', [], '/'))
        plain_again = []
        # A sliding window, not every request at once: kazoo wakes its connection thread with one
        # byte per request on a socketpair that nobody drains while the connection is down, so
        # thousands of requests issued then would block forever inside kazoo, past every deadline.
        # Few multi-reads in flight: the server holds every answer it built until we read it.
        pending = collections.deque()
        for request in requests:
            if len(pending) >= window:
                self._settle(pending.popleft(), out, plain_again)
            pending.append(self._issue(*request))
        while pending:
            self._settle(pending.popleft(), out, plain_again)
        if plain_again:
            self._read_round(plain_again, out, False, node_bytes, multi=False)

    def _issue(self, kind, keys, request):
        if kind == 'sync':
            return kind, keys, self.client.sync_async(request)
        if kind == 'multi':
            result = self.client.handler.async_result()
            self.client._call(request, result)
            return kind, keys, result
        verb, path = request
        method = {'get': self.client.get_async, 'children': self.client.get_children_async,
                  'exists': self.client.exists_async}[verb]
        return kind, keys, method(path)

    def _answer(self, result, what):
        """One answer, within `timeout`: the value, or kazoo's error for a refused request."""
        try:
            return result.get(timeout=self.timeout)
        except KazooTimeoutError:
            raise self._no_answer(what, self.timeout)
        except (kex.ConnectionLoss, kex.SessionExpiredError) as exc:
            raise _Dropped('%s: %s' % (what, _describe(exc)))
        except kex.ConnectionClosedError as exc:
            raise ZkUnavailable('%s: %s' % (what, _describe(exc)))
        except kex.ZookeeperError as exc:
            return exc

    def _settle(self, entry, out, plain_again):
        kind, keys, result = entry
        if kind != 'multi':
            what = '%s %s' % (_VERBS[keys[0][0]], keys[0][1]) if keys else 'sync'
            value = self._answer(result, what)
            if keys:
                _keep(keys[0], value, out)
            elif isinstance(value, Exception):
                raise ZkError('cannot sync: %s' % _describe(value))
            return
        what = 'read %s%s' % (keys[0][1], ' and %d more nodes' % (len(keys) - 1) if len(keys) > 1 else '')
        values = self._answer(result, what)
        if isinstance(values, kex.UnimplementedError):
            # A server without multi-read (an older member of a mixed ensemble) closes the
            # connection after saying so: read the rest with single requests.
            self.multi_read = False
            raise _Dropped('%s: this ZooKeeper server does not know multi-read' % what)
        if isinstance(values, Exception):
            raise ZkError('cannot %s: %s' % (what, _describe(values)))
        for key, value in zip(keys, values):
            if key[0] == 'exists' and isinstance(value, kex.NoAuthError):
                plain_again.append(key)  # getData needs READ permission, exists needs none
            else:
                _keep(key, _zkproto.single_result(key[0], value), out)

    def _multi_read_usable(self):
        if self.multi_read is None:
            # kazoo queues any request object through _call (2.x); without it, read the old way.
            self.multi_read = callable(getattr(self.client, '_call', None)) and self._probe_multi_read()
        return self.multi_read

    def _probe_multi_read(self):
        """Does the server know multi-read? One tiny request, alone in flight: a server older than
        3.6 answers UNIMPLEMENTED and closes the connection, or just drops it, and nothing else of
        ours is lost with it. Two drops in a row are taken as "no" (a network that really drops
        twice costs this session speed, never a wrong answer: both paths read the same)."""
        request = _zkproto.plan([('get', '/')], self.client.chroot)[0][1]
        for attempt in (1, 2):
            result = self.client.handler.async_result()
            self.client._call(request, result)
            try:
                value = self._answer(result, 'ask ZooKeeper whether it knows multi-read')
            except _Dropped as exc:
                if attempt == 2:
                    return False
                self._reconnect(exc)
                continue
            # UNIMPLEMENTED, or any other refusal of the whole request: single reads then.
            return not isinstance(value, Exception)
        return False  # pragma: no cover - the loop returns

    def ensure_path(self, path):
        """Create path and its parents (bookkeeping nodes only), tolerating concurrent creators."""
        parts = path.strip('/').split('/')
        current = ''
        for part in parts:
            current += '/' + part
            if self.exists_many([current])[current] is not None:
                continue
            try:
                self.wait(self.client.create_async(current, b'', acl=self.acl), 'create %s' % current)
            except kex.NodeExistsError:
                pass
            except kex.ZookeeperError as exc:
                raise ZkError('cannot create %s: %s' % (current, _describe(exc)))

    # ---- transactions -----------------------------------------------------------------------
    def commit(self, ops, what):
        """Commit [(op, path, data_or_version, extra)] as one multi-op; raise on any failed result.

        kazoo does not raise on a failed multi-op: the failing operation's result is an exception
        object and the others are RolledBackError. We turn that into one clear error.
        """
        txn = self.client.transaction()
        for op in ops:
            kind = op[0]
            if kind == 'create':
                txn.create(op[1], op[2], acl=self.acl, sequence=bool(op[3]) if len(op) > 3 else False)
            elif kind == 'set':
                txn.set_data(op[1], op[2], op[3] if len(op) > 3 else -1)
            elif kind == 'delete':
                txn.delete(op[1], op[2] if len(op) > 2 else -1)
            elif kind == 'check':
                txn.check(op[1], op[2])
            else:
                raise ValueError('unknown transaction op %r' % (kind,))
        try:
            results = self.wait(txn.commit_async(), what)
        except kex.ZookeeperError as exc:
            raise ZkError('%s: %s' % (what, _describe(exc)))
        for op, result in zip(ops, results):
            if isinstance(result, Exception) and not isinstance(result, (kex.RolledBackError, kex.RuntimeInconsistency)):
                if isinstance(result, kex.BadVersionError) or (op[0] == 'check' and isinstance(result, kex.NoNodeError)):
                    raise ZkConflict('%s: %s changed while we worked (%s); nothing was written'
                                     % (what, op[1], _describe(result)))
                raise ZkError('%s: cannot %s %s: %s; nothing was written'
                              % (what, op[0], op[1], _describe(result)))
        return results

    # ---- the lock protocol ------------------------------------------------------------------
    def lock(self, path, identifier, timeout, lock_factory=None):
        """Take the exclusive lock at path (kazoo's Lock recipe: an ephemeral sequential node under
        path holding identifier) and return its handle (the kazoo Lock: .path, .node).

        timeout: seconds to wait for another holder; 0 means do not wait. ZooKeeper's own answers
        get the session's timeout on top. Raises ZkLocked when another writer holds the lock,
        ZkBusy/ZkUnavailable when ZooKeeper does not answer or the connection stays down for
        `timeout` (the session's), ZkError otherwise; every message ends "nothing was written".
        lock_factory(path, identifier) replaces client.Lock (tests hook into the protocol with it).
        """
        wait_for = float(timeout)
        if wait_for < 0:
            raise ZkError('lock timeout must be 0 or more, got %s' % timeout)
        lock = (lock_factory or self.client.Lock)(path, identifier)
        # kazoo's Lock.acquire() makes blocking calls that wait forever while the session is
        # suspended (an ensemble that lost quorum): run it aside and stop waiting once the session
        # has been disconnected for `timeout` seconds.
        box = {}
        gate = threading.Lock()

        def acquire():
            try:
                got = lock.acquire(blocking=False) if wait_for == 0 else lock.acquire(timeout=wait_for)
            except Exception as exc:
                box['error'] = exc
                return
            with gate:
                box['acquired'] = got
                give_back = got and box.get('abandoned')
            if give_back:  # taken after we gave up waiting: give it back
                self.unlock(lock)

        worker = threading.Thread(target=acquire, name='elastic-release-lock')
        worker.daemon = True
        worker.start()
        deadline = time.time() + wait_for + self.timeout
        down_since = None
        while worker.is_alive():
            worker.join(0.05)
            now = time.time()
            if self.client.connected:
                down_since = None
            elif down_since is None:
                down_since = now
            if worker.is_alive() and (now >= deadline or (down_since is not None and now - down_since >= self.timeout)):
                with gate:
                    done = 'acquired' in box or 'error' in box
                    box['abandoned'] = not done
                if done:  # it finished just now
                    break
                try:
                    lock.cancel()
                except Exception:
                    pass
                err = self._no_answer('cannot take the lock %s' % path, self.timeout)
                raise type(err)('%s; nothing was written' % err)
        return self._acquired(lock, path, box, wait_for)

    @staticmethod
    def _acquired(lock, path, box, wait_for):
        exc = box.get('error')
        if exc is not None:
            if isinstance(exc, ZkError):
                raise exc
            if type(exc).__name__ == 'LockTimeout':
                box['acquired'] = False
            elif isinstance(exc, (kex.ConnectionLoss, kex.SessionExpiredError, kex.ConnectionClosedError)):
                raise ZkUnavailable('cannot take the lock %s: %s; nothing was written' % (path, _describe(exc)))
            else:
                raise ZkError('cannot take the lock %s: %s; nothing was written' % (path, _describe(exc)))
        if not box.get('acquired'):
            if wait_for == 0:
                raise ZkLocked('another writer holds the lock %s (lock_timeout 0: not waiting for it); '
                               'nothing was written' % path)
            raise ZkLocked('another writer holds the lock %s for more than %ss; nothing was written'
                           % (path, _secs(wait_for)))
        return lock

    def _delete_lock_node(self, lock):
        node = getattr(lock, 'node', None)
        if not node:
            return True
        try:
            self.wait(self.client.delete_async('%s/%s' % (lock.path, node)), 'release the lock %s' % lock.path)
        except kex.NoNodeError:
            pass  # gone with an expired session: not held any more either
        lock.is_acquired = False
        return True

    def unlock(self, handle):
        """Release a lock taken with lock(), never waiting for a lost quorum; True once released.

        kazoo's Lock.release() blocks for as long as the session is suspended (an ensemble without
        quorum queues the delete): a module that had already failed would then hang. The lock node
        is deleted within the session's deadline instead; if that fails (False), the ephemeral node
        goes with the session (closed by the caller, or expired by the ensemble).
        """
        try:
            if not self.wait_connected(time.time() + min(self.timeout, UNLOCK_WAIT)):
                return False
            return self._delete_lock_node(handle)
        except Exception:  # a lost session already dropped the ephemeral lock node
            return False

    @staticmethod
    def fences(handles):
        """[('check', lock node, 0)] for commit(): the transaction fails if any of our lock nodes is
        gone (the session that took it expired, so another writer may hold the lock now)."""
        return [('check', '%s/%s' % (h.path, h.node), 0) for h in handles if getattr(h, 'node', None)]


# The write-size arithmetic lives with the rest of the jute encoding; the old name stays.
request_size = _zkproto.multi_op_bytes
