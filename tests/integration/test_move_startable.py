# -*- coding: utf-8 -*-
"""A move keeps every moved section startable: the first step of widen refuses, writing nothing, a
move after which a moved section has no version to start, or would start a pinned build of another
release. Real ZooKeeper, real ansible-playbook; the tree is compared before and after."""

import json
import os

import helpers

PLAYBOOKS = os.path.join(helpers.ROOT, 'playbooks')


def put(client, path, data=None):
    client.ensure_path(path)
    client.set(path, json.dumps(data).encode() if data is not None else b'')


def test_widen_refuses_a_section_left_without_a_version_or_with_a_foreign_pin(zk, tmp_path):
    c = zk.client
    put(c, '/default_release', {'name': 'production'})
    # As build_packages and the demo write them: services per server, no release-wide "services".
    put(c, '/releases/production', {'package': 'mygame-production-190122.01.tar.gz'})
    put(c, '/releases/production/servers/10.3.0.1', {'services': {'gameserver': 'dev.190122.01'}})
    put(c, '/releases/production/sections/1001', {})
    put(c, '/releases/production/sections/1002', {'services': {'gameserver': 'dev.hotfix.01'}})
    put(c, '/releases/production/versions/1.0')
    put(c, '/releases/gray1', {'package': 'mygame-gray1-190123.01.tar.gz'})
    put(c, '/releases/gray1/servers/10.3.0.3', {'services': {'gameserver': 'dev.190123.01'}})
    put(c, '/releases/gray1/sections/1901', {})
    c.ensure_path('/releases/gray1/versions')
    inventory = str(tmp_path / 'inventory.json')
    with open(inventory, 'w') as f:
        json.dump({'all': {'hosts': {
            'gs-a': {'inner_ip': '10.3.0.1', 'section_ids': [1001, 1002], 'services': ['gameserver']},
            'gs-c': {'inner_ip': '10.3.0.3', 'section_ids': [1901], 'services': ['gameserver']}},
            'children': {'location_cn_prod': {'hosts': {'gs-a': {}, 'gs-c': {}}}},
            'vars': {'ansible_connection': 'local', 'ansible_python_interpreter': helpers.PYTHON,
                     'elastic_release_zk_hosts': zk.hosts,
                     'elastic_release_services': {'gameserver': {'per': 'section'}},
                     'elastic_release_registry': {'production': {'type': 'production', 'location': 'cn_prod'},
                                                  'gray1': {'type': 'gray', 'location': 'cn_prod'}}}}}, f)
    tree = zk.tree()

    def widen(sections, *more):
        cmd = ['ansible-playbook', '-i', inventory, os.path.join(PLAYBOOKS, 'widen.yml'), '-e', 'release=gray1',
               '-e', 'sections=%s' % sections] + list(more)
        return helpers.run(cmd, env={'ANSIBLE_STDOUT_CALLBACK': 'ansible.builtin.default'})

    res = widen('1001')
    assert res.rc == 2, res
    assert ('after this widen section 1001 would have no version of gameserver to start under gray1 (gs-a runs '
            'gameserver per section): gray1 has no server node of 10.3.0.1 with "services" and no release-wide '
            '"services". Add "services": {"gameserver": "<version>"} to gray1\'s config.zoo') in res.stdout, res.stdout
    assert zk.tree() == tree

    # Release-wide services in gray1: 1001 can start; 1002's node pins production's hotfix build.
    put(c, '/releases/gray1', {'package': 'mygame-gray1-190123.01.tar.gz', 'services': {'gameserver': 'dev.190123.01'}})
    tree = zk.tree()
    res = widen('1001,1002')
    assert res.rc == 2, res
    assert ('section 1002 pins gameserver dev.hotfix.01 in its node (its "services"), but gray1 starts gameserver '
            'dev.190123.01 on gs-a') in res.stdout, res.stdout
    assert 'section 1001 would have no version' not in res.stdout
    assert zk.tree() == tree

    res = widen('1001', '--check')
    assert res.rc == 0, res
