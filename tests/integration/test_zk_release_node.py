# -*- coding: utf-8 -*-
"""zk_release_node against a real ZooKeeper, verified with raw kazoo. Its arguments and results are
checked with main() run in this process (tests/modrun.py); the tests named in MATRIX_TESTS
(scripts/test.sh) run it through real `ansible` (real=True)."""

import json
import os
import zlib

import pytest

import helpers
import modrun

MODULE = 'gameops.elastic_release.zk_release_node'

CONFIG = {
    'global_url': 'http://10.0.0.5:9000',
    'versions': ['1.2.0', '1.2.1', '1.2.2'],
    'sections': {'1001': {'name': 'S1'}, '1002': {}, '1003': {'name': 'S3'}, '1004': {}},
    'servers': {'10.1.2.3': {'services': {'gameserver': 'dev.190122.01'}},
                '10.1.2.4': {'services': {'gameserver': 'dev.190122.02'}}},
}


def publish(zk, check=False, diff=False, real=False, **args):
    args.setdefault('hosts', zk.hosts)
    return (helpers.adhoc if real else modrun.adhoc)(MODULE, args, check=check, diff=diff)


def release_nodes(client, release):
    """{relative path: data} of /releases/{release}, read with kazoo (never with the module)."""
    out = {}

    def walk(path, rel):
        data = client.get(path)[0]
        out[rel] = data
        for child in client.get_children(path):
            walk(path + '/' + child, rel + '/' + child)
    walk('/releases/' + release, '')
    return out


def test_publish_check_then_real_then_idempotent(zk):
    before = zk.tree()
    res, task = publish(zk, real=True, check=True, diff=True, release='gray1', config=CONFIG)
    assert res.rc == 0, res
    assert task['changed'] is True
    assert task['revision'] is None
    paths = [op['path'] for op in task['operations']]
    assert '/releases/gray1/sections/1001' in paths
    assert zk.tree() == before, 'check mode wrote to ZooKeeper'
    assert '+    "1001": {' in res.stdout  # the diff is shown

    res, task = publish(zk, real=True, release='gray1', config=CONFIG)
    assert res.rc == 0, res
    assert task['changed'] is True and task['transactions'] == 1
    assert task['revision'] == 'rev-0000000001'
    nodes = release_nodes(zk.client, 'gray1')
    assert sorted(k for k in nodes if k.count('/') == 2) == sorted(
        ['/versions/1.2.0', '/versions/1.2.1', '/versions/1.2.2',
         '/sections/1001', '/sections/1002', '/sections/1003', '/sections/1004',
         '/servers/10.1.2.3', '/servers/10.1.2.4'])
    assert sorted(k for k in nodes if k.count('/') == 1) == ['/global_url', '/sections', '/servers', '/versions']
    assert nodes['/global_url'] == b'http://10.0.0.5:9000'
    assert json.loads(nodes['/sections/1001']) == {'name': 'S1'}
    assert json.loads(nodes['/sections/1002']) == {}
    assert nodes['/versions/1.2.0'] == b''
    assert json.loads(nodes['/servers/10.1.2.3']) == {'services': {'gameserver': 'dev.190122.01'}}
    assert not zk.client.exists('/default_release'), 'a gray publish must not touch /default_release'

    after_first = zk.tree()
    res, task = publish(zk, real=True, release='gray1', config=CONFIG)
    assert res.rc == 0, res
    assert task['changed'] is False and task['operations'] == [] and task['revision'] is None
    assert zk.tree() == after_first, 'an identical rerun wrote something'


def test_replace_removes_what_is_gone_and_merge_keeps_it(zk):
    assert publish(zk, real=True, release='gray1', config=CONFIG)[0].rc == 0
    smaller = {'global_url': 'http://10.0.0.6:9000', 'versions': ['1.2.2'],
               'sections': {'1001': {'name': 'renamed'}}, 'servers': {'10.1.2.3': {}}}
    res, task = publish(zk, real=True, release='gray1', config=smaller, mode='merge')
    assert res.rc == 0, res
    nodes = release_nodes(zk.client, 'gray1')
    assert '/sections/1004' in nodes and '/versions/1.2.0' in nodes  # merge never removes
    assert json.loads(nodes['/sections/1001']) == {'name': 'renamed'}

    # What replace removes would have no owner: refused unless given up by name.
    before = zk.tree()
    res, task = publish(zk, real=True, release='gray1', config=smaller)
    assert res.rc != 0 and 'section id 1004 (owned by gray1)' in task['msg'] and 'release_items' in task['msg'], res
    assert zk.tree() == before
    res, task = publish(zk, real=True, release='gray1', config=smaller, release_items=['all'])
    assert res.rc == 0, res
    given = {'sections': {'1002': 'gray1', '1003': 'gray1', '1004': 'gray1'}, 'servers': {'10.1.2.4': 'gray1'}}
    assert task['given_up'] == given, task['given_up']
    nodes = release_nodes(zk.client, 'gray1')
    assert sorted(k for k in nodes if k.count('/') == 2) == ['/sections/1001', '/servers/10.1.2.3', '/versions/1.2.2']
    assert nodes['/global_url'] == b'http://10.0.0.6:9000'
    ops = {(op['op'], op['path']) for op in task['operations']}
    assert ('delete', '/releases/gray1/sections/1004') in ops


def test_config_file_set_default_and_history(zk, tmp_path):
    path = tmp_path / 'production.config.zoo'
    path.write_text(json.dumps(CONFIG))
    res, task = publish(zk, release='production', config_file=str(path), set_default=True, origin='mygame-production-1.tar.gz')
    assert res.rc == 0, res
    assert json.loads(zk.client.get('/default_release')[0]) == {'name': 'production'}
    assert task['default_release'] == 'production'
    # The revision keeps what the change did (it created the release), the change's id and who wrote what.
    revs = zk.client.get_children('/elastic_release/history/production')
    assert revs == ['rev-0000000001']
    doc = json.loads(zlib.decompress(zk.client.get('/elastic_release/history/production/rev-0000000001')[0]))
    assert doc['delta']['exists'] == [False, True] and doc['package'] == 'mygame-production-1.tar.gz'
    assert doc['change'] == task['change'] and doc['default'] == [False, '{"name":"production"}']
    assert doc['operator']


def test_append_versions_to_default_in_one_transaction(zk):
    assert publish(zk, release='production', config=CONFIG, set_default=True)[0].rc == 0
    gray = {'global_url': 'http://10.0.0.7:9000', 'versions': ['2.0.0', '1.2.0'], 'servers': ['10.1.2.9']}
    res, task = publish(zk, release='gray1', config=gray, append_versions_to_default=True)
    assert res.rc == 0, res
    assert task['transactions'] == 1
    assert zk.client.exists('/releases/production/versions/2.0.0')
    assert sorted(zk.client.get_children('/releases/gray1/versions')) == ['1.2.0', '2.0.0']
    # Only the missing version was appended.
    appended = [op for op in task['operations'] if op['path'].startswith('/releases/production/')]
    assert appended == [{'op': 'create', 'path': '/releases/production/versions/2.0.0'}]


def test_replace_of_the_default_release_keeps_versions_other_releases_list(zk):
    """Rerunning the production flow after a gray switch-online must not unlist the gray clients."""
    assert publish(zk, release='production', config=CONFIG, set_default=True)[0].rc == 0
    gray = {'global_url': 'http://10.0.0.7:9000', 'versions': ['2.0.0'], 'servers': ['10.1.2.9']}
    assert publish(zk, release='gray1', config=gray, append_versions_to_default=True)[0].rc == 0
    versions = sorted(CONFIG['versions'] + ['2.0.0'])

    res, task = publish(zk, release='production', config=CONFIG, set_default=True)
    assert res.rc == 0 and task['changed'] is False, res
    assert task['kept_versions'] == ['2.0.0']
    assert sorted(zk.client.get_children('/releases/production/versions')) == versions

    # Once gray1 no longer lists the version, the next production publish drops it.
    assert publish(zk, release='gray1', state='absent', release_items=['all'])[0].rc == 0
    res, task = publish(zk, release='production', config=CONFIG, set_default=True)
    assert res.rc == 0 and task['changed'] is True and task['kept_versions'] == [], res
    assert task['operations'] == [{'op': 'delete', 'path': '/releases/production/versions/2.0.0'}]
    assert sorted(zk.client.get_children('/releases/production/versions')) == CONFIG['versions']


def test_replace_without_keep_appended_versions_is_exact(zk):
    assert publish(zk, release='production', config=CONFIG, set_default=True)[0].rc == 0
    gray = {'versions': ['2.0.0'], 'servers': ['10.1.2.9']}
    assert publish(zk, release='gray1', config=gray, append_versions_to_default=True)[0].rc == 0
    res, task = publish(zk, release='production', config=CONFIG, keep_appended_versions=False)
    assert res.rc == 0 and task['changed'] is True, res
    assert sorted(zk.client.get_children('/releases/production/versions')) == CONFIG['versions']
    assert zk.client.exists('/releases/gray1/versions/2.0.0')


def test_append_without_default_release_fails_and_writes_nothing(zk):
    before = zk.tree()
    res, task = publish(zk, release='gray1', config=CONFIG, append_versions_to_default=True)
    assert res.rc != 0
    assert '/default_release does not exist' in task['msg']
    assert zk.tree() == before


@pytest.mark.parametrize('args,message', [
    ({'release': 'Gray-1'}, "invalid release name 'Gray-1'"),
    ({'release': '../etc'}, "invalid release name '../etc'"),
    ({'release': 'locks'}, 'reserved'),
    ({'release': 'gray1', 'config': {'versions': ['1.0/../x']}}, 'key versions[0]'),
    ({'release': 'gray1', 'config': {'servers': ['10.0.0.300']}}, 'not an IPv4 or IPv6 address'),
    ({'release': 'gray1', 'config': {'sections': {'1001': [1, 2]}}}, 'key sections.1001: node data must be a JSON object'),
    ({'release': 'gray1', 'config': {'global_url': 'not a url'}}, 'key global_url'),
    ({'release': 'gray1', 'config': {'sectoins': {}}}, "unknown key 'sectoins'"),
    ({'release': 'gray1', 'config': CONFIG, 'admin_root': '/releases/x'}, 'invalid admin root'),
])
def test_bad_input_is_refused_and_tree_unchanged(zk, args, message):
    assert publish(zk, release='production', config=CONFIG, set_default=True)[0].rc == 0
    args = dict(args)
    args.setdefault('config', CONFIG)
    before = zk.tree()
    res, task = publish(zk, **args)
    assert res.rc != 0, res
    assert message in task['msg'], task['msg']
    assert 'Traceback' not in res.output
    assert zk.tree() == before


@pytest.mark.parametrize('text,message', [
    ('{"versions": ["1.0"],', 'not valid JSON'),
    ('{"versions": ["1.0"], "versions": ["2.0"]}', "duplicate key 'versions'"),
    ('[1, 2]', 'must be a JSON object'),
    ('{"servers": {"10.0.0.1": {}, "10.0.0.01": {}}}', 'not an IPv4'),
])
def test_bad_config_file_is_refused_and_tree_unchanged(zk, tmp_path, text, message):
    path = tmp_path / 'gray1.config.zoo'
    path.write_text(text)
    before = zk.tree()
    res, task = publish(zk, release='gray1', config_file=str(path))
    assert res.rc != 0
    assert message in task['msg'] and str(path) in task['msg'], task['msg']
    assert zk.tree() == before


def test_too_large_change_is_refused_unless_chunked(zk):
    config = {'sections': {str(10000 + i): {'name': 'x' * 40} for i in range(300)}}
    before = zk.tree()
    res, task = publish(zk, release='gray1', config=config, max_request_bytes=8192)
    assert res.rc != 0
    assert 'over the 8192-byte limit' in task['msg'] and 'allow_chunked' in task['msg']
    assert zk.tree() == before
    res, task = publish(zk, release='gray1', config=config, max_request_bytes=8192, allow_chunked=True)
    assert res.rc == 0, res
    assert task['transactions'] > 2
    assert len(zk.client.get_children('/releases/gray1/sections')) == 300
    res, task = publish(zk, release='gray1', config=config, max_request_bytes=8192, allow_chunked=True)
    assert task['changed'] is False


def test_absent_removes_release_but_refuses_default(zk):
    assert publish(zk, release='production', config=CONFIG, set_default=True)[0].rc == 0
    gray = {'global_url': 'http://10.0.0.6:9000', 'versions': ['2.0.0'], 'sections': ['1901'], 'servers': ['10.1.2.9']}
    assert publish(zk, release='gray1', config=gray)[0].rc == 0
    before = zk.tree()
    res, task = publish(zk, release='production', state='absent')
    assert res.rc != 0 and 'default release' in task['msg']
    assert zk.tree() == before
    res, task = publish(zk, release='gray1', state='absent', check=True, release_items=['all'])
    assert task['changed'] is True and zk.tree() == before
    res, task = publish(zk, release='gray1', state='absent', release_items=['1901', '10.1.2.9'])
    assert res.rc == 0 and task['changed'] is True
    assert not zk.client.exists('/releases/gray1')
    assert zk.client.exists('/releases/production/sections/1001')
    res, task = publish(zk, release='gray1', state='absent')
    assert task['changed'] is False


def test_fast_verify_skips_reads_but_sees_created_and_deleted_nodes(zk):
    assert publish(zk, release='gray1', config=CONFIG)[0].rc == 0
    task = publish(zk, release='gray1', config=CONFIG, verify='fast')[1]
    assert task['changed'] is False and task['verified'] == 'fast'
    zk.client.create('/releases/gray1/sections/9999', b'{}')   # out-of-band create
    res, task = publish(zk, release='gray1', config=CONFIG, verify='fast', release_items=['9999'])
    assert task['verified'] == 'full' and task['changed'] is True
    assert not zk.client.exists('/releases/gray1/sections/9999')
    zk.client.set('/releases/gray1/global_url', b'http://evil:1')   # out-of-band edit of global_url
    res, task = publish(zk, release='gray1', config=CONFIG, verify='fast')
    assert task['changed'] is True
    assert zk.client.get('/releases/gray1/global_url')[0] == b'http://10.0.0.5:9000'


def test_module_defaults_group_and_env_fallback(zk, tmp_path):
    play = tmp_path / 'play.yml'
    play.write_text('''
- hosts: localhost
  gather_facts: false
  module_defaults:
    group/gameops.elastic_release.zookeeper:
      hosts: "%s"
  tasks:
    - gameops.elastic_release.zk_release_node:
        release: production
        config: {versions: ["1.0"], sections: ["1001"]}
        set_default: true
    - gameops.elastic_release.release_lookup:
        section_id: "1001"
      register: owner
    - ansible.builtin.assert:
        that: owner.release == "production" and owner.is_default
''' % zk.hosts)
    res = helpers.playbook(str(play))
    assert res.rc == 0, res
    res, task = helpers.adhoc('gameops.elastic_release.release_lookup', {'section_id': '1001'},
                              env={'ELASTIC_RELEASE_ZK_HOSTS': zk.hosts})
    assert res.rc == 0, res
    assert task['release'] == 'production'


def test_unreachable_zookeeper_fails_within_timeout():
    res, task = modrun.adhoc(MODULE, {'hosts': '127.0.0.1:1', 'timeout': 2, 'release': 'gray1', 'config': CONFIG})
    assert res.rc != 0
    assert 'cannot connect to ZooKeeper at 127.0.0.1:1' in task['msg']


@pytest.mark.filterwarnings("ignore:No chroot path exists")
def test_missing_chroot_is_a_clear_error(zk_server):
    res, task = modrun.adhoc(MODULE, {'hosts': zk_server.hosts + '/no_such_project', 'release': 'gray1', 'config': CONFIG})
    assert res.rc != 0
    assert 'chroot /no_such_project does not exist' in task['msg']
    # The command it names exists on Debian (zkCli.sh is not on PATH there).
    command = '/usr/share/zookeeper/bin/zkCli.sh -server %s create /no_such_project ""' % zk_server.hosts
    assert command in task['msg'], task['msg']
    assert os.path.exists(command.split()[0])


def test_package_option_reads_config_and_indicator_from_the_archive(zk, tmp_path):
    if not os.path.exists(os.path.join(helpers.ROOT, 'plugins', 'modules', 'server_package.py')):
        pytest.fail('server_package module missing')
    src = tmp_path / 'src'
    (src / 'lib').mkdir(parents=True)
    (src / 'lib' / 'a.so').write_bytes(b'x')
    (src / 'version' / 'gameserver' / 'dev.1' / 'bin').mkdir(parents=True)
    (src / 'version' / 'gameserver' / 'dev.1' / 'bin' / 'gameserver').write_text('#!/bin/sh\n')
    res, task = helpers.adhoc('gameops.elastic_release.server_package', {
        'src': str(src), 'dest': str(tmp_path), 'release': 'production', 'project': 'mygame',
        'build': '190122.01', 'config': CONFIG})
    assert res.rc == 0, res
    package = task['path']
    res, task = publish(zk, real=True, release='production', package=package, set_default=True)
    assert res.rc == 0, res
    assert json.loads(zk.client.get('/default_release')[0]) == {'name': 'production'}
    assert sorted(zk.client.get_children('/releases/production/sections')) == ['1001', '1002', '1003', '1004']
    before = zk.tree()
    res, task = publish(zk, real=True, release='gray1', package=package)
    assert res.rc != 0 and 'production' in task['msg'] and 'gray1' in task['msg']
    assert zk.tree() == before
