# -*- coding: utf-8 -*-
"""plugins/modules/release_status.py and server_start.py with `instances`, run in-process (modrun) on
real processes of the example game service: every state, and nothing signalled that is not ours."""

import os
import subprocess
import time

import pytest

import gameservice
import modrun
import zkserver
from ansible_collections.gameops.elastic_release.plugins.modules import release_status, server_start

SECTION = ['{install_root}/version/{service}/{version}/bin/{service}', '--release', '{release}', '--section', '{section_id}',
           '--port', '{port}']


@pytest.fixture
def host(tmp_path):
    root = str(tmp_path)
    gameservice.install(root, 'v1')
    gameservice.install(root, 'v2')
    yield root
    gameservice.stop_all([root])


def inst(section, owner='production', build='v1', **over):
    return dict(dict(service='gameserver', per='section', section_id=section, owner=owner, build=build, command=SECTION), **over)


def args(root, instances, ports, **over):
    return dict(dict(install_root=root, inner_ip='10.0.0.1', instances=instances, ports=ports,
                     served={'gameserver': sorted(ports)}, ready_delay=0.2, stop_timeout=5), **over)


def status(root, instances, ports):
    out = args(root, instances, ports)
    del out['ready_delay'], out['stop_timeout']
    return modrun.run(release_status, out, check=True)


def states(result):
    return dict((i['section_id'], i['state']) for i in result['instances'])


def wait_port(port):
    deadline = time.time() + 10
    while time.time() < deadline:
        try:
            return gameservice.query(port)
        except OSError:
            time.sleep(0.05)
    raise AssertionError('nothing listens on %d' % port)


def test_every_state_and_sync_leaves_strangers_alone(host):
    root = host
    sections = ['1001', '1002', '1003', '1004', '1005', '1006']
    ports = dict(zip(sections, zkserver.free_ports(len(sections))))
    planned = [inst('1001'), inst('1002'), inst('1003', owner='gray1', build='v2'), inst('1004'),
               inst('1005', build='v9'), inst('1006', owner=None, build=None, error='section id 1006 is owned by no release')]
    start = modrun.run(server_start, args(root, planned[:4], ports, state='started'))
    assert start['changed'] and not start.get('failed') and len(start['instances']) == 4, start
    assert [i['action'] for i in start['instances']] == ['started'] * 4

    # 1002 restarted by hand with another build, 1003 with another release; 1004 killed; a stranger
    # in a pid file of a section this host no longer serves... and one in 1001's pid file after it stopped.
    def pid_file(sid):
        return os.path.join(root, 'run', 'gameserver-%s.pid' % sid)
    procs = []
    for sid, release, version in (('1002', 'production', 'v2'), ('1003', 'production', 'v2')):
        os.kill(gameservice.read_pid(pid_file(sid)), 15)
        time.sleep(0.3)
        program = os.path.join(root, 'version', 'gameserver', version, 'bin', 'gameserver')
        proc = subprocess.Popen([program, '--release', release, '--section', sid, '--port', str(ports[sid])],
                                start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(proc)
        with open(pid_file(sid), 'w') as f:
            f.write('%d\n' % proc.pid)
        wait_port(ports[sid])
    os.kill(gameservice.read_pid(pid_file('1004')), 15)
    stranger = subprocess.Popen(['sleep', '60'])
    first = gameservice.read_pid(pid_file('1001'))
    try:
        # A leftover of a section the CMDB no longer gives the host, still running: status reports it.
        leftover = modrun.run(server_start, args(root, [inst('1007')], {'1007': zkserver.free_ports(1)[0]}))
        assert leftover['changed'], leftover
        time.sleep(0.3)
        result = status(root, planned, ports)
        assert result['changed'] is False, result
        assert states(result) == {'1001': 'in_sync', '1002': 'wrong_build', '1003': 'wrong_release', '1004': 'not_running',
                                  '1005': 'not_deployed', '1006': 'not_owned', '1007': 'not_owned'}
        got = dict((i['section_id'], i) for i in result['instances'])
        assert got['1003']['running_release'] == 'production' and got['1003']['owner'] == 'gray1'
        assert got['1002']['running_build'] == 'v2' and got['1002']['expected_build'] == 'v1'
        assert got['1001']['pid'] == first and got['1001']['running_cmd'][-6:] == [
            '--release', 'production', '--section', '1001', '--port', str(ports['1001'])]
        assert got['1007']['served'] is False and got['1007']['owner'] is None
        assert result['counts'] == dict(in_sync=1, wrong_release=1, wrong_build=1, not_running=1, not_deployed=1,
                                        not_owned=2, unknown_process=0)

        # A pid file naming another program: reported, and a start refuses it without signalling it.
        os.kill(first, 15)
        time.sleep(0.3)
        with open(pid_file('1001'), 'w') as f:
            f.write('%d\n' % stranger.pid)
        result = status(root, planned[:1], ports)
        assert states(result) == {'1001': 'unknown_process', '1007': 'not_owned'}
        assert 'runs sleep 60: not gameserver; left alone' in result['instances'][0]['note']

        # sync's call: every instance started or restarted, the leftover stopped, the stranger refused.
        synced = modrun.run(server_start, args(root, planned[:4], ports, restart_on_change=True, prune=True))
        assert synced['failed'] and synced['changed'], synced
        assert 'names pid %d, which runs sleep 60: not this service' % stranger.pid in synced['msg']
        assert dict((i['section_id'], i['action']) for i in synced['instances']) == {
            '1001': 'none', '1002': 'restarted', '1003': 'restarted', '1004': 'started', '1007': 'stopped'}
        assert stranger.poll() is None and [p.wait(10) for p in procs] == [0, 0]
        assert wait_port(ports['1003'])['release'] == 'gray1' and wait_port(ports['1002'])['version'] == 'v1'
        result = status(root, planned[1:4], ports)
        assert set(states(result).values()) == {'in_sync'}
    finally:
        stranger.kill()
        stranger.wait()


def test_controller_refusal_starts_nothing(host):
    result = modrun.run(server_start, args(host, [inst('1001')], {'1001': 1}, owner_error='cannot start gameserver on gs: x'))
    assert result['failed'] and result['msg'] == 'cannot start gameserver on gs: x', result
    assert not os.path.exists(os.path.join(host, 'run'))
