# -*- coding: utf-8 -*-
"""Workloads and raw-kazoo floors for benchmarks/run.py (not a test, not part of the collection).

A floor does the ZooKeeper work the collection has to do, with nothing around it: one started
KazooClient, every independent request in flight at once, transactions built directly. The only
thing borrowed from the collection is `_zk.request_size` (jute arithmetic) to cut a change set at
the same request limit the module uses.
"""

from __future__ import absolute_import, division, print_function

import ipaddress
import json
import os
import subprocess
import sys
import time

from kazoo.client import KazooClient, KazooState
from kazoo import exceptions as kex
from kazoo.security import OPEN_ACL_UNSAFE

# Part 1 of the issue: one release of 5,000 sections, 1,000 servers and 50 versions.
BASE = {'sections': 5000, 'servers': 1000, 'versions': 50}
# Part 3: releases of 200 sections each (plus a few servers and versions to look up).
LOOKUP_SECTIONS, LOOKUP_SERVERS, LOOKUP_VERSIONS = 200, 20, 2
GLOBAL_URL = 'http://10.0.0.5:9000'
SERVER_DATA = {'services': {'gameserver': 'dev.190122.01'}}
MAX_REQUEST_BYTES = 1000000  # the module's max_request_bytes default
DELETE_BATCH = 5000
LEAF_DEPTH = 4  # /releases/{release}/{kind}/{item}, /elastic_release/history/{release}/rev-N


def canonical(value):
    """Node data as the collection writes it (sorted keys, no spaces)."""
    return json.dumps(value, sort_keys=True, separators=(',', ':')).encode('utf-8')


def section_id(i):
    return str(100000 + i)


def server_ip(i):
    return str(ipaddress.IPv4Address(0x0A010001 + i))  # 10.1.0.1, 10.1.0.2, ...


def version(i):
    return '1.%d.%d' % (i // 100, i % 100)


def release_config(scale=1):
    """A config.zoo document of `scale` times the base sizes."""
    return {
        'global_url': GLOBAL_URL,
        'versions': [version(i) for i in range(BASE['versions'] * scale)],
        'sections': dict((section_id(i), {'name': 'S%d' % i}) for i in range(BASE['sections'] * scale)),
        'servers': dict((server_ip(i), SERVER_DATA) for i in range(BASE['servers'] * scale)),
    }


def config_of_size(items):
    """A config.zoo document of about `items` items in the base release's proportions (scale curve)."""
    total = sum(BASE.values())
    sections = max(1, int(round(items * BASE['sections'] / float(total))))
    servers = max(1, int(round(items * BASE['servers'] / float(total))))
    versions = max(1, items - sections - servers)
    return {
        'global_url': GLOBAL_URL,
        'versions': [version(i) for i in range(versions)],
        'sections': dict((section_id(i), {'name': 'S%d' % i}) for i in range(sections)),
        'servers': dict((server_ip(i), SERVER_DATA) for i in range(servers)),
    }


def release_nodes(release, config, with_root=True):
    """[(path, data)] of a published release, parents first (the creates of a first publish)."""
    root = '/releases/%s' % release
    nodes = [('/releases', b'')] if with_root else []
    nodes.append((root, b''))
    for kind in ('versions', 'sections', 'servers'):
        nodes.append(('%s/%s' % (root, kind), b''))
        items = config[kind]
        if isinstance(items, dict):
            nodes.extend(('%s/%s/%s' % (root, kind, name), canonical(items[name])) for name in sorted(items))
        else:
            nodes.extend(('%s/%s/%s' % (root, kind, name), b'') for name in sorted(items))
    nodes.append(('%s/global_url' % root, config['global_url'].encode('utf-8')))
    return nodes


def lookup_release(i):
    return 'rel%03d' % i


def lookup_nodes(n_releases):
    """[(path, data)] of n_releases releases with disjoint sections, servers and versions.

    rel000 is the default release. Returns (nodes, questions): the questions ask for an item of
    the last release, the worst case for a reader that walks releases in order.
    """
    nodes = [('/default_release', canonical({'name': lookup_release(0)})), ('/releases', b'')]
    for r in range(n_releases):
        config = {
            'global_url': 'http://10.0.%d.%d:9000' % (r // 250, r % 250 + 1),
            'versions': [version(10000 + r * LOOKUP_VERSIONS + i) for i in range(LOOKUP_VERSIONS)],
            'sections': dict((section_id(r * LOOKUP_SECTIONS + i), {'name': 'S%d' % i})
                             for i in range(LOOKUP_SECTIONS)),
            'servers': dict((server_ip(r * LOOKUP_SERVERS + i), SERVER_DATA) for i in range(LOOKUP_SERVERS)),
        }
        nodes.extend(release_nodes(lookup_release(r), config, with_root=False))
    last = n_releases - 1
    questions = {
        'section_id': section_id(last * LOOKUP_SECTIONS + LOOKUP_SECTIONS - 1),
        'inner_ip': server_ip(last * LOOKUP_SERVERS + LOOKUP_SERVERS - 1),
        'version': version(10000 + last * LOOKUP_VERSIONS + LOOKUP_VERSIONS - 1),
    }
    return nodes, questions


def chunks(ops, limit, request_size, chroot):
    """Cut [(path, data)] creates into lists whose multi-op request stays within limit bytes."""
    chunk, size = [], 21
    for path, data in ops:
        one = request_size([('create', path, data)], OPEN_ACL_UNSAFE, chroot) - 21
        if chunk and size + one > limit:
            yield chunk
            chunk, size = [], 21
        chunk.append((path, data))
        size += one
    if chunk:
        yield chunk


class BenchError(RuntimeError):
    pass


class Raw(object):
    """One KazooClient on a chroot of the benchmark's server, for floors, set-up and clean-up."""

    def __init__(self, hosts, chroot=''):
        self.chroot = chroot
        if chroot:
            root = KazooClient(hosts=hosts, timeout=30)
            root.start(timeout=30)
            root.ensure_path(chroot)
            root.stop()
            root.close()
        self.client = KazooClient(hosts=hosts + chroot, timeout=30)
        self.client.start(timeout=30)

    def close(self):
        self.client.stop()
        self.client.close()

    def commit(self, creates):
        txn = self.client.transaction()
        for path, data in creates:
            txn.create(path, data)
        for result in txn.commit():
            if isinstance(result, Exception):
                raise BenchError('raw transaction failed: %r' % (result,))

    def write(self, nodes, request_size, limit=MAX_REQUEST_BYTES):
        """Create nodes in as few transactions as fit under limit. Returns (seconds, transactions)."""
        t0 = time.perf_counter()
        count = 0
        for chunk in chunks(nodes, limit, request_size, self.chroot):
            self.commit(chunk)
            count += 1
        return time.perf_counter() - t0, count

    def _children_level(self, paths):
        pending = [(p, self.client.get_children_async(p)) for p in paths]
        out = {}
        for path, result in pending:
            try:
                out[path] = result.get(timeout=60)
            except kex.NoNodeError:
                out[path] = None
        return out

    def subtree(self, root, leaf_depth=LEAF_DEPTH):
        """Every path under root (root included), parents before children; [] if root is absent.

        Nodes leaf_depth levels deep are not asked for children: release items and the
        collection's lock and revision nodes are all leaves at depth 4, and listing every leaf
        would cost a round trip per node.
        """
        if self.client.exists(root) is None:
            return []
        found, level = [root], [root]
        while level:
            level = [p for p in level if p.count('/') < leaf_depth]
            kids = self._children_level(level)
            level = ['%s/%s' % (p.rstrip('/'), c) for p in level for c in (kids[p] or [])]
            found.extend(level)
        return found

    def wipe(self, *roots, **kwargs):
        """Delete whole subtrees, children first, in transactions."""
        for root in roots:
            paths = self.subtree(root, kwargs.get('leaf_depth', LEAF_DEPTH))
            paths.sort(key=lambda p: -p.count('/'))
            for start in range(0, len(paths), DELETE_BATCH):
                txn = self.client.transaction()
                for path in paths[start:start + DELETE_BATCH]:
                    txn.delete(path)
                for result in txn.commit():
                    if isinstance(result, Exception):
                        raise BenchError('cannot wipe %s: %r' % (root, result))

    def get(self, path):
        return self.client.get(path)

    # ---- floors ----------------------------------------------------------------------------
    def floor_full_read(self, release):
        """Every node of a release read, as a drift check must: 1 round to list the containers
        (with the release node and global_url), 1 round with a get of every item, all in flight."""
        root = '/releases/%s' % release
        t0 = time.perf_counter()
        first = [self.client.get_async(root), self.client.get_async(root + '/global_url')]
        lists = [(kind, self.client.get_children_async('%s/%s' % (root, kind)))
                 for kind in ('versions', 'sections', 'servers')]
        for result in first:
            result.get(timeout=60)
        pending = []
        for kind, result in lists:
            pending.extend(self.client.get_async('%s/%s/%s' % (root, kind, name)) for name in result.get(timeout=60))
        for result in pending:
            result.get(timeout=60)
        return time.perf_counter() - t0, len(pending) + 5

    def floor_fast_read(self, release):
        """What verify=fast needs to know, in one round: the release node (metadata and mzxid) and
        the stats of the three containers and of global_url."""
        root = '/releases/%s' % release
        t0 = time.perf_counter()
        pending = [self.client.get_async(root)]
        pending += [self.client.exists_async('%s/%s' % (root, kind)) for kind in ('versions', 'sections', 'servers')]
        pending.append(self.client.exists_async(root + '/global_url'))
        for result in pending:
            result.get(timeout=60)
        return time.perf_counter() - t0, len(pending)

    def floor_inventory(self):
        """What the zookeeper inventory reads, in three pipelined rounds: /default_release and the
        releases; per release its node, children, global_url and the children of its three
        containers; then every server node. Returns (seconds, reads)."""
        t0 = time.perf_counter()
        names = self.client.get_children_async('/releases')
        default = self.client.get_async('/default_release')
        releases = sorted(names.get(timeout=60))
        default.get(timeout=60)
        pending, servers = [], []
        for r in releases:
            root = '/releases/%s' % r
            pending += [self.client.get_async(root), self.client.get_children_async(root),
                        self.client.get_async(root + '/global_url')]
            pending += [self.client.get_children_async('%s/%s' % (root, kind)) for kind in ('versions', 'sections')]
            servers.append((r, self.client.get_children_async(root + '/servers')))
        for result in pending:
            result.get(timeout=60)
        gets = [self.client.get_async('/releases/%s/servers/%s' % (r, ip))
                for r, result in servers for ip in result.get(timeout=60)]
        for result in gets:
            result.get(timeout=60)
        return time.perf_counter() - t0, 2 + len(pending) + len(servers) + len(gets)

    def floor_lookup(self, kind, name):
        """The same answer as release_lookup in three pipelined rounds: the releases and the default
        release; exists() of the item in every release; the owner's item data and global_url."""
        t0 = time.perf_counter()
        names = self.client.get_children_async('/releases')
        default = self.client.get_async('/default_release')
        releases = sorted(names.get(timeout=60))
        default.get(timeout=60)
        stats = [(r, self.client.exists_async('/releases/%s/%s/%s' % (r, kind, name))) for r in releases]
        owners = [r for r, result in stats if result.get(timeout=60) is not None]
        if len(owners) != 1:
            raise BenchError('%s %s: expected one owner, found %s' % (kind, name, owners))
        data = self.client.get_async('/releases/%s/%s/%s' % (owners[0], kind, name))
        url = self.client.get_async('/releases/%s/global_url' % owners[0])
        data.get(timeout=60)
        url.get(timeout=60)
        return time.perf_counter() - t0, owners[0]


# floor_lookup in a new Python process on a new session: what a module process starts from.
_FRESH_LOOKUP = '''
import json, sys
sys.path.insert(0, sys.argv[1])
import release_bench
raw = release_bench.Raw(sys.argv[2])
try:
    elapsed, owner = raw.floor_lookup(sys.argv[3], sys.argv[4])
finally:
    raw.close()
print(json.dumps({"seconds": elapsed, "owner": owner}))
'''


def floor_lookup_fresh(hosts, kind, name):
    """Raw.floor_lookup timed in a new Python process, on a session opened just before, as the
    module's zk_seconds is (the module's own timer starts once it is connected). The process
    start-up and the connection are not timed."""
    proc = subprocess.run([sys.executable, '-c', _FRESH_LOOKUP, os.path.dirname(os.path.abspath(__file__)),
                           hosts, kind, name], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, timeout=120, check=False)
    if proc.returncode != 0:
        raise BenchError('fresh-process lookup floor failed (exit %d): %s' % (proc.returncode, proc.stderr[-2000:]))
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    return result['seconds'], result['owner']


def probe_request_limit(hosts, request_size, low=1040000, high=1060000):
    """Largest multi-op request ZooKeeper accepts, by bisection on exact request sizes.

    A request over the server's jute.maxbuffer is answered by dropping the connection: kazoo
    reports ConnectionLoss and reconnects. Returns (largest accepted, smallest dropped, attempts).
    """
    raw = Raw(hosts, '/limit')
    client = raw.client
    attempts = [0]

    def ops_of_size(size):
        parent = '/t%d' % attempts[0]
        ops = [('create', parent, b'')]
        total = request_size(ops, OPEN_ACL_UNSAFE, raw.chroot)
        one = request_size([('create', parent + '/n00000', b'x' * 1000)], OPEN_ACL_UNSAFE, raw.chroot) - 21
        i = 0
        while total + one <= size:
            ops.append(('create', '%s/n%05d' % (parent, i), b'x' * 1000))
            total += one
            i += 1
        last = ops[-1]
        ops[-1] = (last[0], last[1], last[2] + b'y' * (size - total))
        if request_size(ops, OPEN_ACL_UNSAFE, raw.chroot) != size:
            raise BenchError('cannot build a request of exactly %d bytes' % size)
        return parent, ops

    def accepted(size):
        attempts[0] += 1
        parent, ops = ops_of_size(size)
        txn = client.transaction()
        for dummy, path, data in ops:
            txn.create(path, data)
        try:
            results = txn.commit_async().get(timeout=30)
        except kex.ConnectionLoss:
            deadline = time.time() + 30
            while client.state != KazooState.CONNECTED:
                if time.time() > deadline:
                    raise BenchError('no reconnection after a dropped request')
                time.sleep(0.05)
            return False
        failed = [r for r in results if isinstance(r, Exception)]
        if failed:
            raise BenchError('request of %d bytes failed: %r' % (size, failed[0]))
        raw.wipe(parent, leaf_depth=2)
        return True

    try:
        if not accepted(low) or accepted(high):
            raise BenchError('request limit not between %d and %d bytes' % (low, high))
        while high - low > 1:
            middle = (low + high) // 2
            if accepted(middle):
                low = middle
            else:
                high = middle
        return low, high, attempts[0]
    finally:
        raw.close()
