# -*- coding: utf-8 -*-
"""6,050 getData through ZkSession: the multi-read path against the pipelined path, same run.

    python benchmarks/multi_read.py [--nodes 6050] [--runs 5] [--hosts HOST:PORT]
    python benchmarks/multi_read.py --sizes

Starts its own ZooKeeper (tests/zkserver.py, Debian's 3.8) unless --hosts is given, writes
--nodes nodes holding a section's JSON (about 100 bytes, like a 6,000-section release), then
times `ZkSession.get_many` over all of them, the two paths alternated in each round (one session
each, both started before the first round):

  multi-read  multi_read=True: requests of 500 getData (13 for 6,050), 4 in flight;
  pipelined   multi_read=False: one get_async per node, 100 in flight;
  one request for reference: all the nodes in a single multi-read (raw kazoo, not the session's
              way: its answer may pass 1 MB).

It prints the median of --runs rounds of each and the ratio, with the answers checked equal.

--sizes instead measures what large answers do, each on a fresh server with the tests' heap
(-Xmx128m): getChildren of a node with 40,000 children, plain and in a multi-read; then one
multi-read of 1,000, 1,500, 6,000 and 20,000 getData of 1 kB each, on a server holding 20,000
such nodes (docs/design.md, "Reads"). The largest is expected to kill that server
(OutOfMemoryError): it runs last, and the script says what happened.
Not a test: nothing here asserts a time.
"""

from __future__ import absolute_import, division, print_function

import argparse
import os
import statistics
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, 'tests'))

import helpers  # noqa: E402  pylint: disable=wrong-import-position
import zkserver  # noqa: E402  pylint: disable=wrong-import-position

sys.path.insert(0, helpers.install_collection())

from ansible_collections.gameops.elastic_release.plugins.module_utils._zk import session as _zk  # noqa: E402  pylint: disable=wrong-import-position
from ansible_collections.gameops.elastic_release.plugins.module_utils._zk import protocol as _zkproto  # noqa: E402  pylint: disable=wrong-import-position
from kazoo.client import KazooClient  # noqa: E402  pylint: disable=wrong-import-position


def fill(client, parent, count, data_of, name='%05d'):
    """count children of parent, written in transactions of ~500 kB."""
    client.ensure_path(parent)
    have = set(client.get_children(parent))
    txn, size = client.transaction(), 0
    for i in range(count):
        child = name % i
        if child in have:
            continue
        data = data_of(i)
        txn.create('%s/%s' % (parent, child), data)
        size += len(data) + 80
        if len(txn.operations) >= 1000 or size > 500000:
            txn.commit()
            txn, size = client.transaction(), 0
    if txn.operations:
        txn.commit()
    return ['%s/%s' % (parent, name % i) for i in range(count)]


def section(i):
    return ('{"name":"S%d","open":"2026-01-01T00:00:00Z","tag":"r%03d","zone":%d}' % (i, i % 1000, i % 7)).encode()


def one_request(client, paths):
    result = client.handler.async_result()
    client._call(_zkproto.MultiRead([_zkproto.get_data(p) for p in paths]), result)
    return result.get(timeout=60)


def timing(hosts, nodes, runs):
    raw = KazooClient(hosts=hosts, timeout=10)
    raw.start(timeout=30)
    paths = fill(raw, '/bench/sections', nodes, section)
    multi = _zk.ZkSession(hosts=hosts, timeout=10, multi_read=True).start()
    single = _zk.ZkSession(hosts=hosts, timeout=10, multi_read=False).start()
    times = {'multi-read': [], 'pipelined': [], 'one request': []}
    answers = {}
    try:
        for dummy in range(runs):
            for label, run in (('multi-read', lambda: multi.get_many(paths)),
                               ('pipelined', lambda: single.get_many(paths)),
                               ('one request', lambda: one_request(raw, paths))):
                started = time.perf_counter()
                answers[label] = run()
                times[label].append(time.perf_counter() - started)
    finally:
        multi.close()
        single.close()
    assert answers['multi-read'] == answers['pipelined'], 'the two paths answered differently'
    assert [answers['multi-read'][p] for p in paths] == answers['one request']
    median = dict((label, statistics.median(values)) for label, values in times.items())
    size = _zkproto.answer_bytes(answers['one request'])
    print('%d getData of %d-%d bytes, median of %d rounds (paths alternated in each round):'
          % (nodes, min(len(section(i)) for i in range(nodes)), max(len(section(i)) for i in range(nodes)), runs))
    print('  multi-read path  %7.1f ms  (%d requests of <= %d)' % (median['multi-read'] * 1000,
                                                                   -(-nodes // _zkproto.READ_OPS), _zkproto.READ_OPS))
    print('  pipelined path   %7.1f ms' % (median['pipelined'] * 1000))
    print('  ratio            %7.3f  (multi-read / pipelined), %.1fx faster'
          % (median['multi-read'] / median['pipelined'], median['pipelined'] / median['multi-read']))
    print('  one request      %7.1f ms  (reference: all %d in one multi-read, a %d-byte answer)'
          % (median['one request'] * 1000, nodes, size))
    print('  rounds (ms): multi-read %s; pipelined %s' % (
        ' '.join('%.0f' % (t * 1000) for t in times['multi-read']),
        ' '.join('%.0f' % (t * 1000) for t in times['pipelined'])))
    raw.stop()
    raw.close()


def sizes():
    """Large answers, each kind on a fresh server with the tests' heap."""
    with zkserver.Standalone(workdir=tempfile.mkdtemp(prefix='zk-sizes-')) as server:
        client = KazooClient(hosts=server.hosts, timeout=10)
        client.start(timeout=30)
        kids = fill(client, '/kids', 40000, lambda i: b'', name='%032d')
        started = time.perf_counter()
        names = client.get_children('/kids')
        took = time.perf_counter() - started
        print('getChildren of %d children (32-byte names), plain: %d names, a %d-byte answer, %.0f ms'
              % (len(kids), len(names), 4 + 16 + 4 + sum(4 + len(n) for n in names), took * 1000))
        started = time.perf_counter()
        result = client.handler.async_result()
        client._call(_zkproto.MultiRead([_zkproto.get_children('/kids')]), result)
        got = result.get(timeout=60)
        print('  the same in a multi-read: %d names, a %d-byte answer, %.0f ms'
              % (len(got[0]), _zkproto.answer_bytes(got), (time.perf_counter() - started) * 1000))
        client.stop()
        client.close()
    with zkserver.Standalone(workdir=tempfile.mkdtemp(prefix='zk-sizes-')) as server:
        client = KazooClient(hosts=server.hosts, timeout=10)
        client.start(timeout=30)
        paths = fill(client, '/big', 20000, lambda i: b'k' * 1000)
        print('a server holding %d nodes of 1 kB (-Xmx128m):' % len(paths))
        for count in (1000, 1500, 6000, 20000):
            started = time.perf_counter()
            try:
                got = one_request(client, paths[:count])
            except Exception as exc:  # the server died under the answer
                print('%7d getData in one multi-read: %s after %.1f s; server alive: %s'
                      % (count, type(exc).__name__, time.perf_counter() - started,
                         server.node.alive() and server.node.ok()))
                if 'OutOfMemoryError' in server.node.tail(400):
                    print('        the server log says: java.lang.OutOfMemoryError: Java heap space')
                break
            print('%7d getData in one multi-read: a %d-byte answer in %.0f ms, %d errors'
                  % (count, _zkproto.answer_bytes(got), (time.perf_counter() - started) * 1000,
                     sum(1 for r in got if isinstance(r, Exception))))
        client.stop()
        client.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n', maxsplit=1)[0])
    parser.add_argument('--nodes', type=int, default=6050)
    parser.add_argument('--runs', type=int, default=5)
    parser.add_argument('--hosts', help='an existing ZooKeeper (default: start one)')
    parser.add_argument('--sizes', action='store_true', help='measure large answers instead')
    args = parser.parse_args()
    if args.sizes:
        sizes()
        return
    if args.hosts:
        timing(args.hosts, args.nodes, args.runs)
        return
    with zkserver.Standalone(workdir=tempfile.mkdtemp(prefix='zk-bench-'), jvm_args=['-Xmx512m']) as server:
        timing(server.hosts, args.nodes, args.runs)


if __name__ == '__main__':
    main()
