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

import logging
import os
import threading
import time

from . import base as _zkbase
from .locks import Locks
from .reads import Reads
# The errors, the connection defaults and kazoo's exceptions module, for every caller of the session
# (re-exported: callers import them from here).
from .base import (CONNECTION_DEFAULTS, ENV_HOSTS, HAS_KAZOO, KAZOO_IMPORT_ERROR, Unreadable, ZkBusy,  # noqa: F401  pylint: disable=unused-import
                   ZkConflict, ZkError, ZkLocked, ZkRequestTooLarge, ZkUnavailable, describe, kex, load_client,
                   secs)
from .protocol import multi_op_bytes as request_size  # noqa: F401  pylint: disable=unused-import


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


def build_acl(auth_scheme, auth_credential, mode):
    """ACL for nodes the collection creates.

    auto: with a digest credential the writer may do everything and anyone may read (game services
    and VMS read without credentials); without credentials the nodes stay open.
    open: world-writable, as ZooKeeper's default. private: the writer only.
    """
    load_client()
    if mode not in ('auto', 'open', 'private'):
        raise ZkError('invalid acl %r: choose auto, open or private' % (mode,))
    if mode == 'open' or not auth_credential:
        if mode == 'private':
            raise ZkError('acl=private needs auth_credential')
        return list(_zkbase.OPEN_ACL_UNSAFE)
    if auth_scheme != 'digest':
        raise ZkError('acl=%s is only supported with auth_scheme=digest' % mode)
    user, sep, password = auth_credential.partition(':')
    if not sep or not user:
        raise ZkError('auth_credential must be "user:password" for digest authentication')
    acl = [_zkbase.make_digest_acl(user, password, all=True)]
    if mode == 'auto':
        acl.append(_zkbase.make_acl('world', 'anyone', read=True))
    return acl


def hosts_without_chroot(hosts):
    server, slash, chroot = hosts.partition('/')
    return server, ('/' + chroot if slash else '')


class ZkSession(Reads, Locks):
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
        load_client()
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
        self.client = _zkbase.KazooClient(**kwargs)
        self.client.add_listener(self._listen)

    def _listen(self, state):
        if state == _zkbase.KazooState.LOST:
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
            if isinstance(exc, _zkbase.KazooTimeoutError):
                last = self._last_error.last
                raise ZkUnavailable('cannot connect to ZooKeeper at %s within %ss: no server answered, '
                                    'TLS or authentication failed, or the ensemble has no quorum%s'
                                    % (server, secs(self.timeout), ' (last error: %s)' % last if last else ''))
            raise ZkUnavailable('cannot connect to ZooKeeper at %s: %s' % (server, describe(exc)))
        if chroot:
            try:
                present = self.wait(self.client.exists_async('/'), 'check chroot %s' % chroot)
            except ZkError:
                self.close()
                raise
            if present is None:
                self.close()
                raise ZkError('the chroot %s does not exist on %s: create it once, for example with '
                              'ZooKeeper\'s CLI (Debian: /usr/share/zookeeper/bin/zkCli.sh -server %s create %s "")'
                              % (chroot, server, server.split(',')[0], chroot))
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
                          'overloaded machine)' % (what, secs(waited)))
        return ZkUnavailable('%s: not connected: the ensemble has no quorum or is unreachable (no answer '
                             'within %ss)' % (what, secs(waited)))

    def wait(self, async_result, what, timeout=None):
        """The value of one kazoo async result, waiting at most `timeout` (default: the session's).

        Raises ZkBusy (connected, no answer), ZkUnavailable (not connected, connection lost, session
        expired) or kazoo's own error for a refused operation.
        """
        waited = self.timeout if timeout is None else timeout
        try:
            return async_result.get(timeout=waited)
        except _zkbase.KazooTimeoutError:
            raise self._no_answer(what, waited)
        except (kex.ConnectionLoss, kex.SessionExpiredError, kex.ConnectionClosedError) as exc:
            raise ZkUnavailable('%s: %s' % (what, describe(exc)))

    def wait_connected(self, deadline):
        """Wait until the client is connected or time.time() reaches deadline; True if connected."""
        while True:
            if self.client.state == _zkbase.KazooState.CONNECTED:
                return True
            if time.time() >= deadline:
                return False
            time.sleep(0.02)

    _wait_connected = wait_connected  # the old private name, until every caller uses the public one

    def _reconnect(self, exc):
        """After a lost connection: wait `timeout` for a new one, or fail saying why."""
        if not self.wait_connected(time.time() + self.timeout):
            raise ZkUnavailable('%s, and no ZooKeeper server answered again within %ss (not connected: the '
                                'ensemble has no quorum or is unreachable)' % (exc, secs(self.timeout)))

    # ---- transactions -----------------------------------------------------------------------
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
                raise ZkError('cannot create %s: %s' % (current, describe(exc)))

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
            raise ZkError('%s: %s' % (what, describe(exc)))
        for op, result in zip(ops, results):
            if isinstance(result, Exception) and not isinstance(result, (kex.RolledBackError, kex.RuntimeInconsistency)):
                if isinstance(result, kex.BadVersionError) or (op[0] == 'check' and isinstance(result, kex.NoNodeError)):
                    raise ZkConflict('%s: %s changed while we worked (%s); nothing was written'
                                     % (what, op[1], describe(result)))
                raise ZkError('%s: cannot %s %s: %s; nothing was written'
                              % (what, op[0], op[1], describe(result)))
        return results

    # ---- the lock protocol ------------------------------------------------------------------
