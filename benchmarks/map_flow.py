# -*- coding: utf-8 -*-
"""Wall time of playbooks/map.yml and playbooks/audit.yml on a large release map, each paired with
an empty playbook over the same inventory in the same run.

    python benchmarks/map_flow.py [--releases 50] [--sections 200] [--servers 20] [--pairs 5]

Starts a standalone ZooKeeper on 127.0.0.1 (tests/zkserver.py), writes --releases releases of
--sections sections, --servers servers and 2 client versions each (rel000 is the default release)
with raw kazoo, registers them in a copy of the example inventory (rel000 production, the others
gray), and runs, alternated in pairs: an empty playbook (`ansible.builtin.meta: noop`) with that
inventory, `playbooks/map.yml -e map_file=.build/bench/map-flow.html` and `playbooks/audit.yml`.
Prints the medians and the differences over the empty playbook, then the wall time of each task
of one more map.yml run. Not a test: nothing here asserts a time.
"""

from __future__ import absolute_import, division, print_function

import argparse
import json
import os
import shutil
import statistics
import sys
import time

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, 'tests'))

import helpers  # noqa: E402
import zkserver  # noqa: E402

WORK = os.path.join(helpers.BUILD, 'bench', 'map-flow')
EMPTY = '''- name: Empty playbook
  hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: Nothing
      ansible.builtin.meta: noop
'''


def populate(client, releases, sections, servers):
    client.ensure_path('/releases')
    client.create('/default_release', b'{"name":"rel000"}')
    names = ['rel%03d' % r for r in range(releases)]
    for r, name in enumerate(names):
        t = client.transaction()
        base = '/releases/' + name
        t.create(base, b'{}')
        t.create(base + '/global_url', ('http://10.0.%d.1:9000' % r).encode())
        for kind in ('versions', 'sections', 'servers'):
            t.create('%s/%s' % (base, kind), b'')
        for v in range(2):
            t.create('%s/versions/%d.%d.%d' % (base, 1, r, v), b'')
        for s in range(sections):
            t.create('%s/sections/%d' % (base, 100000 + r * sections + s), b'{"name":"S"}')
        for s in range(servers):
            t.create('%s/servers/10.%d.%d.%d' % (base, 100 + r // 250, r % 250, 1 + s),
                     b'{"services":{"gameserver":"dev.1"}}')
        results = t.commit()
        bad = [x for x in results if isinstance(x, Exception)]
        if bad:
            raise SystemExit('cannot write %s: %r' % (name, bad[0]))
    return names


def inventory(zk_hosts, names):
    shutil.rmtree(os.path.join(WORK, 'inventory'), ignore_errors=True)
    inv = helpers.copy_inventory(WORK, zk_hosts)
    registry = dict((n, {'type': 'production' if i == 0 else 'gray', 'location': 'cn_prod'})
                    for i, n in enumerate(names))
    path = os.path.join(inv, 'group_vars', 'all.yml')
    with open(path) as f:
        variables = yaml.safe_load(f)
    variables.update(elastic_release_registry=registry)
    with open(path, 'w') as f:
        json.dump(variables, f)
    return inv


def timed(cmd):
    t0 = time.perf_counter()
    res = helpers.run(cmd)
    took = time.perf_counter() - t0
    if res.rc != 0:
        raise SystemExit('%s failed (exit %d):\n%s' % (' '.join(cmd), res.rc, res.stdout[-3000:]))
    return took


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n', maxsplit=1)[0])
    parser.add_argument('--releases', type=int, default=50)
    parser.add_argument('--sections', type=int, default=200)
    parser.add_argument('--servers', type=int, default=20)
    parser.add_argument('--pairs', type=int, default=5)
    args = parser.parse_args()
    from kazoo.client import KazooClient

    shutil.rmtree(WORK, ignore_errors=True)
    os.makedirs(WORK)
    empty = os.path.join(WORK, 'empty.yml')
    with open(empty, 'w') as f:
        f.write(EMPTY)
    page = os.path.join(WORK, 'map-flow.html')
    with zkserver.Standalone(workdir=os.path.join(WORK, 'zk')) as zk:
        client = KazooClient(hosts=zk.hosts, timeout=10)
        client.start(timeout=30)
        names = populate(client, args.releases, args.sections, args.servers)
        client.stop()
        inv = inventory(zk.hosts, names)
        runs = {
            'empty': ['ansible-playbook', '-i', inv, empty],
            'map': ['ansible-playbook', '-i', inv, os.path.join(ROOT, 'playbooks', 'map.yml'), '-e', 'map_file=' + page],
            'audit': ['ansible-playbook', '-i', inv, os.path.join(ROOT, 'playbooks', 'audit.yml')],
        }
        times = dict((k, []) for k in runs)
        order = sorted(runs)
        for pair in range(args.pairs):
            for key in (order if pair % 2 == 0 else list(reversed(order))):
                times[key].append(timed(runs[key]))
            print('pair %d/%d: %s' % (pair + 1, args.pairs, ', '.join('%s %.2f s' % (k, times[k][-1]) for k in order)),
                  file=sys.stderr)
        times_file = os.path.join(WORK, 'task-times.json')
        res = helpers.run(runs['map'], env={'ANSIBLE_CALLBACK_PLUGINS': os.path.join(ROOT, 'benchmarks', 'callback_plugins'),
                                            'ANSIBLE_CALLBACKS_ENABLED': 'task_times',
                                            'ELASTIC_RELEASE_TASK_TIMES': times_file})
        if res.rc != 0:
            raise SystemExit('map.yml failed (exit %d):\n%s' % (res.rc, res.stdout[-3000:]))
        with open(times_file) as f:
            profile = json.load(f)['tasks']
    items = args.releases * (args.sections + args.servers + 2)
    med = dict((k, statistics.median(v)) for k, v in times.items())
    print('map and audit flows: %d releases x %d sections x %d servers, 2 versions each (%d items); medians of %d'
          % (args.releases, args.sections, args.servers, items, args.pairs))
    print('  empty ansible-playbook, same inventory      %6.2f s' % med['empty'])
    for key in ('map', 'audit'):
        diffs = [t - e for t, e in zip(times[key], times['empty'])]
        print('  playbooks/%-9s                        %6.2f s  (+%.2f s over the empty playbook, median of the pairs;'
              ' ratio %.2fx)' % (key + '.yml', med[key], statistics.median(diffs), med[key] / med['empty']))
    print('  page: %s (%d bytes)' % (os.path.relpath(page, ROOT), os.path.getsize(page)))
    print('where the time of one more map.yml run goes (benchmarks/callback_plugins/task_times.py):')
    for name, action, seconds in profile:
        print('  %-60.60s %6.2f s  %s' % (name, seconds, action))
    return 0


if __name__ == '__main__':
    sys.exit(main())
