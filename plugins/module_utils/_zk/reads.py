# -*- coding: utf-8 -*-
# Copyright: (c) 2026, GameOps release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# This module_utils is PRIVATE to gameops.elastic_release; its API may change without notice.
"""Reads of many nodes in few requests: ZooKeeper's multi-read (3.6+), or pipelined single reads
for older servers, each answer with its own deadline. A mixin of `_zk.ZkSession`.
No Ansible imports here."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import collections

from . import base as _zkbase
from . import protocol as _zkproto
from .base import (MAX_DROPS, MULTI_READ_WINDOW, PIPELINE_WINDOW, VERBS, Dropped, ZkError, ZkUnavailable, describe,
                   keep, kex)


class Reads(object):
    """batch, get_many, children_many, exists_many, get, children and sync of a session."""

    def sync(self, path='/'):
        """ZooKeeper's sync, bounded like a read: once it returns, reads on this connection see
        every write the ensemble committed before. Use it before re-reading what a lost answer may
        have changed (the server we reconnected to may lag behind the leader)."""
        for attempt in range(1, MAX_DROPS + 1):
            try:
                value = self._answer(self.client.sync_async(path), 'sync %s' % path)
            except Dropped as exc:
                if attempt == MAX_DROPS:
                    raise ZkUnavailable('%s (%d times in a row)' % (exc, attempt))
                self._reconnect(exc)
                continue
            if isinstance(value, Exception):
                raise ZkError('cannot sync %s: %s' % (path, describe(value)))
            return

    # ---- reads ------------------------------------------------------------------------------
    def batch(self, requests, sync=False, node_bytes=None, unreadable=False):
        """[(verb, path)] with verb in get/children/exists -> [result or None], in order.

        get -> (data, ZnodeStat), children -> [names], exists -> ZnodeStat; None for a missing
        node. With sync=True the reads come after a sync (see sync()). node_bytes: how much data
        one node may hold, when that may be over ~2 kB (fewer reads share a multi-read then, see
        _zkproto.ops_per_read). unreadable=True answers a read refused for want of the READ right
        with an `Unreadable` (falsy) instead of raising.
        """
        keyed = list(requests)
        got = self._read(keyed, sync, node_bytes, unreadable)
        return [got[key] for key in keyed]

    def get_many(self, paths, sync=False, node_bytes=None, unreadable=False):
        """{path: (data, stat) or None} (or Unreadable, see batch)."""
        return self._by_path('get', paths, sync, node_bytes, unreadable)

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

    def _by_path(self, verb, paths, sync, node_bytes=None, unreadable=False):
        got = self._read([(verb, path) for path in paths], sync, node_bytes, unreadable)
        return dict((key[1], value) for key, value in got.items())

    def _read(self, keys, sync=False, node_bytes=None, unreadable=False):
        """{(verb, path): result}: every key answered, each answer within `timeout` of the last
        progress. A lost connection re-asks what is still unanswered once reconnected."""
        keys = list(collections.OrderedDict.fromkeys(keys))
        for verb, path in keys:
            if verb not in VERBS:
                raise ValueError('unknown read verb %r for %s' % (verb, path))
        out = {}
        drops = 0
        while len(out) < len(keys):
            answered = len(out)
            try:
                self._read_round([key for key in keys if key not in out], out, sync, node_bytes, unreadable=unreadable)
            except Dropped as exc:
                drops = drops + 1 if len(out) == answered else 1
                if drops >= MAX_DROPS:
                    raise ZkUnavailable('%s (%d times in a row, with no answer in between)' % (exc, drops))
                self._reconnect(exc)
        return out

    def _read_round(self, keys, out, sync, node_bytes, multi=True, unreadable=False):
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
                self._settle(pending.popleft(), out, plain_again, unreadable)
            pending.append(self._issue(*request))
        while pending:
            self._settle(pending.popleft(), out, plain_again, unreadable)
        if plain_again:
            self._read_round(plain_again, out, False, node_bytes, multi=False, unreadable=unreadable)

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
        except _zkbase.KazooTimeoutError:
            raise self._no_answer(what, self.timeout)
        except (kex.ConnectionLoss, kex.SessionExpiredError) as exc:
            raise Dropped('%s: %s' % (what, describe(exc)))
        except kex.ConnectionClosedError as exc:
            raise ZkUnavailable('%s: %s' % (what, describe(exc)))
        except kex.ZookeeperError as exc:
            return exc

    def _settle(self, entry, out, plain_again, unreadable=False):
        kind, keys, result = entry
        if kind != 'multi':
            what = '%s %s' % (VERBS[keys[0][0]], keys[0][1]) if keys else 'sync'
            value = self._answer(result, what)
            if keys:
                keep(keys[0], value, out, unreadable)
            elif isinstance(value, Exception):
                raise ZkError('cannot sync: %s' % describe(value))
            return
        what = 'read %s%s' % (keys[0][1], ' and %d more nodes' % (len(keys) - 1) if len(keys) > 1 else '')
        values = self._answer(result, what)
        if isinstance(values, kex.UnimplementedError):
            # A server without multi-read (an older member of a mixed ensemble) closes the
            # connection after saying so: read the rest with single requests.
            self.multi_read = False
            raise Dropped('%s: this ZooKeeper server does not know multi-read' % what)
        if isinstance(values, Exception):
            raise ZkError('cannot %s: %s' % (what, describe(values)))
        for key, value in zip(keys, values):
            if key[0] == 'exists' and isinstance(value, kex.NoAuthError):
                plain_again.append(key)  # getData needs READ permission, exists needs none
            else:
                keep(key, _zkproto.single_result(key[0], value), out, unreadable)

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
            except Dropped as exc:
                if attempt == 2:
                    return False
                self._reconnect(exc)
                continue
            # UNIMPLEMENTED, or any other refusal of the whole request: single reads then.
            return not isinstance(value, Exception)
        return False  # pragma: no cover - the loop returns
