# -*- coding: utf-8 -*-
"""zk_release_readback against real ZooKeeper: a write's request_id is recorded in its change, the
read-back finds it (`written`, with the change and its revisions), says `not_written` for a request
no change records, refuses a bad id naming it, reads nothing but the tree (check mode the same),
and answers `unknown` with how to converge when ZooKeeper cannot be reached."""

import modrun

from ansible_collections.gameops.elastic_release.plugins.modules import zk_release_node, zk_release_readback

CONFIG = {'versions': ['1.2.0'], 'sections': {'1001': {}, '1002': {}}, 'servers': {'10.1.2.3': {}}}


def test_a_write_is_read_back_by_its_request_id(zk):
    res = modrun.run(zk_release_node, {'hosts': zk.hosts, 'release': 'gray1', 'config': CONFIG, 'request_id': 'run5.1'})
    assert res['changed'] is True and res['write_outcome'] == 'written', res
    before = zk.tree()
    for check in (False, True):
        found = modrun.run(zk_release_readback, {'hosts': zk.hosts, 'request_id': 'run5'}, check=check)
        assert found['changed'] is False and found['write_outcome'] == 'written' and found['write_changed'] is True, found
        assert found['change'] == res['change'] and found['revisions_written'] == res['revisions_written'], found
        assert [row['request'] for row in found['changes']] == ['run5.1'], found
    missing = modrun.run(zk_release_readback, {'hosts': zk.hosts, 'request_id': 'run6', 'wait': 0})
    assert missing['write_outcome'] == 'not_written' and missing['write_changed'] is False, missing
    assert missing['transactions'] == 0 and missing['changes'] == [], missing
    bad = modrun.run(zk_release_readback, {'hosts': zk.hosts, 'request_id': 'run 5/x'})
    assert bad.get('failed') and 'request_id' in bad['msg'] and "'run 5/x'" in bad['msg'], bad
    bad_write = modrun.run(zk_release_node, {'hosts': zk.hosts, 'release': 'gray2', 'config': CONFIG, 'request_id': '-x'})
    assert bad_write.get('failed') and 'request_id' in bad_write['msg'], bad_write
    assert zk.tree() == before, 'the read-back or a refused write changed the tree'


def test_an_unreachable_zookeeper_is_unknown_with_how_to_converge():
    out = modrun.run(zk_release_readback, {'hosts': '127.0.0.1:1', 'request_id': 'run5', 'timeout': 1})
    assert not out.get('failed') and out['write_outcome'] == 'unknown' and out['write_changed'] is None, out
    assert 'Run the flow again' in out['msg'], out
