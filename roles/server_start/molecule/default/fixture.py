# -*- coding: utf-8 -*-
# Copyright: (c) 2026, GameOps release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The scenario's outside world: a ZooKeeper and the unpacked example game service.

    python fixture.py start WORKDIR   start ZooKeeper (tests/zkserver.py), lay out the game service,
                                      write WORKDIR/fixture.json {"zk_hosts", "zk_pid", "service_port"}
    python fixture.py stop WORKDIR    stop the services started under WORKDIR and ZooKeeper, remove WORKDIR
"""

from __future__ import absolute_import, division, print_function

import json
import os
import shutil
import signal
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..', '..'))
sys.path.insert(0, os.path.join(ROOT, 'tests'))

import gameservice  # noqa: E402  pylint: disable=wrong-import-position
import zkserver  # noqa: E402  pylint: disable=wrong-import-position

VERSION = 'dev.190122.01'


def start(work):
    state_file = os.path.join(work, 'fixture.json')
    if os.path.exists(state_file):
        return
    zk_dir = os.path.join(work, 'zk')
    os.makedirs(zk_dir)
    server = zkserver.Standalone(workdir=zk_dir)
    server.start()
    port = zkserver.free_ports(1)[0]
    gameservice.install(os.path.join(work, 'game'), VERSION, port=port)
    with open(state_file, 'w') as handle:
        json.dump({'zk_hosts': server.hosts, 'zk_pid': server.node.pid, 'service_port': port, 'version': VERSION}, handle)


def stop(work):
    if not os.path.isdir(work):
        return
    gameservice.stop_all([work])
    state_file = os.path.join(work, 'fixture.json')
    if os.path.exists(state_file):
        with open(state_file) as handle:
            pid = json.load(handle).get('zk_pid')
        if pid and gameservice.alive(pid) and 'java' in ' '.join(gameservice.cmdline(pid) or []):
            os.kill(pid, signal.SIGTERM)
            deadline = time.time() + 30
            while time.time() < deadline and gameservice.alive(pid):
                time.sleep(0.1)
            if gameservice.alive(pid):
                os.kill(pid, signal.SIGKILL)
    shutil.rmtree(work, ignore_errors=True)


if __name__ == '__main__':
    if len(sys.argv) != 3 or sys.argv[1] not in ('start', 'stop'):
        sys.exit(__doc__)
    {'start': start, 'stop': stop}[sys.argv[1]](os.path.abspath(sys.argv[2]))
