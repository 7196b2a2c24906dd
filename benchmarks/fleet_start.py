# -*- coding: utf-8 -*-
"""A fleet start against its floor: playbooks/start.yml vs one ansible.builtin.ping task.

    python benchmarks/fleet_start.py [--hosts 200] [--forks 20] [--releases 2] [--pairs 5]
                                     [--target 1.3] [--resolve controller]

Starts its own ZooKeeper (tests/zkserver.py), publishes --releases releases that share the hosts'
inner IPs between them (the first is the default release), and lays out a stub service per host:
a shell script that sleeps, so what is measured is resolution and process handling, not a game
server's start-up. Then, --pairs times, alternately:

  start.yml  ansible-playbook -i <inventory of --hosts local hosts> playbooks/start.yml -f <forks>,
             every host started from nothing (the services are stopped and their pid files
             removed after each run, outside the timing);
  ping       a playbook with one ansible.builtin.ping task over the same inventory and forks: the
             floor, what Ansible costs for any one-task-per-host playbook over these hosts.

It prints every pair, the medians, their ratio, and whether the ratio is within --target (1.3 by
default: a fleet start may cost at most 1.3 one-task playbooks). The bare lookup costs are printed
too (ReleaseIndex.load + N answers vs N `find` calls on one session, in-process). Everything it
starts is stopped at the end. Not a test. benchmarks/run.py imports publish, layout, bare_lookups and
run_flow for its part 4.
"""

from __future__ import absolute_import, division, print_function

import argparse
import contextlib
import json
import os
import re
import shutil
import statistics
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, 'tests'))

import gameservice  # noqa: E402  pylint: disable=wrong-import-position
import helpers  # noqa: E402  pylint: disable=wrong-import-position
import zkserver  # noqa: E402  pylint: disable=wrong-import-position

sys.path.insert(0, helpers.install_collection())

from ansible_collections.gameops.elastic_release.plugins.module_utils._report import lookup as _lookup  # noqa: E402  pylint: disable=wrong-import-position
from ansible_collections.gameops.elastic_release.plugins.module_utils._zk import session as _zk  # noqa: E402  pylint: disable=wrong-import-position

STUB = '#!/bin/sh\n# stand-in game service: ignores its arguments, runs until stopped\nexec sleep 3600\n'
VERSION = 'dev.190122.01'
PING_PLAYBOOK = [{'name': 'The floor: one module task per host', 'hosts': 'all', 'gather_facts': False,
                  'tasks': [{'name': 'Ping', 'ansible.builtin.ping': {}}]}]
RECAP_RE = re.compile(r'^(\S+)\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)', re.M)


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


def _run(cmd, what):
    t0 = time.time()
    res = helpers.run(cmd, env={'ANSIBLE_STDOUT_CALLBACK': 'ansible.builtin.default'}, timeout=3600)
    elapsed = time.time() - t0
    if res.rc != 0:
        raise SystemExit('%s run failed:\n%r' % (what, res))
    recap = dict((m.group(1), (int(m.group(2)), int(m.group(3)), int(m.group(5)))) for m in RECAP_RE.finditer(res.stdout))
    return elapsed, recap


def run_flow(inventory, zk_hosts, mode, forks):
    """playbooks/start.yml over the inventory: (seconds, hosts changed)."""
    cmd = ['ansible-playbook', '-i', inventory, os.path.join(ROOT, 'playbooks', 'start.yml'), '-f', str(forks),
           '-e', json.dumps({'elastic_release_zk_hosts': zk_hosts, 'elastic_release_resolve': mode})]
    elapsed, recap = _run(cmd, 'start.yml (resolve=%s)' % mode)
    return elapsed, sum(changed for _ok, changed, _failed in recap.values())


def run_ping(inventory, forks, workdir):
    """The one-task floor over the same inventory and forks: (seconds, hosts that answered)."""
    playbook = os.path.join(workdir, 'ping.yml')
    with open(playbook, 'w') as f:
        json.dump(PING_PLAYBOOK, f)
    elapsed, recap = _run(['ansible-playbook', '-i', inventory, playbook, '-f', str(forks)], 'ping')
    return elapsed, sum(1 for ok, _changed, failed in recap.values() if ok == 1 and not failed)


def reset(fleet, n_hosts, what):
    """Stop what a start.yml run started (outside the timing) and check it started every host."""
    stopped = gameservice.stop_all([fleet])
    for path in gameservice.pid_files(fleet):
        os.unlink(path)
    if len(stopped) != n_hosts:
        raise SystemExit('%s: %d processes found, expected %d' % (what, len(stopped), n_hosts))


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


@contextlib.contextmanager
def workspace(prefix, n_hosts, n_releases):
    """A scratch directory and a ZooKeeper holding the releases of n_hosts hosts; everything that
    was started under the directory is stopped, and the directory removed, at the end."""
    base = tempfile.mkdtemp(prefix=prefix)
    server = zkserver.Standalone(workdir=os.path.join(base, 'zk'))
    try:
        server.start()
        publish(server.hosts, n_hosts, n_releases)
        yield base, server
    finally:
        gameservice.stop_all([base])
        server.stop()
        shutil.rmtree(base, ignore_errors=True)


def loadavg():
    try:
        with open('/proc/loadavg') as f:
            return f.read().split()[0]
    except OSError:
        return '?'


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--hosts', type=int, default=200)
    parser.add_argument('--forks', type=int, default=20)
    parser.add_argument('--releases', type=int, default=2)
    parser.add_argument('--pairs', type=int, default=5, help='pairs of runs (start.yml, ping), alternated')
    parser.add_argument('--target', type=float, default=1.3, help='the ratio start.yml / ping to meet')
    parser.add_argument('--resolve', choices=('controller', 'host'), default='controller')
    opts = parser.parse_args()
    if opts.pairs < 1:
        parser.error('--pairs must be at least 1')

    with workspace('fleet-start-', opts.hosts, opts.releases) as (base, server):
        fleet = os.path.join(base, 'fleet')
        inventory = layout(fleet, opts.hosts)
        t_index, t_find = bare_lookups(server.hosts, opts.hosts)
        print('in-process lookups for %d hosts: ReleaseIndex.load + answers %.3fs, %d x find %.3fs (%.1fx)'
              % (opts.hosts, t_index, opts.hosts, t_find, t_find / t_index))
        starts, pings = [], []
        for pair in range(opts.pairs):
            # Alternate which one goes first, so a drift in the machine's load hits both alike.
            order = ('start', 'ping') if pair % 2 == 0 else ('ping', 'start')
            for what in order:
                if what == 'start':
                    elapsed, changed = run_flow(inventory, server.hosts, opts.resolve, opts.forks)
                    reset(fleet, opts.hosts, 'start.yml run %d' % (pair + 1))
                    if changed != opts.hosts:
                        raise SystemExit('start.yml run %d: %d hosts changed, expected %d' % (pair + 1, changed, opts.hosts))
                    starts.append(elapsed)
                else:
                    elapsed, answered = run_ping(inventory, opts.forks, base)
                    if answered != opts.hosts:
                        raise SystemExit('ping run %d: %d hosts answered, expected %d' % (pair + 1, answered, opts.hosts))
                    pings.append(elapsed)
            print('pair %d: start.yml %.1fs, ping %.1fs, ratio %.2f (load %s)'
                  % (pair + 1, starts[-1], pings[-1], starts[-1] / pings[-1], loadavg()))
            sys.stdout.flush()
        start_median, ping_median = statistics.median(starts), statistics.median(pings)
        ratio = start_median / ping_median
        print('%d hosts, forks %d, resolve=%s, %d pairs: start.yml median %.1fs, ping median %.1fs'
              % (opts.hosts, opts.forks, opts.resolve, opts.pairs, start_median, ping_median))
        # The target is judged on the ratio of the medians; the median of the pairs' own ratios is
        # printed beside it, since it is less sensitive to the load drifting between pairs.
        print('ratio start.yml / ping: %.2f (target <= %.2f): %s; median of the pair ratios %.2f'
              % (ratio, opts.target, 'met' if ratio <= opts.target else 'missed',
                 statistics.median(s / p for s, p in zip(starts, pings))))


if __name__ == '__main__':
    main()
