# -*- coding: utf-8 -*-
"""After side_effect.yml (the role with server_start_state=stopped): nothing is left running."""

from __future__ import absolute_import, division, print_function

import json
import os

WORK = os.path.join(os.environ.get('MOLECULE_EPHEMERAL_DIRECTORY', ''), 'work')


def test_the_service_is_stopped(host):
    with open(os.path.join(WORK, 'fixture.json')) as handle:
        state = json.load(handle)
    assert not host.file(os.path.join(WORK, 'game', 'run', 'gameserver.pid')).exists
    program = os.path.join(WORK, 'game', 'version', 'gameserver', state['version'], 'bin', 'gameserver')
    assert not [p for p in host.process.filter() if program in p.args]
    assert not host.socket('tcp://127.0.0.1:%d' % state['service_port']).is_listening
    assert host.file(os.path.join(WORK, 'game', 'run', 'gameserver.log')).contains('SIGTERM, exiting')
