# -*- coding: utf-8 -*-
# Copyright: (c) 2026, GameOps release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# This module_utils is PRIVATE to gameops.elastic_release; its API may change without notice.
"""One ZooKeeper session with deadlines, pipelined reads and checked transactions.

Plain kazoo calls block forever while the session is SUSPENDED (an ensemble without quorum):
every wait here is bounded by the caller's ``timeout`` and turns into ZkUnavailable.
No Ansible imports: modules, plugins, tests and benchmarks share this code.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import collections
import logging
import os
import threading
import time

try:
    from kazoo.client import KazooClient, KazooState
    from kazoo import exceptions as kex
    from kazoo.handlers.threading import KazooTimeoutError
    from kazoo.security import make_digest_acl, make_acl, OPEN_ACL_UNSAFE
    HAS_KAZOO = True
    KAZOO_IMPORT_ERROR = None
except ImportError as _exc:  # pragma: no cover - reported by the adapters
    HAS_KAZOO = False
    KAZOO_IMPORT_ERROR = _exc
    kex = None
    KazooTimeoutError = Exception

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
# Read requests in flight at once (see ZkSession._many).
PIPELINE_WINDOW = 100
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


class ZkConflict(ZkError):
    """Someone else changed what we read (a version check failed): read again and re-plan."""


class ZkRequestTooLarge(ZkError):
    pass


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
    }.get(name)
    return text or ('%s %s' % (name, exc)).strip()


def _label(key):
    return key[1] if isinstance(key, tuple) else key


def build_acl(auth_scheme, auth_credential, mode):
    """ACL for nodes the collection creates.

    auto: with a digest credential the writer may do everything and anyone may read (game services
    and VMS read without credentials); without credentials the nodes stay open.
    open: world-writable, as ZooKeeper's default. private: the writer only.
    """
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


class ZkSession(object):
    """A started kazoo client plus the deadline rules of the collection."""

    def __init__(self, hosts=None, timeout=10.0, auth_scheme='digest', auth_credential=None,
                 use_tls=False, ca_cert=None, client_cert=None, client_key=None,
                 validate_certs=True, acl='auto', client=None):
        if not HAS_KAZOO:
            raise ZkError('the kazoo Python library is required on the host that runs this '
                          '(pip install kazoo): %s' % KAZOO_IMPORT_ERROR)
        hosts = hosts or os.environ.get(ENV_HOSTS)
        if not hosts:
            raise ZkError('no ZooKeeper hosts: set the hosts option or %s' % ENV_HOSTS)
        self.hosts = hosts
        self.timeout = float(timeout)
        if self.timeout <= 0:
            raise ZkError('timeout must be positive, got %s' % timeout)
        self.acl = build_acl(auth_scheme, auth_credential, acl)
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
                                    % (server, self.timeout, ' (last error: %s)' % last if last else ''))
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
    def wait(self, async_result, what, timeout=None):
        try:
            return async_result.get(timeout=self.timeout if timeout is None else timeout)
        except KazooTimeoutError:
            raise ZkUnavailable('%s: ZooKeeper did not answer within %ss (connection suspended: '
                                'the ensemble has no quorum or is unreachable)' % (what, self.timeout))
        except (kex.ConnectionLoss, kex.SessionExpiredError, kex.ConnectionClosedError) as exc:
            raise ZkUnavailable('%s: %s' % (what, _describe(exc)))

    def _wait_connected(self, deadline):
        while time.time() < deadline:
            if self.client.state == KazooState.CONNECTED:
                return True
            time.sleep(0.05)
        return False

    def retrying(self, what, func):
        """Run func() (idempotent reads only) again after connection loss, within the timeout."""
        deadline = time.time() + self.timeout
        while True:
            try:
                return func()
            except ZkUnavailable as exc:
                if time.time() >= deadline or not self._wait_connected(deadline):
                    if self.client.connected:
                        raise
                    raise ZkUnavailable('%s, and no ZooKeeper server answered again within %ss (the ensemble has '
                                        'no quorum or is unreachable)' % (exc, self.timeout))

    def _many(self, method, paths, what, missing_ok=True):
        def once():
            out = {}
            deadline = time.time() + self.timeout

            def settle(path, result):
                try:
                    out[path] = self.wait(result, '%s %s' % (what, _label(path)),
                                          timeout=max(0.01, deadline - time.time()))
                except ZkUnavailable:
                    raise
                except kex.NoNodeError:
                    if not missing_ok:
                        raise ZkError('cannot %s %s: node does not exist' % (what, _label(path)))
                    out[path] = None
                except kex.ZookeeperError as exc:
                    raise ZkError('cannot %s %s: %s' % (what, _label(path), _describe(exc)))

            # A sliding window, not every request at once: kazoo wakes its connection thread with
            # one byte per request on a socketpair (a few hundred bytes of room) that nobody
            # drains while the connection is down, so thousands of requests issued then would
            # block forever inside kazoo, past every deadline.
            pending = collections.deque()
            for path in paths:
                if len(pending) >= PIPELINE_WINDOW:
                    settle(*pending.popleft())
                pending.append((path, method(path)))
            while pending:
                settle(*pending.popleft())
            return out
        return self.retrying(what, once)

    def batch(self, requests):
        """[(verb, path)] with verb in get/children/exists, all in flight at once -> [result or None]."""
        methods = {'get': self.client.get_async, 'children': self.client.get_children_async,
                   'exists': self.client.exists_async}
        keyed = list(requests)
        got = self._many(lambda key: methods[key[0]](key[1]), keyed, 'read')
        return [got[key] for key in keyed]

    def get_many(self, paths):
        """{path: (data, stat) or None}, all requests in flight at once."""
        return self._many(self.client.get_async, list(paths), 'read')

    def children_many(self, paths):
        """{path: [children] or None}."""
        return self._many(self.client.get_children_async, list(paths), 'list children of')

    def exists_many(self, paths):
        """{path: stat or None}."""
        return self._many(self.client.exists_async, list(paths), 'stat')

    def get(self, path):
        return self.get_many([path])[path]

    def children(self, path):
        return self.children_many([path])[path]

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


def request_size(ops, acl, chroot=''):
    """Bytes ZooKeeper's server counts for a multi-op (jute encoding), to stay under jute.maxbuffer."""
    prefix = len(chroot.encode('utf-8'))
    acl_bytes = 4 + sum(4 + 4 + len(a.id.scheme) + 4 + len(a.id.id) for a in acl)
    total = 4 + 8 + 9  # length prefix, request header, closing multi header
    for op in ops:
        path = 4 + prefix + len(op[1].encode('utf-8'))
        if op[0] == 'create':
            total += 9 + path + 4 + len(op[2]) + acl_bytes + 4
        elif op[0] == 'set':
            total += 9 + path + 4 + len(op[2]) + 4
        else:
            total += 9 + path + 4
    return total
