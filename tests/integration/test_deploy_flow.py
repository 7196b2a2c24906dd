# -*- coding: utf-8 -*-
"""The deploy flow (playbooks/deploy.yml) and the deploy role, end to end with real ansible-playbook.

A copy of the example CMDB inventory whose hosts run locally, each with its own install root
(tmp_path/hosts/<inner_ip>, given through a vars file as scripts/demo.py does); server packages built
with the server_package module, hostile ones written with tarfile. What lands on the hosts is read
with os and hashlib, never with the code under test. The deploy flow does not use ZooKeeper.
"""

import hashlib
import json
import os
import re

import pytest

import flowkit
import helpers
import packagekit as pk

PLAYBOOK = os.path.join(helpers.ROOT, 'playbooks', 'deploy.yml')
RECAP_RE = re.compile(r'^(\S+)\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)', re.M)
LOCATION = {'gs-prod-01': '10.1.0.11', 'gs-prod-02': '10.1.0.12', 'global-prod-01': '10.1.0.5',
            'gs-gray-01': '10.1.0.21'}           # location_cn_prod: production and gray1 deploy here
REVIEW = {'gs-review-01': '10.2.0.11', 'global-review-01': '10.2.0.5'}
# build -> the gameserver versions its package carries (the same version name, the same content)
BUILDS = {
    'production-190122.01': ['dev.190122.01'],
    'gray1-190123.01': ['dev.190122.01', 'dev.190123.01'],
    'gray1-190124.01': ['dev.190123.01', 'dev.190124.01'],
    'gray1-190125.01': ['dev.190125.01'],
    'appstore_review-190122.01': ['dev.190122.01'],
}


def program(version):
    return ('#!/bin/sh\necho gameserver %s "$@"\n' % version).encode()


@pytest.fixture(scope='module')
def packages(tmp_path_factory):
    """{key: path}: the packages of BUILDS built by the server_package module, and hostile ones."""
    work = tmp_path_factory.mktemp('deploy-packages')
    items = []
    for key, versions in sorted(BUILDS.items()):
        release, build = key.split('-')
        src = work / 'src' / key
        pk.write_file(src, 'lib/libgame.so', ('lib of %s\n' % key).encode())
        for version in versions:
            pk.write_file(src, 'version/gameserver/%s/bin/gameserver' % version, program(version), 0o755)
        items.append({'src': str(src), 'release': release, 'build': build,
                      'config': {'versions': ['1.0'], 'servers': {'10.9.9.9': {'services': {'gameserver': versions[-1]}}}}})
    playbook = work / 'build.yml'
    playbook.write_text(json.dumps([{
        'name': 'Build the packages', 'hosts': 'localhost', 'gather_facts': False,
        'tasks': [{'name': 'Build', 'loop': items, 'gameops.elastic_release.server_package': {
            'src': '{{ item.src }}', 'dest': str(work / 'dist'), 'project': 'mygame', 'release': '{{ item.release }}',
            'build': '{{ item.build }}', 'config': '{{ item.config }}'}}]}]))
    res = helpers.playbook(str(playbook))
    assert res.rc == 0, res
    out = dict((key, str(work / 'dist' / ('mygame-%s.tar.gz' % key))) for key in BUILDS)
    out['hostile'] = hostile(work / 'bad' / 'mygame-gray1-190199.01.tar.gz')
    return out


def hostile(path):
    """A gray1 package with a member escaping the tree, written with tarfile (flowkit._tar)."""
    os.makedirs(str(path.parent), exist_ok=True)
    return flowkit._tar(path, 'gray1', {'versions': ['1.0']},
                        extra=[('version/gameserver/dev.190199.01/../../../../../evil', b'#!/bin/sh\nrm -rf /\n')])


@pytest.fixture
def cmdb(tmp_path):
    """A copy of inventory/ (every host local) and a vars file giving each host its install root."""
    inv = helpers.copy_inventory(tmp_path)
    extra = tmp_path / 'hosts.json'
    extra.write_text(json.dumps({'server_start_install_root': str(tmp_path / 'hosts') + '/{{ inner_ip }}',
                                 'deploy_stage_dir': str(tmp_path / 'stage') + '/{{ inner_ip }}'}))
    return {'inventory': str(inv), 'extra': str(extra), 'base': str(tmp_path / 'hosts'), 'tmp': tmp_path}


class Run(object):
    def __init__(self, res, summary):
        self.res = res
        self.rc = res.rc
        self.summary = summary
        self.recap = dict((m.group(1), {'ok': int(m.group(2)), 'changed': int(m.group(3)), 'failed': int(m.group(5))})
                          for m in RECAP_RE.finditer(res.stdout))
        self.progress = re.findall(r'"msg": "(mygame-[^"]*: \d+ of \d+ hosts done[^"]*)"', res.stdout)

    def __repr__(self):
        return repr(self.res)


def flow(cmdb, *args, **extra):
    """ansible-playbook -i <copy of inventory/> playbooks/deploy.yml -e @hosts.json -e key=value ... [args]."""
    summary = cmdb['tmp'] / ('summary-%d.json' % len(list(cmdb['tmp'].glob('summary-*.json'))))
    cmd = ['ansible-playbook', '-i', cmdb['inventory'], PLAYBOOK, '-e', '@' + cmdb['extra'],
           '-e', 'summary_file=%s' % summary]
    for key, value in sorted(extra.items()):
        cmd += ['-e', '%s=%s' % (key, value)]
    res = helpers.run(cmd + list(args), env={'ANSIBLE_STDOUT_CALLBACK': 'ansible.builtin.default'})
    return Run(res, json.loads(summary.read_text()) if summary.exists() else None)


def root(cmdb, host):
    return os.path.join(cmdb['base'], dict(LOCATION, **REVIEW)[host])


def files(path):
    """{relative path: sha256} of every file under path, links followed."""
    out = {}
    for dirpath, _dirs, names in os.walk(path):
        for name in names:
            full = os.path.join(dirpath, name)
            with open(full, 'rb') as handle:
                out[os.path.relpath(full, path)] = hashlib.sha256(handle.read()).hexdigest()
    return out


def version_link(cmdb, host, version):
    """The build version/gameserver/{version} points into, as (release, build), or None."""
    link = os.path.join(root(cmdb, host), 'version', 'gameserver', version)
    if not os.path.islink(link):
        return None
    parts = os.readlink(link).split('/')
    return parts[3], parts[4]


def builds(cmdb, host, release):
    base = os.path.join(root(cmdb, host), 'builds', release)
    return sorted(n for n in os.listdir(base) if not n.startswith('.')) if os.path.isdir(base) else []


def test_deploy_rerun_second_release_and_keep(cmdb, packages):
    # Check mode: what would happen, nothing on any host.
    run = flow(cmdb, '--check', '--diff', package=packages['production-190122.01'])
    assert run.rc == 0, run
    assert not os.path.exists(cmdb['base'])
    assert '+builds/production/190122.01  mygame-production-190122.01.tar.gz' in run.res.stdout
    assert run.summary['check_mode'] is True and set(run.summary['hosts']) == set(LOCATION)

    # The hosts of production's deploy location (location_cn_prod), not the review location's.
    run = flow(cmdb, package=packages['production-190122.01'])
    assert run.rc == 0, run
    assert run.summary['status'] == 'ok' and run.summary['release'] == 'production' and run.summary['changed']
    assert run.summary['target'] == 'location_cn_prod'
    assert set(run.summary['hosts']) == set(LOCATION) and not os.path.exists(root(cmdb, 'gs-review-01'))
    for host in LOCATION:
        assert run.summary['hosts'][host] == {'build': '190122.01', 'action': 'unpacked', 'changed': True,
                                              'copied': True, 'kept': ['190122.01'], 'removed': []}
        assert version_link(cmdb, host, 'dev.190122.01') == ('production', '190122.01')
        start = os.path.join(root(cmdb, host), 'version', 'gameserver', 'dev.190122.01', 'bin', 'gameserver')
        with open(start, 'rb') as handle:
            assert handle.read() == program('dev.190122.01')
        assert os.access(start, os.X_OK)
    assert len(run.progress) == 1 and run.progress[0].endswith('4 of 4 hosts done - 4 changed, 0 unchanged, 0 failed')

    # Rerun: nothing copied, nothing changed.
    run = flow(cmdb, package=packages['production-190122.01'])
    assert run.rc == 0, run
    assert all(run.recap[host]['changed'] == 0 for host in LOCATION), run.recap
    assert run.summary['changed'] is False
    assert all(entry['action'] == 'present' and not entry['copied'] for entry in run.summary['hosts'].values())

    # A second release into the same install roots: production's files stay byte for byte; the
    # version both carry with the same content stays production's, gray1's own version is added.
    prod_files = dict((host, files(os.path.join(root(cmdb, host), 'builds', 'production'))) for host in LOCATION)
    run = flow(cmdb, package=packages['gray1-190123.01'])
    assert run.rc == 0, run
    for host in LOCATION:
        assert files(os.path.join(root(cmdb, host), 'builds', 'production')) == prod_files[host]
        assert version_link(cmdb, host, 'dev.190122.01') == ('production', '190122.01')
        assert version_link(cmdb, host, 'dev.190123.01') == ('gray1', '190123.01')
        assert os.readlink(os.path.join(root(cmdb, host), 'current', 'production')) == '../builds/production/190122.01'
        assert os.readlink(os.path.join(root(cmdb, host), 'current', 'gray1')) == '../builds/gray1/190123.01'

    # Keep 2 builds of gray1, in batches of 2 hosts (a progress line each): 190123.01 goes after
    # the third build; dev.190123.01, which 190124.01 also carries, stays (now from 190124.01);
    # production is untouched.
    run = flow(cmdb, package=packages['gray1-190124.01'], deploy_keep=2, elastic_release_serial=2)
    assert run.rc == 0 and len(run.progress) == 2, run
    assert run.progress[-1].endswith('4 of 4 hosts done - 4 changed, 0 unchanged, 0 failed')
    run = flow(cmdb, package=packages['gray1-190125.01'], deploy_keep=2)
    assert run.rc == 0, run
    for host in LOCATION:
        assert run.summary['hosts'][host]['removed'] == ['190123.01']
        assert run.summary['hosts'][host]['kept'] == ['190125.01', '190124.01']
        assert builds(cmdb, host, 'gray1') == ['190124.01', '190125.01']
        assert version_link(cmdb, host, 'dev.190123.01') == ('gray1', '190124.01')
        assert version_link(cmdb, host, 'dev.190122.01') == ('production', '190122.01')
        assert files(os.path.join(root(cmdb, host), 'builds', 'production')) == prod_files[host]
        assert sorted(os.listdir(os.path.join(root(cmdb, host), 'packages'))) == [
            'mygame-gray1-190124.01.tar.gz', 'mygame-gray1-190125.01.tar.gz', 'mygame-production-190122.01.tar.gz']

    # A target instead of the deploy location: the review release onto one host.
    run = flow(cmdb, package=packages['appstore_review-190122.01'], target='gs-review-01')
    assert run.rc == 0, run
    assert set(run.summary['hosts']) == {'gs-review-01'} and run.summary['target'] == 'gs-review-01'
    assert version_link(cmdb, 'gs-review-01', 'dev.190122.01') == ('appstore_review', '190122.01')
    assert not os.path.exists(root(cmdb, 'global-review-01'))


def test_refused_on_the_controller_nothing_reaches_a_host(cmdb, packages):
    # The refusals of the first step run it in this process (flowkit.first_step); the target that
    # matches no host, refused by the playbook's next task, runs the flow.
    cases = [
        ({'package': packages['hostile']}, "unsafe member 'version/gameserver/dev.190199.01/../../../../../evil'"),
        ({'package': packages['production-190122.01'], 'release': 'gray1'},
         'is a package of release production, not of release gray1'),
        ({'package': os.path.join(os.path.dirname(packages['hostile']), 'mygame-gray9-01.tar.gz')},
         'release gray9 is not registered in elastic_release_registry'),
        ({'package': packages['gray1-190123.01'], 'target': 'location_nowhere'},
         'the target pattern "location_nowhere" matches no host of the inventory: nothing would be deployed'),
        ({}, 'missing parameter package: pass -e package=<path of the server package>'),
    ]
    for extra, message in cases:
        if 'target' in extra:
            run = flow(cmdb, **extra)
            assert run.rc == 2 and message in run.res.stdout, (extra, run)
            assert run.summary['status'] == 'failed' and message in run.summary['error'], run.summary
        else:
            result = flowkit.first_step(cmdb['inventory'], 'deploy', **extra)
            assert result.get('failed') is True and message in result['msg'], (extra, result)
        assert not os.path.exists(cmdb['base']), extra


def role_playbook(cmdb, package, release, hosts='location_cn_prod'):
    """The deploy role alone, as another playbook would use it: the host-side checks are then the first."""
    path = cmdb['tmp'] / 'role.yml'
    path.write_text(json.dumps([{'name': 'Deploy with the role', 'hosts': hosts, 'gather_facts': False,
                                 'roles': [{'role': 'gameops.elastic_release.deploy', 'deploy_package': package,
                                            'deploy_release': release}]}]))
    return helpers.run(['ansible-playbook', '-i', cmdb['inventory'], str(path), '-e', '@' + cmdb['extra']])


@pytest.mark.full   # the role's host-side refusals on every host; server_deploy's refusals are checked in-process (tests/unit)
def test_refused_on_the_host_nothing_unpacked(cmdb, packages):
    assert flow(cmdb, package=packages['production-190122.01']).rc == 0
    before = dict((host, pk.tree_state(root(cmdb, host))) for host in LOCATION)

    res = role_playbook(cmdb, packages['hostile'], 'gray1')
    assert res.rc == 2, res
    for host in LOCATION:
        assert re.search(r'fatal: \[%s\]: FAILED! .*cannot deploy to %s: mygame-gray1-190199.01.tar.gz: unsafe member '
                         r"'version/gameserver/dev.190199.01/../../../../../evil'" % (host, re.escape(root(cmdb, host))),
                         res.stdout), res
        after = pk.tree_state(root(cmdb, host))
        # The package was sent to the stage; nothing was unpacked or kept in the install root.
        assert after == before[host]
        assert os.path.isfile(os.path.join(str(cmdb['tmp']), 'stage', LOCATION[host], 'mygame-gray1-190199.01.tar.gz'))
    assert not os.path.exists(os.path.join(os.path.dirname(cmdb['base']), 'evil'))
    assert 'mygame-gray1-190199.01.tar.gz: 4 of 4 hosts done - 0 changed, 0 unchanged, 4 failed' in res.stdout

    # A package of another release than the one asked for.
    res = role_playbook(cmdb, packages['production-190122.01'], 'gray1', hosts='gs-gray-01')
    assert res.rc == 2, res
    assert "is release 'production', not the expected release 'gray1': nothing was unpacked" in res.stdout
    assert builds(cmdb, 'gs-gray-01', 'gray1') == []


def test_a_link_planted_at_packages_is_never_followed(cmdb, packages, tmp_path):
    """The install root belongs to the game's user (uid 65534), who replaced packages/ by a link to a
    directory of its choice: deploy as root refuses naming the link, writes nothing there nor in the
    install root, and keeps its package in a directory of its own user (deploy_stage_dir)."""
    host = 'gs-gray-01'
    assert role_playbook(cmdb, packages['gray1-190123.01'], 'gray1', hosts=host).rc == 0
    base = root(cmdb, host)
    assert os.path.isfile(os.path.join(base, 'packages', 'mygame-gray1-190123.01.tar.gz'))
    outside = tmp_path / 'outside'
    outside.mkdir()
    (outside / 'keep.txt').write_text('the game user\'s own file\n')
    for dirpath, dirs, names in os.walk(base):
        for name in [dirpath] + [os.path.join(dirpath, n) for n in dirs + names]:
            os.lchown(name, 65534, 65534)
    os.rename(os.path.join(base, 'packages'), os.path.join(base, 'packages.moved'))
    os.symlink(str(outside), os.path.join(base, 'packages'))
    os.lchown(os.path.join(base, 'packages'), 65534, 65534)
    before, inside = pk.tree_state(outside), pk.tree_state(base)

    res = role_playbook(cmdb, packages['gray1-190124.01'], 'gray1', hosts=host)
    assert res.rc == 2, res
    assert '%s/packages is a symbolic link to %s, which deploy did not make' % (base, outside) in res.stdout, res
    assert 'Remove it (or move it away) and deploy again' in res.stdout and 'Errno' not in res.stdout
    assert pk.tree_state(outside) == before and pk.tree_state(base) == inside
    assert builds(cmdb, host, 'gray1') == ['190123.01']


@pytest.mark.full   # a failure made on purpose on every host of a batch
def test_a_batch_that_fails_on_every_host_still_writes_the_summary(cmdb, packages):
    # Something deploy did not make sits where every host needs a version link: the first batch of
    # two fails entirely, so Ansible stops the run; the third host is never reached.
    hosts = ('gs-prod-01', 'gs-prod-02', 'gs-gray-01')
    for host in hosts:
        os.makedirs(os.path.join(root(cmdb, host), 'version', 'gameserver', 'dev.190122.01', 'bin'))
    run = flow(cmdb, '--limit', ','.join(hosts), package=packages['production-190122.01'], elastic_release_serial=2)
    assert run.rc == 2, run
    assert run.summary['status'] == 'failed' and set(run.summary['hosts']) == set(hosts)
    errors = sorted(entry['error'] for entry in run.summary['hosts'].values())
    assert errors[-1] == 'not reached: the run stopped before this host', run.summary
    assert all('version/gameserver/dev.190122.01 exists and deploy did not make it' in e for e in errors[:2]), errors
    assert run.summary['error'].startswith('mygame-production-190122.01.tar.gz was not deployed on 3 of 3 hosts: ')
    assert len(run.progress) == 1 and '2 of 3 hosts done - 0 changed, 0 unchanged, 2 failed: ' in run.progress[0]
    for host in hosts:
        assert builds(cmdb, host, 'production') == []


def test_a_host_without_an_install_root_fails_before_the_copy(cmdb, packages):
    res = helpers.run(['ansible-playbook', '-i', cmdb['inventory'], PLAYBOOK, '-e', 'target=gs-gray-01',
                       '-e', 'package=%s' % packages['gray1-190123.01']])
    assert res.rc == 2, res
    assert ('gs-gray-01 has no install root: set deploy_install_root or server_start_install_root (an absolute '
            'path) for it') in res.stdout
    assert 'mygame-gray1-190123.01.tar.gz: 1 of 1 hosts done - 0 changed, 0 unchanged, 1 failed: gs-gray-01' in res.stdout
    assert not os.path.exists('/packages/mygame-gray1-190123.01.tar.gz')
