# -*- coding: utf-8 -*-
"""The fleet flows against their floor: status.yml, sync.yml with nothing to do and start.yml, each
paired with one ansible.builtin.ping task over the same hosts and forks, in the same run.

    python benchmarks/fleet_flows.py [--hosts 200] [--forks 20] [--pairs 3] [--target 1.2]
                                     [--only status,sync,start]

Starts its own ZooKeeper (tests/zkserver.py), publishes two releases sharing the hosts' inner IPs
, lays out a stub service per host (a shell script that sleeps, keeping its
command line, so status recognises it) and starts every host once (start.yml, not timed). Then,
--pairs times, each flow alternates with its own ping run (A B, then B A):

  status.yml   every instance compared with the tree: one map read, one release_status task per host;
  sync.yml     the same comparison, nothing to fix (the fixing play has no host);
  start.yml    every host started from nothing (the services are stopped and their pid files removed
               before it, outside the timing).

Prints every pair, the medians, the ratio of the medians and the median of the pairs' own ratios,
and whether each is within --target. Everything it starts is stopped at the end. Not a test.
benchmarks/run.py imports it for its fleet part (the same pairs, in its table).
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

# No exec: the shell keeps the command line server_start ran, as a real service keeps its own, so
# status.yml recognises it.
STUB = '#!/bin/sh\n# stand-in game service: runs until stopped\nsleep 3600\n'
VERSION = 'dev.190122.01'
FLOWS = ('status', 'sync', 'start')
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


def _run(cmd, what, env=None):
    t0 = time.time()
    res = helpers.run(cmd, env=dict({'ANSIBLE_STDOUT_CALLBACK': 'ansible.builtin.default'}, **(env or {})), timeout=3600)
    elapsed = time.time() - t0
    if res.rc != 0:
        raise SystemExit('%s run failed:\n%r' % (what, res))
    recap = dict((m.group(1), (int(m.group(2)), int(m.group(3)), int(m.group(5)))) for m in RECAP_RE.finditer(res.stdout))
    return elapsed, recap


def run_flow(flow, inventory, zk_hosts, forks, env=None):
    """playbooks/<flow>.yml over the inventory: (seconds, recap {host: (ok, changed, failed)})."""
    cmd = ['ansible-playbook', '-i', inventory, os.path.join(ROOT, 'playbooks', flow + '.yml'), '-f', str(forks),
           '-e', json.dumps({'elastic_release_zk_hosts': zk_hosts, 'fail_on_drift': True})]
    return _run(cmd, flow + '.yml', env)


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


def check(flow, recap, n_hosts):
    hosts = dict((h, r) for h, r in recap.items() if h.startswith('gs'))
    changed = sum(c for _ok, c, _failed in hosts.values())
    want = n_hosts if flow == 'start' else 0
    if len(hosts) != n_hosts or changed != want:
        raise SystemExit('%s.yml: %d hosts, %d changed; expected %d and %d' % (flow, len(hosts), changed, n_hosts, want))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--hosts', type=int, default=200)
    parser.add_argument('--forks', type=int, default=20)
    parser.add_argument('--pairs', type=int, default=3)
    parser.add_argument('--target', type=float, default=1.2)
    parser.add_argument('--only', default=','.join(FLOWS), help='flows to measure, separated by commas')
    opts = parser.parse_args()
    flows = [f for f in opts.only.split(',') if f]
    if opts.pairs < 1 or not flows or set(flows) - set(FLOWS):
        parser.error('--pairs must be at least 1 and --only a subset of %s' % ','.join(FLOWS))

    times = dict((f, []) for f in flows)
    pings = dict((f, []) for f in flows)
    with workspace('fleet-flows-', opts.hosts, 2) as (base, server):
        fleet = os.path.join(base, 'fleet')
        inventory = layout(fleet, opts.hosts)
        check('start', run_flow('start', inventory, server.hosts, opts.forks)[1], opts.hosts)
        for pair in range(opts.pairs):
            for flow in flows:
                order = ('flow', 'ping') if pair % 2 == 0 else ('ping', 'flow')
                for what in order:
                    if what == 'ping':
                        elapsed, answered = run_ping(inventory, opts.forks, base)
                        if answered != opts.hosts:
                            raise SystemExit('ping: %d hosts answered, expected %d' % (answered, opts.hosts))
                        pings[flow].append(elapsed)
                        continue
                    if flow == 'start':
                        reset(fleet, opts.hosts, 'before start.yml')
                    elapsed, recap = run_flow(flow, inventory, server.hosts, opts.forks)
                    check(flow, recap, opts.hosts)
                    times[flow].append(elapsed)
                print('pair %d: %s.yml %.1fs, ping %.1fs, ratio %.2f (load %s)'
                      % (pair + 1, flow, times[flow][-1], pings[flow][-1], times[flow][-1] / pings[flow][-1],
                         loadavg()))
                sys.stdout.flush()
        for flow in flows:
            median, ping = statistics.median(times[flow]), statistics.median(pings[flow])
            pair_ratio = statistics.median(t / p for t, p in zip(times[flow], pings[flow]))
            print('%s.yml on %d hosts, forks %d, %d pairs: median %.1fs, ping median %.1fs, ratio %.2f, median of the '
                  'pair ratios %.2f (target <= %.2f): %s'
                  % (flow, opts.hosts, opts.forks, opts.pairs, median, ping, median / ping, pair_ratio, opts.target,
                     'met' if median / ping <= opts.target else 'missed'))


if __name__ == '__main__':
    main()
