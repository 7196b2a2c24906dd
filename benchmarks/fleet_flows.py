# -*- coding: utf-8 -*-
"""The fleet flows against their floor: status.yml, sync.yml with nothing to do and start.yml, each
paired with one ansible.builtin.ping task over the same hosts and forks, in the same run.

    python benchmarks/fleet_flows.py [--hosts 200] [--forks 20] [--pairs 3] [--target 1.2]
                                     [--only status,sync,start]

Starts its own ZooKeeper (tests/zkserver.py), publishes two releases sharing the hosts' inner IPs
(fleet_start.publish), lays out a stub service per host (a shell script that sleeps, keeping its
command line, so status recognises it) and starts every host once (start.yml, not timed). Then,
--pairs times, each flow alternates with its own ping run (A B, then B A):

  status.yml   every instance compared with the tree: one map read, one release_status task per host;
  sync.yml     the same comparison, nothing to fix (the fixing play has no host);
  start.yml    every host started from nothing (the services are stopped and their pid files removed
               before it, outside the timing), as benchmarks/fleet_start.py measures it.

Prints every pair, the medians, the ratio of the medians and the median of the pairs' own ratios,
and whether each is within --target. Everything it starts is stopped at the end. Not a test.
"""

from __future__ import absolute_import, division, print_function

import argparse
import json
import os
import statistics
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import fleet_start  # noqa: E402  pylint: disable=wrong-import-position

helpers, gameservice, zkserver = fleet_start.helpers, fleet_start.gameservice, fleet_start.zkserver
# No exec: the shell keeps the command line server_start ran, as a real service keeps its own.
STUB = '#!/bin/sh\n# stand-in game service: runs until stopped\nsleep 3600\n'
FLOWS = ('status', 'sync', 'start')


def layout(base, n_hosts):
    inventory = fleet_start.layout(base, n_hosts)
    for i in range(n_hosts):
        program = os.path.join(base, 'gs%03d' % i, 'version', 'gameserver', fleet_start.VERSION, 'bin', 'gameserver')
        with open(program, 'w') as f:
            f.write(STUB)
    return inventory


def run_flow(flow, inventory, zk_hosts, forks):
    """One flow over the inventory: (seconds, recap)."""
    cmd = ['ansible-playbook', '-i', inventory, os.path.join(fleet_start.ROOT, 'playbooks', flow + '.yml'), '-f', str(forks),
           '-e', json.dumps({'elastic_release_zk_hosts': zk_hosts, 'fail_on_drift': True})]
    return fleet_start._run(cmd, flow + '.yml')


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
    with fleet_start.workspace('fleet-flows-', opts.hosts, 2) as (base, server):
        fleet = os.path.join(base, 'fleet')
        inventory = layout(fleet, opts.hosts)
        check('start', run_flow('start', inventory, server.hosts, opts.forks)[1], opts.hosts)
        for pair in range(opts.pairs):
            for flow in flows:
                order = ('flow', 'ping') if pair % 2 == 0 else ('ping', 'flow')
                for what in order:
                    if what == 'ping':
                        elapsed, answered = fleet_start.run_ping(inventory, opts.forks, base)
                        if answered != opts.hosts:
                            raise SystemExit('ping: %d hosts answered, expected %d' % (answered, opts.hosts))
                        pings[flow].append(elapsed)
                        continue
                    if flow == 'start':
                        fleet_start.reset(fleet, opts.hosts, 'before start.yml')
                    elapsed, recap = run_flow(flow, inventory, server.hosts, opts.forks)
                    check(flow, recap, opts.hosts)
                    times[flow].append(elapsed)
                print('pair %d: %s.yml %.1fs, ping %.1fs, ratio %.2f (load %s)'
                      % (pair + 1, flow, times[flow][-1], pings[flow][-1], times[flow][-1] / pings[flow][-1],
                         fleet_start.loadavg()))
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
