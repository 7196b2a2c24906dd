# -*- coding: utf-8 -*-
"""release_lookup. The tree is written with raw kazoo, as VMS would see it. The answers are checked with
main() run in this process (tests/modrun.py); the test named in MATRIX_TESTS (scripts/test.sh) runs
real `ansible` (real=True)."""

import json

import pytest

import helpers
import modrun

MODULE = 'gameops.elastic_release.release_lookup'


def write_release(client, release, url, versions=(), sections=(), servers=None):
    client.ensure_path('/releases/%s/versions' % release)
    client.ensure_path('/releases/%s/sections' % release)
    client.ensure_path('/releases/%s/servers' % release)
    client.create('/releases/%s/global_url' % release, url.encode())
    for v in versions:
        client.create('/releases/%s/versions/%s' % (release, v), b'')
    for s in sections:
        client.create('/releases/%s/sections/%s' % (release, s), json.dumps({'name': 'S' + s}).encode())
    for ip, data in (servers or {}).items():
        client.create('/releases/%s/servers/%s' % (release, ip), json.dumps(data).encode())


@pytest.fixture
def project(zk):
    c = zk.client
    write_release(c, 'production', 'http://prod:9000', versions=['1.0', '1.1', '2.0'], sections=['1001', '1002'],
                  servers={'10.0.0.1': {'services': {'gameserver': 'dev.1'}}})
    write_release(c, 'gray1', 'http://gray:9000', versions=['2.0'], sections=['1003'],
                  servers={'10.0.0.2': {'services': {'gameserver': 'dev.2'}}})
    write_release(c, 'appstore_review', 'http://review:9000', versions=['2.1'], sections=['2001'],
                  servers={'10.0.9.1': {}})
    c.create('/default_release', b'{"name": "production"}')
    return zk


def lookup(zk, real=False, **args):
    args.setdefault('hosts', zk.hosts)
    return (helpers.adhoc if real else modrun.adhoc)(MODULE, args)


@pytest.mark.parametrize('args,release,url', [
    ({'section_id': '1001'}, 'production', 'http://prod:9000'),
    ({'section_id': '1003'}, 'gray1', 'http://gray:9000'),
    ({'inner_ip': '10.0.0.2'}, 'gray1', 'http://gray:9000'),
    ({'inner_ip': '10.0.9.1'}, 'appstore_review', 'http://review:9000'),
    ({'version': '1.1'}, 'production', 'http://prod:9000'),   # only in the default release
    ({'version': '2.0'}, 'gray1', 'http://gray:9000'),        # non-default release wins
    ({'version': '2.1'}, 'appstore_review', 'http://review:9000'),
])
def test_lookup_answers_per_contract(project, args, release, url):
    res, task = lookup(project, real=True, **args)
    assert res.rc == 0, res
    assert task['changed'] is False
    assert task['release'] == release
    assert task['global_url'] == url
    assert task['default_release'] == 'production'
    assert task['is_default'] is (release == 'production')
    assert task['found'] is True
    assert task['path'].startswith('/releases/%s/' % release)


def test_lookup_returns_node_data(project):
    res, task = lookup(project, inner_ip='10.0.0.1')
    assert task['data'] == {'services': {'gameserver': 'dev.1'}}
    res, task = lookup(project, section_id='1002')
    assert task['data'] == {'name': 'S1002'}


def test_missing_items(project):
    res, task = lookup(project, section_id='9999')
    assert res.rc != 0
    assert 'section id 9999 is owned by no release' in task['msg']
    res, task = lookup(project, section_id='9999', fail_on_missing=False)
    assert res.rc == 0 and task['release'] is None and task['found'] is False
    res, task = lookup(project, version='9.9')
    assert res.rc != 0 and 'version 9.9 is listed by no release' in task['msg']
    res, task = lookup(project, version='9.9', fail_on_missing=False)
    assert res.rc == 0 and task['release'] == 'production' and task['found'] is False


def test_double_ownership_is_an_error_naming_both(project):
    c = project.client
    c.create('/releases/gray1/sections/1001', b'{}')
    res, task = lookup(project, section_id='1001')
    assert res.rc != 0
    assert 'gray1 and production' in task['msg']
    c.create('/releases/appstore_review/versions/2.0', b'')
    res, task = lookup(project, version='2.0')
    assert res.rc != 0
    assert 'appstore_review and gray1' in task['msg']


def test_ipv6_and_canonical_ip(project):
    project.client.create('/releases/gray1/servers/fd00::1', b'{}')
    res, task = lookup(project, inner_ip='fd00:0::1')
    assert res.rc == 0, res
    assert task['release'] == 'gray1'


def test_exactly_one_question(project):
    res, task = lookup(project, section_id='1001', inner_ip='10.0.0.1')
    assert res.rc != 0 and 'mutually exclusive' in task['msg']
    res, task = lookup(project)
    assert res.rc != 0 and 'one of the following is required' in task['msg']


def test_lookup_is_check_mode_safe(project):
    before = project.tree()
    res, task = modrun.adhoc(MODULE, {'hosts': project.hosts, 'section_id': '1003'}, check=True)
    assert res.rc == 0 and task['release'] == 'gray1'
    assert project.tree() == before


def test_the_module_and_the_plugin_answer_alike(project, tmp_path):
    """One routing rule: a version no release lists routes to the default release, not found, and fails
    the question unless fail_on_missing is false - in the module and the plugin alike (the plugin
    through a real playbook, the module in this process)."""
    import modrun
    from ansible_collections.gameops.elastic_release.plugins.modules import release_lookup
    asked = (('version', '9.9'), ('version', '2.0'), ('version', '1.1'), ('section_id', '9999'), ('section_id', '1003'))
    questions = [(key, value, fail) for key, value in asked for fail in (True, False)]
    out = tmp_path / 'answers.json'
    play = tmp_path / 'ask.yml'
    play.write_text(json.dumps([{'hosts': 'localhost', 'gather_facts': False, 'tasks': [
        {'name': 'Ask the plugin', 'ansible.builtin.set_fact': {
            'answer': "{{ query('gameops.elastic_release.release', item.0 ~ '=' ~ item.1, fail_on_missing=item.2,"
                      " hosts='%s') }}" % project.hosts},
         'loop': questions, 'register': 'asked', 'ignore_errors': True},
        {'name': 'Save', 'ansible.builtin.copy': {'dest': str(out), 'content': "{{ asked.results | to_json }}"}}]}]))
    res = helpers.playbook(str(play))
    assert res.rc == 0, res
    keys = ('release', 'found', 'is_default', 'default_release', 'global_url', 'path')
    for (key, value, fail), plugin in zip(questions, json.loads(out.read_text())):
        module = modrun.run(release_lookup, {'hosts': project.hosts, key: value, 'fail_on_missing': fail})
        if plugin.get('failed'):
            assert module.get('failed') and module['msg'] in plugin['msg'], (key, value, fail, module, plugin)
            continue
        answer = plugin['ansible_facts']['answer'][0]
        assert not module.get('failed'), (key, value, fail, module)
        assert dict((k, module[k]) for k in keys) == dict((k, answer[k]) for k in keys), (key, value, fail)
    answer = modrun.run(release_lookup, {'hosts': project.hosts, 'version': '9.9', 'fail_on_missing': False})
    assert answer['release'] == 'production' and answer['found'] is False
