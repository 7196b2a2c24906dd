# -*- coding: utf-8 -*-
"""Honest results and no dead ends: interrupted chunked publishes, releases too large for one
transaction, the writer that waited, hostile values and trees written by other tools.

Every module runs as a real process (`ansible localhost -m ...`) against a real ZooKeeper on
127.0.0.1; raw kazoo judges the tree. Trial counts are in docs/guarantees.md.
"""

import base64
import json
import os
import random
import signal
import time
import zlib

import faultkit
import helpers
from faultkit import module_pid

RELEASE = 'gray1'
CHUNK_TRIALS = 10


def publish(zk, args, **kwargs):
    args = dict(args)
    args.setdefault('hosts', zk.hosts)
    args.setdefault('release', RELEASE)
    return faultkit.adhoc('zk_release_node', args, **kwargs)


def revision(zk, args):
    args = dict(args, hosts=zk.hosts, release=args.get('release', RELEASE))
    return faultkit.adhoc('zk_release_revision', args)


def release_items(client, release=RELEASE):
    base = '/releases/%s/sections' % release
    return dict((name, client.get('%s/%s' % (base, name))[0]) for name in client.get_children(base)) \
        if client.exists(base) else {}


def history_states(client, release=RELEASE):
    """[(name, revision document)] of every kept revision, its `before` read from its parts if it has them."""
    out = []
    for name, doc in sorted(faultkit.revisions(client, release).items()):
        if doc.get('parts'):
            blob = b''.join(client.get('/elastic_release/parts/%s/%s' % (release, part))[0] for part in doc['parts'])
            bulk = json.loads(zlib.decompress(blob))
            doc.update(bulk if doc.get('format', 1) >= 3 else {'before': bulk})
        if doc.get('format', 1) >= 3:
            # A change's revision keeps each field it altered, before and after: the nodes that existed
            # before it, with their data, are the `before` side of its delta.
            doc['before'] = dict((kind, dict((n, pair[0]) for n, pair in (doc['delta'].get(kind) or {}).items()
                                             if pair[0] is not False)) for kind in ('versions', 'sections', 'servers'))
        out.append((name, doc))
    return out


# ---- 2. an interrupted chunked publish keeps the last good state ----------------------------------

def test_interrupted_chunked_publish_keeps_the_previous_state_as_a_revision(zk, tmp_path):
    """kill -9 of the module while a chunked publish writes its parts: the state before it is in
    history already (the revision goes first), the audit names the half-written release, and the
    rerun converges; the previous state can be restored."""
    rng = random.Random(1313)
    rows = []
    count = 3000
    config_a = faultkit.sections_config('a', count)
    res, task, dummy = publish(zk, {'config': config_a, 'max_request_bytes': 8192, 'allow_chunked': True})
    assert res.rc == 0 and task['transactions'] > 2, res
    good = release_items(zk.client)
    meta_path = '/releases/%s' % RELEASE
    for trial in range(CHUNK_TRIALS):
        tag = 'k%d' % trial
        config = faultkit.sections_config(tag, count)
        run = faultkit.Background(NS_NODE, {'hosts': zk.hosts, 'release': RELEASE, 'config': config,
                                            'max_request_bytes': 8192, 'allow_chunked': True})
        # Where the kill lands varies with the seeded delay, kept short of the time the parts take
        # on a loaded machine (3,000 sections in parts of 8 kB).
        delay = rng.uniform(0, 0.02)
        pid, killed, deadline = None, False, time.time() + 120
        while time.time() < deadline and run.running() and not killed:
            pid = pid or module_pid(run, 'zk_release_node')
            if pid and json.loads(zk.client.get(meta_path)[0]).get('pending'):
                time.sleep(delay)
                os.kill(pid, signal.SIGKILL)
                killed = True
        run.wait()
        interrupted = killed and bool(json.loads(zk.client.get(meta_path)[0]).get('pending'))
        if not interrupted:
            rows.append({'trial': trial, 'killed': killed, 'interrupted': False})
            good = release_items(zk.client)
            continue
        landed = sum(1 for data in release_items(zk.client).values() if tag.encode() in data)
        states = history_states(zk.client)
        kept = [name for name, doc in states if len(doc['before'].get('sections') or {}) == len(good) and all(
            good[k].decode() == v for k, v in doc['before']['sections'].items())]
        audit = faultkit.adhoc('release_audit', {'hosts': zk.hosts})[1]
        half = [f for f in audit['findings'] if f['kind'] == 'half_written']
        res, task, dummy = publish(zk, {'config': config, 'max_request_bytes': 8192, 'allow_chunked': True})
        assert res.rc == 0, res
        assert all(tag.encode() in data for data in release_items(zk.client).values())
        rows.append({'trial': trial, 'killed': True, 'interrupted': True, 'delay': round(delay, 3),
                     'new_sections_before_kill': landed, 'previous_state_kept': kept[-1:],
                     'audit_half_written': bool(half), 'rerun_converged': True})
        assert kept, 'trial %d: the state before the interrupted publish is in no revision' % trial
        assert half, 'trial %d: the audit does not report the half-written release' % trial
        good = release_items(zk.client)
    faultkit.record_rows('chunked publish killed while writing its parts', rows)
    assert sum(1 for r in rows if r['interrupted']) >= CHUNK_TRIALS // 2, rows


NS_NODE = 'zk_release_node'


# ---- 3. a release too large for one transaction stays changeable, removable, restorable -----------

def test_large_release_stays_changeable_removable_and_restorable(zk, tmp_path):
    rng = random.Random(7)
    sections = dict(('%d' % (10000 + i), {'blob': base64.b64encode(bytes(rng.getrandbits(8) for dummy in range(760))).decode()})
                    for i in range(2000))
    config = {'global_url': 'http://10.0.0.5:9000', 'versions': ['1.0.0'], 'sections': sections}
    path = tmp_path / ('%s.config.zoo' % RELEASE)
    path.write_text(json.dumps(config))
    assert path.stat().st_size > 2 * 1000 * 1000
    res, task, dummy = publish(zk, {'config_file': str(path)})
    assert res.rc != 0 and 'allow_chunked' in task['msg'], res          # refused up front, saying why
    res, task, dummy = publish(zk, {'config_file': str(path), 'allow_chunked': True})
    assert res.rc == 0 and task['transactions'] > 2, res
    published = release_items(zk.client)

    # Change one section, without allow_chunked: the revision of 2 MB travels in parts first.
    sections['10000'] = {'blob': 'changed'}
    path.write_text(json.dumps(config))
    res, task, dummy = publish(zk, {'config_file': str(path)})
    assert res.rc == 0 and task['changed'] is True, res
    assert zk.client.get('/releases/%s/sections/10000' % RELEASE)[0] == b'{"blob":"changed"}'
    # Remove it, then restore it (2 MB of creates need allow_chunked, and say so).
    res, task, dummy = publish(zk, {'state': 'absent', 'release_items': ['all']})
    assert res.rc == 0 and not zk.client.exists('/releases/%s' % RELEASE), res
    tree = zk.tree()
    res, task, dummy = revision(zk, {'state': 'restored'})
    assert res.rc != 0 and 'allow_chunked' in task['msg'], res
    assert zk.tree() == tree
    res, task, dummy = revision(zk, {'state': 'restored', 'allow_chunked': True})
    assert res.rc == 0 and task['changed'] is True, res
    restored = release_items(zk.client)
    assert restored['10000'] == b'{"blob":"changed"}' and len(restored) == len(published)
    # And back to the first publish's content, undoing the change of one section: the retire and its
    # undo cancel out.
    names = [row['revision'] for row in revision(zk, {})[1]['revisions']]
    res, task, dummy = revision(zk, {'state': 'restored', 'revision': names[1], 'allow_chunked': True})
    assert res.rc == 0, res
    assert release_items(zk.client) == published


# ---- 9. the writer that waited reports what it did -------------------------------------------------

def test_the_writer_that_waited_reports_nothing_done(zk):
    config = faultkit.sections_config('w', 2000)
    runs = [faultkit.Background(NS_NODE, {'hosts': zk.hosts, 'release': RELEASE, 'config': config,
                                          'max_request_bytes': 900000}) for dummy in range(2)]
    results = [run.wait()[1] for run in runs]
    assert all(r and not r.get('failed') for r in results), results
    wrote = [r for r in results if r['changed']]
    waited = [r for r in results if not r['changed']]
    assert len(wrote) == 1 and len(waited) == 1, results
    assert wrote[0]['transactions'] == 1 and wrote[0]['operations_count'] > 2000
    assert waited[0]['transactions'] == 0 and waited[0]['operations_count'] == 0 and waited[0]['operations'] == []
    assert waited[0]['revision'] is None and waited[0]['write_outcome'] == 'unchanged'
    assert len(faultkit.history(zk.client, RELEASE)) == 1


# ---- 5, 6, 10: hostile values are refused, naming them, writing nothing ----------------------------

def test_hostile_values_are_refused_naming_them(zk, tmp_path):
    before = zk.tree()
    fifo = tmp_path / ('%s.config.zoo' % RELEASE)
    os.mkfifo(str(fifo))
    big = tmp_path / 'big' / ('%s.config.zoo' % RELEASE)
    big.parent.mkdir()
    with open(str(big), 'wb') as handle:
        handle.truncate(200 * 1000 * 1000)          # sparse: 200 MB without writing them
    cases = [
        ({'config_file': str(fifo)}, 'is not a regular file (a FIFO)'),
        ({'config_file': str(big)}, '200000000 bytes is larger than'),
        ({'config': {'global_url': u'http://10.0.0.5/\u202egnp.exe'}}, 'key global_url'),
        ({'config': {'global_url': u'http://10.0.0.5/\u0080'}}, 'key global_url'),
        ({'config': {'global_url': u'http://10.0.0.5/\u009b31m'}}, 'key global_url'),
        ({'config': {'release': 'gray2', 'sections': ['1001']}}, 'key release says the config is for release gray2'),
    ]
    started = time.time()
    for args, message in cases:
        res, task, dummy = publish(zk, args, timeout=120)
        assert res.rc != 0 and message in task['msg'], (args, res)
        assert 'Traceback' not in res.output
    assert time.time() - started < 120 * len(cases)   # no hang on the FIFO (bounded by adhoc's own timeout)
    digits = tmp_path / 'digits' / ('%s.config.zoo' % RELEASE)
    digits.parent.mkdir()
    digits.write_text('{"sections": {"1001": {"n": %s}}}' % ('9' * 5001))
    res, task, dummy = publish(zk, {'config_file': str(digits)})
    assert res.rc != 0 and 'an integer of 5001 digits' in task['msg'], res
    assert 'set_int_max_str_digits' not in task['msg'] and 'line 0' not in task['msg']
    assert zk.tree() == before


def test_a_lone_surrogate_is_refused_naming_the_key(zk):
    """ansible-core 2.19 itself refuses a lone surrogate in YAML and in -a; older cores pass it to
    the module, which must name the key (not Python's codec error) and echo it printably."""
    import modrun
    from ansible_collections.gameops.elastic_release.plugins.modules import zk_release_node
    before = zk.tree()
    res = modrun.run(zk_release_node, {'hosts': zk.hosts, 'release': RELEASE,
                                       'config': {'sections': {'1001': {'name': u'S\udc80'}}}})
    assert res['failed'] and 'key sections.1001.name: a string holds a lone surrogate' in res['msg'], res
    json.dumps(res).encode('utf-8')     # the whole result, invocation included, is valid UTF-8
    assert zk.tree() == before


def test_lock_timeout_zero_does_not_wait(zk):
    from kazoo.client import KazooClient
    holder = KazooClient(hosts=zk.hosts, timeout=10)
    holder.start(timeout=15)
    try:
        lock = holder.Lock('/elastic_release/locks/%s' % RELEASE, 'someone else')
        assert lock.acquire(timeout=10)
        started = time.time()
        res, task, dummy = publish(zk, {'config': {'sections': ['1001']}, 'lock_timeout': 0})
        took = time.time() - started
        assert res.rc != 0 and 'holds the lock /elastic_release/locks/gray1 (lock_timeout 0: not waiting for it)' in task['msg'], res
        assert took < 25, took      # not the 30 s default (the whole ansible run included)
        lock.release()
    finally:
        holder.stop()
        holder.close()


# ---- 7. IPv6 names written by other tools are compared canonically ---------------------------------

def test_ipv6_spellings_are_one_host_everywhere(zk, tmp_path):
    client = zk.client
    client.create('/default_release', b'{"name":"production"}')
    client.ensure_path('/releases/production/servers')
    client.create('/releases/gray1/servers/2001:db8::1', b'{}', makepath=True)
    client.create('/releases/gray2/servers/2001:DB8:0::1', b'{}', makepath=True)
    res, task, dummy = faultkit.adhoc('release_lookup', {'hosts': zk.hosts, 'inner_ip': '2001:db8::1'})
    assert res.rc != 0 and 'owned by more than one release: gray1 and gray2' in task['msg'], res
    inv = tmp_path / 'game.zookeeper.yml'
    inv.write_text('plugin: gameops.elastic_release.zookeeper\nhosts: %s\n' % zk.hosts)
    res = helpers.run(['ansible-inventory', '-i', str(inv), '--list'])
    assert res.rc == 0, res
    hosts = json.loads(res.stdout)['_meta']['hostvars']
    assert sorted(hosts) == ['2001:db8::1'], hosts
    assert '2001:db8::1' in json.loads(res.stdout)['release_conflicts']['hosts']
    audit = faultkit.adhoc('release_audit', {'hosts': zk.hosts})[1]
    assert {'server_two_owners', 'non_canonical_name'} <= set(f['kind'] for f in audit['findings']), audit


# ---- 1. a reply lost after the transaction was applied --------------------------------------------

LOST_REPLY_TRIALS = 10


def test_a_lost_reply_is_reported_as_it_was(zk):
    """The publish's transaction reaches ZooKeeper, then the network between the module and the
    ensemble goes silent for longer than the session timeout (4 s): the server applies the
    transaction and expires the session, the module hears nothing. The result must say what
    happened - written (checked after reconnecting), or unknown with how to converge - and never
    'nothing was written' about a transaction that was applied."""
    import zkproxy
    rng = random.Random(101)
    rows = []
    with zkproxy.ZkProxy(zk.server.port) as proxy:
        hosts = proxy.hosts + zk.chroot
        res, task, dummy = publish(zk, {'hosts': hosts, 'config': faultkit.sections_config('base', 20), 'timeout': 4})
        assert res.rc == 0, res
        for trial in range(LOST_REPLY_TRIALS):
            tag = 'l%d' % trial
            config = faultkit.sections_config(tag, 20)
            seconds = rng.uniform(4.5, 6.5)
            partitions = len(proxy.partitions)
            proxy.freeze_after(14, seconds)     # 14: a multi-op (the publish's transaction)
            res, task, took = publish(zk, {'hosts': hosts, 'config': config, 'timeout': 4})
            proxy.trigger = None
            applied = all(tag.encode() in data for data in release_items(zk.client).values())
            msg = (task or {}).get('msg') or ''
            row = {'trial': trial, 'partition_seconds': round(seconds, 2), 'rc': res.rc, 'applied': applied,
                   'reported': 'written' if res.rc == 0 and task.get('changed') else (task or {}).get('write_outcome'),
                   'confirmed_after_reconnect': bool((task or {}).get('confirmed_after_reconnect')),
                   'partitioned': len(proxy.partitions) > partitions, 'msg': msg[:160]}
            rows.append(row)
            assert 'Traceback' not in res.output, res
            if res.rc == 0:
                assert task['changed'] is True and applied, row
            else:
                assert 'nothing was written' not in msg or not applied, row
                assert ('may or may not have been applied' in msg and 'run again' in msg) or not applied, row
            # Whatever was reported, a rerun converges.
            res, task, dummy = publish(zk, {'hosts': zk.hosts, 'config': config})
            assert res.rc == 0, res
            assert all(tag.encode() in data for data in release_items(zk.client).values())
    faultkit.record_rows('reply lost after the transaction (partition longer than the session timeout)', rows)
    assert all(r['partitioned'] for r in rows), rows      # every trial hit a sent transaction


# ---- 8. a slow but healthy ensemble never fails a rerun --------------------------------------------

SLOW_TRIALS = 10


def test_a_slow_but_healthy_server_never_fails_a_full_rerun(zk):
    """Every answer held 0.4 s by a proxy (a busy server): a `verify: full` rerun of 2,000 nodes takes
    several times its `timeout` of 1.5 s in all and still succeeds, because the deadline is per answer."""
    import zkproxy
    config = faultkit.sections_config('s', 2000)
    res, task, dummy = publish(zk, {'config': config})
    assert res.rc == 0, res
    rows = []
    with zkproxy.ZkProxy(zk.server.port, delay=0.4) as proxy:
        for trial in range(SLOW_TRIALS):
            res, task, took = publish(zk, {'hosts': proxy.hosts + zk.chroot, 'config': config, 'timeout': 1.5})
            rows.append({'trial': trial, 'rc': res.rc, 'changed': (task or {}).get('changed'),
                         'zk_seconds': (task or {}).get('zk_seconds'), 'msg': ((task or {}).get('msg') or '')[:120]})
            assert res.rc == 0 and task['changed'] is False, res
            assert task['zk_seconds'] > 1.5, task     # the reads outlasted the timeout, answer by answer
    faultkit.record_rows('slow server (every answer held 0.4 s), timeout 1.5 s', rows)
