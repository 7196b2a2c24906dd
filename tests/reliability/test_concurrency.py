# -*- coding: utf-8 -*-
"""Concurrent publishes through real `ansible` processes (guarantee: Serialised, Recoverable).

Ten writers of one release with ten different configs start at once: all succeed (they queue on
the release's lock), the final tree is exactly one of the ten configs, and the history holds one
revision per publish whose digest before is exactly that of what the previous writer left: no write
was lost and none interleaved. Writers of different releases do not wait for each other.
"""

import json
import time
import zlib

import faultkit

MODULE = 'zk_release_node'
WRITERS = 10


def config_for(i):
    return {
        'global_url': 'http://10.0.%d.1:9000' % i,
        'versions': ['2.%d.0' % i, '2.%d.1' % i],
        'sections': dict(('%d' % (1000 * (i + 1) + j), {'writer': i, 'n': j}) for j in range(40)),
        'servers': {'10.2.%d.1' % i: {'services': {'gameserver': 'dev.%d' % i}}},
    }


def test_ten_concurrent_publishes_of_one_release_are_serialised(ens):
    # Each writer replaces the others' sections: they are given up on purpose.
    runs = [faultkit.Background(MODULE, {'hosts': ens.hosts, 'release': 'gray1', 'config': config_for(i),
                                         'lock_timeout': 120, 'origin': 'writer-%d' % i, 'release_items': ['all']})
            for i in range(WRITERS)]
    revisions = {}
    for i, run in enumerate(runs):
        res, task = run.wait(300)
        faultkit.assert_clean_output(res)
        assert res.rc == 0, res
        assert task['changed'] is True and task['transactions'] == 1, task
        revisions[task['revision']] = i
    # Every publish recorded its own revision.
    assert len(revisions) == WRITERS, revisions
    with ens.client() as c:
        names = faultkit.history(c, 'gray1')
        assert names == sorted(revisions), (names, revisions)
        docs = [json.loads(zlib.decompress(c.get('/elastic_release/history/gray1/' + n)[0])) for n in names]
        final = faultkit.read_subtree(c, '/releases/gray1')
        assert c.get_children('/elastic_release/locks/gray1') == [], 'a lock node was left behind'
    # Linear history: revision k+1 kept exactly what the writer of revision k wrote.
    order = [revisions[n] for n in names]
    assert docs[0]['delta']['exists'] == [False, True]
    for k in range(1, WRITERS):
        assert docs[k]['digest_before'] == faultkit.content_digest(config_for(order[k - 1])), \
            'revision %s lost a write' % names[k]
        assert docs[k]['package'] == 'writer-%d' % order[k]
    # The final tree is exactly the last writer's config, nothing of the others.
    last = config_for(order[-1])
    expected = faultkit.expected_subtree(last)
    body = dict((k, v) for k, v in final.items() if k != '/')
    assert body == expected
    assert json.loads(final['/'])['digest'] == faultkit.content_digest(last)
    faultkit.record_rows('10 concurrent publishes of one release', [
        {'writers': WRITERS, 'succeeded': WRITERS, 'revisions': len(names), 'order': order,
         'final_config': order[-1]}])


def test_a_held_lock_of_one_release_does_not_block_another(ens):
    """Hold gray_a's lock with raw kazoo: gray_b publishes at its usual speed, gray_a waits
    `lock_timeout` and fails clearly having written nothing, then succeeds once the lock is free."""
    # Each publish replaces the release's sections: the replaced ones are given up on purpose.
    args = {'hosts': ens.hosts, 'config': config_for(1), 'release_items': ['all']}
    res, dummy, baseline = faultkit.adhoc(MODULE, dict(args, release='gray_b', config=config_for(2)))
    assert res.rc == 0, res
    with ens.client() as holder:
        lock = holder.Lock('/elastic_release/locks/gray_a', 'someone else')
        assert lock.acquire(timeout=10)
        try:
            res, task, took = faultkit.adhoc(MODULE, dict(args, release='gray_b', config=config_for(3), lock_timeout=30))
            assert res.rc == 0, res
            assert task['changed'] is True
            assert took < baseline + 10, (took, baseline)
            before = ens.tree()
            res, task, dummy = faultkit.adhoc(MODULE, dict(args, release='gray_a', lock_timeout=2))
            faultkit.assert_clean_output(res)
            assert res.rc != 0
            assert ('another writer holds the lock /elastic_release/locks/gray_a for more than 2s; '
                    'nothing was written') in task['msg'], task['msg']
            after = ens.tree()
            # Only the waiting writer's own (now deleted) lock node came and went.
            assert dict((p, v) for p, v in after.items() if not p.startswith('/elastic_release/locks')) == \
                dict((p, v) for p, v in before.items() if not p.startswith('/elastic_release/locks'))
        finally:
            lock.release()
    started = time.time()
    res, task, dummy = faultkit.adhoc(MODULE, dict(args, release='gray_a', lock_timeout=30))
    assert res.rc == 0 and task['changed'] is True, res
    faultkit.record_rows('lock of release A held, publish B', [
        {'publish_b_seconds': round(took, 2), 'baseline_seconds': round(baseline, 2),
         'publish_a_while_held': 'failed after lock_timeout=2: ' + 'nothing written',
         'publish_a_after_release_seconds': round(time.time() - started, 2)}])
