# -*- coding: utf-8 -*-
# Copyright: (c) 2026, GameOps release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The scenario's outside world: a ZooKeeper and the build output of the example game service.

    python fixture.py start WORKDIR   start a keeper process (below) and wait until it is ready
    python fixture.py serve WORKDIR   the keeper: start ZooKeeper (tests/zkserver.py), lay out the game
                                      service as a build output in WORKDIR/src (lib/ and
                                      version/gameserver/{version}/, which prepare.yml packs with
                                      server_package and converge.yml deploys), write WORKDIR/fixture.json
                                      {"zk_hosts", "zk_pid", "keeper_pid", "service_port", "version"}, then
                                      wait for SIGTERM
    python fixture.py stop WORKDIR    stop the services started under WORKDIR, the keeper and ZooKeeper,
                                      remove WORKDIR

tests/zkserver.py makes the kernel kill a ZooKeeper JVM when the process that started it exits, so
no test leaves one behind; the scenario's ZooKeeper must outlive `start` (a task of prepare.yml), so
a keeper process of its own session starts it and lives until `stop`.
"""

from __future__ import absolute_import, division, print_function

import json
import os
import shutil
import signal
import subprocess
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
    os.makedirs(work, exist_ok=True)
    log_path = os.path.join(work, 'keeper.log')
    with open(log_path, 'ab') as log:
        keeper = subprocess.Popen([sys.executable, os.path.abspath(__file__), 'serve', work], stdin=subprocess.DEVNULL,
                                  stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.time() + 120
    while not os.path.exists(state_file):
        if keeper.poll() is not None:
            sys.exit('the fixture keeper exited with status %s; see %s' % (keeper.returncode, log_path))
        if time.time() > deadline:
            keeper.terminate()
            sys.exit('the fixture keeper was not ready within 120 s; see %s' % log_path)
        time.sleep(0.2)


def serve(work):
    zk_dir = os.path.join(work, 'zk')
    os.makedirs(zk_dir)
    server = zkserver.Standalone(workdir=zk_dir)
    server.start()
    port = zkserver.free_ports(1)[0]
    src = os.path.join(work, 'src')
    gameservice.install(src, VERSION, port=port)
    os.makedirs(os.path.join(src, 'lib'))
    with open(os.path.join(src, 'lib', 'README'), 'w') as handle:
        handle.write('the libraries of the example game service\n')
    state = {'zk_hosts': server.hosts, 'zk_pid': server.node.pid, 'keeper_pid': os.getpid(), 'service_port': port,
             'version': VERSION}
    tmp = os.path.join(work, '.fixture.json')
    with open(tmp, 'w') as handle:
        json.dump(state, handle)
    os.rename(tmp, os.path.join(work, 'fixture.json'))
    while True:  # zkserver's SIGTERM handler stops the JVM, then this process dies of the signal
        signal.pause()


def _terminate(pid, word):
    """SIGTERM (then SIGKILL after 30 s) the process pid, if it is alive and its command line has word."""
    if not pid or not gameservice.alive(pid) or word not in ' '.join(gameservice.cmdline(pid) or []):
        return
    os.kill(pid, signal.SIGTERM)
    deadline = time.time() + 30
    while time.time() < deadline and gameservice.alive(pid):
        time.sleep(0.1)
    if gameservice.alive(pid):
        os.kill(pid, signal.SIGKILL)


def stop(work):
    if not os.path.isdir(work):
        return
    gameservice.stop_all([work])
    state_file = os.path.join(work, 'fixture.json')
    if os.path.exists(state_file):
        with open(state_file) as handle:
            state = json.load(handle)
        _terminate(state.get('keeper_pid'), 'fixture.py')
        _terminate(state.get('zk_pid'), 'java')
    shutil.rmtree(work, ignore_errors=True)


if __name__ == '__main__':
    if len(sys.argv) != 3 or sys.argv[1] not in ('start', 'serve', 'stop'):
        sys.exit(__doc__)
    {'start': start, 'serve': serve, 'stop': stop}[sys.argv[1]](os.path.abspath(sys.argv[2]))
