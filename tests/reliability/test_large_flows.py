# -*- coding: utf-8 -*-
"""A release too large for one ZooKeeper transaction through the flows (ansible-playbook, real
ZooKeeper): the production flow refuses it naming -e allow_chunked=true and writes nothing, then
publishes it in parts with it; a promote of a new build of it is refused saying why, then goes the
chunked route (the package in parts, the promote in one transaction). Raw kazoo judges the tree."""

import json

import pytest

import faultkit
import flowkit
import modrun

from ansible_collections.gameops.elastic_release.plugins.modules import zk_release_node

SECTIONS = 2000


def big_config(tag, extra_sections=()):
    """2,000 sections of about 600 bytes each (1.4 MB of node data with their paths)."""
    config = json.loads(json.dumps(flowkit.CONFIGS['production-190122.01']))
    config['sections'] = dict(('%d' % (10000 + i), {'name': 'S%d' % i, 'notes': ('%s-%05d ' % (tag, i)) * 74})
                              for i in range(SECTIONS))
    for name in extra_sections:
        config['sections'][name] = {}
    return config


@pytest.mark.full
def test_a_large_production_publish_and_its_promote_go_through_the_flows(zk, inventory, packages, tmp_path):
    client = zk.client
    for key, extra in (('production-190122.01', {'set_default': True}),
                       ('gray1-190122.01', {'append_versions_to_default': True})):
        res = modrun.run(zk_release_node, dict(extra, hosts=zk.hosts, release=key.split('-', 1)[0], package=packages[key]))
        assert res['changed'] is True, res
    size = len(json.dumps(big_config('a')['sections']))
    assert 1200000 < size < 1400000, size   # sections of about 600 bytes; with their paths, 1.4 MB
    big = flowkit._tar(tmp_path / 'mygame-production-190124.01.tar.gz', 'production', big_config('a'))

    before = faultkit.dump_tree(client)
    # The large build drops sections 1001-1004: given up on purpose (-e release_items), so that the size
    # is what the first step refuses.
    run = flowkit.flow(inventory, tmp_path, 'production', package=big, release='production', release_items='all')
    assert run.rc == 2 and 'Run the production flow again with -e allow_chunked=true' in run.summary['error'], run
    assert 'half-written' in run.summary['error'] and faultkit.dump_tree(client) == before

    run = flowkit.flow(inventory, tmp_path, 'production', package=big, release='production', allow_chunked='true',
                       release_items='all')
    assert run.rc == 0 and run.summary['transactions'] > 2, run
    rows = [{'flow': 'production, allow_chunked', 'transactions': run.summary['transactions'],
             'changed_nodes': run.summary['changed_nodes'], 'seconds': round(run.seconds, 1)}]
    assert len(client.get_children('/releases/production/sections')) == SECTIONS
    assert 'pending' not in json.loads(client.get('/releases/production')[0])

    # The gray build promoted: a new build of the large release that also lists gray1's items.
    promoted = flowkit._tar(tmp_path / 'mygame-production-190125.01.tar.gz', 'production',
                            dict(big_config('b', ['1901']), servers=dict(flowkit.CONFIGS['production-190122.01']['servers'],
                                                                         **{'10.1.0.21': flowkit.SERVICE})))
    before = faultkit.dump_tree(client)
    # (a build of its own: the promote of another build than gray1's is allowed on purpose)
    run = flowkit.flow(inventory, tmp_path, 'promote', release='gray1', package=promoted, allow_other_build='true')
    assert run.rc == 2, run
    assert 'A promote is one transaction (it removes gray1 in it) and is never split: run the promote flow again ' \
           'with -e allow_chunked=true' in run.summary['error'], run.summary['error']
    assert faultkit.dump_tree(client) == before
    run = flowkit.flow(inventory, tmp_path, 'promote', check=True, release='gray1', package=promoted, allow_chunked='true',
                       allow_other_build='true')
    assert run.rc == 0 and faultkit.dump_tree(client) == before, run

    run = flowkit.flow(inventory, tmp_path, 'promote', release='gray1', package=promoted, allow_chunked='true',
                       allow_other_build='true')
    assert run.rc == 0, run
    first = run.summary['published_in_parts_first']
    assert first['left_to'] == {'sections': ['1901'], 'servers': ['10.1.0.21']} and first['transactions'] > 2, first
    assert run.summary['transactions'] == first['transactions'] + 1, run.summary
    assert not client.exists('/releases/gray1')
    sections = client.get_children('/releases/production/sections')
    assert len(sections) == SECTIONS + 1 and '1901' in sections
    assert b'b-00007' in client.get('/releases/production/sections/10007')[0]
    assert 'pending' not in json.loads(client.get('/releases/production')[0])
    rows.append({'flow': 'promote, allow_chunked', 'transactions': run.summary['transactions'],
                 'in_parts_first': first['transactions'], 'changed_nodes': run.summary['changed_nodes'],
                 'seconds': round(run.seconds, 1)})
    faultkit.record_rows('large release through the flows (2,000 sections of about 600 bytes)', rows)


def test_the_promote_route_in_process_leaves_the_gray_items_then_absorbs_them(zk, packages, tmp_path):
    """The two writes of a chunked promote, as the publish role makes them, on a small tree with a
    small request limit: the package in parts with leave_to, then the promote in one transaction."""
    for key, extra in (('production-190122.01', {'set_default': True}),
                       ('gray1-190122.01', {'append_versions_to_default': True})):
        res = modrun.run(zk_release_node, dict(extra, hosts=zk.hosts, release=key.split('-', 1)[0], package=packages[key]))
        assert res['changed'] is True, res
    # a new build of 40 sections of 200 bytes that also lists gray1's section 1901 and server 10.1.0.21
    config = json.loads(json.dumps(flowkit.CONFIGS['production-190123.01']))
    config['sections'].update(('%d' % (5000 + i), {'notes': 'n' * 200}) for i in range(40))
    promoted = flowkit._tar(tmp_path / 'mygame-production-190126.01.tar.gz', 'production', config)
    common = {'hosts': zk.hosts, 'release': 'production', 'package': promoted, 'set_default': True,
              'allow_other_build': True}
    res = modrun.run(zk_release_node, dict(common, absorb=['gray1'], max_request_bytes=4096))
    assert res['failed'] is True and 'change of several releases is never split' in res['msg'], res
    res = modrun.run(zk_release_node, dict(common, leave_to=['gray1'], allow_chunked=True, max_request_bytes=4096))
    assert res['changed'] is True and res['left_to'] == {'sections': ['1901'], 'servers': ['10.1.0.21']}, res.get('msg')
    assert res['transactions'] > 2, res
    assert flowkit.children(zk.client, '/releases/gray1/sections') == ['1901']
    assert '1901' not in flowkit.children(zk.client, '/releases/production/sections')
    # The promote itself: gray1's items and both releases' change records, one transaction.
    res = modrun.run(zk_release_node, dict(common, absorb=['gray1'], max_request_bytes=8192))
    assert res['changed'] is True and res['transactions'] == 1, res.get('msg')
    assert not zk.client.exists('/releases/gray1')
    assert len(flowkit.children(zk.client, '/releases/production/sections')) == 45
    res = modrun.run(zk_release_node, dict(common, leave_to=['gray1'], absorb=['gray1']))
    assert res['failed'] is True and 'leave_to and absorb exclude each other' in res['msg'], res
