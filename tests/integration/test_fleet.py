# -*- coding: utf-8 -*-
"""The fleet follows the tree: an instance per section, status that shows drift, sync that fixes it.

Local hosts (ansible_connection=local), each with its own install root; two of them serve two
sections each. Real server packages carrying the example game service (tests/fixtures/gameservice)
are built with the server_package module and put on the hosts by playbooks/deploy.yml; the tree is
written with kazoo. What runs is checked independently of the collection: pid files,
/proc/<pid>/cmdline, the JSON line each instance answers on its port, and the start lines of its log.
"""

import json
import os
import re
import shutil
import subprocess
import time

import pytest

import gameservice
import helpers
import packagekit as pk
import zkserver

PLAYBOOKS = os.path.join(helpers.ROOT, 'playbooks')
RECAP_RE = re.compile(r'^(\S+)\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)', re.M)
PROD, GRAY = 'dev.190122.01', 'dev.190123.01'
# host -> (inner IP, sections the CMDB gives it)
HOSTS = {'gs-a': ('10.3.0.1', ['1001', '1002']), 'gs-b': ('10.3.0.2', ['1003', '1004']), 'gs-c': ('10.3.0.3', ['1901'])}
OWNERS = {'1001': 'production', '1002': 'production', '1003': 'production', '1004': 'production', '1901': 'gray1'}
COMMAND = ['{install_root}/version/{service}/{version}/bin/{service}', '--release', '{release}', '--section', '{section_id}',
           '--port', '{port}']


def put(client, path, data=b''):
    client.ensure_path(path)
    client.set(path, data if isinstance(data, bytes) else json.dumps(data).encode())


def build_packages(work):
    """mygame-production-190122.01 and mygame-gray1-190123.01, each carrying the example game service."""
    with open(gameservice.FIXTURE, 'rb') as f:
        program = f.read().split(b'\n', 1)[1]
    items = []
    for release, build, version in (('production', '190122.01', PROD), ('gray1', '190123.01', GRAY)):
        src = os.path.join(work, 'src', release)
        pk.write_file(src, 'version/gameserver/%s/bin/gameserver' % version,
                      ('#!%s\n' % helpers.PYTHON).encode() + program, 0o755)
        items.append({'src': src, 'release': release, 'build': build, 'config': {'versions': ['1.0']}})
    playbook = os.path.join(work, 'build.yml')
    with open(playbook, 'w') as f:
        json.dump([{'name': 'Build the packages', 'hosts': 'localhost', 'gather_facts': False, 'tasks': [{
            'name': 'Build', 'loop': items, 'gameops.elastic_release.server_package': {
                'src': '{{ item.src }}', 'dest': os.path.join(work, 'dist'), 'project': 'mygame',
                'release': '{{ item.release }}', 'build': '{{ item.build }}', 'config': '{{ item.config }}'}}]}], f)
    res = helpers.playbook(playbook)
    assert res.rc == 0, res
    return os.path.join(work, 'dist')


class Fleet(object):
    """The hosts, their inventory and what runs on them, read without the collection."""

    def __init__(self, zk, base, hosts):
        self.zk, self.base, self.hosts = zk, base, hosts
        sections = sorted(s for _ip, ids in hosts.values() for s in ids)
        self.ports = dict(zip(sections, zkserver.free_ports(len(sections))))
        self.inventory = os.path.join(base, 'inventory.yml')
        hostvars = {}
        for name, (ip, ids) in hosts.items():
            hostvars[name] = {'inner_ip': ip, 'section_ids': [int(s) for s in ids], 'services': ['gameserver'],
                              'server_start_install_root': self.root(name),
                              'server_start_ports': dict((s, self.ports[s]) for s in ids)}
        with open(self.inventory, 'w') as f:
            json.dump({'all': {'hosts': hostvars, 'vars': {
                'ansible_connection': 'local', 'ansible_python_interpreter': helpers.PYTHON,
                'elastic_release_zk_hosts': zk.hosts, 'server_start_ready_timeout': 20, 'server_start_stop_timeout': 10,
                'elastic_release_services': {'gameserver': {'per': 'section', 'command': COMMAND}},
                'elastic_release_registry': {'production': {'type': 'production', 'location': 'cn_prod'},
                                             'gray1': {'type': 'gray', 'location': 'cn_prod'}}}}}, f)

    def root(self, host):
        return os.path.join(self.base, 'hosts', host)

    def pid_file(self, host, section):
        return os.path.join(self.root(host), 'run', 'gameserver-%s.pid' % section)

    def pid(self, host, section):
        pid = gameservice.read_pid(self.pid_file(host, section))
        return pid if pid and gameservice.alive(pid) else None

    def answers(self):
        """{section: (release, version, pid)} of every instance that answers on its port."""
        out = {}
        for host, (_ip, ids) in self.hosts.items():
            for sid in ids:
                if self.pid(host, sid):
                    got = gameservice.query(self.ports[sid])
                    assert got['section'] == sid and got['pid'] == self.pid(host, sid), got
                    out[sid] = (got['release'], got['version'], got['pid'])
        return out

    def starts(self, host, section):
        """How many times the collection started this instance (one line in its log per start)."""
        path = os.path.join(self.root(host), 'run', 'gameserver-%s.log' % section)
        with open(path) as f:
            return sum(1 for line in f if ' starting: ' in line)

    def run(self, playbook, *args, **extra):
        summary = os.path.join(self.base, 'summary-%s-%d.json' % (playbook, len(os.listdir(self.base))))
        cmd = ['ansible-playbook', '-i', self.inventory, os.path.join(PLAYBOOKS, playbook + '.yml'),
               '-e', 'summary_file=%s' % summary]
        for key, value in sorted(extra.items()):
            cmd += ['-e', json.dumps({key: value})]
        res = helpers.run(cmd + list(args), env={'ANSIBLE_STDOUT_CALLBACK': 'ansible.builtin.default'})
        res.recap = dict((m.group(1), {'ok': int(m.group(2)), 'changed': int(m.group(3)), 'failed': int(m.group(5))})
                         for m in RECAP_RE.finditer(res.stdout))
        res.summary = json.load(open(summary)) if os.path.exists(summary) else None
        return res


@pytest.fixture
def fleet(zk, tmp_path):
    dist = build_packages(str(tmp_path / 'work'))
    c = zk.client
    put(c, '/default_release', {'name': 'production'})
    for release, build, version in (('production', '190122.01', PROD), ('gray1', '190123.01', GRAY)):
        put(c, '/releases/%s' % release, {'package': 'mygame-%s-%s.tar.gz' % (release, build),
                                          'services': {'gameserver': version}})
        put(c, '/releases/%s/global_url' % release, b'http://10.3.0.9:9000')
        put(c, '/releases/%s/versions/1.0' % release if release == 'production' else '/releases/gray1/versions/1.1')
        c.ensure_path('/releases/%s/servers' % release)
    for sid, owner in OWNERS.items():
        put(c, '/releases/%s/sections/%s' % (owner, sid), {'name': 'S' + sid})
    f = Fleet(zk, str(tmp_path), HOSTS)
    f.dist = dist
    yield f
    gameservice.stop_all([str(tmp_path)])


def listens(port, release):
    try:
        return gameservice.query(port)['release'] == release
    except OSError:
        return False


def by_instance(summary):
    return dict((i['section_id'], i) for i in summary['instances'])


def test_deploy_start_drift_status_sync(fleet):
    f = fleet
    tree = f.zk.tree()
    # deploy.yml puts both releases' packages on every host; start.yml starts an instance per section.
    for package in ('mygame-production-190122.01.tar.gz', 'mygame-gray1-190123.01.tar.gz'):
        res = f.run('deploy', package=os.path.join(f.dist, package), target='all')
        assert res.rc == 0, res
    res = f.run('start')
    assert res.rc == 0, res
    assert f.answers() == dict((sid, (owner, GRAY if owner == 'gray1' else PROD, f.pid(h, sid)))
                               for h, (_ip, ids) in HOSTS.items() for sid in ids for owner in [OWNERS[sid]])
    assert sorted((i['host'], i['section_id'], i['action']) for i in res.summary['instances']) == sorted(
        (h, sid, 'started') for h, (_ip, ids) in HOSTS.items() for sid in ids)
    for host, (_ip, ids) in HOSTS.items():
        for sid in ids:   # each instance runs with its section's owner, its own section and its own pid file
            argv = gameservice.cmdline(f.pid(host, sid))
            assert argv[-6:] == ['--release', OWNERS[sid], '--section', sid, '--port', str(f.ports[sid])]

    res = f.run('status', fail_on_drift=True)
    assert res.rc == 0, res
    assert res.summary['flow'] == 'status' and res.summary['counts'] == dict(
        in_sync=5, wrong_release=0, wrong_build=0, not_running=0, not_deployed=0, not_owned=0, unknown_process=0)
    row = by_instance(res.summary)['1003']
    assert row == {'host': 'gs-b', 'inner_ip': '10.3.0.2', 'service': 'gameserver', 'per': 'section', 'section_id': '1003',
                   'owner': 'production', 'expected_build': PROD, 'running_release': 'production', 'running_build': PROD,
                   'pid': f.pid('gs-b', '1003'), 'state': 'in_sync'}
    assert 'every instance is in sync' in res.stdout

    # Drift: one instance killed, one restarted by hand with the wrong release, one deployed build removed.
    killed = f.pid('gs-a', '1001')
    os.kill(killed, 15)
    while gameservice.alive(killed):
        time.sleep(0.05)
    by_hand = f.pid('gs-b', '1003')
    os.kill(by_hand, 15)
    while gameservice.alive(by_hand):
        time.sleep(0.05)
    program = os.path.join(f.root('gs-b'), 'version', 'gameserver', PROD, 'bin', 'gameserver')
    wrong = subprocess.Popen([program, '--release', 'gray1', '--section', '1003', '--port', str(f.ports['1003'])],
                             start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with open(f.pid_file('gs-b', '1003'), 'w') as out:
        out.write('%d\n' % wrong.pid)
    removed = f.pid('gs-c', '1901')
    os.unlink(os.path.join(f.root('gs-c'), 'version', 'gameserver', GRAY))
    shutil.rmtree(os.path.join(f.root('gs-c'), 'builds', 'gray1'))
    deadline = time.time() + 10
    while time.time() < deadline and not listens(f.ports['1003'], 'gray1'):
        time.sleep(0.1)

    res = f.run('status', fail_on_drift=True)
    assert res.rc == 2, res
    rows = by_instance(res.summary)
    assert dict((sid, rows[sid]['state']) for sid in rows) == {
        '1001': 'not_running', '1002': 'in_sync', '1003': 'wrong_release', '1004': 'in_sync', '1901': 'not_deployed'}
    assert rows['1003']['running_release'] == 'gray1' and rows['1003']['pid'] == wrong.pid
    assert rows['1901']['pid'] == removed and rows['1901']['expected_build'] == GRAY
    assert res.summary['counts']['in_sync'] == 2 and res.summary['counts']['not_running'] == 1
    # The table lists exactly the three instances not in sync, with what sync would do.
    lines = [line for line in res.stdout.splitlines() if re.match(r'\s*"gs-[abc]  gameserver', line)]
    assert len(lines) == 3 and any('wrong_release' in line and 'restart' in line for line in lines), res.stdout
    assert '3 of 5 instances are not in sync, on gs-a, gs-b, gs-c' in res.stdout
    assert f.zk.tree() == tree

    # Check mode lists what sync would do and changes nothing.
    res = f.run('sync', '--check', package_dir=f.dist)
    assert res.rc == 0, res
    assert re.search(r'gs-c  gameserver  1901 .* deploy mygame-gray1-190123.01.tar.gz"', res.stdout), res.stdout
    assert 'gs-a gameserver 1001: started' in res.stdout and 'gs-b gameserver 1003: restarted' in res.stdout
    assert f.pid('gs-a', '1001') is None and f.pid('gs-b', '1003') == wrong.pid
    assert not os.path.exists(os.path.join(f.root('gs-c'), 'version', 'gameserver', GRAY))

    res = f.run('sync', package_dir=f.dist)
    assert res.rc == 0, res
    actions = dict((a['section_id'], a['action']) for a in res.summary['actions'])
    assert actions == {'1001': 'started', '1003': 'restarted'}, res.summary['actions']
    assert res.summary['deployed'] == {'gs-c': ['mygame-gray1-190123.01.tar.gz']}
    assert wrong.wait(10) is not None and f.pid('gs-c', '1901') == removed     # redeployed, not restarted
    assert os.path.islink(os.path.join(f.root('gs-c'), 'version', 'gameserver', GRAY))
    assert res.recap['gs-c']['changed'] >= 1 and res.recap['gs-a']['changed'] == 1
    res = f.run('status', fail_on_drift=True)
    assert res.rc == 0 and res.summary['counts']['in_sync'] == 5, res
    assert f.answers()['1003'][0] == 'production'

    res = f.run('sync', package_dir=f.dist)
    assert res.rc == 0 and all(res.recap[h]['changed'] == 0 for h in HOSTS), res
    assert res.summary['changed'] is False and res.summary['actions'] == [] and res.summary['deployed'] == {}
    assert 'nothing to do: every instance is in sync' in res.stdout
    assert f.zk.tree() == tree


@pytest.mark.full
def test_sliced_syncs_reach_the_end_state_of_one_run(zk, tmp_path):
    """4 concurrent sync.yml runs, each limited to one slice of 40 hosts (as AWX slices a job: every
    fourth host), deploy and start everything from nothing, each instance exactly once."""
    dist = build_packages(str(tmp_path / 'work'))
    c = zk.client
    put(c, '/default_release', {'name': 'production'})
    hosts = {}
    for i in range(40):
        sid = str(3000 + i)
        hosts['gs%02d' % i] = ('10.4.0.%d' % (i + 1), [sid])
    for release, build, version in (('production', '190122.01', PROD), ('gray1', '190123.01', GRAY)):
        put(c, '/releases/%s' % release, {'package': 'mygame-%s-%s.tar.gz' % (release, build),
                                          'services': {'gameserver': version}})
        for i in range(40):
            if (i % 2 == 0) == (release == 'production'):
                put(c, '/releases/%s/sections/%d' % (release, 3000 + i), {})
    f = Fleet(zk, str(tmp_path), hosts)
    try:
        names = sorted(hosts)
        slices = [names[n::4] for n in range(4)]
        runs = []
        for n, part in enumerate(slices):
            summary = os.path.join(str(tmp_path), 'slice-%d.json' % n)
            cmd = ['ansible-playbook', '-i', f.inventory, os.path.join(PLAYBOOKS, 'sync.yml'), '--limit', ','.join(part),
                   '-f', '10', '-e', json.dumps({'package_dir': dist, 'summary_file': summary, 'awx_job_id': 100 + n,
                                                 'awx_workflow_job_id': 99})]
            runs.append((summary, subprocess.Popen(cmd, env=helpers.ansible_env(), cwd=helpers.ROOT, stdout=subprocess.PIPE,
                                                   stderr=subprocess.STDOUT, text=True)))
        for n, (summary, proc) in enumerate(runs):
            out = proc.communicate(timeout=900)[0]
            assert proc.returncode == 0, out[-6000:]
            with open(summary) as handle:
                doc = json.load(handle)
            assert doc['slice'] == {'awx_job_id': 100 + n, 'awx_workflow_job_id': 99, 'limit': ','.join(slices[n])}
            assert doc['hosts'] == slices[n] and len(doc['actions']) == 10
            assert sorted(doc['deployed']) == slices[n]
        owners = dict(('%d' % (3000 + i), 'production' if i % 2 == 0 else 'gray1') for i in range(40))
        assert dict((sid, release) for sid, (release, _v, _pid) in f.answers().items()) == owners
        assert all(f.starts(h, ids[0]) == 1 for h, (_ip, ids) in hosts.items())
        # The end state of one run: one sync over every host has nothing left to do.
        res = f.run('sync', package_dir=dist)
        assert res.rc == 0 and res.summary['counts']['in_sync'] == 40 and res.summary['actions'] == [], res
        assert all(res.recap[h]['changed'] == 0 for h in hosts)
    finally:
        gameservice.stop_all([str(tmp_path)])


@pytest.mark.full
def test_bad_input_is_refused_and_nothing_is_killed(fleet):
    """Refusals through real ansible-playbook (each also checked in-process in tests/unit): nothing
    the collection did not start is signalled, nothing is written."""
    f = fleet
    for package in ('mygame-production-190122.01.tar.gz', 'mygame-gray1-190123.01.tar.gz'):
        assert f.run('deploy', package=os.path.join(f.dist, package), target='all').rc == 0
    assert f.run('start').rc == 0
    running = f.answers()
    tree = f.zk.tree()
    # A per-section service whose command lacks {section_id}.
    res = f.run('sync', '-e', json.dumps({'elastic_release_services': {'gameserver': {
        'per': 'section', 'command': COMMAND[:3]}}}), package_dir=f.dist)
    assert res.rc == 2 and "gameserver runs per section but its command" in res.stdout and 'lacks {section_id}' in res.stdout
    assert res.summary['status'] == 'failed'
    # A section no targeted host serves.
    res = f.run('status', target='gs-a', sections='1003')
    assert res.rc == 2 and 'the CMDB gives none of the 1 hosts of this play section 1003' in res.stdout, res
    # A release that owns none of the targeted hosts' instances.
    res = f.run('start', target='gs-a', release='gray1', elastic_release_state='restarted')
    assert res.rc == 2 and 'release gray1 owns none of the 1 hosts of this play that run gameserver' in res.stdout, res
    # A pid file naming another program: status reports it, sync refuses it and leaves it alone.
    stranger = subprocess.Popen(['sleep', '120'])
    try:
        os.kill(running['1002'][2], 15)
        while gameservice.alive(running['1002'][2]):
            time.sleep(0.05)
        with open(f.pid_file('gs-a', '1002'), 'w') as out:
            out.write('%d\n' % stranger.pid)
        res = f.run('status')
        assert by_instance(res.summary)['1002']['state'] == 'unknown_process' and res.rc == 0, res
        res = f.run('sync', package_dir=f.dist)
        assert res.rc == 2 and ('1 instances could not be brought in line: gs-a gameserver 1002: unknown_process the pid '
                                'file names another program') in res.stdout, res
        assert res.summary['status'] == 'failed' and res.summary['actions'] == []
        assert stranger.poll() is None
    finally:
        stranger.kill()
        stranger.wait()
    assert dict((sid, a) for sid, a in f.answers().items()) == dict((s, a) for s, a in running.items() if s != '1002')
    assert f.zk.tree() == tree
