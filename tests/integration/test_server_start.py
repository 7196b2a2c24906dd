# -*- coding: utf-8 -*-
"""Starting game services by release, against a real ZooKeeper and real processes.

Two releases share one deploy location (production is the default, gray1 a gray release). Local
"hosts" differ by their inner_ip variable, their install root and their port; each runs the example
game service (tests/fixtures/gameservice). What runs is checked independently of the module: pid
files, /proc/<pid>/cmdline, and the JSON line each service answers on its port. Every process a
test starts is stopped by the `fleet` fixture's finalizer.
"""

import json
import os
import re

import pytest

import gameservice
import helpers
import modrun
import zkserver

PLAYBOOK = os.path.join(helpers.ROOT, 'playbooks', 'start.yml')
RECAP_RE = re.compile(r'^(\S+)\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)', re.M)


def put(client, path, data=b''):
    client.ensure_path(path)
    client.set(path, data if isinstance(data, bytes) else json.dumps(data).encode())


def services(version):
    return {'services': {'gameserver': version}}


@pytest.fixture
def releases(zk):
    c = zk.client
    put(c, '/default_release', {'name': 'production'})
    put(c, '/releases/production/global_url', b'http://prod:9000')
    put(c, '/releases/production/versions/1.0')
    put(c, '/releases/production/sections/1001', services('dev.1'))
    put(c, '/releases/production/servers/10.0.0.1', services('dev.1'))
    put(c, '/releases/production/servers/10.0.0.3', {'services': {'vms': 'v1'}})     # no gameserver version
    put(c, '/releases/gray1/global_url', b'http://gray:9000')
    put(c, '/releases/gray1/versions/1.1')
    put(c, '/releases/gray1/sections/1003', services('dev.2'))
    put(c, '/releases/gray1/servers/10.0.0.2', services('dev.2'))
    return zk


class Fleet(object):
    """Local hosts, each with its own install root (both versions unpacked) and port."""

    def __init__(self, base, hosts):
        self.base = base
        self.hosts = hosts
        self.ports = dict(zip(hosts, zkserver.free_ports(len(hosts))))
        self.pwned = os.path.join(base, 'pwned')
        for name in hosts:
            for version in ('dev.1', 'dev.2'):
                gameservice.install(self.root(name), version, port=self.ports[name])

    def root(self, name):
        return os.path.join(self.base, name)

    def inventory(self, **host_vars):
        """An INI-free YAML inventory (JSON is YAML) with every host on the local connection."""
        inv = {'all': {'hosts': {}, 'vars': {'ansible_connection': 'local', 'ansible_python_interpreter': helpers.PYTHON}}}
        for name, hv in self.hosts.items():
            hv = dict(hv, server_start_install_root=self.root(name), server_start_ready_port=self.ports[name],
                      server_start_ready_timeout=20)
            hv.update(host_vars.get(name, {}))
            inv['all']['hosts'][name] = hv
        path = os.path.join(self.base, 'inventory.yml')
        with open(path, 'w') as f:
            json.dump(inv, f)
        return path

    def pid(self, name, section=None):
        return gameservice.read_pid(os.path.join(self.root(name), 'run', 'gameserver%s.pid' % ('-' + section if section else '')))

    def running(self, name, section=None):
        pid = self.pid(name, section)
        return pid if pid and gameservice.alive(pid) else None

    def answer(self, name):
        return gameservice.query(self.ports[name])


@pytest.fixture
def fleet(tmp_path):
    created = []

    def make(hosts):
        f = Fleet(str(tmp_path), hosts)
        created.append(f)
        return f
    yield make
    gameservice.stop_all([str(tmp_path)])


def start(zk, inventory, check=False, **extra):
    extra.setdefault('elastic_release_zk_hosts', zk.hosts)
    res = helpers.run(['ansible-playbook', '-i', inventory, PLAYBOOK, '-e', json.dumps(extra)] + (['--check'] if check else []),
                      env={'ANSIBLE_SHOW_CUSTOM_STATS': '1', 'ANSIBLE_STDOUT_CALLBACK': 'ansible.builtin.default'})
    recap = dict((m.group(1), {'ok': int(m.group(2)), 'changed': int(m.group(3)), 'failed': int(m.group(5))})
                 for m in RECAP_RE.finditer(res.stdout))
    stats = None
    match = re.search(r'^\s*RUN: (\{.*\})\s*$', res.stdout, re.M)
    if match:
        stats = json.loads(match.group(1))
    return res, recap, stats


HOSTS = {
    'prod': {'inner_ip': '10.0.0.1'},
    'gray': {'inner_ip': '10.0.0.2'},
    # a production machine serving a gray section: the section decides
    'graysection': {'inner_ip': '10.0.0.1', 'server_start_section_id': '1003'},
    'orphan': {'inner_ip': '10.9.9.9'},
    'payload': {'inner_ip': '10.0.0.1', 'server_start_section_id': None},   # set per test
    # a CMDB host that runs other services: skipped, not failed
    'global': {'inner_ip': '10.0.0.5', 'services': ['global', 'vms']},
    # nothing to look up
    'noip': {},
}


def test_fleet_starts_each_host_with_its_release(releases, fleet):
    zk = releases
    f = fleet(HOSTS)
    inv = f.inventory(payload={'server_start_section_id': '1001; touch %s' % f.pwned})

    res, recap, _stats = start(zk, inv, check=True)
    assert recap['prod']['changed'] == 1 and recap['prod']['failed'] == 0, res
    assert not any(f.pid(h) for h in HOSTS) and f.pid('graysection', '1003') is None   # check mode starts nothing

    res, recap, stats = start(zk, inv)
    assert res.rc == 2, res                                  # some hosts failed, the others started
    for name, release, version, section in (('prod', 'production', 'dev.1', None), ('gray', 'gray1', 'dev.2', None),
                                            ('graysection', 'gray1', 'dev.2', '1003')):
        assert recap[name] == dict(recap[name], changed=1, failed=0), res
        pid = f.running(name, section)
        assert pid, (name, res)
        argv = gameservice.cmdline(pid)
        assert argv[-len(['--release', release]):] == ['--release', release] or argv[-4:] == ['--release', release, '--section', section]
        assert argv[argv.index('--release') + 1] == release
        assert f.answer(name) == {'release': release, 'section': section, 'pid': pid, 'version': version}
        assert stats['elastic_release_services'][name][0]['pid'] == pid
        assert stats['elastic_release_services'][name][0]['release'] == release

    # A host owned by no release fails clearly and starts nothing.
    assert recap['orphan']['failed'] == 1
    assert 'cannot start gameserver on orphan: server inner IP 10.9.9.9 is owned by no release' in res.stdout
    assert not os.path.exists(os.path.join(f.root('orphan'), 'run'))
    # A section id crafted as a shell payload is refused as one value; nothing ran.
    assert recap['payload']['failed'] == 1
    assert "cannot start gameserver on payload: invalid section id '1001; touch /" in res.stdout
    assert not os.path.exists(f.pwned) and not os.path.exists(os.path.join(f.root('payload'), 'run'))
    assert recap['noip']['failed'] == 1 and 'cannot start gameserver on noip: it has neither an inner_ip' in res.stdout
    # A host whose services do not include gameserver is left alone.
    assert recap['global']['failed'] == 0 and not os.path.exists(os.path.join(f.root('global'), 'run'))
    assert 'global' not in stats['elastic_release_services']

    # Idempotent, whether the controller or each host resolves the release.
    for mode in ('controller', 'host'):
        res, recap, _stats = start(zk, inv, elastic_release_resolve=mode)
        assert all(recap[h]['changed'] == 0 for h in recap), (mode, res)
        assert recap['prod']['failed'] == 0 and recap['orphan']['failed'] == 1, (mode, res)
        assert 'server inner IP 10.9.9.9 is owned by no release' in res.stdout, (mode, res)
        assert "invalid section id '1001; touch /" in res.stdout, (mode, res)
    assert not os.path.exists(f.pwned)


def test_release_change_restarts_only_when_asked(releases, fleet):
    zk = releases
    f = fleet({'prod': {'inner_ip': '10.0.0.1'}, 'novers': {'inner_ip': '10.0.0.3'}})
    inv = f.inventory()
    res, recap, _stats = start(zk, inv)
    first = f.running('prod')
    assert first and f.answer('prod')['release'] == 'production', res
    # A node without a version for the service starts nothing and says why.
    assert recap['novers']['failed'] == 1
    assert 'no version of gameserver to start: read ' in res.stdout, res
    assert '/releases/production/servers/10.0.0.3 (names no version for gameserver)' in res.stdout, res
    assert not f.pid('novers')

    # The gray release takes the host over (as a gray publish with the server would do).
    zk.client.delete('/releases/production/servers/10.0.0.1')
    put(zk.client, '/releases/gray1/servers/10.0.0.1', services('dev.2'))

    res, recap, _stats = start(zk, inv, target='prod')
    assert recap['prod']['changed'] == 0 and f.running('prod') == first, res
    assert 'left running; use state=restarted or restart_on_change=true' in res.output
    assert f.answer('prod')['release'] == 'production'

    res, recap, stats = start(zk, inv, target='prod', server_start_restart_on_change=True)
    assert recap['prod']['changed'] == 1, res
    second = f.running('prod')
    assert second != first and not gameservice.alive(first)
    assert f.answer('prod') == {'release': 'gray1', 'section': None, 'pid': second, 'version': 'dev.2'}
    assert stats['elastic_release_services']['prod'][0]['action'] == 'restarted'

    res, recap, stats = start(zk, inv, target='prod', server_start_state='stopped')
    assert recap['prod']['changed'] == 1 and not gameservice.alive(second) and f.pid('prod') is None, res
    report = stats['elastic_release_services']['prod'][0]
    assert report == dict(report, action='stopped', release='gray1', pid=second)
    res, recap, _stats = start(zk, inv, target='prod', server_start_state='stopped')
    assert recap['prod']['changed'] == 0, res


def test_module_looks_up_the_section(releases, tmp_path):
    zk = releases
    root = str(tmp_path)
    port = zkserver.free_ports(1)[0]
    gameservice.install(root, 'dev.2', port=port)
    args = dict(hosts=zk.hosts, service='gameserver', install_root=root, section_id='1003', inner_ip='10.0.0.1',
                ready_port=port)
    try:
        res, task = helpers.adhoc('gameops.elastic_release.server_start', args, check=True)
        assert task['changed'] is True and task['pid'] is None and task['release'] == 'gray1', res
        assert not os.path.exists(os.path.join(root, 'run'))

        res, task = helpers.adhoc('gameops.elastic_release.server_start', args)
        assert task['changed'] is True and task['source'] == '/releases/gray1/sections/1003', res
        assert task['global_url'] == 'http://gray:9000' and task['version'] == 'dev.2'
        assert gameservice.query(port) == {'release': 'gray1', 'section': '1003', 'pid': task['pid'], 'version': 'dev.2'}

        res, task = helpers.adhoc('gameops.elastic_release.server_start', dict(args, section_id='9999'))
        assert res.rc != 0 and 'cannot start gameserver: section id 9999 is owned by no release' in task['msg'], res
    finally:
        gameservice.stop_all([root])


# ---- the plugins -------------------------------------------------------------------------------

def test_lookup_plugin(releases):
    zk = releases
    env = {'ELASTIC_RELEASE_ZK_HOSTS': zk.hosts}
    res, task = helpers.adhoc('ansible.builtin.debug', {'msg': "{{ lookup('gameops.elastic_release.release', section_id='1003') }}"},
                              env=env)
    assert task['msg']['release'] == 'gray1' and task['msg']['data'] == services('dev.2'), res

    many = ("{{ query('gameops.elastic_release.release', 'section_id=1001', {'inner_ip': '10.0.0.2'}, "
            "inner_ip=['10.0.0.1', '10.9.9.9', '1; id'], version='1.1', service='gameserver', fail_on_missing=false) }}")
    res, task = helpers.adhoc('ansible.builtin.debug', {'msg': many}, env=env)
    answers = task['msg']
    assert [a['release'] for a in answers] == ['production', 'gray1', 'production', None, None, 'gray1'], res
    assert [a['service_version'] for a in answers] == ['dev.1', 'dev.2', 'dev.1', None, None, None]
    assert 'owned by no release' in answers[3]['error'] and 'not an IPv4' in answers[4]['error']
    assert answers[0]['global_url'] == 'http://prod:9000' and answers[1]['is_default'] is False

    # The connection also comes from the elastic_release_zk_* variables, like the role passes it.
    res = helpers.run(['ansible', 'localhost', '-c', 'local', '-i', 'localhost,', '-e', 'elastic_release_zk_hosts=%s' % zk.hosts,
                       '-m', 'ansible.builtin.debug', '-a', "msg={{ lookup('gameops.elastic_release.release', inner_ip='10.9.9.9') }}"])
    assert res.rc != 0 and 'server inner IP 10.9.9.9 is owned by no release' in res.output, res
    # ... and such a variable may itself be a template (group_vars often are).
    res = helpers.run(['ansible', 'localhost', '-c', 'local', '-i', 'localhost,', '-e', 'zk_of_the_project=%s' % zk.hosts,
                       '-e', 'elastic_release_zk_hosts={{ zk_of_the_project }}', '-m', 'ansible.builtin.debug',
                       '-a', "msg={{ lookup('gameops.elastic_release.release', inner_ip='10.0.0.2').release }}"])
    assert res.rc == 0 and '"msg": "gray1"' in res.stdout, res


def test_inventory_plugin_and_target(releases, tmp_path, fleet):
    zk = releases
    f = fleet({'10.0.0.1': {}, '10.0.0.2': {}})
    ports = dict((ip, f.ports[ip]) for ip in ('10.0.0.1', '10.0.0.2'))
    source = tmp_path / 'game.zookeeper.yml'
    source.write_text(json.dumps({
        'plugin': 'gameops.elastic_release.zookeeper',
        'hosts': zk.hosts,
        'keyed_groups': [{'key': "services.gameserver | default('none')", 'prefix': 'gameserver'}],
        'compose': {
            'ansible_connection': "'local'",
            'ansible_python_interpreter': repr(helpers.PYTHON),
            'server_start_install_root': "%r ~ '/' ~ inner_ip" % str(tmp_path),
            'server_start_ready_port': '%s[inner_ip]' % json.dumps(ports),
        },
    }))
    res = helpers.run(['ansible-inventory', '-i', str(source), '--list'])
    assert res.rc == 0, res
    inv = json.loads(res.stdout)
    assert inv['release_production']['hosts'] == ['10.0.0.1', '10.0.0.3']
    assert inv['release_gray1']['hosts'] == ['10.0.0.2']
    assert inv['default_release']['hosts'] == ['10.0.0.1', '10.0.0.3']
    assert inv['gameserver_dev_2']['hosts'] == ['10.0.0.2']
    hv = inv['_meta']['hostvars']['10.0.0.2']
    plain = json.loads(json.dumps(hv).replace('{"__ansible_unsafe": ', '').replace('"}', '"'))
    assert plain['elastic_release'] == 'gray1' and plain['elastic_release_is_default'] is False
    assert plain['inner_ip'] == plain['ansible_host'] == '10.0.0.2'
    assert plain['services'] == {'gameserver': 'dev.2'}
    assert plain['elastic_release_global_url'] == 'http://gray:9000'

    # The start flow on one release's group of the ZooKeeper inventory.
    res, recap, _stats = start(zk, str(source), target='release_gray1')
    assert set(recap) - {'localhost'} == {'10.0.0.2'} and recap['10.0.0.2']['changed'] == 1, res
    assert f.answer('10.0.0.2')['release'] == 'gray1'
    assert f.pid('10.0.0.1') is None


# ---- the start flow on the example CMDB inventory: selecting hosts --------------------------------

CMDB_OWNERS = {'production': ['10.1.0.11', '10.1.0.12'], 'gray1': ['10.1.0.21'], 'appstore_review': ['10.2.0.11']}
CMDB_GAMESERVERS = {'gs-prod-01': '10.1.0.11', 'gs-prod-02': '10.1.0.12', 'gs-gray-01': '10.1.0.21',
                    'gs-review-01': '10.2.0.11'}


@pytest.fixture
def cmdb(zk, tmp_path):
    """A copy of inventory/ (the example CMDB inventory, every host local) whose ZooKeeper is the
    test's chroot, the releases of the example owning its game servers, and the example game
    service unpacked per host under tmp_path/hosts/<inner_ip> with a port of its own."""
    inv = helpers.copy_inventory(tmp_path, zk.hosts)
    put(zk.client, '/default_release', {'name': 'production'})
    for release, ips in CMDB_OWNERS.items():
        put(zk.client, '/releases/%s/global_url' % release, b'http://10.1.0.5:9000')
        for ip in ips:
            put(zk.client, '/releases/%s/servers/%s' % (release, ip), services('dev.1'))
    # A port for every host of the export (the role's argument check reads it on every host);
    # the game service is unpacked on the game servers only.
    ips = list(CMDB_GAMESERVERS.values()) + ['10.1.0.5', '10.2.0.5']
    ports = dict(zip(ips, zkserver.free_ports(len(ips))))
    for ip in CMDB_GAMESERVERS.values():
        gameservice.install(str(tmp_path / 'hosts' / ip), 'dev.1', port=ports[ip])
    # Per-host values as extra variables, templated for each host, as scripts/demo.py passes them.
    extra = tmp_path / 'extra.json'
    extra.write_text(json.dumps({'server_start_install_root': str(tmp_path / 'hosts') + '/{{ inner_ip }}',
                                 'server_start_ready_port': '{{ cmdb_ports[inner_ip] }}', 'cmdb_ports': ports,
                                 'server_start_ready_timeout': 20}))
    yield {'inventory': str(inv), 'extra': str(extra), 'ports': ports, 'base': str(tmp_path / 'hosts')}
    gameservice.stop_all([str(tmp_path)])


def start_cmdb(cmdb, *args):
    """ansible-playbook -i <copy of inventory/> playbooks/start.yml -e @extra <args>, as an operator runs it."""
    res = helpers.run(['ansible-playbook', '-i', cmdb['inventory'], PLAYBOOK, '-e', '@' + cmdb['extra']] + list(args),
                      env={'ANSIBLE_SHOW_CUSTOM_STATS': '1', 'ANSIBLE_STDOUT_CALLBACK': 'ansible.builtin.default'})
    recap = dict((m.group(1), {'ok': int(m.group(2)), 'changed': int(m.group(3)), 'failed': int(m.group(5))})
                 for m in RECAP_RE.finditer(res.stdout))
    match = re.search(r'^\s*RUN: (\{.*\})\s*$', res.stdout, re.M)
    return res, recap, json.loads(match.group(1)) if match else None


def running(cmdb):
    """{host: release its service answers with} for every CMDB game server whose service runs."""
    out = {}
    for host, ip in CMDB_GAMESERVERS.items():
        pid = gameservice.read_pid(os.path.join(cmdb['base'], ip, 'run', 'gameserver.pid'))
        if pid and gameservice.alive(pid):
            out[host] = gameservice.query(cmdb['ports'][ip])['release']
    return out


def test_a_target_that_matches_no_host_fails_and_starts_nothing(cmdb, zk):
    tree = zk.tree()
    # release_<name> groups come from the zookeeper inventory: with the CMDB inventory this pattern
    # matches nothing, which used to start nothing and exit 0.
    res, _recap, _stats = start_cmdb(cmdb, '-e', 'target=release_gray1')
    assert res.rc == 2, res
    assert ('the target pattern "release_gray1" matches no host of the inventory and names no release of '
            'elastic_release_registry: give a group or a host' in res.stdout and 'Nothing would run.' in res.stdout
            and '-e release=<release>' in res.stdout), res
    assert 'TASK [gameops.elastic_release.server_start' not in res.stdout
    res, _recap, _stats = start_cmdb(cmdb, '-e', 'target=location_appstore_review', '--limit', 'gs-gray-01')
    assert res.rc == 2, res
    assert ('the target pattern "location_appstore_review" matches no host of the inventory within --limit '
            'gs-gray-01' in res.stdout), res
    assert running(cmdb) == {} and zk.tree() == tree


@pytest.mark.full   # start flows over the example CMDB inventory, four hosts each
def test_release_selects_the_hosts_it_owns(cmdb, zk):
    res, recap, stats = start_cmdb(cmdb, '-e', 'release=gray1')
    assert res.rc == 0, res
    assert running(cmdb) == {'gs-gray-01': 'gray1'}
    assert recap['gs-gray-01']['changed'] == 1 and all(recap[h]['changed'] == 0 for h in recap if h != 'gs-gray-01'), res
    assert list(stats['elastic_release_services']) == ['gs-gray-01']
    assert stats['elastic_release_services']['gs-gray-01'][0]['release'] == 'gray1'

    # Every host, then the gray release's hosts stopped: the selection holds for stopping too.
    res, _recap, _stats = start_cmdb(cmdb)
    assert res.rc == 0, res
    assert running(cmdb) == {'gs-prod-01': 'production', 'gs-prod-02': 'production', 'gs-gray-01': 'gray1',
                             'gs-review-01': 'appstore_review'}
    res, recap, stats = start_cmdb(cmdb, '-e', 'release=gray1', '-e', 'elastic_release_state=stopped')
    assert res.rc == 0 and recap['gs-gray-01']['changed'] == 1, res
    assert list(stats['elastic_release_services']) == ['gs-gray-01']
    assert stats['elastic_release_services']['gs-gray-01'][0]['action'] == 'stopped'
    assert running(cmdb) == {'gs-prod-01': 'production', 'gs-prod-02': 'production', 'gs-review-01': 'appstore_review'}

    # A release that owns none of the hosts fails, naming the owners it found, and changes nothing.
    tree = zk.tree()
    res, recap, _stats = start_cmdb(cmdb, '-e', 'release=gray9', '-e', 'elastic_release_state=restarted')
    assert res.rc == 2, res
    assert ('release gray9 owns none of the 4 hosts of this play that run gameserver (their owners: appstore_review, '
            'gray1, production): nothing to start' in res.stdout), res
    assert all(recap[h]['changed'] == 0 for h in recap)
    assert running(cmdb) == {'gs-prod-01': 'production', 'gs-prod-02': 'production', 'gs-review-01': 'appstore_review'}
    assert zk.tree() == tree


def test_start_by_section_with_the_contracts_section_data(releases, fleet):
    """Sections as config.zoo and the demo publish them ({"name": ...} or {}) start with the version of
    the start-version order: the host's server node in the owning release, then the release's services."""
    zk = releases
    c = zk.client
    put(c, '/releases/production/sections/1002', {'name': 'S2'})
    put(c, '/releases/production/sections/1004', {})
    put(c, '/releases/production/sections/1005', {})
    f = fleet({
        'by-server-node': {'inner_ip': '10.0.0.1', 'server_start_section_id': '1002'},
        'by-release': {'inner_ip': '10.0.0.9', 'server_start_section_id': '1004'},
        'nowhere': {'inner_ip': '10.0.0.8', 'server_start_section_id': '1005'},
    })
    res, recap, stats = start(zk, f.inventory())
    assert recap['by-server-node']['failed'] == 0, res
    assert f.answer('by-server-node') == {'release': 'production', 'section': '1002', 'version': 'dev.1',
                                          'pid': f.running('by-server-node', '1002')}
    # Nothing names a version for section 1004 (its host 10.0.0.9 is no server of production) yet.
    assert recap['by-release']['failed'] == 1 and recap['nowhere']['failed'] == 1, res
    assert ('no version of gameserver to start: read /releases/production/sections/1004 (holds {}, no "services"); '
            '/releases/production/servers/10.0.0.9 (no such node)') in res.stdout, res
    # A release-wide "services" in config.zoo (kept in the release node) is the last place looked at.
    put(c, '/releases/production', {'services': {'gameserver': 'dev.2'}})
    res, recap, stats = start(zk, f.inventory())
    assert recap['by-release']['failed'] == 0 and recap['nowhere']['failed'] == 0, res
    assert f.answer('by-release')['version'] == 'dev.2' and f.answer('nowhere')['version'] == 'dev.2'
    assert f.answer('by-server-node')['version'] == 'dev.1'   # its server node still comes first


def test_a_section_start_follows_its_section_across_a_widen_and_a_narrow(releases, fleet):
    """start.yml follows each move of the gray lifecycle: a host started for section 1004 (the
    contract's section format, no versions in the node) runs production's build, then gray1's once
    the section is moved to gray1 (as a widen step does), then production's again after the move
    back (a narrow), each time with --release and --section of the owner."""
    zk = releases
    client = zk.client
    put(client, '/releases/production/sections/1004', {'name': 'S4'})
    put(client, '/releases/gray1', {'services': {'gameserver': 'dev.2'}})   # gray1's config.zoo "services"
    f = fleet({'zone': {'inner_ip': '10.0.0.1', 'server_start_section_id': '1004'}})
    inv = f.inventory()
    res, recap, _stats = start(zk, inv)
    pid = f.running('zone', '1004')
    assert recap['zone']['failed'] == 0 and pid, res
    # production: the version of the host's server node (the section names none)
    assert f.answer('zone') == {'release': 'production', 'section': '1004', 'pid': pid, 'version': 'dev.1'}
    for source, destination, version in (('production', 'gray1', 'dev.2'), ('gray1', 'production', 'dev.1')):
        res, task = modrun.adhoc('gameops.elastic_release.zk_release_move', {
            'hosts': zk.hosts, 'source': source, 'destination': destination, 'sections': ['1004']})
        assert res.rc == 0 and task['changed'] is True, res
        assert task['impact']['owners'] == [{'kind': 'sections', 'name': '1004', 'from': source, 'to': destination}]
        before = pid
        res, recap, _stats = start(zk, inv, server_start_restart_on_change=True)
        pid = f.running('zone', '1004')
        assert recap['zone']['changed'] == 1 and pid and pid != before and not gameservice.alive(before), res
        # gray1: no server node for this host there, so the release-wide services of its config.zoo
        assert f.answer('zone') == {'release': destination, 'section': '1004', 'pid': pid, 'version': version}
