# -*- coding: utf-8 -*-
"""Resolve and start a fleet: controller-side lookup (one tree read) vs one lookup per host.

    python benchmarks/fleet_start.py [--hosts 200] [--forks 20] [--releases 2]

Starts its own ZooKeeper (tests/zkserver.py), publishes --releases releases that share the hosts'
inner IPs between them (the first is the default release), and lays out a stub service per host:
a shell script that sleeps, so what is measured is resolution and process handling, not a game
server's start-up. Then it runs playbooks/start.yml over an inventory of --hosts local hosts,
twice from a clean state:

  controller  elastic_release_resolve=controller: one ReleaseIndex load per batch on the controller,
              the module gets release and version and never connects to ZooKeeper;
  host        elastic_release_resolve=host: every host's module opens a ZooKeeper session and
              looks its inner IP up (release_lookup's `find`).

It prints the wall time of both runs and their ratio, plus the bare lookup costs in-process
(ReleaseIndex.load + N answers vs N `find` calls on one session). Everything it starts is
stopped at the end. Not a test.
"""

from __future__ import absolute_import, division, print_function

import argparse
import json
import os
import re
import shutil
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, 'tests'))

import gameservice  # noqa: E402  pylint: disable=wrong-import-position
import helpers  # noqa: E402  pylint: disable=wrong-import-position
import zkserver  # noqa: E402  pylint: disable=wrong-import-position

sys.path.insert(0, helpers.install_collection())

from ansible_collections.gameops.elastic_release.plugins.module_utils import _lookup, _zk  # noqa: E402  pylint: disable=wrong-import-position

STUB = '#!/bin/sh\n# stand-in game service: ignores its arguments, runs until stopped\nexec sleep 3600\n'
VERSION = 'dev.190122.01'


def ip_of(i):
    return '10.1.%d.%d' % (i // 250, i % 250 + 1)


def publish(hosts, n_hosts, n_releases):
    from kazoo.client import KazooClient
    client = KazooClient(hosts=hosts)
    client.start(timeout=15)
    try:
        names = ['production'] + ['gray%d' % i for i in range(1, n_releases)]
        client.create('/default_release', b'{"name": "production"}')
        for name in names:
            client.ensure_path('/releases/%s/versions' % name)
            client.ensure_path('/releases/%s/sections' % name)
            client.ensure_path('/releases/%s/servers' % name)
            client.create('/releases/%s/global_url' % name, b'http://10.0.0.5:9000')
        txn = client.transaction()
        for i in range(n_hosts):
            release = names[i % len(names)]
            txn.create('/releases/%s/servers/%s' % (release, ip_of(i)),
                       json.dumps({'services': {'gameserver': VERSION}}).encode())
        txn.commit()
    finally:
        client.stop()
        client.close()


def layout(base, n_hosts):
    inv = {'all': {'hosts': {}, 'vars': {'ansible_connection': 'local', 'ansible_python_interpreter': helpers.PYTHON,
                                         'server_start_ready_delay': 0.2}}}
    for i in range(n_hosts):
        name = 'gs%03d' % i
        root = os.path.join(base, name)
        program = os.path.join(root, 'version', 'gameserver', VERSION, 'bin', 'gameserver')
        os.makedirs(os.path.dirname(program))
        with open(program, 'w') as f:
            f.write(STUB)
        os.chmod(program, 0o755)
        inv['all']['hosts'][name] = {'inner_ip': ip_of(i), 'server_start_install_root': root}
    path = os.path.join(base, 'inventory.yml')
    with open(path, 'w') as f:
        json.dump(inv, f)
    return path


def run_flow(inventory, zk_hosts, mode, forks):
    cmd = ['ansible-playbook', '-i', inventory, os.path.join(ROOT, 'playbooks', 'start.yml'), '-f', str(forks),
           '-e', json.dumps({'elastic_release_zk_hosts': zk_hosts, 'elastic_release_resolve': mode})]
    t0 = time.time()
    res = helpers.run(cmd, env={'ANSIBLE_STDOUT_CALLBACK': 'ansible.builtin.default'}, timeout=3600)
    elapsed = time.time() - t0
    if res.rc != 0:
        raise SystemExit('%s run failed:\n%r' % (mode, res))
    changed = sum(int(x) for x in re.findall(r'changed=(\d+)', res.stdout))
    return elapsed, changed


def bare_lookups(zk_hosts, n_hosts):
    with _zk.ZkSession(hosts=zk_hosts) as session:
        t0 = time.time()
        index = _lookup.ReleaseIndex.load(session)
        for i in range(n_hosts):
            index.find('servers', ip_of(i))
        t_index = time.time() - t0
        t0 = time.time()
        for i in range(n_hosts):
            _lookup.find(session, 'servers', ip_of(i))
        t_find = time.time() - t0
    return t_index, t_find


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--hosts', type=int, default=200)
    parser.add_argument('--forks', type=int, default=20)
    parser.add_argument('--releases', type=int, default=2)
    opts = parser.parse_args()

    base = tempfile.mkdtemp(prefix='fleet-start-')
    server = zkserver.Standalone(workdir=os.path.join(base, 'zk'))
    try:
        server.start()
        publish(server.hosts, opts.hosts, opts.releases)
        inventory = layout(os.path.join(base, 'fleet'), opts.hosts)
        t_index, t_find = bare_lookups(server.hosts, opts.hosts)
        print('in-process lookups for %d hosts: ReleaseIndex.load + answers %.3fs, %d x find %.3fs (%.1fx)'
              % (opts.hosts, t_index, opts.hosts, t_find, t_find / t_index))
        times = {}
        for mode in ('controller', 'host'):
            elapsed, changed = run_flow(inventory, server.hosts, mode, opts.forks)
            stopped = gameservice.stop_all([os.path.join(base, 'fleet')])
            if changed != opts.hosts or len(stopped) != opts.hosts:
                raise SystemExit('%s run: %d hosts changed, %d processes found (expected %d)'
                                 % (mode, changed, len(stopped), opts.hosts))
            for path in gameservice.pid_files(os.path.join(base, 'fleet')):
                os.unlink(path)
            times[mode] = elapsed
            print('start.yml, %d hosts, forks %d, resolve=%s: %.1fs' % (opts.hosts, opts.forks, mode, elapsed))
        print('ratio host/controller: %.2f' % (times['host'] / times['controller']))
    finally:
        gameservice.stop_all([base])
        server.stop()
        shutil.rmtree(base, ignore_errors=True)


if __name__ == '__main__':
    main()
