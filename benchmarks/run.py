#!/usr/bin/env python
# -*- coding: utf-8 -*-
"""Benchmarks: publish, rerun, lookup and fleet start, against community.general.znode and raw kazoo.

    benchmarks/run [--runs 5] [--znode-nodes 40] [--scale-runs 3] [--fleet-runs 1] [--skip ...]

Starts its own ZooKeeper on 127.0.0.1 (tests/zkserver.py, Debian's jars), runs every measured
task as a whole `ansible-playbook` process (the collection linked at .build/collections, as the
tests do) and prints one table of medians, the machine and the targets of issue 7. Progress goes
to stderr, the table to stdout and to .build/bench/results.txt. See benchmarks/README.md.

community.general.znode comes from `pip install --no-deps --target .build/bench/ansible-pkg
'ansible>=12,<13'` (the Ansible 12 package goes with ansible-core 2.19); this script installs it
there when it is missing and never touches the installed ansible-core.
"""

from __future__ import absolute_import, division, print_function

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path[:0] = [os.path.join(ROOT, 'tests'), HERE]

import fleet_start  # noqa: E402  pylint: disable=wrong-import-position
import gameservice  # noqa: E402  pylint: disable=wrong-import-position
import helpers  # noqa: E402  pylint: disable=wrong-import-position
import release_bench as rb  # noqa: E402  pylint: disable=wrong-import-position
import zkserver  # noqa: E402  pylint: disable=wrong-import-position

sys.path.insert(0, helpers.install_collection())

from ansible_collections.gameops.elastic_release.plugins.module_utils import _publish  # noqa: E402
from ansible_collections.gameops.elastic_release.plugins.module_utils._zk import ZkSession, request_size  # noqa: E402

BENCH_DIR = os.path.join(helpers.BUILD, 'bench')
ANSIBLE_PKG = os.path.join(BENCH_DIR, 'ansible-pkg')
ANSIBLE_REQ = 'ansible>=12,<13'
ZNODE = os.path.join(ANSIBLE_PKG, 'ansible_collections', 'community', 'general', 'plugins', 'modules', 'znode.py')
RESULTS = os.path.join(BENCH_DIR, 'results.txt')
RELEASE = 'bench'
PARTS = ('znode', 'rerun', 'lookup', 'fleet', 'scale', 'limit')
# Every playbook run prints its task results as JSON (-v), the empty baseline included.
ANSIBLE_ENV = {'ANSIBLE_STDOUT_CALLBACK': 'ansible.builtin.default', 'ANSIBLE_CALLBACK_RESULT_FORMAT': 'json'}

PLAY = '''- name: {name}
  hosts: localhost
  gather_facts: false
  tasks:
'''
PLAYBOOKS = {
    'empty.yml': PLAY + '''    - name: Nothing
      ansible.builtin.meta: noop
''',
    'ping.yml': PLAY + '''    - name: The smallest module task
      ansible.builtin.ping:
''',
    'publish.yml': PLAY + '''    - name: Publish the release
      gameops.elastic_release.zk_release_node:
        hosts: "{{{{ zk_hosts }}}}"
        release: {release}
        config_file: "{{{{ config_file }}}}"
        verify: "{{{{ verify }}}}"
        allow_chunked: "{{{{ allow_chunked }}}}"
''',
    'lookup.yml': PLAY + '''    - name: Look up
      gameops.elastic_release.release_lookup:
        hosts: "{{{{ zk_hosts }}}}"
        section_id: "{{{{ section_id | default(omit) }}}}"
        inner_ip: "{{{{ inner_ip | default(omit) }}}}"
        version: "{{{{ version | default(omit) }}}}"
''',
    'znode.yml': PLAY + '''    - name: One znode per loop item
      community.general.znode:
        hosts: "{{{{ zk_hosts }}}}"
        name: "{{{{ item.0 }}}}"
        value: "{{{{ item.1 }}}}"
        state: present
      loop: "{{{{ nodes }}}}"
''',
}

DIGEST_TIMER = '''
import json, sys, time
sys.path.insert(0, sys.argv[1])
from ansible_collections.gameops.elastic_release.plugins.module_utils import _publish, _release
desired = _release.state_from_config(_publish.load_config_file(sys.argv[2]))
times = []
for dummy in range(int(sys.argv[3])):
    t0 = time.perf_counter()
    _release.state_digest(desired)
    times.append(time.perf_counter() - t0)
print(json.dumps(times))
'''


def log(msg):
    print('[%s] %s' % (time.strftime('%H:%M:%S'), msg), file=sys.stderr, flush=True)


# ---- samples and the table ---------------------------------------------------------------------

class Samples(object):
    def __init__(self, values=()):
        self.values = list(values)

    def add(self, value):
        self.values.append(value)

    @property
    def median(self):
        return statistics.median(self.values)


def num(value, digits=2):
    return '{:,.{}f}'.format(value, digits)


def secs(value):
    if value < 0.1:
        return '%s ms' % num(value * 1000, 1)
    return '%s s' % num(value, 2 if value < 100 else 0)


class Table(object):
    def __init__(self):
        self.lines = []
        self.targets = []

    def title(self, text):
        self.lines += ['', text]

    def row(self, label, value, detail=''):
        self.lines.append(('  %-64s %11s  %s' % (label, value, detail)).rstrip())

    def sample(self, label, samples, detail=''):
        """A row of seconds: median, then [min-max] and the number of runs."""
        low, high = min(samples.values), max(samples.values)
        if len(samples.values) == 1:
            spread = ''
        elif samples.median < 0.1:
            spread = '[%s-%s ms]' % (num(low * 1000, 1), num(high * 1000, 1))
        else:
            spread = '[%s-%s s]' % (num(low), num(high))
        self.row(label, secs(samples.median), ('%s x%d  %s' % (spread, len(samples.values), detail)).strip())

    def note(self, text):
        self.lines.append('    ' + text)

    def target(self, met, text, measured):
        self.targets.append('  %-6s %-78s %s' % ('MET' if met else 'MISSED', text, measured))

    def render(self):
        out = self.lines + ['', 'Targets (issue 7)'] + self.targets
        return '\n'.join(out) + '\n'


# ---- set-up ------------------------------------------------------------------------------------

def ensure_znode_collection():
    """community.general (for znode) from the Ansible 12 package, into a private directory."""
    if os.path.exists(ZNODE):
        return
    log('installing %s (community.general.znode) into %s: about 1.5 min, 480 MB' % (ANSIBLE_REQ, ANSIBLE_PKG))
    staging = ANSIBLE_PKG + '.partial'
    shutil.rmtree(staging, ignore_errors=True)
    os.makedirs(BENCH_DIR, exist_ok=True)
    cmd = [sys.executable, '-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--no-deps',
           '--target', staging, ANSIBLE_REQ]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False,
                          env=dict(os.environ, PIP_ROOT_USER_ACTION='ignore'))
    if proc.returncode != 0 or not os.path.exists(ZNODE.replace(ANSIBLE_PKG, staging)):
        shutil.rmtree(staging, ignore_errors=True)
        sys.exit('benchmarks/run: cannot install community.general for the znode comparison.\n'
                 '  command: %s\n  pip said: %s\n'
                 'Install it by hand (PyPI must be reachable), or run with --skip znode.'
                 % (' '.join(cmd), (proc.stderr or proc.stdout).strip()[-2000:] or 'nothing'))
    shutil.rmtree(ANSIBLE_PKG, ignore_errors=True)
    os.rename(staging, ANSIBLE_PKG)


def machine(server):
    with open('/proc/meminfo') as f:
        mem_kb = int(next(line for line in f if line.startswith('MemTotal:')).split()[1])
    cpu = platform.processor() or 'unknown'
    with open('/proc/cpuinfo') as f:
        for line in f:
            if line.startswith('model name'):
                cpu = line.split(':', 1)[1].strip()
                break
    from ansible.release import __version__ as core
    import kazoo
    zk = 'unknown'
    for line in zkserver.four_letter(server.port, 'srvr').splitlines():
        if line.startswith('Zookeeper version:'):
            zk = line.split(':', 1)[1].split(',')[0].split('-')[0].strip()
    general = 'not installed'
    manifest = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(ZNODE))), 'MANIFEST.json')
    if os.path.exists(manifest):
        with open(manifest) as f:
            general = json.load(f)['collection_info']['version']
    return ('machine: %d CPUs (%s), %.1f GiB RAM, %s; Python %s, ansible-core %s, kazoo %s, ZooKeeper %s '
            '(standalone, 127.0.0.1, data on %s), community.general %s'
            % (os.cpu_count(), cpu, mem_kb / 1048576.0, platform.platform(terse=True), platform.python_version(),
               core, kazoo.__version__, zk, server.workdir, general))


def loadavg():
    return ' '.join('%.2f' % x for x in os.getloadavg())


def write_playbooks(workdir):
    paths = {}
    for name, text in PLAYBOOKS.items():
        paths[name] = os.path.join(workdir, name)
        with open(paths[name], 'w') as f:
            f.write(text.format(name=name[:-4], release=RELEASE))
    return paths


def task_results(stdout):
    """Task results printed by the default callback with -v and the json result format."""
    out, decoder, pos = [], json.JSONDecoder(), 0
    while True:
        pos = stdout.find('] => {', pos)
        if pos < 0:
            return out
        value, end = decoder.raw_decode(stdout, pos + 5)
        out.append(value)
        pos = end


def ansible_run(playbook, extra_vars=None, env=None):
    """(seconds of the whole ansible-playbook process, [task results])."""
    extra = dict(ANSIBLE_ENV)
    extra.update(env or {})
    t0 = time.perf_counter()
    res = helpers.playbook(playbook, extra_vars, args=('-v',), env=extra, timeout=1800)
    elapsed = time.perf_counter() - t0
    if res.rc != 0:
        raise rb.BenchError('%s failed:\n%r' % (os.path.basename(playbook), res))
    return elapsed, task_results(res.stdout)


def write_config(workdir, scale):
    path = os.path.join(workdir, '%s-x%d.config.zoo' % (RELEASE, scale))
    config = rb.release_config(scale)
    with open(path, 'w') as f:
        json.dump(config, f)
    return path, config


def module_body(zk_hosts, config_file, verify):
    """Seconds of what zk_release_node does between parsing its arguments and exit_json, run in
    this process: read and validate the config file, connect, read/plan/write, build the result."""
    params = {'release': RELEASE, 'config_file': config_file, 'state': 'present', 'mode': 'replace',
              'verify': verify, 'allow_chunked': False}
    t0 = time.perf_counter()
    request = _publish.request_from_params(params)
    with ZkSession(hosts=zk_hosts) as session:
        outcome = _publish.run(session, request, False)
    json.dumps(_publish.result(RELEASE, outcome, 1000))
    return time.perf_counter() - t0


def warm_up(server):
    """A fresh ZooKeeper JVM runs its first large multi-op about 3x slower (JIT): write and delete
    the base release twice, untimed, so that no measured run pays for that."""
    raw = rb.Raw(server.hosts, '/warm-up')
    try:
        nodes = rb.release_nodes(RELEASE, rb.release_config(1))
        for dummy in range(2):
            raw.write(nodes, request_size)
            raw.floor_full_read(RELEASE)
            raw.wipe('/releases')
    finally:
        raw.close()


# ---- the parts ---------------------------------------------------------------------------------

class Bench(object):
    def __init__(self, opts, server, workdir):
        self.opts = opts
        self.server = server
        self.workdir = workdir
        self.books = write_playbooks(workdir)
        self.table = Table()
        self.empty = Samples()
        self.ping = Samples()
        self.znode_env = {'ANSIBLE_COLLECTIONS_PATH': '%s:%s' % (helpers.COLLECTIONS, ANSIBLE_PKG)}
        self.publish = {}   # scale -> {'task', 'zk', 'floor', 'body', 'nodes', ...} (Samples and counts)
        self.lookups = {}   # releases -> {question: {'task', 'zk', 'floor'}}

    def hosts(self, chroot):
        return self.server.hosts + chroot

    def runs(self, count, what, func):
        for dummy in range(count):
            func()
        log('%s: %d runs done (load %s)' % (what, count, loadavg()))

    # -- 0. the empty playbook, and one trivial module task (Ansible's own cost of a module task)
    def baseline(self):
        def one():
            self.empty.add(ansible_run(self.books['empty.yml'])[0])
            self.ping.add(ansible_run(self.books['ping.yml'])[0])
        self.runs(self.opts.runs, 'empty and ping playbooks', one)

    # -- 1. publish
    def measure_publish(self, scale, runs):
        """First publish of `scale` x the base release by the module and by the raw floor, each run
        from an empty chroot."""
        config_file, config = write_config(self.workdir, scale)
        nodes = rb.release_nodes(RELEASE, config)
        chroot = '/publish-x%d' % scale
        raw = rb.Raw(self.server.hosts, chroot)
        floor_raw = rb.Raw(self.server.hosts, '/floor-x%d' % scale)
        out = {'task': Samples(), 'zk': Samples(), 'floor': Samples(), 'body': Samples(), 'nodes': len(nodes)}
        extra = {'zk_hosts': self.hosts(chroot), 'config_file': config_file, 'verify': 'full',
                 'allow_chunked': scale > 1}

        def one():
            raw.wipe('/releases', '/elastic_release')
            elapsed, results = ansible_run(self.books['publish.yml'], extra)
            task = results[-1]
            if not task.get('changed') or task['operations_count'] < len(nodes) - 1:
                raise rb.BenchError('publish x%d wrote %s operations' % (scale, task.get('operations_count')))
            out['task'].add(elapsed)
            out['zk'].add(task['zk_seconds'])
            out['transactions'] = task['transactions']
            out['operations'] = task['operations_count']
            floor_raw.wipe('/releases')
            seconds, out['floor_transactions'] = floor_raw.write(nodes, request_size)
            out['floor'].add(seconds)
            if scale == 1:
                raw.wipe('/releases', '/elastic_release')
                out['body'].add(module_body(self.hosts(chroot), config_file, 'full'))
        try:
            self.runs(runs, 'publish x%d' % scale, one)
            out['size'] = request_size([('create', p, d) for p, d in nodes], rb.OPEN_ACL_UNSAFE, chroot)
            if scale == 1 and 'rerun' not in self.opts.skip:
                out.update(self.rerun(raw, extra))
            raw.wipe('/releases', '/elastic_release')
            floor_raw.wipe('/releases')
        finally:
            raw.close()
            floor_raw.close()
        self.publish[scale] = out
        return out

    # -- 2. idempotent rerun
    def rerun(self, raw, extra):
        out = {}
        for verify in ('full', 'fast'):
            task_s, zk_s, floor_s, body_s = Samples(), Samples(), Samples(), Samples()

            def one():
                elapsed, results = ansible_run(self.books['publish.yml'], dict(extra, verify=verify))
                task = results[-1]
                if task.get('changed') or task.get('verified') != verify:
                    raise rb.BenchError('rerun verify=%s: changed=%s verified=%s'
                                        % (verify, task.get('changed'), task.get('verified')))
                task_s.add(elapsed)
                zk_s.add(task['zk_seconds'])
                floor = raw.floor_full_read(RELEASE) if verify == 'full' else raw.floor_fast_read(RELEASE)
                floor_s.add(floor[0])
                out['reads_' + verify] = floor[1]
                if verify == 'fast':
                    body_s.add(module_body(extra['zk_hosts'], extra['config_file'], verify))
            self.runs(self.opts.runs, 'rerun verify=%s' % verify, one)
            out['rerun_' + verify] = {'task': task_s, 'zk': zk_s, 'floor': floor_s, 'body': body_s}
        # verify=fast compares a digest of the desired state: CPU time, computed once with the
        # request (so outside zk_seconds, inside the module body). Timed in a fresh process, as the
        # module runs it (this one holds large objects that slow it down).
        proc = subprocess.run([sys.executable, '-c', DIGEST_TIMER, helpers.COLLECTIONS, extra['config_file'],
                               str(self.opts.runs)], capture_output=True, text=True, check=True)
        out['digest'] = Samples(json.loads(proc.stdout))
        return out

    # -- 1c. community.general.znode
    def znode(self):
        config = rb.release_config(1)
        nodes = rb.release_nodes(RELEASE, config)
        step = max(1, len(nodes) // self.opts.znode_nodes)
        sample = [(p, d.decode('utf-8')) for p, d in nodes[step // 2::step]][:self.opts.znode_nodes]
        chroot = '/znode'
        raw = rb.Raw(self.server.hosts, chroot)
        empty, task = Samples(), Samples()
        try:
            def one():
                empty.add(ansible_run(self.books['empty.yml'], env=self.znode_env)[0])
                raw.wipe('/releases')
                elapsed = ansible_run(self.books['znode.yml'], {'zk_hosts': self.hosts(chroot), 'nodes': sample},
                                      env=self.znode_env)[0]
                for path, data in sample:
                    if raw.get(path)[0] != data.encode('utf-8'):
                        raise rb.BenchError('znode wrote %r to %s, expected %r' % (raw.get(path)[0], path, data))
                task.add(elapsed)
            self.runs(self.opts.runs, 'znode loop of %d nodes' % len(sample), one)
            raw.wipe('/releases')
        finally:
            raw.close()
        per_node = Samples((t - e) / len(sample) for t, e in zip(task.values, empty.values))
        return {'empty': empty, 'task': task, 'per_node': per_node, 'count': len(sample), 'nodes': len(nodes)}

    # -- 3. lookups
    def measure_lookups(self, n_releases, questions, runs):
        chroot = '/lookup-%d' % n_releases
        raw = rb.Raw(self.server.hosts, chroot)
        nodes, asked = rb.lookup_nodes(n_releases)
        out = {}
        try:
            raw.write(nodes, request_size)
            kinds = {'section_id': 'sections', 'inner_ip': 'servers', 'version': 'versions'}
            expected = rb.lookup_release(n_releases - 1)
            for question in questions:
                task_s, zk_s, floor_s, fresh_s = Samples(), Samples(), Samples(), Samples()

                def one():
                    extra = {'zk_hosts': self.hosts(chroot), question: asked[question]}
                    elapsed, results = ansible_run(self.books['lookup.yml'], extra)
                    if results[-1].get('release') != expected:
                        raise rb.BenchError('lookup %s: %r' % (question, results[-1]))
                    task_s.add(elapsed)
                    zk_s.add(results[-1]['zk_seconds'])
                    floor_s.add(raw.floor_lookup(kinds[question], asked[question])[0])
                    seconds, owner = rb.floor_lookup_fresh(self.hosts(chroot), kinds[question], asked[question])
                    if owner != expected:
                        raise rb.BenchError('fresh-process lookup floor %s: owner %r' % (question, owner))
                    fresh_s.add(seconds)
                self.runs(runs, 'lookup %s in %d releases' % (question, n_releases), one)
                out[question] = {'task': task_s, 'zk': zk_s, 'floor': floor_s, 'fresh': fresh_s,
                                 'name': asked[question]}
            raw.wipe('/releases', '/default_release')
        finally:
            raw.close()
        out['nodes'] = len(nodes)
        self.lookups[n_releases] = out
        return out

    # -- 4. fleet start (benchmarks/fleet_start.py)
    def fleet(self):
        chroot = '/fleet'
        rb.Raw(self.server.hosts, chroot).close()
        base = os.path.join(self.workdir, 'fleet')
        zk_hosts = self.hosts(chroot)
        fleet_start.publish(zk_hosts, self.opts.fleet_hosts, 2)
        inventory = fleet_start.layout(base, self.opts.fleet_hosts)
        t_index, t_find = fleet_start.bare_lookups(zk_hosts, self.opts.fleet_hosts)
        times = {'controller': Samples(), 'host': Samples()}
        try:
            for dummy in range(self.opts.fleet_runs):
                for mode in ('controller', 'host'):
                    elapsed, changed = fleet_start.run_flow(inventory, zk_hosts, mode, self.opts.fleet_forks)
                    stopped = gameservice.stop_all([base])
                    for path in gameservice.pid_files(base):
                        os.unlink(path)
                    if changed != self.opts.fleet_hosts or len(stopped) != self.opts.fleet_hosts:
                        raise rb.BenchError('fleet %s: %d changed, %d stopped' % (mode, changed, len(stopped)))
                    times[mode].add(elapsed)
                    log('fleet start resolve=%s: %.1f s (load %s)' % (mode, elapsed, loadavg()))
        finally:
            gameservice.stop_all([base])
        return {'times': times, 'index': t_index, 'find': t_find}


# ---- report ------------------------------------------------------------------------------------

def report_publish(t, bench, znode):
    p = bench.publish[1]
    empty = bench.empty.median
    t.title('1. Publish a release of 5,000 sections, 1,000 servers, 50 versions (%s nodes, %s-byte request)'
            % (num(p['nodes'], 0), num(p['size'], 0)))
    t.sample('empty ansible-playbook (one meta: noop task)', bench.empty)
    t.sample('ansible.builtin.ping task (Ansible\'s cost of any module task)', bench.ping)
    t.sample('zk_release_node task, whole ansible-playbook process', p['task'],
             '%d ops, %d transaction' % (p['operations'], p['transactions']))
    over = p['task'].median - empty
    t.row('  over the empty playbook', secs(over))
    t.row('  over the ping task', secs(p['task'].median - bench.ping.median))
    t.sample('  module zk_seconds (read, plan, lock, commit)', p['zk'])
    t.sample('  module body in-process: config file, connect, apply, result', p['body'])
    t.row('  the rest (Ansible: fork, AnsiballZ, module start-up, result)',
          secs(p['task'].median - empty - p['body'].median))
    t.sample('raw kazoo floor: the same creates in one transaction', p['floor'])
    ratio = p['zk'].median / p['floor'].median
    t.row('  module zk_seconds / floor', '%.2fx' % ratio)
    t.target(over <= 1.5, '1. publish: whole task within 1.5 s of the empty playbook',
             '+%s (%s vs %s)' % (secs(over), secs(p['task'].median), secs(empty)))
    t.target(ratio <= 2, '1. publish: module ZooKeeper part within 2x the raw-kazoo floor',
             '%.2fx (%s vs %s)' % (ratio, secs(p['zk'].median), secs(p['floor'].median)))
    if znode:
        z = znode
        t.sample('community.general.znode loop, %d nodes, whole process' % z['count'], z['task'],
                 '(%d nodes measured)' % (z['count'] * len(z['task'].values)))
        t.sample('  empty ansible-playbook with the ansible package on the path', z['empty'])
        t.sample('  per node: (loop - empty) / %d' % z['count'], z['per_node'])
        projected = z['empty'].median + z['per_node'].median * z['nodes']
        t.row('  projected for all %s nodes' % num(z['nodes'], 0), secs(projected),
              '(%.0f min)' % (projected / 60))
        speedup = projected / p['task'].median
        t.row('  projected znode loop / zk_release_node task', '%sx' % num(speedup, 0))
        t.target(speedup >= 500, '1. publish: at least 500x faster than the znode loop (same nodes)',
                 '%sx (%s vs %s)' % (num(speedup, 0), secs(projected), secs(p['task'].median)))


def report_rerun(t, bench):
    p = bench.publish[1]
    empty = bench.empty.median
    t.title('2. Idempotent rerun of the same release (nothing written)')
    for verify in ('full', 'fast'):
        r = p['rerun_' + verify]
        reads = p['reads_' + verify]
        t.sample('verify=%s: task, whole process' % verify, r['task'])
        t.row('  over the empty playbook', secs(r['task'].median - empty))
        t.row('  over the ping task', secs(r['task'].median - bench.ping.median))
        t.sample('  module zk_seconds', r['zk'])
        what = 'list + get of every node' if verify == 'full' else '1 round of the stats fast needs'
        t.sample('  raw kazoo floor: %s (%s reads)' % (what, num(reads, 0)), r['floor'])
        ratio = r['zk'].median / r['floor'].median
        t.row('  module zk_seconds / floor', '%.2fx' % ratio)
        if verify == 'fast':
            t.sample('  desired-state digest (CPU, not in zk_seconds)', p['digest'])
            t.sample('  module body in-process: config file, connect, apply, result', r['body'])
            t.row('  the rest (Ansible: fork, AnsiballZ, module start-up, result)',
                  secs(r['task'].median - empty - r['body'].median))
        t.target(ratio <= 2, '2. rerun verify=%s: module ZooKeeper part within 2x the floor' % verify,
                 '%.2fx (%s vs %s)' % (ratio, secs(r['zk'].median), secs(r['floor'].median)))
    fast = p['rerun_fast']['task'].median - empty
    t.target(fast <= 1.5, '2. rerun verify=fast: whole task within 1.5 s of the empty playbook',
             '+%s (%s vs %s)' % (secs(fast), secs(p['rerun_fast']['task'].median), secs(empty)))


def report_lookups(t, bench):
    n = min(bench.lookups)
    look = bench.lookups[n]
    t.title('3. Lookups: %d releases x %d sections (%s nodes), item in the last release'
            % (n, rb.LOOKUP_SECTIONS, num(look['nodes'], 0)))
    for question in ('section_id', 'inner_ip', 'version'):
        if question not in look:
            continue
        r = look[question]
        t.sample('release_lookup %s=%s: task, whole process' % (question, r['name']), r['task'])
        t.sample('  module zk_seconds', r['zk'])
        t.sample('  raw kazoo floor: 3 pipelined rounds, exists per release', r['floor'])
        ratio = r['zk'].median / r['floor'].median
        t.row('  module zk_seconds / floor', '%.2fx' % ratio)
        t.sample('  raw kazoo floor in a fresh process, once connected (as module)', r['fresh'])
        t.row('  module zk_seconds / fresh-process floor', '%.2fx' % (r['zk'].median / r['fresh'].median))
        t.target(ratio <= 1.5, '3. lookup by %s: module ZooKeeper part within 1.5x the floor' % question,
                 '%.2fx (%s vs %s)' % (ratio, secs(r['zk'].median), secs(r['floor'].median)))


def report_fleet(t, bench, fleet):
    hosts = bench.opts.fleet_hosts
    t.title('4. Fleet start: playbooks/start.yml on %d local hosts, forks %d, stub service, 2 releases'
            % (hosts, bench.opts.fleet_forks))
    t.row('in-process: ReleaseIndex.load + %d answers' % hosts, secs(fleet['index']))
    t.row('in-process: %d x find() on one session' % hosts, secs(fleet['find']))
    for mode, label in (('controller', 'controller-side lookup (one tree read)'), ('host', 'per-host lookups')):
        s = fleet['times'][mode]
        t.sample('resolve=%s: %s' % (mode, label), s)
        t.row('  per host: (run - empty playbook) / %d' % hosts, secs((s.median - bench.empty.median) / hosts))
    ratio = fleet['times']['host'].median / fleet['times']['controller'].median
    t.row('per-host lookups / controller-side lookup', '%.2fx' % ratio)


def report_scale(t, bench):
    t.title('5. Scale curve (first publish from an empty chroot; lookup by section, last release)')
    t.row('publish: scale, nodes, request bytes', 'task', 'zk_seconds | raw floor | zk/floor | transactions')
    for scale in sorted(bench.publish):
        p = bench.publish[scale]
        t.row('  x%-2d %7s nodes %11s bytes' % (scale, num(p['nodes'], 0), num(p['size'], 0)),
              secs(p['task'].median),
              '%s | %s | %.2fx | %d (floor %d)  runs %d'
              % (secs(p['zk'].median), secs(p['floor'].median), p['zk'].median / p['floor'].median,
                 p['transactions'], p['floor_transactions'], len(p['task'].values)))
    t.row('lookup: releases x %d sections, nodes' % rb.LOOKUP_SECTIONS, 'task', 'zk_seconds | raw floor | zk/floor')
    for n in sorted(bench.lookups):
        r = bench.lookups[n]['section_id']
        t.row('  %4d releases %8s nodes' % (n, num(bench.lookups[n]['nodes'], 0)), secs(r['task'].median),
              '%s | %s | %.2fx  runs %d' % (secs(r['zk'].median), secs(r['floor'].median),
                                            r['zk'].median / r['floor'].median, len(r['task'].values)))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--runs', type=int, default=5, help='runs per measurement (medians), default 5')
    parser.add_argument('--znode-nodes', type=int, default=40, help='znode loop items per run, default 40')
    parser.add_argument('--scale-runs', type=int, default=3, help='runs per point of the 4x/16x curve, default 3')
    parser.add_argument('--scales', default='4,16', help='publish/lookup scale points beyond 1x, default 4,16')
    parser.add_argument('--fleet-hosts', type=int, default=200)
    parser.add_argument('--fleet-forks', type=int, default=20)
    parser.add_argument('--fleet-runs', type=int, default=1, help='runs of each fleet mode, default 1')
    parser.add_argument('--skip', action='append', default=[], choices=PARTS, help='leave a part out (repeatable)')
    opts = parser.parse_args()
    started = time.time()
    skip = set(opts.skip)
    scales = [int(x) for x in opts.scales.split(',') if x.strip()]

    if 'znode' not in skip:
        ensure_znode_collection()
    zkserver.check_installed()
    workdir = tempfile.mkdtemp(prefix='elastic-release-bench-')
    load_start = loadavg()
    # A bigger heap than the tests' 128 MB: the 16x points hold ~180,000 nodes.
    server = zkserver.Standalone(workdir=os.path.join(workdir, 'zk'), jvm_args=['-Xmx768m'])
    try:
        server.start()
        log('ZooKeeper on %s; work directory %s; load %s' % (server.hosts, workdir, load_start))
        bench = Bench(opts, server, workdir)
        t = bench.table
        warm_up(server)
        limit = None
        if 'limit' not in skip:
            limit = rb.probe_request_limit(server.hosts, request_size)
            log('request limit probed: %d accepted, %d dropped' % limit[:2])
        bench.baseline()
        bench.measure_publish(1, opts.runs)
        znode = bench.znode() if 'znode' not in skip else None
        if 'lookup' not in skip:
            bench.measure_lookups(50, ('section_id', 'inner_ip', 'version'), opts.runs)
        fleet = bench.fleet() if 'fleet' not in skip else None
        if 'scale' not in skip:
            for scale in scales:
                bench.measure_publish(scale, opts.scale_runs)
                if 'lookup' not in skip:
                    bench.measure_lookups(50 * scale, ('section_id',), opts.scale_runs)

        t.lines.append('gameops.elastic_release benchmarks: %s' % ' '.join(['benchmarks/run'] + sys.argv[1:]))
        t.lines.append(machine(server))
        t.lines.append('Medians of N runs ([min-max] xN); "task" is one whole ansible-playbook process '
                       '(-i localhost, -c local, -v).')
        report_publish(t, bench, znode)
        if 'rerun' not in skip:
            report_rerun(t, bench)
        if 'lookup' not in skip:
            report_lookups(t, bench)
        if fleet:
            report_fleet(t, bench, fleet)
        if 'scale' not in skip:
            report_scale(t, bench)
        if limit:
            t.title('6. Request size limit (ZooKeeper default jute.maxbuffer), by bisection on exact request sizes')
            t.row('largest multi-op request accepted', '%s B' % num(limit[0], 0), '(_zk.request_size bytes)')
            t.row('smallest dropped (connection closed, ConnectionLoss)', '%s B' % num(limit[1], 0),
                  '%d attempts' % limit[2])
        t.lines.append('')
        t.lines.append('load average: %s at the start, %s at the end; total %.1f min'
                       % (load_start, loadavg(), (time.time() - started) / 60))
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    text = t.render()
    os.makedirs(BENCH_DIR, exist_ok=True)
    with open(RESULTS, 'w') as f:
        f.write(text)
    sys.stdout.write(text)
    log('table written to %s' % RESULTS)


if __name__ == '__main__':
    main()
