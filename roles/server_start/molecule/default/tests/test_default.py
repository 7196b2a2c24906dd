# -*- coding: utf-8 -*-
"""After converge (and the idempotence run): what an operator would check on the host."""

from __future__ import absolute_import, division, print_function

import json
import os
import socket

import pytest

WORK = os.path.join(os.environ.get('MOLECULE_EPHEMERAL_DIRECTORY', ''), 'work')


@pytest.fixture(scope='module')
def state():
    with open(os.path.join(WORK, 'fixture.json')) as handle:
        return json.load(handle)


@pytest.fixture(scope='module')
def pid(host):
    pid_file = host.file(os.path.join(WORK, 'game', 'run', 'gameserver.pid'))
    assert pid_file.exists
    return int(pid_file.content_string.strip())


def test_the_package_was_deployed_by_the_deploy_role(host, state):
    game = os.path.realpath(os.path.join(WORK, 'game'))
    build = os.path.join(game, 'builds', 'production', '190122.01')
    version = host.file(os.path.join(game, 'version', 'gameserver', state['version']))
    assert version.is_symlink and version.linked_to == os.path.join(build, 'version', 'gameserver', state['version'])
    assert host.file(os.path.join(game, 'current', 'production')).linked_to == build
    assert host.file(os.path.join(build, 'lib', 'README')).is_file
    assert host.file(os.path.join(game, 'packages', 'mygame-production-190122.01.tar.gz')).is_file


def test_the_service_runs_with_its_release(host, pid, state):
    proc = host.process.get(pid=pid)
    program = os.path.join(WORK, 'game', 'version', 'gameserver', state['version'], 'bin', 'gameserver')
    assert program in proc.args
    assert proc.args.endswith('%s --release production' % program)


def test_it_listens_on_its_port(host, state):
    assert host.socket('tcp://127.0.0.1:%d' % state['service_port']).is_listening


def test_it_answers_as_the_production_release(pid, state):
    with socket.create_connection(('127.0.0.1', state['service_port']), timeout=5) as conn:
        answer = json.loads(conn.makefile().readline())
    assert answer == {'release': 'production', 'section': None, 'pid': pid, 'version': state['version']}


def test_its_output_goes_to_the_log(host):
    log = host.file(os.path.join(WORK, 'game', 'run', 'gameserver.log'))
    assert log.contains('listening on 127.0.0.1')
