# -*- coding: utf-8 -*-
"""_zk.ZkSession against the real ZooKeeper 3.8 of the test session: multi-read and pipelined
reads give the same answers; a server without multi-read is detected and read the old way; each
answer gets its own deadline (a slow server never fails a long read; a silent one fails with a
message that says it was connected); the lock protocol. Slow, frozen and old servers are the
real one behind tests/zkproxy.py."""

import collections
import os
import sys
import threading
import time

import pytest

from kazoo.security import make_digest_acl

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import zkproxy  # noqa: E402

from ansible_collections.gameops.elastic_release.plugins.module_utils._zk import session as _zk  # noqa: E402
from ansible_collections.gameops.elastic_release.plugins.module_utils._zk import base as _zkbase  # noqa: E402
from ansible_collections.gameops.elastic_release.plugins.module_utils._zk import protocol as _zkproto  # noqa: E402

MANY = 3000          # thousands of small nodes
BIG = 1000000        # data near the 1 MB request limit of the write that stores it
NEAR = 1000          # nodes of 2,000 bytes: 500 of them make an answer just under 1 MB


def create_all(client, nodes):
    """{path: data} created in transactions of up to 1,000 nodes and ~500 kB (parents first)."""
    txn, size = client.transaction(), 0
    for path, data in sorted(nodes.items(), key=lambda item: (item[0].count('/'), item[0])):
        alone = data is None or len(data) > 100000
        if alone or len(txn.operations) >= 1000 or size > 500000:
            results = txn.commit()
            assert not [r for r in results if isinstance(r, Exception)], results[:3]
            txn, size = client.transaction(), 0
        if alone:    # NULL data (a transaction cannot say it), or a request of its own
            client.create(path, data)
        else:
            txn.create(path, data)
            size += len(data) + len(path) + 60
    results = txn.commit()
    assert not [r for r in results if isinstance(r, Exception)], results[:3]


def wipe(client, path):
    """Delete a subtree in transactions (kazoo's recursive delete is one request per node): the
    test server is shared by the whole run, and its heap is small."""
    level, found = [path], []
    while level:
        found.extend(level)
        kids = [(p, client.get_children_async(p)) for p in level]
        level = ['%s/%s' % (p, c) for p, r in kids for c in r.get(timeout=30)]
    found.reverse()
    for start in range(0, len(found), 1000):
        txn = client.transaction()
        for p in found[start:start + 1000]:
            txn.delete(p)
        txn.commit()


class Spy(object):
    """Counts the requests a real kazoo client sends, by kind (observation only)."""

    def __init__(self, session):
        self.kinds = collections.Counter()
        self.ops = []
        original = session.client._call

        def call(request, async_object):
            self.kinds[type(request).__name__] += 1
            if isinstance(request, _zkproto.MultiRead):
                self.ops.append(len(request.ops))
            return original(request, async_object)
        session.client._call = call


def session(hosts, **kwargs):
    kwargs.setdefault('timeout', 10)
    return _zk.ZkSession(hosts=hosts, **kwargs).start()


class Tree(object):
    """A read-only tree in a chroot of its own, built once for this file: data, NULL data, empty
    data, nodes near the 1 MB limit, answers near the limit, thousands of nodes."""

    def __init__(self, server, client, chroot, paths):
        self.server = server
        self.client = client
        self.chroot = chroot
        self.hosts = server.hosts + chroot
        self.paths = paths


@pytest.fixture(scope='module')
def tree(zk_server):
    from kazoo.client import KazooClient
    chroot = '/t_zk_session_tree'
    nodes = {'/t': b'', '/t/many': b'x', '/t/big': None, '/t/near': b'', '/t/odd': b'',
             '/t/odd/null': None, '/t/odd/empty': b'', '/t/odd/json': b'{"a": 1}',
             '/t/odd/binary': bytes(bytearray(range(256))), u'/t/odd/\u00e9t\u00e9': u'\u00e9'.encode('utf-8')}
    for i in range(MANY):
        nodes['/t/many/%05d' % i] = ('{"section": %d, "pad": "%s"}' % (i, 'p' * (i % 300))).encode('ascii')
    for i in range(3):
        nodes['/t/big/b%d' % i] = bytes(bytearray([65 + i])) * BIG
    for i in range(NEAR):
        nodes['/t/near/%04d' % i] = b'n' * 2000
    root = KazooClient(hosts=zk_server.hosts, timeout=10)
    root.start(timeout=15)
    root.ensure_path(chroot)
    root.stop()
    root.close()
    client = KazooClient(hosts=zk_server.hosts + chroot, timeout=10)
    client.start(timeout=15)
    create_all(client, nodes)
    yield Tree(zk_server, client, chroot, sorted(p for p in nodes if not p.startswith('/t/near/')))
    wipe(client, '/t')
    client.stop()
    client.close()


def all_reads(paths):
    missing = ['/t/nope', '/t/many/99999', '/t/odd/null/below', '/none/at/all']
    keys = []
    for path in paths + missing:
        keys += [('get', path), ('exists', path), ('children', path)]
    return keys


def test_multi_read_equals_pipelined_reads(tree):
    keys = [key for key in all_reads(tree.paths) if '/t/big/' not in key[1] or key[0] != 'get']
    with session(tree.hosts) as fast, session(tree.hosts, multi_read=False) as slow:
        spy = Spy(fast)
        multi = fast.batch(keys)
        assert fast.multi_read is True
        single = slow.batch(keys)
    assert multi == single
    got = dict(zip(keys, multi))
    assert got[('get', '/t/odd/null')][0] is None and got[('get', '/t/odd/empty')][0] == b''
    assert got[('get', '/t/nope')] is None and got[('exists', '/t/nope')] is None
    assert got[('children', '/t/nope')] is None
    assert got[('exists', '/t/odd/json')] == got[('get', '/t/odd/json')][1]
    assert len(got[('children', '/t/many')]) == MANY
    # One probe, then requests of at most 500 reads each, and nothing sent one by one.
    assert spy.ops[0] == 1 and max(spy.ops[1:]) == _zkproto.READ_OPS
    assert sum(spy.ops[1:]) == len(keys) and set(spy.kinds) == {'MultiRead'}


def test_the_dict_readers_keep_their_shapes(tree):
    paths = [p for p in tree.paths if '/t/big/' not in p] + ['/t/nope']
    with session(tree.hosts) as fast, session(tree.hosts, multi_read=False) as slow:
        for reader in ('get_many', 'children_many', 'exists_many'):
            multi = getattr(fast, reader)(paths)
            assert multi == getattr(slow, reader)(paths), reader
            assert list(multi) == paths and multi['/t/nope'] is None
        assert fast.get('/t/odd/json') == slow.get('/t/odd/json') == tree.client.get('/t/odd/json')
        assert fast.children('/t/odd') == tree.client.get_children('/t/odd')
        assert fast.exists_many(['/t/odd'])['/t/odd'] == tree.client.exists('/t/odd')


def test_big_nodes_answers_over_one_mb_and_node_bytes(tree):
    """Three 1 MB nodes in one multi-read make a 3 MB answer (kazoo reads it); node_bytes tells
    the session the nodes may be that large, and each request then carries one."""
    paths = ['/t/big/b0', '/t/big/b1', '/t/big/b2', '/t/nope']
    expected = dict((p, tree.client.get(p)) for p in paths[:3])
    with session(tree.hosts) as fast, session(tree.hosts, multi_read=False) as slow:
        spy = Spy(fast)
        assert fast.get_many(paths) == slow.get_many(paths)
        assert spy.ops[-1] == 4
        assert fast.get_many(paths, node_bytes=BIG) == dict(expected, **{'/t/nope': None})
        assert spy.ops[-4:] == [1, 1, 1, 1]
    assert all(len(data) == BIG for data, dummy in expected.values())


def test_answers_near_the_limit_stay_under_it(tree):
    """1,000 nodes of 2,000 bytes: two multi-reads of 500, each answer just under 1 MB."""
    paths = ['/t/near/%04d' % i for i in range(NEAR)]
    with session(tree.hosts) as fast, session(tree.hosts, multi_read=False) as slow:
        spy = Spy(fast)
        got = fast.get_many(paths)
        assert got == slow.get_many(paths)
    assert spy.ops[-2:] == [500, 500]
    for start in (0, 500):
        size = _zkproto.answer_bytes([got[p] for p in paths[start:start + 500]])
        assert 0.99 * _zkproto.READ_ANSWER_BYTES < size <= _zkproto.READ_ANSWER_BYTES


def test_a_node_refusing_reads_still_answers_exists(zk):
    """getData needs READ permission, exists needs none: exists keeps its answer on both paths."""
    zk.client.create('/secret', b's', acl=[make_digest_acl('owner', 'pw', all=True)])
    zk.client.create('/open', b'o')
    paths = ['/secret', '/open', '/nope']
    with session(zk.hosts) as fast, session(zk.hosts, multi_read=False) as slow:
        assert fast.exists_many(paths) == slow.exists_many(paths)
        assert fast.exists_many(paths)['/secret'] == zk.client.exists('/secret')
        errors = []
        for one in (fast, slow):
            with pytest.raises(_zk.ZkError) as err:
                one.get_many(paths)
            errors.append(str(err.value))
    assert errors[0] == errors[1] == 'cannot read /secret: not authorised (ACL refuses this identity)'


def test_thousands_of_children_and_many_containers(zk):
    nodes = {'/c': b''}
    for k in range(20):
        nodes['/c/k%02d' % k] = b''
        for i in range(300):
            nodes['/c/k%02d/%032d' % (k, i)] = b''
    create_all(zk.client, nodes)
    containers = ['/c'] + ['/c/k%02d' % k for k in range(20)] + ['/c/none']
    with session(zk.hosts) as fast, session(zk.hosts, multi_read=False) as slow:
        got = fast.children_many(containers)
        assert got == slow.children_many(containers)
    assert sorted(got['/c/k07']) == sorted(zk.client.get_children('/c/k07')) and len(got['/c/k07']) == 300
    wipe(zk.client, '/c')


@pytest.mark.full   # fault injection (tests/zkproxy.py): the full tier
@pytest.mark.parametrize('act', ['unimplemented', 'drop'])
def test_server_without_multi_read_falls_back_once(tree, act):
    """ZooKeeper before 3.6 answers opcode 22 with UNIMPLEMENTED and closes the connection (act
    'unimplemented'), or the connection just drops ('drop'): asked once per session, then reads
    go one by one and answer exactly as multi-read does against the real 3.8."""
    keys = [key for key in all_reads(tree.paths) if '/t/big/' not in key[1]][:3000]
    with session(tree.hosts) as reference:
        expected = reference.batch(keys)
    with zkproxy.ZkProxy(tree.server.port) as proxy:
        proxy.old_server = act
        with session(proxy.hosts + tree.chroot) as old:
            spy = Spy(old)
            assert old.batch(keys) == expected
            assert old.multi_read is False
            assert old.batch(keys[:50]) == expected[:50]
            expected_two = {'/t/odd/json': tree.client.get('/t/odd/json'), '/t/nope': None}
            assert old.get_many(['/t/odd/json', '/t/nope']) == expected_two
        assert proxy.refused == (1 if act == 'unimplemented' else 2)
    assert spy.kinds['MultiRead'] == proxy.refused


@pytest.mark.full   # fault injection (tests/zkproxy.py): the full tier
def test_multi_read_refused_in_the_middle_switches_to_single_reads(tree):
    """An ensemble member older than 3.6 (a rolling upgrade), met after the session decided to use
    multi-read: the read completes one by one, with the same answers."""
    keys = [key for key in all_reads(tree.paths) if '/t/big/' not in key[1]][:2000]
    with session(tree.hosts) as reference:
        expected = reference.batch(keys)
    with zkproxy.ZkProxy(tree.server.port) as proxy:
        proxy.old_server = 'unimplemented'
        with session(proxy.hosts + tree.chroot, multi_read=True) as mixed:
            assert mixed.batch(keys) == expected
            assert mixed.multi_read is False
            assert mixed.batch(keys[:10]) == expected[:10]
        # The multi-reads already in flight die with the connection; one sent after the old
        # server closed (kazoo reconnects at once) may be refused too, never more than were sent
        # before the session heard the first refusal.
        assert 1 <= proxy.refused <= _zkbase.MULTI_READ_WINDOW


# ---- deadlines per answer -------------------------------------------------------------------

@pytest.mark.full   # fault injection (tests/zkproxy.py): the full tier
@pytest.mark.parametrize('multi_read', [True, False], ids=['multi-read', 'pipelined'])
def test_slow_but_connected_server_never_fails_a_long_read(tree, multi_read):
    """Every answer comes 0.3 s after the previous one, so the whole read takes several times the
    2 s timeout; each answer comes well within it, and the read succeeds."""
    timeout = 2.0
    if multi_read:
        paths = ['/t/many/%05d' % i for i in range(1200)]
        node_bytes = 10000          # 104 reads per request: 12 answers
    else:
        paths = ['/t/many/%05d' % i for i in range(20)]
        node_bytes = None           # 20 answers
    with session(tree.hosts) as direct:
        expected = direct.get_many(paths)
    with zkproxy.ZkProxy(tree.server.port) as proxy:
        with session(proxy.hosts + tree.chroot, timeout=timeout, multi_read=multi_read) as slow:
            proxy.delay = 0.3
            started = time.time()
            got = slow.get_many(paths, node_bytes=node_bytes)
            took = time.time() - started
    assert got == expected
    assert took > 1.5 * timeout, 'the read was not longer than its timeout (%.2f s): it proves nothing' % took


@pytest.mark.full   # fault injection (tests/zkproxy.py): the full tier
@pytest.mark.parametrize('what', ['read', 'commit', 'sync'])
def test_frozen_server_fails_saying_it_was_connected(zk, what):
    with zkproxy.ZkProxy(zk.server.port) as proxy:
        with session(proxy.hosts + zk.chroot, timeout=1) as frozen:
            assert frozen.get_many(['/a', '/b']) == {'/a': None, '/b': None}   # connected, probe done
            proxy.freeze()
            with pytest.raises(_zk.ZkBusy) as err:
                if what == 'read':
                    frozen.get_many(['/n%d' % i for i in range(700)])
                elif what == 'commit':
                    frozen.commit([('create', '/new', b'')], 'create /new')
                else:
                    frozen.sync()
            proxy.thaw()
    message = str(err.value)
    assert 'connected, but ZooKeeper did not answer within 1s (busy server or overloaded machine)' in message
    assert 'no quorum' not in message


@pytest.mark.full   # fault injection (tests/zkproxy.py): the full tier
def test_unreachable_server_fails_saying_it_is_not_connected(zk):
    proxy = zkproxy.ZkProxy(zk.server.port)
    with session(proxy.hosts + zk.chroot, timeout=1) as lost:
        assert lost.get('/') is not None
        proxy.close()                             # the ensemble is gone
        for attempt in range(2):                  # the read that notices, and one after
            with pytest.raises(_zk.ZkUnavailable) as err:
                lost.get_many(['/n%d' % i for i in range(700)])
            assert not isinstance(err.value, _zk.ZkBusy)
            assert 'not connected: the ensemble has no quorum or is unreachable' in str(err.value)


def test_sync_then_read_sees_the_latest_write(zk):
    zk.client.create('/s', b'1')
    with session(zk.hosts) as one:
        one.sync()
        zk.client.set('/s', b'2')
        assert one.get_many(['/s', '/nope'], sync=True)['/s'][0] == b'2'
        assert one.batch([('get', '/s'), ('exists', '/nope')], sync=True)[0][0] == b'2'


# ---- the lock protocol ----------------------------------------------------------------------

LOCK = '/elastic_release/locks/gray1'


def test_second_writer_waits_for_the_lock(zk):
    with session(zk.hosts) as first, session(zk.hosts) as second:
        held = first.lock(LOCK, 'first writer', 5)
        assert zk.client.get_children(LOCK) == [held.node]
        box = {}

        def take():
            box['handle'] = second.lock(LOCK, 'second writer', 30)
        waiter = threading.Thread(target=take)
        waiter.start()
        while len(zk.client.get_children(LOCK)) < 2:   # the second one queued behind us
            time.sleep(0.02)
        assert 'handle' not in box
        assert first.unlock(held) is True
        waiter.join(60)
        assert box['handle'].node in zk.client.get_children(LOCK)
        assert zk.client.get('%s/%s' % (LOCK, box['handle'].node))[0] == b'second writer'
        assert second.unlock(box['handle']) is True
    assert zk.client.get_children(LOCK) == []


def test_lock_timeout_and_zero(zk):
    with session(zk.hosts) as first, session(zk.hosts) as second:
        held = first.lock(LOCK, 'first writer', 0)          # free: 0 still takes it
        with pytest.raises(_zk.ZkLocked) as err:              # held: 0 does not wait
            second.lock(LOCK, 'second writer', 0)
        assert str(err.value) == ('another writer holds the lock %s (lock_timeout 0: not waiting for it); '
                                  'nothing was written' % LOCK)
        with pytest.raises(_zk.ZkLocked) as err:
            second.lock(LOCK, 'second writer', 1.5)
        assert str(err.value) == 'another writer holds the lock %s for more than 1.5s; nothing was written' % LOCK
        assert zk.client.get_children(LOCK) == [held.node]      # the losers left nothing behind
        first.unlock(held)
        with pytest.raises(_zk.ZkError, match='lock timeout must be 0 or more'):
            second.lock(LOCK, 'second writer', -1)


def test_fences_stop_a_commit_once_the_lock_node_is_gone(zk):
    zk.client.ensure_path('/data')
    with session(zk.hosts) as writer:
        held = writer.lock(LOCK, 'writer', 5)
        fences = writer.fences([held])
        assert fences == [('check', '%s/%s' % (LOCK, held.node), 0)]
        writer.commit(fences + [('create', '/data/a', b'1')], 'write a')
        zk.client.delete(fences[0][1])                       # as if our session had expired
        with pytest.raises(_zk.ZkConflict, match='nothing was written'):
            writer.commit(fences + [('create', '/data/b', b'2')], 'write b')
        assert writer.unlock(held) is True                   # already gone: released
    assert zk.client.get_children('/data') == ['a']


@pytest.mark.full   # fault injection (tests/zkproxy.py): the full tier
def test_lock_on_a_frozen_server_is_bounded(zk):
    with zkproxy.ZkProxy(zk.server.port) as proxy:
        with session(proxy.hosts + zk.chroot, timeout=1) as frozen:
            frozen.ensure_path(LOCK)
            proxy.freeze()
            with pytest.raises(_zk.ZkUnavailable) as err:
                frozen.lock(LOCK, 'writer', 1)
            proxy.thaw()
    assert str(err.value).startswith('cannot take the lock %s: ' % LOCK)
    assert str(err.value).endswith('; nothing was written')
    assert 'did not answer' in str(err.value) or 'no quorum or is unreachable' in str(err.value)


def test_old_private_names_still_work(zk):
    with session(zk.hosts) as one:
        assert one._wait_connected(time.time() + 1) is True
        assert one.wait_connected(time.time() + 1) is True
