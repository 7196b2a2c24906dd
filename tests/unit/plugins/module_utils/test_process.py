# -*- coding: utf-8 -*-
"""module_utils/_process.py: real processes started, recognised, left alone, restarted and stopped
(the release is passed in, as the controller does, so no ZooKeeper is needed)."""

import json
import os
import socket
import subprocess
import time

import pytest

import gameservice
import zkserver
from ansible_collections.gameops.elastic_release.plugins.module_utils._host import process as _process
from ansible_collections.gameops.elastic_release.plugins.module_utils._host import service as _service


@pytest.mark.parametrize('cmdline,argv,ok', [
    (['/a/gs', '--release', 'x'], ['/a/gs', '--release', 'x'], True),
    (['/usr/bin/python3', '/a/gs', '--release', 'x'], ['/a/gs', '--release', 'x'], True),   # #!/usr/bin/python3
    (['python3', '-u', '/a/gs', '--release', 'x'], ['/a/gs', '--release', 'x'], True),      # #!/usr/bin/env python3 -u
    (['/a/gs', '--release', 'y'], ['/a/gs', '--release', 'x'], False),
    (['/a/b', '/c', '/d', '/a/gs', '--release', 'x'], ['/a/gs', '--release', 'x'], False),
    (['/a/gs', '--release', 'x', 'more'], ['/a/gs', '--release', 'x'], False),
    (None, ['/a/gs'], False),
])
def test_argv_matches(cmdline, argv, ok):
    assert _process.argv_matches(cmdline, argv) is ok


def no_zookeeper():
    raise AssertionError('a resolved release must not open a ZooKeeper session')


@pytest.fixture
def root(tmp_path):
    roots = [str(tmp_path)]
    yield str(tmp_path)
    gameservice.stop_all(roots)


def install(root, version='dev.1'):
    port = zkserver.free_ports(1)[0]
    gameservice.install(root, version, port=port)
    return port


def run(root, check=False, **over):
    p = dict(service='gameserver', install_root=root, inner_ip='10.0.0.1', release='gray1', version='dev.1',
             ready_delay=0.2, stop_timeout=5)
    p.update(over)
    return _process.execute(_service.Request(p), no_zookeeper, check_mode=check)


def test_start_is_idempotent_and_stop_stops(root):
    port = install(root)
    res = run(root, check=True, ready_port=port)
    assert res['changed'] and res['action'] == 'started' and res['pid'] is None
    assert not os.path.exists(os.path.join(root, 'run'))           # check mode starts nothing

    res = run(root, ready_port=port)
    assert res['changed'] and res['action'] == 'started'
    assert res['cmd'] == [os.path.join(root, 'version/gameserver/dev.1/bin/gameserver'), '--release', 'gray1']
    assert gameservice.query(port) == {'release': 'gray1', 'section': None, 'pid': res['pid'], 'version': 'dev.1'}
    assert gameservice.cmdline(res['pid'])[-2:] == ['--release', 'gray1']
    with open(os.path.join(root, 'run', 'gameserver.pid')) as f:
        assert int(f.read()) == res['pid']
    # stdin is /dev/null, and the process leads its own session (a daemon)
    assert os.readlink('/proc/%d/fd/0' % res['pid']) == '/dev/null'
    assert os.getsid(res['pid']) == res['pid']

    again = run(root, ready_port=port)
    assert again['changed'] is False and again['action'] == 'none' and again['pid'] == res['pid']
    assert again['summary'] == {'service': 'gameserver', 'action': 'none', 'pid': res['pid'], 'release': 'gray1',
                                'version': 'dev.1', 'section_id': None, 'inner_ip': '10.0.0.1'}

    stopped = run(root, state='stopped', release=None, version=None)
    assert stopped['changed'] and stopped['pid'] == res['pid'] and stopped['signal'] == 'SIGTERM'
    assert stopped['release'] == 'gray1'
    assert not gameservice.alive(res['pid'])
    assert not os.path.exists(os.path.join(root, 'run', 'gameserver.pid'))
    assert 'SIGTERM, exiting' in open(os.path.join(root, 'run', 'gameserver.log')).read()
    assert run(root, state='stopped', release=None, version=None)['changed'] is False


def test_changed_release_is_left_running_unless_asked(root):
    port = install(root)
    first = run(root, ready_port=port)
    drift = run(root, release='production', ready_port=port)
    assert drift['changed'] is False and drift['action'] == 'drift' and drift['pid'] == first['pid']
    assert 'runs' in drift['warnings'][0] and 'release gray1' in drift['warnings'][0]
    assert 'release production' in drift['warnings'][0]
    assert gameservice.query(port)['release'] == 'gray1'

    restarted = run(root, release='production', ready_port=port, restart_on_change=True)
    assert restarted['changed'] and restarted['action'] == 'restarted' and restarted['pid'] != first['pid']
    assert gameservice.query(port)['release'] == 'production'
    assert not gameservice.alive(first['pid'])

    # state=restarted restarts even an unchanged service
    again = run(root, release='production', ready_port=port, state='restarted')
    assert again['changed'] and again['pid'] != restarted['pid']


def test_a_pid_file_naming_another_program_is_refused_never_signalled(root):
    install(root)
    os.makedirs(os.path.join(root, 'run'))
    pid_file = os.path.join(root, 'run', 'gameserver.pid')
    stranger = subprocess.Popen(['sleep', '60'])
    try:
        with open(pid_file, 'w') as f:
            f.write('%d\n' % stranger.pid)
        for over in (dict(state='stopped', release=None, version=None), dict(), dict(state='restarted')):
            with pytest.raises(_service.ServiceError) as err:
                run(root, **over)
            assert ('the pid file %s of gameserver names pid %d, which runs sleep 60: not this service' % (pid_file, stranger.pid)
                    in str(err.value)) and 'rm %s' % pid_file in str(err.value)
            assert stranger.poll() is None and os.path.exists(pid_file)     # still alive, the pid file kept
        # A dead pid is only out of date: replaced on start.
        stranger.kill()
        stranger.wait()
        res = run(root)
        assert res['changed'] and res['pid'] != stranger.pid and gameservice.alive(res['pid'])
    finally:
        if stranger.poll() is None:
            stranger.kill()
            stranger.wait()


def test_the_service_restarted_by_hand_with_another_release_is_recognised(root):
    port = install(root)
    program = os.path.join(root, 'version', 'gameserver', 'dev.1', 'bin', 'gameserver')
    os.makedirs(os.path.join(root, 'run'))
    by_hand = subprocess.Popen([program, '--release', 'production'], start_new_session=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with open(os.path.join(root, 'run', 'gameserver.pid'), 'w') as f:
        f.write('%d\n' % by_hand.pid)
    deadline = time.time() + 10
    while time.time() < deadline and not _process.port_open(port):
        time.sleep(0.05)
    status = _process.inspect(_service.Request(dict(service='gameserver', install_root=root, state='stopped')))
    assert status.state == 'running' and status.record['release'] == 'production' and status.record['version'] == 'dev.1'
    res = run(root, ready_port=port, restart_on_change=True)
    assert res['action'] == 'restarted' and by_hand.wait(10) == 0
    assert gameservice.query(port)['release'] == 'gray1'


def test_a_service_that_exits_fails_with_its_log(root):
    port = install(root)
    os.makedirs(os.path.join(root, 'version/gameserver/dev.1/etc'), exist_ok=True)
    with open(os.path.join(root, 'version/gameserver/dev.1/etc/gameserver.json'), 'w') as f:
        json.dump({}, f)                                              # no port: the server refuses to run
    with pytest.raises(_service.ServiceError) as err:
        run(root, ready_port=port)
    assert 'exited with code 2' in str(err.value) and 'no port' in str(err.value)
    assert not os.path.exists(os.path.join(root, 'run', 'gameserver.pid'))


def test_port_held_by_someone_else(root):
    port = install(root)
    holder = socket.socket()
    holder.bind(('127.0.0.1', port))
    holder.listen(1)
    try:
        with pytest.raises(_service.ServiceError, match='port %d already accepts connections' % port):
            run(root, ready_port=port)
    finally:
        holder.close()
    assert not os.path.exists(os.path.join(root, 'run', 'gameserver.pid'))


def test_not_ready_in_time_is_stopped_again(root):
    install(root)
    other = zkserver.free_ports(1)[0]
    with pytest.raises(_service.ServiceError, match='did not accept connections on 127.0.0.1:%d within 0.5s; stopped' % other):
        run(root, ready_port=other, ready_timeout=0.5)
    assert not os.path.exists(os.path.join(root, 'run', 'gameserver.pid'))


def test_sigkill_after_stop_timeout(root):
    stubborn = os.path.join(root, 'stubborn')
    with open(stubborn, 'w') as f:
        f.write("#!/bin/sh\ntrap '' TERM\nwhile :; do sleep 0.1; done\n")
    os.chmod(stubborn, 0o755)
    res = run(root, command=[stubborn, '{release}'])
    pid = res['pid']
    t0 = time.time()
    stopped = run(root, state='stopped', release=None, version=None, stop_timeout=0.5)
    assert stopped['signal'] == 'SIGKILL' and 0.5 <= time.time() - t0 < 5
    assert not gameservice.alive(pid)


def test_missing_program(root):
    with pytest.raises(_service.ServiceError, match='does not exist \\(is version dev.9 unpacked under'):
        run(root, version='dev.9')
    res = run(root, version='dev.9', check=True)
    assert res['changed'] and 'does not exist yet' in res['warnings'][0]


def test_service_gets_no_collection_secrets(root, monkeypatch):
    monkeypatch.setenv('ELASTIC_RELEASE_ZK_AUTH_CREDENTIAL', 'user:secret')
    monkeypatch.setenv('GAME_LANG', 'zh_CN')
    dump = os.path.join(root, 'envdump')
    with open(dump, 'w') as f:
        f.write('#!/bin/sh\nenv > "$0.out"\nexec sleep 60\n')
    os.chmod(dump, 0o755)
    run(root, command=[dump])
    deadline = time.time() + 5
    while time.time() < deadline and not os.path.exists(dump + '.out'):
        time.sleep(0.05)
    env = open(dump + '.out').read()
    assert 'GAME_LANG=zh_CN' in env and 'user:secret' not in env and 'ELASTIC_RELEASE_ZK' not in env


def test_the_command_reaches_popen_as_one_argument_list(root, monkeypatch):
    sleeper = os.path.join(root, 'sleeper')
    with open(sleeper, 'w') as f:
        f.write('#!/bin/sh\nexec sleep 60\n')
    os.chmod(sleeper, 0o755)
    seen = []
    real = subprocess.Popen

    def recording(*args, **kwargs):
        seen.append((args, kwargs))
        return real(*args, **kwargs)
    monkeypatch.setattr(_process.subprocess, 'Popen', recording)
    hostile = 'http://x/;touch${IFS}%s/pwned;$(id)`id`' % root
    res = run(root, global_url=hostile, command=[sleeper, '--release', '{release}', '--url={global_url}'])
    assert len(seen) == 1
    args, kwargs = seen[0]
    assert args == (res['cmd'],) and 'shell' not in kwargs
    assert res['cmd'][1:] == ['--release', 'gray1', '--url=' + hostile]
    assert gameservice.cmdline(res['pid']) == ['sleep', '60']  # the script ran, exec'd, and nothing else
    assert not os.path.exists(os.path.join(root, 'pwned'))
