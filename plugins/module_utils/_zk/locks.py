# -*- coding: utf-8 -*-
# Copyright: (c) 2026, GameOps release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# This module_utils is PRIVATE to gameops.elastic_release; its API may change without notice.
"""The lock protocol of writers: kazoo's Lock recipe with the collection's deadlines, release
without waiting for a lost quorum, and the fences a transaction checks. A mixin of `_zk.ZkSession`.
No Ansible imports here."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import threading
import time

from .base import UNLOCK_WAIT, ZkError, ZkLocked, ZkUnavailable, describe, kex, secs


class Locks(object):
    """lock, unlock and fences of a session."""

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
                raise ZkUnavailable('cannot take the lock %s: %s; nothing was written' % (path, describe(exc)))
            else:
                raise ZkError('cannot take the lock %s: %s; nothing was written' % (path, describe(exc)))
        if not box.get('acquired'):
            if wait_for == 0:
                raise ZkLocked('another writer holds the lock %s (lock_timeout 0: not waiting for it); '
                               'nothing was written' % path)
            raise ZkLocked('another writer holds the lock %s for more than %ss; nothing was written'
                           % (path, secs(wait_for)))
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
