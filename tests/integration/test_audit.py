# -*- coding: utf-8 -*-
"""release_audit against a real ZooKeeper: a clean tree has no finding, and each defect seeded with
raw kazoo (one with ZooKeeper's own Java CLI) gives exactly its finding."""

import json
import subprocess

import pytest

import modrun
import zkserver
from ansible_collections.gameops.elastic_release.plugins.modules import release_audit, zk_release_node

SERVICE = {'services': {'gameserver': 'dev.190122.01'}}
CONFIGS = {
    'production': {'global_url': 'http://10.1.0.5:9000', 'versions': ['1.2.0', '1.2.1'],
                   'sections': {'1001': {'name': 'S1'}, '1002': {'name': 'S2'}, '1003': {}, '1004': {}},
                   'servers': {'10.1.0.11': SERVICE, '10.1.0.12': SERVICE}},
    'gray1': {'global_url': 'http://10.1.0.6:9000', 'versions': ['1.3.0'], 'sections': {'1901': {}},
              'servers': {'10.1.0.21': SERVICE}},
    'appstore_review': {'global_url': 'http://10.2.0.5:9000', 'versions': ['1.4.0'], 'sections': {'2001': {}},
                        'servers': {'10.2.0.11': SERVICE}},
}
REGISTRY = {'production': {'type': 'production', 'location': 'cn_prod'},
            'gray1': {'type': 'gray', 'location': 'cn_prod'},
            'appstore_review': {'type': 'review', 'location': 'appstore_review'}}
HOSTS = [
    {'name': 'gs-prod-01', 'inner_ip': '10.1.0.11', 'section_ids': [1001, 1002], 'deploy_location': 'cn_prod',
     'services': ['gameserver']},
    {'name': 'gs-prod-02', 'inner_ip': '10.1.0.12', 'section_ids': [1003, 1004], 'deploy_location': 'cn_prod',
     'services': ['gameserver']},
    {'name': 'gs-gray-01', 'inner_ip': '10.1.0.21', 'section_ids': [1901], 'deploy_location': 'cn_prod',
     'services': ['gameserver']},
    {'name': 'gs-review-01', 'inner_ip': '10.2.0.11', 'section_ids': [2001], 'deploy_location': 'appstore_review',
     'services': ['gameserver']},
]
# A host whose IP gray1 lists spelled another way (seeded by the non_canonical_name case).
TOOLS = {'name': 'tools-v6-01', 'inner_ip': '2001:db8::1', 'deploy_location': 'cn_prod', 'services': []}


@pytest.fixture
def project(zk):
    for release, extra in (('production', {'set_default': True}), ('gray1', {'append_versions_to_default': True}),
                           ('appstore_review', {'append_versions_to_default': True})):
        res = modrun.run(zk_release_node, dict(extra, hosts=zk.hosts, release=release, config=CONFIGS[release]))
        assert res['changed'] is True, res
    return zk


def audit(zk, registry=None, hosts=None):
    return modrun.run(release_audit, {'hosts': zk.hosts, 'registry': REGISTRY if registry is None else registry,
                                      'cmdb_hosts': HOSTS if hosts is None else hosts})


def test_clean_tree_has_no_finding(project):
    before = project.tree()
    res = audit(project)
    assert res['findings'] == [] and res['clean'] is True, res['findings']
    assert res['counts'] == {'error': 0, 'warning': 0, 'info': 0}
    assert res['releases'] == ['appstore_review', 'gray1', 'production'] and res['default_release'] == 'production'
    assert project.tree() == before


def _seed(zk, case):
    c = zk.client
    if case == 'section_two_owners':
        c.create('/releases/gray1/sections/1001', b'{}')
    elif case == 'server_two_owners':
        c.create('/releases/gray1/servers/10.1.0.11', json.dumps(SERVICE).encode())
    elif case == 'version_two_releases':
        c.create('/releases/appstore_review/versions/1.3.0', b'')
    elif case == 'default_release_missing':
        c.delete('/default_release')
    elif case == 'default_release_malformed':
        c.set('/default_release', b'[1, 2]')
    elif case == 'default_release_dangling':
        c.set('/default_release', b'{"name": "gone"}')
    elif case == 'appended_version_orphaned':
        c.delete('/releases/gray1/versions/1.3.0')
    elif case == 'unregistered_release':
        c.ensure_path('/releases/gray9/sections')
    elif case == 'server_not_in_cmdb':
        c.create('/releases/production/servers/10.1.0.99', json.dumps(SERVICE).encode())
    elif case == 'not_startable':
        c.set('/releases/production/servers/10.1.0.12', b'{}')
    elif case == 'foreign_node':
        c.create('/releases/production/sections/bad name', b'{}')
    elif case == 'non_json_data':
        c.set('/releases/production/sections/1001', b'not json')
    elif case == 'non_canonical_name':
        c.create('/releases/gray1/servers/2001:DB8:0::1', b'{}')
    elif case == 'half_written':
        meta = json.loads(c.get('/releases/gray1')[0])
        meta['pending'] = {'revision': 'rev-0000000002', 'started': 1}
        c.set('/releases/gray1', json.dumps(meta).encode())
    elif case == 'moved_from_missing':
        meta = json.loads(c.get('/releases/gray1')[0])
        meta['moved'] = {'sections': {'1901': 'gray7'}}
        c.set('/releases/gray1', json.dumps(meta).encode())
    elif case == 'orphan_revision_parts':
        c.ensure_path('/elastic_release/parts/gray1')
        c.create('/elastic_release/parts/gray1/rev-0000000099.0123456789ab.0001', b'x')
    else:
        raise AssertionError(case)


CASES = {
    'section_two_owners': 'error', 'server_two_owners': 'error', 'version_two_releases': 'error',
    'default_release_missing': 'error', 'default_release_malformed': 'error', 'default_release_dangling': 'error',
    'appended_version_orphaned': 'warning', 'unregistered_release': 'warning', 'server_not_in_cmdb': 'warning',
    'not_startable': 'error', 'foreign_node': 'warning', 'non_json_data': 'warning',
    'non_canonical_name': 'warning', 'half_written': 'error', 'moved_from_missing': 'warning',
    'orphan_revision_parts': 'info',
}


@pytest.mark.parametrize('case', sorted(CASES))
def test_each_seeded_defect_gives_exactly_its_finding(project, case):
    _seed(project, case)
    before = project.tree()
    res = audit(project, hosts=HOSTS + [TOOLS] if case == 'non_canonical_name' else None)
    kinds = set(f['kind'] for f in res['findings'])
    assert kinds == {case}, res['findings']
    assert set(f['severity'] for f in res['findings']) == {CASES[case]}
    assert res['counts'][CASES[case]] == len(res['findings'])
    assert all(f['message'] for f in res['findings'])
    assert project.tree() == before


def test_registry_and_location_findings(project):
    registry = dict(REGISTRY, gray2={'type': 'gray', 'location': 'cn_prod'})
    res = audit(project, registry=registry)
    assert [(f['kind'], f['releases']) for f in res['findings']] == [('registered_not_published', ['gray2'])]
    hosts = [dict(h, deploy_location='appstore_review') if h['name'] == 'gs-gray-01' else h for h in HOSTS]
    res = audit(project, hosts=hosts)
    assert [(f['kind'], f['items']) for f in res['findings']] == [('server_wrong_location', ['10.1.0.21'])]


def test_null_data_written_by_zookeepers_own_cli(project):
    zkserver.check_installed()
    cmd = ['java', '-cp', zkserver.CLASSPATH, 'org.apache.zookeeper.ZooKeeperMain', '-server',
           project.server.hosts + project.chroot, 'create', '/releases/production/versions/9.9.9']
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
    assert project.client.exists('/releases/production/versions/9.9.9'), proc.stdout + proc.stderr
    assert project.client.get('/releases/production/versions/9.9.9')[0] is None
    res = audit(project)
    assert [(f['kind'], f['items']) for f in res['findings']] == [('null_data', ['9.9.9'])], res['findings']
    # The next production publish removes it (and --check plans that without failing).
    for check in (True, False):
        out = modrun.run(zk_release_node, {'hosts': project.hosts, 'release': 'production',
                                           'config': CONFIGS['production'], 'set_default': True}, check=check)
        assert out['changed'] is True and not out.get('failed'), out
    assert audit(project)['findings'] == []


def test_cmdb_items_without_owner_and_the_history_findings(project):
    zk = project
    hosts = HOSTS + [TOOLS, {'name': 'gs-new-01', 'inner_ip': '10.1.0.13', 'section_ids': [1005], 'services': []}]
    res = audit(zk, hosts=hosts)
    found = sorted((f['severity'], f['kind'], f['items']) for f in res['findings'])
    # A section nothing runs on yet, and IPs no release lists: warnings.
    assert found == [('warning', 'section_unowned', ['1005']), ('warning', 'server_unowned', ['10.1.0.13']),
                     ('warning', 'server_unowned', ['2001:db8::1'])], res['findings']
    # A section a host serves, given up on purpose: info naming the change; lost otherwise: an error.
    given = modrun.run(zk_release_node, {'hosts': zk.hosts, 'release': 'gray1', 'state': 'absent',
                                         'release_items': ['all']})
    assert given['changed'], given
    zk.client.delete('/releases/appstore_review/sections/2001')
    res = audit(zk)
    found = sorted((f['severity'], f['kind'], f['items']) for f in res['findings'])
    # (and the version gray1 appended to production: its publisher is gone)
    assert found == [('error', 'section_unowned', ['2001']), ('info', 'given_up', ['10.1.0.21']),
                     ('info', 'given_up', ['1901']), ('info', 'registered_not_published', []),
                     ('warning', 'appended_version_orphaned', ['1.3.0'])], res['findings']
    assert any(given['change'] in f['message'] for f in res['findings'] if f['kind'] == 'given_up')


def test_bookkeeping_edited_outside_a_change_is_reported(project):
    zk = project
    meta = json.loads(zk.client.get('/releases/gray1')[0])
    meta['services'] = {'gameserver': 'dev.190199.09'}
    zk.client.set('/releases/gray1', json.dumps(meta).encode())
    res = audit(zk)
    assert [(f['kind'], f['releases']) for f in res['findings']] == [('package_services_mismatch', ['gray1'])], res


def _legacy(zk, release, revision, action, txn):
    import zlib
    doc = {'format': 1, 'release': release, 'revision': revision, 'txn': txn, 'action': action, 'before': {}}
    zk.client.create('/elastic_release/history/%s/%s' % (release, revision), zlib.compress(json.dumps(doc).encode()),
                     makepath=True)


def test_a_promote_rolled_back_in_one_release_by_an_earlier_version_is_half_undone(project):
    """What the rollback flow of an earlier version left after a promote: production restored, the
    gray release it removed still gone (their newest revisions: the rollback, and the promote)."""
    zk = project
    for release in ('production', 'gray2'):
        zk.client.delete('/elastic_release/history/%s' % release, recursive=True) \
            if zk.client.exists('/elastic_release/history/%s' % release) else None
    _legacy(zk, 'production', 'rev-0000000001', 'publish', 'a' * 32)
    _legacy(zk, 'production', 'rev-0000000002', 'publish', 'b' * 32)
    _legacy(zk, 'production', 'rev-0000000003', 'rollback', 'c' * 32)
    _legacy(zk, 'gray2', 'rev-0000000001', 'publish', 'd' * 32)
    _legacy(zk, 'gray2', 'rev-0000000002', 'publish', 'b' * 32)
    res = audit(zk)
    assert [(f['severity'], f['kind'], f['items'], f['releases']) for f in res['findings']] == [
        ('error', 'change_half_undone', ['bbbbbbbbbbbb'], ['gray2', 'production'])], res['findings']
