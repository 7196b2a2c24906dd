# -*- coding: utf-8 -*-
"""The release map as a whole: the ownership guard of every write, takeover, moves (widen, narrow,
abort, rollback of a step), lent items across publishes, retire and promote (absorb).

Modules run in this process (tests/modrun.py) against a real ZooKeeper; every check reads the tree
with raw kazoo. tests/integration/test_flows.py runs the same rules through ansible-playbook.
"""

import json

import pytest

import modrun
from ansible_collections.gameops.elastic_release.plugins.modules import (release_lookup, zk_release_move,
                                                                         zk_release_node, zk_release_revision)

SERVICE = {'services': {'gameserver': 'dev.190122.01'}}
PRODUCTION = {
    'global_url': 'http://10.1.0.5:9000',
    'versions': ['1.2.0', '1.2.1'],
    'sections': {'1001': {'name': 'S1'}, '1002': {'name': 'S2'}, '1003': {'name': 'S3'}, '1004': {'name': 'S4'},
                 '1005': {'name': 'S5'}},
    'servers': {'10.1.0.11': SERVICE, '10.1.0.12': SERVICE},
}
GRAY = {
    'global_url': 'http://10.1.0.6:9000',
    'versions': ['1.3.0'],
    'sections': {'1901': {'name': 'Gray'}},
    'servers': {'10.1.0.21': SERVICE},
}


def node(zk, args, check=False, diff=False):
    return modrun.run(zk_release_node, dict(args, hosts=zk.hosts), check=check, diff=diff)


def move(zk, args, check=False, diff=False):
    return modrun.run(zk_release_move, dict(args, hosts=zk.hosts), check=check, diff=diff)


def lookup(zk, **question):
    return modrun.run(release_lookup, dict(question, hosts=zk.hosts))


def children(zk, path):
    return sorted(zk.client.get_children(path)) if zk.client.exists(path) else None


def meta(zk, release):
    return json.loads(zk.client.get('/releases/%s' % release)[0])


@pytest.fixture
def project(zk):
    """production (the default release) and gray1, as the production and gray flows leave them."""
    res = node(zk, {'release': 'production', 'config': PRODUCTION, 'set_default': True})
    assert res['changed'] is True, res
    res = node(zk, {'release': 'gray1', 'config': GRAY, 'append_versions_to_default': True})
    assert res['changed'] is True, res
    return zk


# ---- the guard -------------------------------------------------------------------------------

def test_publish_giving_items_a_second_owner_is_refused_and_writes_nothing(project):
    zk = project
    review = {'global_url': 'http://10.2.0.5:9000', 'versions': ['1.3.0', '1.4.0'],
              'sections': {'1001': {}, '2001': {}}, 'servers': {'10.1.0.21': {}, '10.2.0.11': {}}}
    before = zk.tree()
    for check in (True, False):
        res = node(zk, {'release': 'appstore_review', 'config': review, 'append_versions_to_default': True}, check=check)
        assert res.get('failed') is True, res
        msg = res['msg']
        assert 'refusing to write release appstore_review' in msg
        assert 'section id 1001 is owned by production' in msg
        assert 'server inner IP 10.1.0.21 is owned by gray1' in msg
        assert 'version 1.3.0 is listed by the non-default release gray1' in msg
        assert '1.4.0' not in msg and '2001' not in msg
        assert 'nothing was written' in msg and 'takeover=true' in msg
        assert res['write_outcome'] == 'not_written'
        assert zk.tree() == before


def test_default_release_versions_are_not_conflicts(project):
    zk = project
    # production lists 1.2.0; a review release may list it too (the default release is not a rival).
    review = {'versions': ['1.2.0', '1.4.0'], 'sections': ['2001']}
    res = node(zk, {'release': 'appstore_review', 'config': review, 'append_versions_to_default': True})
    assert res['changed'] is True and not res.get('failed'), res
    assert lookup(zk, version='1.2.0')['release'] == 'appstore_review'


def test_takeover_moves_items_out_of_their_owner_in_the_same_transaction(project):
    zk = project
    review = {'versions': ['1.3.0'], 'sections': ['1001', '2001'], 'servers': ['10.1.0.21']}
    before = zk.tree()
    res = node(zk, {'release': 'appstore_review', 'config': review, 'takeover': True}, check=True)
    assert res['changed'] is True and res['taken_over'] == {
        'gray1': {'servers': ['10.1.0.21'], 'versions': ['1.3.0']}, 'production': {'sections': ['1001']}}, res
    assert zk.tree() == before
    res = node(zk, {'release': 'appstore_review', 'config': review, 'takeover': True})
    assert res['changed'] is True and res['transactions'] == 1, res
    assert sorted(res['revisions_written']) == ['appstore_review', 'gray1', 'production']
    assert '1001' not in children(zk, '/releases/production/sections')
    assert children(zk, '/releases/gray1/servers') == []
    assert children(zk, '/releases/gray1/versions') == []
    assert lookup(zk, section_id='1001')['release'] == 'appstore_review'
    assert lookup(zk, version='1.3.0')['release'] == 'appstore_review'
    record = json.loads(zk.client.get('/releases/gray1')[0])
    assert record['action'] == 'takeover'
    rerun = node(zk, {'release': 'appstore_review', 'config': review, 'takeover': True})
    assert rerun['changed'] is False, rerun


def test_config_file_must_name_its_release(project, tmp_path):
    zk = project
    gray_file = tmp_path / 'gray1.config.zoo'
    gray_file.write_text(json.dumps(GRAY))
    before = zk.tree()
    res = node(zk, {'release': 'production', 'config_file': str(gray_file)})
    assert res.get('failed') and 'is the config of release gray1 (its name says so), not of release production' \
        in res['msg'], res
    unnamed = tmp_path / 'config.json'
    unnamed.write_text(json.dumps(PRODUCTION))
    res = node(zk, {'release': 'production', 'config_file': str(unnamed)})
    assert res.get('failed') and 'does not say which release it is for' in res['msg'], res
    unnamed.write_text(json.dumps(dict(PRODUCTION, release='gray1')))
    res = node(zk, {'release': 'production', 'config_file': str(unnamed)})
    assert res.get('failed') and 'key release says the config is for release gray1' in res['msg'], res
    fifo = tmp_path / 'production.config.zoo'
    import os
    os.mkfifo(str(fifo))
    res = node(zk, {'release': 'production', 'config_file': str(fifo)})
    assert res.get('failed') and 'is not a regular file (a FIFO)' in res['msg'], res
    assert zk.tree() == before
    unnamed.write_text(json.dumps(dict(PRODUCTION, release='production')))
    res = node(zk, {'release': 'production', 'config_file': str(unnamed), 'set_default': True})
    assert not res.get('failed') and res['changed'] is False, res


# ---- moves -------------------------------------------------------------------------------------

def test_widen_narrow_and_the_publishes_in_between(project):
    zk = project
    res = move(zk, {'destination': 'gray1', 'sections': ['1003']}, check=True, diff=True)
    assert res['changed'] is True and res['moved'] == {'sections': ['1003'], 'servers': []}, res
    assert '1003' in res['diff']['after']
    before = zk.tree()
    assert zk.tree() == before
    res = move(zk, {'destination': 'gray1', 'sections': ['1003']})
    assert res['changed'] is True and res['source'] == 'production' and res['transactions'] == 1, res
    assert sorted(res['revisions_written']) == ['gray1', 'production']
    assert zk.client.get('/releases/gray1/sections/1003')[0] == b'{"name":"S3"}'
    assert '1003' not in children(zk, '/releases/production/sections')
    assert meta(zk, 'gray1')['moved'] == {'sections': {'1003': 'production'}}
    assert lookup(zk, section_id='1003')['release'] == 'gray1'
    rerun = move(zk, {'destination': 'gray1', 'sections': ['1003']})
    assert rerun['changed'] is False and rerun['already_there']['sections'] == ['1003'], rerun

    # A production publish whose config still lists 1003 leaves it with gray1 and says so.
    res = node(zk, {'release': 'production', 'config': PRODUCTION, 'set_default': True})
    assert res['changed'] is False and res['held_elsewhere'] == {'sections': {'1003': 'gray1'}}, res
    changed = dict(PRODUCTION, sections=dict(PRODUCTION['sections'], **{'1003': {'name': 'S3 new'}}))
    res = node(zk, {'release': 'production', 'config': changed, 'set_default': True})
    assert res['changed'] is False and res['held_elsewhere'] == {'sections': {'1003': 'gray1'}}, res
    # A new gray build whose config does not list 1003 keeps it too.
    gray2 = dict(GRAY, global_url='http://10.1.0.7:9000')
    res = node(zk, {'release': 'gray1', 'config': gray2, 'append_versions_to_default': True})
    assert res['changed'] is True and res['kept_moved'] == {'sections': {'1003': 'production'}}, res
    assert '1003' in children(zk, '/releases/gray1/sections')

    res = move(zk, {'source': 'gray1', 'sections': ['1003']})
    assert res['changed'] is True and res['destinations'] == ['production'], res
    assert '1003' in children(zk, '/releases/production/sections')
    assert '1003' not in children(zk, '/releases/gray1/sections')
    assert 'moved' not in meta(zk, 'gray1')


def test_move_refusals_write_nothing(project):
    zk = project
    assert node(zk, {'release': 'appstore_review', 'config': {'sections': ['2001']}})['changed'] is True
    before = zk.tree()
    cases = [
        ({'destination': 'gray1', 'sections': ['1999']}, 'section id 1999 is owned by no release'),
        ({'destination': 'gray1', 'sections': ['2001']}, 'section id 2001 is owned by appstore_review, not by production'),
        ({'destination': 'gray1', 'sections': ['../x']}, "invalid section id '../x'"),
        ({'destination': 'gray1', 'servers': ['fe80::1%eth0']}, 'zone id'),
        ({'destination': 'nope', 'sections': ['1001']}, 'cannot move to release nope: /releases/nope does not exist'),
        ({'destination': 'production', 'sections': ['1001']}, 'to itself'),
        ({'destination': 'gray1'}, 'nothing to move'),
        ({'destination': 'Gray1', 'sections': ['1001']}, "invalid destination release name 'Gray1'"),
        ({'source': 'gray1', 'destination': 'appstore_review', 'sections': ['1001']},
         'section id 1001 is owned by production, not by gray1'),
    ]
    for args, message in cases:
        for check in (True, False):
            res = move(zk, args, check=check)
            assert res.get('failed') and message in res['msg'], (args, res)
    assert zk.tree() == before


def test_abort_gives_back_every_lent_item_and_rollback_undoes_one_step(project):
    zk = project
    step1 = move(zk, {'destination': 'gray1', 'sections': ['1003']})
    step2 = move(zk, {'destination': 'gray1', 'sections': ['1004', '1005'], 'servers': ['10.1.0.12']})
    assert step1['changed'] and step2['changed']
    assert children(zk, '/releases/gray1/sections') == ['1003', '1004', '1005', '1901']

    # Rolling back gray1's newest revision undoes step 2 only, in both releases.
    res = modrun.run(zk_release_revision, {'hosts': zk.hosts, 'release': 'gray1', 'state': 'restored'})
    assert res['changed'] is True and res['moves']['from'] == 'gray1' and res['moves']['to'] == 'production', res
    assert children(zk, '/releases/gray1/sections') == ['1003', '1901']
    assert children(zk, '/releases/gray1/servers') == ['10.1.0.21']
    assert '10.1.0.12' in children(zk, '/releases/production/servers')

    res = move(zk, {'source': 'gray1', 'all_lent': True})
    assert res['changed'] is True and res['moved']['sections'] == ['1003'], res
    assert children(zk, '/releases/gray1/sections') == ['1901']
    assert sorted(children(zk, '/releases/production/sections')) == ['1001', '1002', '1003', '1004', '1005']
    assert move(zk, {'source': 'gray1', 'all_lent': True})['changed'] is False


def test_retiring_a_widened_release_gives_its_lent_items_back(project):
    zk = project
    assert move(zk, {'destination': 'gray1', 'sections': ['1003']})['changed']
    # Its own section and server would have no owner: refused unless given up by name (or all).
    before = zk.tree()
    res = node(zk, {'release': 'gray1', 'state': 'absent', 'release_items': ['1901']})
    assert res.get('failed') and 'server inner IP 10.1.0.21 (owned by gray1)' in res['msg'], res
    assert '1901' not in res['msg'].split('no owner:')[1].split(';')[0] and res['write_outcome'] == 'not_written'
    assert zk.tree() == before
    res = node(zk, {'release': 'gray1', 'state': 'absent', 'release_items': ['1901', '10.1.0.21']})
    assert res['changed'] is True and res['returned'] == {'production': {'sections': ['1003']}}, res
    assert res['given_up'] == {'sections': {'1901': 'gray1'}, 'servers': {'10.1.0.21': 'gray1'}}, res
    assert not zk.client.exists('/releases/gray1')
    assert '1003' in children(zk, '/releases/production/sections')
    assert lookup(zk, section_id='1003')['release'] == 'production'


def test_absorb_promotes_a_gray_release_in_one_transaction(project):
    zk = project
    assert move(zk, {'destination': 'gray1', 'sections': ['1003']})['changed']
    newer = dict(PRODUCTION, global_url='http://10.1.0.8:9000')
    res = node(zk, {'release': 'production', 'config': newer, 'set_default': True, 'absorb': ['gray1']})
    assert res['changed'] is True and res['transactions'] == 1, res
    assert sorted(res['revisions_written']) == ['gray1', 'production']
    assert not zk.client.exists('/releases/gray1')
    assert sorted(children(zk, '/releases/production/sections')) == ['1001', '1002', '1003', '1004', '1005', '1901']
    assert '10.1.0.21' in children(zk, '/releases/production/servers')
    assert '1.3.0' in children(zk, '/releases/production/versions')
    for question in ({'section_id': '1901'}, {'inner_ip': '10.1.0.21'}, {'version': '1.3.0'}):
        assert lookup(zk, **question)['release'] == 'production'


# ---- trees written by other tools ----------------------------------------------------------------

def test_null_data_and_foreign_names_do_not_block_a_publish(project):
    zk = project
    zk.client.create('/releases/production/versions/9.9.9')          # NULL data, as zkCli's `create`
    zk.client.set('/releases/production/sections/1001', b'not json')
    for check in (True, False):
        res = node(zk, {'release': 'production', 'config': PRODUCTION, 'set_default': True}, check=check)
        assert not res.get('failed') and res['changed'] is True, res
    assert '9.9.9' not in children(zk, '/releases/production/versions')
    assert zk.client.get('/releases/production/sections/1001')[0] == b'{"name":"S1"}'


def test_ipv6_names_are_compared_canonically(project):
    zk = project
    zk.client.create('/releases/gray1/servers/2001:DB8:0::1', b'{}')
    assert lookup(zk, inner_ip='2001:db8::1')['release'] == 'gray1'
    before = zk.tree()
    res = node(zk, {'release': 'appstore_review', 'config': {'servers': ['2001:db8::1']}})
    assert res.get('failed') and 'server inner IP 2001:db8::1 is owned by gray1' in res['msg'], res
    assert zk.tree() == before
    # gray1's own publish renames the node to its canonical form.
    gray = dict(GRAY, servers=dict(GRAY['servers'], **{'2001:db8::1': {}}))
    res = node(zk, {'release': 'gray1', 'config': gray})
    assert res['changed'] is True, res
    assert children(zk, '/releases/gray1/servers') == ['10.1.0.21', '2001:db8::1']


def test_impact_names_owners_routes_and_hosts_to_restart(project):
    zk = project
    hosts = [{'name': 'gs-prod-02', 'inner_ip': '10.1.0.12', 'section_ids': [1003, 1004]},
             {'name': 'gs-prod-01', 'inner_ip': '10.1.0.11', 'section_ids': [1001, 1002]}]
    before = zk.tree()
    res = move(zk, {'destination': 'gray1', 'sections': ['1003'], 'impact_hosts': hosts}, check=True)
    assert zk.tree() == before
    impact = res['impact']
    assert impact['owners'] == [{'kind': 'sections', 'name': '1003', 'from': 'production', 'to': 'gray1'}]
    assert impact['restart'] == ['gs-prod-02'] and impact['versions'] == []
    assert any('1003' in line and 'production -> gray1' in line for line in res['impact_table'])
    review = {'global_url': 'http://10.2.0.5:9000', 'versions': ['1.4.0'], 'sections': ['2001']}
    res = node(zk, {'release': 'appstore_review', 'config': review, 'append_versions_to_default': True,
                    'impact_hosts': hosts})
    assert res['impact']['versions'] == [
        {'version': '1.4.0', 'from': {'release': 'production', 'global_url': 'http://10.1.0.5:9000', 'listed': False},
         'to': {'release': 'appstore_review', 'global_url': 'http://10.2.0.5:9000', 'listed': True}}], res
    assert res['impact']['owners'] == [{'kind': 'sections', 'name': '2001', 'from': None, 'to': 'appstore_review'}]
    assert res['impact']['restart'] == []
    rerun = node(zk, {'release': 'appstore_review', 'config': review, 'append_versions_to_default': True})
    assert rerun['changed'] is False and rerun['impact']['owners'] == [] and rerun['impact']['restart'] == []


def test_a_new_build_with_the_same_config_is_a_metadata_only_change(project):
    zk = project
    first = node(zk, {'release': 'gray1', 'config': GRAY, 'origin': 'mygame-gray1-190122.02.tar.gz'})
    assert first['changed'] is True and first['metadata_only'] is True, first
    assert first['operations'] == [{'op': 'set', 'path': '/releases/gray1'}] and first['revision']
    assert meta(zk, 'gray1')['package'] == 'mygame-gray1-190122.02.tar.gz'
    rerun = node(zk, {'release': 'gray1', 'config': GRAY, 'origin': 'mygame-gray1-190122.02.tar.gz'})
    assert rerun['changed'] is False and 'metadata_only' not in rerun, rerun
    # A config given without a package keeps the build that is live while the content is the same.
    same = node(zk, {'release': 'gray1', 'config': GRAY})
    assert same['changed'] is False and meta(zk, 'gray1')['package'] == 'mygame-gray1-190122.02.tar.gz'
