#!/usr/bin/env python
# -*- coding: utf-8 -*-
"""Benchmarks of the flows, the honest rerun, a one-node update, the lookups, the fleet flows, a
rerun under a CPU hog, the scale curve and the undo of a promote, each figure paired with its own
baseline.

    nice python benchmarks/run.py [--pairs 5] [--fleet-pairs 3] [--hog-runs 10]
                                  [--scale 100,1000,6050,20000,60000] [--scale-pairs 3] [--skip PART ...]

Starts its own ZooKeeper on 127.0.0.1 (tests/zkserver.py, Debian's jars), runs every measured task
as a whole `ansible-playbook` process (the collection linked at .build/collections, as the tests
do) and alternates every figure with its baseline in the same run: round 1 runs A then B, round 2
B then A, and so on, so a load that drifts during the run weighs on both alike. Medians; a goal is
judged on the median of the per-round differences or ratios (the medians of each side are printed
beside it). Progress goes to stderr, the table to stdout and to .build/bench/results.txt.
See benchmarks/README.md. Not a test: nothing here asserts a time.
"""

from __future__ import absolute_import, division, print_function

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path[:0] = [os.path.join(ROOT, 'tests'), HERE]

import helpers  # noqa: E402  pylint: disable=wrong-import-position
import zkserver  # noqa: E402  pylint: disable=wrong-import-position

sys.path.insert(0, helpers.install_collection())

import fleet_flows  # noqa: E402  pylint: disable=wrong-import-position
import flow_bench  # noqa: E402  pylint: disable=wrong-import-position
import release_bench as rb  # noqa: E402  pylint: disable=wrong-import-position

from ansible_collections.gameops.elastic_release.plugins.inventory.zookeeper import read_servers  # noqa: E402
from ansible_collections.gameops.elastic_release.plugins.module_utils._release.config import encode, parse_config  # noqa: E402
from ansible_collections.gameops.elastic_release.plugins.module_utils._release.state import state_from_config  # noqa: E402
from ansible_collections.gameops.elastic_release.plugins.module_utils._report.lookup import answer_all  # noqa: E402
from ansible_collections.gameops.elastic_release.plugins.module_utils._write.change import Options  # noqa: E402
from ansible_collections.gameops.elastic_release.plugins.module_utils._write.publish import PublishIntent, load_package  # noqa: E402
from ansible_collections.gameops.elastic_release.plugins.module_utils._write.transaction import apply  # noqa: E402
from ansible_collections.gameops.elastic_release.plugins.module_utils._zk.session import ZkSession, request_size  # noqa: E402

BENCH_DIR = os.path.join(helpers.BUILD, 'bench')
RESULTS = os.path.join(BENCH_DIR, 'results.txt')
RELEASE = 'bench'
PARTS = ('flows', 'profile', 'rerun', 'update', 'lookups', 'fleet', 'hog', 'scale', 'limit', 'undo')
# Module task results are read from the default callback's -v output, in JSON.
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
    'publish.yml': PLAY + '''    - name: Publish the release
      gameops.elastic_release.zk_release_node:
        hosts: "{{{{ zk_hosts }}}}"
        release: {release}
        config_file: "{{{{ config_file }}}}"
        verify: "{{{{ verify }}}}"
        allow_chunked: "{{{{ allow_chunked }}}}"
''',
    'undo.yml': PLAY + '''    - name: Undo the newest change of production (every release it touched)
      gameops.elastic_release.zk_release_revision:
        hosts: "{{{{ zk_hosts }}}}"
        release: production
        state: restored
        release_items: [all]
      vars:
        elastic_release_in_process: "{{{{ in_process }}}}"
''',
    'lookup.yml': PLAY + '''    - name: Look up
      gameops.elastic_release.release_lookup:
        hosts: "{{{{ zk_hosts }}}}"
        section_id: "{{{{ section_id | default(omit) }}}}"
        inner_ip: "{{{{ inner_ip | default(omit) }}}}"
        version: "{{{{ version | default(omit) }}}}"
''',
}
HOG = 'while True:\n    pass\n'


def log(msg):
    print('[%s] %s' % (time.strftime('%H:%M:%S'), msg), file=sys.stderr, flush=True)


def loadavg():
    return ' '.join('%.2f' % x for x in os.getloadavg())


# ---- samples, pairs and the table --------------------------------------------------------------

class Samples(object):
    def __init__(self, values=()):
        self.values = list(values)

    def add(self, value):
        self.values.append(value)

    @property
    def median(self):
        return statistics.median(self.values)


def alternate(rounds, runners, what):
    """Run every runner once per round, in order on even rounds and in reverse on odd ones.

    runners: [(name, func)]; func() returns seconds, or (seconds, extra). Returns {name: Samples}
    and {name: [extra]}, each in round order, so index i of every name belongs to round i.
    """
    times = dict((name, Samples()) for name, dummy in runners)
    extras = dict((name, []) for name, dummy in runners)
    for i in range(rounds):
        order = runners if i % 2 == 0 else list(reversed(runners))
        for name, func in order:
            value = func()
            seconds, extra = value if isinstance(value, tuple) else (value, None)
            times[name].add(seconds)
            extras[name].append(extra)
        log('%s: round %d/%d: %s (load %s)' % (what, i + 1, rounds, ', '.join(
            '%s %s' % (name, secs(times[name].values[-1])) for name, dummy in runners), loadavg()))
    return times, extras


def num(value, digits=2):
    return '{:,.{}f}'.format(value, digits)


def secs(value):
    if abs(value) < 0.1:
        return '%s ms' % num(value * 1000, 1)
    return '%s s' % num(value, 2 if abs(value) < 100 else 0)


def signed(value):
    return ('+' if value >= 0 else '-') + secs(abs(value))


class Table(object):
    def __init__(self):
        self.lines = []
        self.goals = []

    def title(self, text):
        self.lines += ['', text]

    def row(self, label, value, detail=''):
        self.lines.append(('  %-66s %11s  %s' % (label, value, detail)).rstrip())

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

    def goal_over(self, text, measured, baseline, limit):
        """Goal: measured within +limit seconds of its paired baseline (median of the per-round differences)."""
        diffs = [m - b for m, b in zip(measured.values, baseline.values)]
        over = statistics.median(diffs)
        self._goal(over <= limit, text, measured, baseline,
                   '%s (limit +%s)' % (signed(over), secs(limit)),
                   'ratio %.2fx' % (measured.median / baseline.median))

    def goal_ratio(self, text, measured, baseline, limit):
        """Goal: measured at most limit x its paired baseline (median of the per-round ratios)."""
        ratios = [m / b for m, b in zip(measured.values, baseline.values)]
        ratio = statistics.median(ratios)
        self._goal(ratio <= limit, text, measured, baseline, '%.2fx (limit %.2fx)' % (ratio, limit),
                   'diff %s' % signed(measured.median - baseline.median))

    def goal_count(self, text, met, measured):
        self.goals.append(('MET' if met else 'MISSED', text, measured, '', '', ''))

    def _goal(self, met, text, measured, baseline, verdict, other):
        self.goals.append(('MET' if met else 'MISSED', text, secs(measured.median), secs(baseline.median),
                           verdict, other))

    def render(self):
        out = list(self.lines)
        out += ['', 'Goals: measured | paired baseline | per-round median difference or ratio (limit)'
                ' | the other view']
        for verdict, text, measured, baseline, judged, other in self.goals:
            if baseline:
                out.append('  %-6s %-62s %9s | %9s | %-28s | %s' % (verdict, text, measured, baseline, judged, other))
            else:
                out.append('  %-6s %-62s %s' % (verdict, text, measured))
        return '\n'.join(out) + '\n'


# ---- processes ---------------------------------------------------------------------------------

def write_playbooks(workdir):
    paths = {}
    for name, text in PLAYBOOKS.items():
        paths[name] = os.path.join(workdir, name)
        with open(paths[name], 'w') as f:
            f.write(text.format(name=name[:-4], release=RELEASE))
    return paths


class TreeRss(object):
    """Peak resident memory of a process and all its descendants, sampled every 50 ms from /proc
    (children from /proc/<pid>/task/<tid>/children, resident pages from /proc/<pid>/statm)."""

    PAGE = os.sysconf('SC_PAGE_SIZE')

    def __init__(self, pid, interval=0.05):
        self.pid = pid
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(interval,))
        self._thread.daemon = True
        self._thread.start()

    def _run(self, interval):
        while not self._stop.is_set():
            self.peak = max(self.peak, self.sample())
            self._stop.wait(interval)

    @staticmethod
    def _children(pid):
        out = []
        try:
            for tid in os.listdir('/proc/%d/task' % pid):
                with open('/proc/%d/task/%s/children' % (pid, tid)) as f:
                    out.extend(int(p) for p in f.read().split())
        except (OSError, ValueError):
            pass
        return out

    def sample(self):
        total, todo = 0, [self.pid]
        while todo:
            pid = todo.pop()
            try:
                with open('/proc/%d/statm' % pid) as f:
                    total += int(f.read().split()[1]) * self.PAGE
            except (OSError, ValueError, IndexError):
                continue
            todo.extend(self._children(pid))
        return total

    def stop(self):
        self._stop.set()
        self._thread.join()
        return self.peak


def ansible_run(playbook, extra_vars=None, env=None, rss=False):
    """(seconds of the whole ansible-playbook process, [task results], peak RSS of its tree or None)."""
    cmd = ['ansible-playbook', '-i', 'localhost,', playbook, '-c', 'local',
           '-e', 'ansible_python_interpreter=%s' % helpers.PYTHON, '-v']
    if extra_vars:
        cmd += ['-e', json.dumps(extra_vars)]
    full_env = helpers.ansible_env(dict(ANSIBLE_ENV, **(env or {})))
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=full_env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            universal_newlines=True)
    watch = TreeRss(proc.pid) if rss else None
    stdout, stderr = proc.communicate(timeout=1800)
    elapsed = time.perf_counter() - t0
    peak = watch.stop() if watch else None
    if proc.returncode != 0:
        raise rb.BenchError('%s failed (exit %d):\n%s\n%s' % (os.path.basename(playbook), proc.returncode,
                                                              stdout[-4000:], stderr[-3000:]))
    return elapsed, flow_bench.task_results(stdout), peak


def write_config(workdir, name, config):
    """A config.zoo on disk named after its release, as zk_release_node's config_file wants it."""
    directory = os.path.join(workdir, 'config-%s' % name)
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, '%s.config.zoo' % RELEASE)
    with open(path, 'w') as f:
        json.dump(config, f)
    return path


class Hog(object):
    """One busy loop per CPU at our own priority, on the cores everything else uses."""

    def __init__(self, count=None):
        self.procs = [subprocess.Popen([sys.executable, '-c', HOG]) for dummy in range(count or os.cpu_count() or 2)]

    def stop(self):
        for proc in self.procs:
            proc.kill()
            proc.wait()


class ZkHeap(object):
    """The ZooKeeper JVM's heap after a full GC (jcmd, from the JDK)."""

    def __init__(self, server):
        self.pid = server.node.pid

    def used(self):
        """Bytes of heap in use after a full collection (every generation), None without jcmd."""
        jcmd = shutil.which('jcmd')
        if not jcmd:
            return None
        subprocess.run([jcmd, str(self.pid), 'GC.run'], capture_output=True, check=False, timeout=120)
        out = subprocess.run([jcmd, str(self.pid), 'GC.heap_info'], capture_output=True, text=True, check=False,
                             timeout=120).stdout
        # Serial GC: " def new generation   total 4928K, used 2405K [...", " tenured generation ...";
        # G1: " garbage-first heap   total 49152K, used 20334K [...". Metaspace is not heap.
        used = [int(m.group(1)) * 1024 for m in re.finditer(r'(?m)^ *(?:\S+ )*(?:generation|heap) +total \d+K, used (\d+)K', out)]
        return sum(used) if used else None


# ---- the benchmark -----------------------------------------------------------------------------

class Bench(object):
    def __init__(self, opts, server, workdir):
        self.opts = opts
        self.server = server
        self.workdir = workdir
        self.books = write_playbooks(workdir)
        self.t = Table()
        self.heap = ZkHeap(server)

    def hosts(self, chroot):
        return self.server.hosts + chroot

    def empty(self):
        return ansible_run(self.books['empty.yml'])[0]

    # -- 1. the flows on the example inventory ---------------------------------------------------
    def flows(self):
        t = self.t
        flows = flow_bench.Flows(self.server.hosts, self.workdir)
        try:
            t.title('1. Release flows on the example inventory (9-node packages): ansible-playbook -i inventory '
                    'playbooks/<flow>.yml -e package=<path> -e release=<name> [-e summary_file=<path>]')
            for name in ('production', 'gray', 'review'):
                flows.prepare(name)

                def first(name=name, summary_file=False):
                    return flows.check(flows.run(name, 'first', summary_file=summary_file), name, True)[0]

                def rerun(name=name):
                    return flows.check(flows.run(name, 'rerun'), name, False)[0]
                times, dummy = alternate(self.opts.pairs, [('empty', lambda: flows.run_empty(name)), ('first', first),
                                                           ('rerun', rerun), ('file', lambda: first(summary_file=True))],
                                         '%s flow' % name)
                t.sample('empty playbook, same -i inventory', times['empty'])
                t.sample('%s flow, first run (writes)' % name, times['first'])
                t.sample('%s flow, identical rerun (writes nothing)' % name, times['rerun'])
                t.sample('%s flow, first run with -e summary_file=<path>' % name, times['file'])
                t.goal_over('1. %s flow within +1.5 s of the empty playbook' % name, times['first'], times['empty'], 1.5)
                t.goal_over('1. %s rerun within +1.5 s of the empty playbook' % name, times['rerun'], times['empty'], 1.5)
                t.goal_ratio('1. %s rerun no slower than the first run' % name, times['rerun'], times['first'], 1.0)
                t.goal_over('1. %s flow with a summary file within +0.6 s of empty' % name, times['file'],
                            times['empty'], 0.6)
                # The summary file is written by the summary's own task (an action plugin, no module
                # run): a flow that writes it costs about what the flow costs without it.
                t.goal_over('1. %s flow: the summary file adds at most 0.2 s' % name, times['file'], times['first'], 0.2)
            times, dummy = alternate(self.opts.pairs, [('empty', flows.run_empty), ('summary', flows.run_summary_only)],
                                     'summary step')
            t.sample('empty playbook, same -i inventory', times['empty'])
            t.sample('the summary step alone (summary role, -e summary_file=<path>)', times['summary'])
            t.goal_over('1. the summary step with its file within +0.6 s of an empty playbook', times['summary'],
                        times['empty'], 0.6)
            if 'profile' not in self.opts.skip:
                self.profile(flows)
        finally:
            flows.close()

    def profile(self, flows):
        """Where a flow's time goes: every task's wall time (our task_times callback), medians; the
        publish step's ZooKeeper part; the package read; the flow with the module as a process."""
        t = self.t
        t.title('1b. Where the time goes: wall time of each task, with -e summary_file (medians of %d runs; '
                'benchmarks/callback_plugins/task_times.py)' % self.opts.pairs)
        variants = [('production', 'first', None), ('production', 'rerun', None), ('gray', 'first', None),
                    ('review', 'first', None),
                    ('production', 'first', {'elastic_release_in_process': False})]
        for name, role, extra in variants:
            runs = [flows.run(name, role, timed_tasks=True, summary_file=True, extra=extra)
                    for dummy in range(self.opts.pairs)]
            per_task = {}
            order = []
            for dummy, summary, tasks in runs:
                for task, action, seconds in tasks['tasks']:
                    if task not in per_task:
                        order.append((task, action))
                        per_task[task] = Samples()
                    per_task[task].add(seconds)
            total = Samples(r[0] for r in runs)
            before = Samples(r[0] - r[2]['first_task_to_end'] for r in runs)
            label = '%s, %s run%s' % (name, role, ', module as a process (in_process=false)' if extra else '')
            t.sample('%s: whole ansible-playbook process' % label, total)
            t.sample('  outside the tasks: start-up, inventory, playbook, roles; exit', before)
            for task, action in order:
                t.sample('  %s' % task.split(' : ', 1)[-1][:62], per_task[task], action.replace(
                    'gameops.elastic_release.', '').replace('ansible.builtin.', ''))
                if action.endswith('zk_release_node'):
                    t.sample('    of which ZooKeeper (zk_seconds: read, plan, lock, commit)',
                             Samples(r[2]['zk_seconds'] for r in runs))
        # The package read, as flow_check and the module each do it (in this process, median of 5).
        key, release, dummy = flow_bench.FLOWS['production']
        reads = Samples()
        for dummy in range(5):
            t0 = time.perf_counter()
            load_package(flows.packages[key], release)
            reads.add(time.perf_counter() - t0)
        t.sample('the package read (load_package, 9-node package, in-process)', reads)

    # -- 2. the honest rerun of 6,050 nodes, and 3. one node updated ----------------------------
    def rerun(self):
        t = self.t
        chroot = '/rerun'
        raw = rb.Raw(self.server.hosts, chroot)
        config = rb.release_config(1)
        items = len(config['sections']) + len(config['servers']) + len(config['versions'])
        config_file = write_config(self.workdir, 'x1', config)
        extra = {'zk_hosts': self.hosts(chroot), 'config_file': config_file, 'verify': 'full', 'allow_chunked': False}
        try:
            raw.wipe('/releases', '/elastic_release')
            results = ansible_run(self.books['publish.yml'], extra)[1]
            if not results[-1].get('changed'):
                raise rb.BenchError('the first publish of the rerun part wrote nothing: %r' % results[-1])

            zk = {'full': Samples(), 'fast': Samples(), 'in_process': Samples()}

            def one(verify, in_process=False):
                def run():
                    elapsed, results, dummy = ansible_run(self.books['publish.yml'], dict(
                        extra, verify=verify, elastic_release_in_process=in_process))
                    task = results[-1]
                    if task.get('changed') or task.get('verified') != verify:
                        raise rb.BenchError('rerun verify=%s: %r' % (verify, task))
                    zk['in_process' if in_process else verify].add(task['zk_seconds'])
                    return elapsed
                return run

            def floor():
                return raw.floor_full_read(RELEASE)[0]
            times, dummy = alternate(self.opts.pairs, [('empty', self.empty), ('full', one('full')), ('floor', floor),
                                                       ('fast', one('fast')), ('in_process', one('full', True))],
                                     'rerun of %d items' % items)
            t.title('2. Identical rerun of a release of %s items (5,000 sections, 1,000 servers, 50 versions), '
                    'zk_release_node, -i localhost' % num(items, 0))
            t.sample('empty playbook', times['empty'])
            t.sample('verify: full (reads every node), whole process', times['full'])
            t.sample('  its ZooKeeper part (zk_seconds: read, compare; connected)', zk['full'])
            t.sample('raw kazoo floor: list containers, get_async every node in flight', times['floor'])
            t.sample('verify: fast (stats and a digest), whole process', times['fast'])
            t.sample('  its ZooKeeper part (zk_seconds)', zk['fast'])
            t.sample('verify: full, in-process (as the flows publish), whole process',
                     times['in_process'])
            t.sample('  its ZooKeeper part (zk_seconds)', zk['in_process'])
            t.goal_over('2. rerun verify: full within +1.0 s of the empty playbook', times['full'], times['empty'], 1.0)
            t.goal_ratio('2. rerun verify: full: ZooKeeper part <= 0.2x the pipelined floor', zk['full'],
                         times['floor'], 0.2)
            t.goal_ratio('2. (context) verify: fast task / verify: full task', times['fast'], times['full'], 1.0)
            t.goal_over('2. (context) the same rerun in-process within +1.0 s of empty', times['in_process'],
                        times['empty'], 1.0)
            if 'update' not in self.opts.skip:
                self.update(raw, extra, config, zk['full'])
            if 'hog' not in self.opts.skip:
                self.hog(extra)
            raw.wipe('/releases', '/elastic_release')
        finally:
            raw.close()

    def update(self, raw, extra, config, rerun_zk):
        """One section's data changed, against the identical rerun of whatever is there now."""
        t = self.t
        variants = []
        for label in ('a', 'b'):
            changed = json.loads(json.dumps(config))
            changed['sections'][rb.section_id(0)] = {'name': 'S0-%s' % label}
            variants.append(write_config(self.workdir, 'update-%s' % label, changed))
        current = [extra['config_file']]
        zk = {'rerun': Samples(), 'update': Samples()}

        def rerun():
            elapsed, results, dummy = ansible_run(self.books['publish.yml'], dict(extra, config_file=current[0]))
            if results[-1].get('changed'):
                raise rb.BenchError('identical rerun changed: %r' % results[-1])
            zk['rerun'].add(results[-1]['zk_seconds'])
            return elapsed

        def update():
            target = variants[0] if current[0] != variants[0] else variants[1]
            elapsed, results, dummy = ansible_run(self.books['publish.yml'], dict(extra, config_file=target))
            task = results[-1]
            if not task.get('changed') or task.get('transactions') != 1:
                raise rb.BenchError('update of one node: %r' % task)
            zk['update'].add(task['zk_seconds'])
            current[0] = target
            return elapsed, task['operations_count']
        times, extras = alternate(self.opts.pairs, [('rerun', rerun), ('update', update)], 'update of one node')
        t.title('3. Update of one section of that release, against the identical rerun of the same state')
        t.sample('identical rerun (verify: full), whole process', times['rerun'])
        t.sample('  its ZooKeeper part (zk_seconds)', zk['rerun'])
        t.sample('update of one section node, whole process', times['update'],
                 '%d node operation(s), 1 transaction' % extras['update'][0])
        t.sample('  its ZooKeeper part (zk_seconds: read, lock, stats, commit)', zk['update'])
        t.goal_ratio('3. update of one node within 1.3x the identical rerun', times['update'], times['rerun'], 1.3)

    def hog(self, extra):
        """The rerun with every core kept busy by a busy loop at our own priority."""
        t = self.t
        ok, times, zk, errors = 0, Samples(), Samples(), []
        # The update part left one section changed: publish the measured state again first (untimed),
        # so that every run under the hog is the identical rerun it is counted as.
        ansible_run(self.books['publish.yml'], extra)
        empty_idle = Samples(self.empty() for dummy in range(3))
        hog = Hog()
        try:
            time.sleep(1)
            load = loadavg()
            for i in range(self.opts.hog_runs):
                try:
                    elapsed, results, dummy = ansible_run(self.books['publish.yml'], extra)
                    task = results[-1]
                    if task.get('changed') or task.get('verified') != 'full':
                        raise rb.BenchError('rerun under the hog: %r' % task)
                    ok += 1
                    times.add(elapsed)
                    zk.add(task['zk_seconds'])
                except rb.BenchError as exc:
                    errors.append(str(exc).splitlines()[0][:200])
                log('rerun under a CPU hog: %d/%d, %d succeeded (load %s)' % (i + 1, self.opts.hog_runs, ok, loadavg()))
            empty_hog = Samples(self.empty() for dummy in range(3))
        finally:
            hog.stop()
        t.title('5a. The rerun (verify: full) of the same release under a CPU hog: %d busy loops on the %d cores, '
                'same priority' % (len(hog.procs), os.cpu_count()))
        t.row('load average once the hog ran 1 s', load)
        t.row('runs that succeeded', '%d of %d' % (ok, self.opts.hog_runs), '; '.join(errors[:3]))
        if times.values:
            t.sample('  whole process', times)
            t.sample('  ZooKeeper part (zk_seconds)', zk)
        t.sample('empty playbook before the hog (3 runs)', empty_idle)
        t.sample('empty playbook under the hog (3 runs)', empty_hog)
        t.goal_count('5. rerun of %s nodes under a CPU hog succeeds 10 of 10 times' % '6,050', ok == self.opts.hog_runs
                     and self.opts.hog_runs >= 10, '%d of %d' % (ok, self.opts.hog_runs))

    # -- lookups over 50 releases x 200 sections ------------------------------------------------
    def lookups(self):
        t = self.t
        n_releases = 50
        chroot = '/lookup-%d' % n_releases
        raw = rb.Raw(self.server.hosts, chroot)
        nodes, asked = rb.lookup_nodes(n_releases)
        kinds = {'section_id': 'sections', 'inner_ip': 'servers', 'version': 'versions'}
        expected = rb.lookup_release(n_releases - 1)
        try:
            raw.write(nodes, request_size)
            t.title('4. Lookups: %d releases x %d sections (%s nodes), the item in the last release'
                    % (n_releases, rb.LOOKUP_SECTIONS, num(len(nodes), 0)))
            for question in ('section_id', 'inner_ip', 'version'):
                zk = Samples()

                def module(question=question):
                    extra = {'zk_hosts': self.hosts(chroot), question: asked[question]}
                    elapsed, results, dummy = ansible_run(self.books['lookup.yml'], extra)
                    if results[-1].get('release') != expected:
                        raise rb.BenchError('lookup %s: %r' % (question, results[-1]))
                    zk.add(results[-1]['zk_seconds'])
                    return elapsed

                def floor(question=question):
                    seconds, owner = raw.floor_lookup(kinds[question], asked[question])
                    if owner != expected:
                        raise rb.BenchError('floor lookup %s: %r' % (question, owner))
                    return seconds
                times, dummy = alternate(self.opts.pairs, [('module', module), ('floor', floor)],
                                         'release_lookup %s' % question)
                t.sample('release_lookup %s=%s, whole process' % (question, asked[question]), times['module'])
                t.sample('  its ZooKeeper part (zk_seconds)', zk)
                t.sample('raw kazoo floor: 3 rounds, exists in every release pipelined', times['floor'])
                t.goal_ratio('2. release_lookup %s: ZooKeeper part <= 0.5x the floor' % question, zk,
                             times['floor'], 0.5)
            # The lookup plugin and the inventory plugin run on the controller: their ZooKeeper part is
            # the call they make, timed here once connected, as the modules time theirs.
            with ZkSession(hosts=self.hosts(chroot)) as session:
                def plugin():
                    t0 = time.perf_counter()
                    answer = answer_all(session, [('section_id', asked['section_id'])])
                    seconds = time.perf_counter() - t0
                    if answer[0]['release'] != expected:
                        raise rb.BenchError('lookup plugin: %r' % answer)
                    return seconds

                def floor():
                    return raw.floor_lookup('sections', asked['section_id'])[0]

                def inventory():
                    t0 = time.perf_counter()
                    data = read_servers(session)
                    seconds = time.perf_counter() - t0
                    if len(data['servers']) != n_releases * rb.LOOKUP_SERVERS:
                        raise rb.BenchError('inventory read %d servers' % len(data['servers']))
                    return seconds

                def inventory_floor():
                    return raw.floor_inventory()[0]
                times, dummy = alternate(self.opts.pairs, [('plugin', plugin), ('floor', floor),
                                                           ('inventory', inventory), ('inventory_floor', inventory_floor)],
                                         'lookup and inventory plugins')
            t.sample('release lookup plugin: ZooKeeper part (answer_all; connected)', times['plugin'])
            t.sample('raw kazoo floor: the same 3 rounds', times['floor'])
            t.goal_ratio('2. release lookup plugin: ZooKeeper part <= 0.5x the floor', times['plugin'],
                         times['floor'], 0.5)
            t.sample('zookeeper inventory: ZooKeeper part (read_servers; connected)', times['inventory'])
            t.sample('raw kazoo floor: the map (6 reads a release), every server', times['inventory_floor'],
                     '%s reads' % num(raw.floor_inventory()[1], 0))
            t.goal_ratio('2. zookeeper inventory: ZooKeeper part <= 0.5x the floor', times['inventory'],
                         times['inventory_floor'], 0.5)
            raw.wipe('/releases', '/default_release')
        finally:
            raw.close()

    # -- the fleet flows ---------------------------------------------------------------------------
    def fleet(self):
        """status.yml, sync.yml with nothing to do and start.yml from nothing on local hosts, each
        alternated with one ping task over the same hosts and forks (benchmarks/fleet_flows.py)."""
        t = self.t
        hosts, forks = self.opts.fleet_hosts, self.opts.fleet_forks
        chroot = '/fleet'
        rb.Raw(self.server.hosts, chroot).close()
        base = os.path.join(self.workdir, 'fleet')
        zk_hosts = self.hosts(chroot)
        fleet_flows.publish(zk_hosts, hosts, 2)
        inventory = fleet_flows.layout(base, hosts)

        def flow_run(flow):
            def run():
                if flow == 'start':
                    fleet_flows.reset(base, hosts, 'before start.yml')
                elapsed, recap = fleet_flows.run_flow(flow, inventory, zk_hosts, forks)
                changed = sum(c for dummy, c, dummy2 in recap.values())
                if changed != (hosts if flow == 'start' else 0):
                    raise rb.BenchError('%s.yml: %d hosts changed' % (flow, changed))
                return elapsed
            return run

        def ping():
            elapsed, answered = fleet_flows.run_ping(inventory, forks, self.workdir)
            if answered != hosts:
                raise rb.BenchError('ping: %d hosts answered, expected %d' % (answered, hosts))
            return elapsed
        times = {}
        try:
            fleet_flows.run_flow('start', inventory, zk_hosts, forks)   # every instance runs: status and sync find them in sync
            for flow in fleet_flows.FLOWS:
                times[flow], dummy = alternate(self.opts.fleet_pairs, [(flow, flow_run(flow)), ('ping', ping)],
                                               'fleet %s.yml' % flow)
            profile = self.fleet_profile(inventory, zk_hosts, base) if 'profile' not in self.opts.skip else None
        finally:
            fleet_flows.gameservice.stop_all([base])
        t.title('6. Fleet flows on %d local hosts, forks %d, 2 releases, stub service; each against one ansible.builtin.ping '
                'task over the same hosts and forks' % (hosts, forks))
        what = {'status': 'status.yml (one map read, one release_status task per host)',
                'sync': 'sync.yml, every instance in sync (nothing to do)',
                'start': 'start.yml, every host from nothing'}
        for flow in fleet_flows.FLOWS:
            t.sample('one ansible.builtin.ping task over the same hosts and forks', times[flow]['ping'])
            t.sample(what[flow], times[flow][flow])
        for flow in fleet_flows.FLOWS:
            t.goal_ratio('6. %s.yml on %d hosts <= 1.2x one ping task' % (flow, hosts), times[flow][flow],
                         times[flow]['ping'], 1.2)
        if profile:
            t.row('where the time goes: one more start.yml run (not in medians)', secs(profile['seconds']))
            t.row('  outside the tasks: start-up, inventory, playbook; exit', secs(profile['seconds'] - profile['first_task_to_end']))
            for task, action, seconds in profile['tasks']:
                t.row('  %s' % task.split(' : ', 1)[-1][:62], secs(seconds), action.replace('ansible.builtin.', '')
                      .replace('gameops.elastic_release.', ''))

    def fleet_profile(self, inventory, zk_hosts, base):
        """One start.yml run with every task's wall time (benchmarks/callback_plugins/task_times.py)."""
        times_file = os.path.join(self.workdir, 'fleet-task-times.json')
        env = {'ANSIBLE_CALLBACK_PLUGINS': flow_bench.CALLBACKS, 'ANSIBLE_CALLBACKS_ENABLED': 'task_times',
               'ELASTIC_RELEASE_TASK_TIMES': times_file}
        fleet_flows.reset(base, self.opts.fleet_hosts, 'before start.yml (profile)')
        seconds, dummy = fleet_flows.run_flow('start', inventory, zk_hosts, self.opts.fleet_forks, env)
        with open(times_file) as f:
            out = json.load(f)
        out['seconds'] = seconds
        return out

    # -- the scale curve --------------------------------------------------------------------------
    def scale(self):
        t = self.t
        chroot = '/scale'
        raw = rb.Raw(self.server.hosts, chroot)
        rows = []
        try:
            raw.wipe('/releases', '/elastic_release')
            heap_base = self.heap.used()
            for items in self.opts.scale:
                config = rb.config_of_size(items)
                config_file = write_config(self.workdir, 'scale-%d' % items, config)
                extra = {'zk_hosts': self.hosts(chroot), 'config_file': config_file, 'verify': 'full',
                         'allow_chunked': True}
                peaks = {'publish': [], 'rerun': []}
                zk = {'publish': Samples(), 'rerun': Samples()}
                out = {}

                def publish():
                    raw.wipe('/releases', '/elastic_release')
                    elapsed, results, peak = ansible_run(self.books['publish.yml'], extra, rss=True)
                    task = results[-1]
                    if not task.get('changed'):
                        raise rb.BenchError('scale %d: first publish wrote nothing' % items)
                    zk['publish'].add(task['zk_seconds'])
                    peaks['publish'].append(peak)
                    out['transactions'] = task['transactions']
                    elapsed_rerun, results, peak = ansible_run(self.books['publish.yml'], extra, rss=True)
                    if results[-1].get('changed'):
                        raise rb.BenchError('scale %d: rerun changed' % items)
                    zk['rerun'].add(results[-1]['zk_seconds'])
                    peaks['rerun'].append(peak)
                    return elapsed, elapsed_rerun

                times, extras = alternate(self.opts.scale_pairs, [('empty', self.empty), ('publish', publish)],
                                          'scale %d items' % items)
                heap = self.heap.used()
                raw.wipe('/releases', '/elastic_release')
                rows.append({'items': items, 'empty': times['empty'], 'publish': times['publish'],
                             'rerun': Samples(e for e in extras['publish']), 'zk': zk, 'peaks': peaks,
                             'heap': heap, 'transactions': out.get('transactions')})
            heap_end = self.heap.used()
        finally:
            raw.close()
        t.title('7. Scale curve: first publish (allow_chunked) and identical rerun (verify: full) of one release; '
                'peak RSS of the ansible-playbook process tree; ZooKeeper heap after a full GC')
        t.row('items: publish (txns) / rerun, whole process', 'empty',
              'publish zk | rerun zk | peak RSS publish / rerun | ZooKeeper heap used')
        for row in rows:
            t.row('  %7s: %s (%s) / %s' % (num(row['items'], 0), secs(row['publish'].median),
                                           row['transactions'], secs(row['rerun'].median)),
                  secs(row['empty'].median),
                  '%s | %s | %.0f / %.0f MB | %s' % (
                      secs(row['zk']['publish'].median), secs(row['zk']['rerun'].median),
                      max(row['peaks']['publish']) / 1048576.0, max(row['peaks']['rerun']) / 1048576.0,
                      '%.1f MB' % (row['heap'] / 1048576.0) if row['heap'] else '?'))
        if heap_base and rows and rows[-1]['heap']:
            per_node = (rows[-1]['heap'] - heap_base) / float(rows[-1]['items'])
            t.row('ZooKeeper heap with the chroot empty', '%.1f MB' % (heap_base / 1048576.0),
                  'at the end %.1f MB' % ((heap_end or 0) / 1048576.0))
            t.row('ZooKeeper heap per item node (largest point)', '%s B' % num(per_node, 0),
                  '(heap used with the release - without) / items')
            self.heap_per_node = per_node

    # -- 9. the undo of a promote of 6,050 items --------------------------------------------------
    def undo(self):
        """production (6,000 items) promotes gray1 (50): 6,050 items. Each timed run undoes production's
        newest change - the promote, then the undo itself (a redo), and so on - against the empty playbook."""
        t = self.t
        chroot = '/undo'
        raw = rb.Raw(self.server.hosts, chroot)
        raw.wipe('/releases', '/elastic_release', '/default_release')
        production = rb.config_of_size(6000)
        gray = {'global_url': 'http://10.9.0.6:9000', 'versions': ['9.%d' % i for i in range(5)],
                'sections': dict(('9%04d' % i, {'name': 'G%d' % i}) for i in range(40)),
                'servers': dict(('10.9.1.%d' % i, rb.SERVER_DATA) for i in range(5))}
        promoted = dict(production, versions=production['versions'] + gray['versions'],
                        sections=dict(production['sections'], **gray['sections']),
                        servers=dict(production['servers'], **gray['servers']))
        items = sum(len(promoted[k]) for k in ('versions', 'sections', 'servers'))
        indicator = encode({'name': 'production'})
        with ZkSession(hosts=self.hosts(chroot), timeout=30) as session:
            for intent in (PublishIntent('production', state_from_config(parse_config(production)), indicator=indicator,
                                         package='bench-production-1.tar.gz'),
                           PublishIntent('gray1', state_from_config(parse_config(gray)), append_to_default=True,
                                         package='bench-gray1-2.tar.gz'),
                           PublishIntent('production', state_from_config(parse_config(promoted)), indicator=indicator,
                                         package='bench-production-2.tar.gz', absorb=['gray1'])):
                if not apply(session, intent, Options()).changed:
                    raise rb.BenchError('undo part: the set-up write %s changed nothing' % intent.release)
        zk = {'process': Samples(), 'in_process': Samples()}

        def one(in_process):
            def run():
                elapsed, results, dummy = ansible_run(self.books['undo.yml'], {
                    'zk_hosts': self.hosts(chroot), 'in_process': in_process})
                task = results[-1]
                if not task.get('changed') or task.get('transactions') != 1:
                    raise rb.BenchError('undo of the promote: %r' % task)
                zk['in_process' if in_process else 'process'].add(task['zk_seconds'])
                return elapsed
            return run
        try:
            times, dummy = alternate(self.opts.pairs, [('empty', self.empty), ('in_process', one(True)),
                                                       ('process', one(False))], 'undo of a promote of %d items' % items)
        finally:
            raw.wipe('/releases', '/elastic_release', '/default_release')
            raw.close()
        t.title('9. Undo of a promote of %s items (production %s + gray1 %s): zk_release_revision state=restored, '
                'one transaction over both releases (the undo, then its undo, alternately)'
                % (num(items, 0), num(items - 50, 0), num(50, 0)))
        t.sample('empty playbook', times['empty'])
        t.sample('undo, in-process (as the rollback flow runs it), whole process', times['in_process'])
        t.sample('  its ZooKeeper part (zk_seconds: reads, plan, lock, commit)', zk['in_process'])
        t.sample('undo, the module as a process, whole process', times['process'])
        t.sample('  its ZooKeeper part (zk_seconds)', zk['process'])
        t.goal_over('9. undo of a promote of 6,050 items within +1.5 s of the empty playbook', times['in_process'],
                    times['empty'], 1.5)

    # -- the request size limit -------------------------------------------------------------------
    def limit(self):
        low, high, attempts = rb.probe_request_limit(self.server.hosts, request_size)
        self.t.title('8. Request size limit (ZooKeeper default jute.maxbuffer), by bisection on exact request sizes')
        self.t.row('largest multi-op request accepted', '%s B' % num(low, 0), '(_zk.request_size bytes)')
        self.t.row('smallest dropped (connection closed, ConnectionLoss)', '%s B' % num(high, 0),
                   '%d attempts' % attempts)


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
    return ('machine: %d CPUs (%s), %.1f GiB RAM, %s; Python %s, ansible-core %s, kazoo %s, ZooKeeper %s '
            '(standalone, 127.0.0.1, -Xmx%s), nice %d'
            % (os.cpu_count(), cpu, mem_kb / 1048576.0, platform.platform(terse=True), platform.python_version(),
               core, kazoo.__version__, zk, server.heap, os.nice(0)))


def warm_up(server):
    """A fresh ZooKeeper JVM runs its first large multi-op about 3x slower (JIT): write, read and
    delete the base release twice, untimed, so that no measured run pays for that."""
    raw = rb.Raw(server.hosts, '/warm-up')
    try:
        nodes = rb.release_nodes(RELEASE, rb.release_config(1))
        for dummy in range(2):
            raw.write(nodes, request_size)
            raw.floor_full_read(RELEASE)
            raw.wipe('/releases')
    finally:
        raw.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--pairs', type=int, default=5, help='rounds of each alternated measurement, default 5')
    parser.add_argument('--fleet-hosts', type=int, default=200)
    parser.add_argument('--fleet-forks', type=int, default=20)
    parser.add_argument('--fleet-pairs', type=int, default=3, help='rounds of each fleet flow and its ping, default 3')
    parser.add_argument('--hog-runs', type=int, default=10, help='reruns under the CPU hog, default 10')
    parser.add_argument('--scale', default='100,1000,6050,20000,60000', help='items per scale point')
    parser.add_argument('--scale-pairs', type=int, default=3, help='rounds per scale point, default 3')
    parser.add_argument('--heap', default='768m', help='the ZooKeeper JVM heap (-Xmx), default 768m')
    parser.add_argument('--skip', action='append', default=[], choices=PARTS, help='leave a part out (repeatable)')
    opts = parser.parse_args()
    opts.scale = [int(x) for x in opts.scale.split(',') if x.strip()]
    started = time.time()
    zkserver.check_installed()
    workdir = tempfile.mkdtemp(prefix='elastic-release-bench-')
    load_start = loadavg()
    server = zkserver.Standalone(workdir=os.path.join(workdir, 'zk'), jvm_args=['-Xmx%s' % opts.heap])
    server.heap = opts.heap
    loads = [load_start]
    try:
        server.start()
        log('ZooKeeper on %s; work directory %s; load %s' % (server.hosts, workdir, load_start))
        bench = Bench(opts, server, workdir)
        t = bench.t
        warm_up(server)
        parts = [('flows', bench.flows), ('rerun', bench.rerun), ('lookups', bench.lookups),
                 ('fleet', bench.fleet), ('scale', bench.scale), ('limit', bench.limit), ('undo', bench.undo)]
        t0 = {}
        for name, func in parts:
            if name in opts.skip:
                continue
            t0[name] = time.time()
            log('part %s: starting (load %s)' % (name, loadavg()))
            func()
            loads.append('%s %s' % (name, loadavg()))
            log('part %s: %.1f min' % (name, (time.time() - t0[name]) / 60))
        header = ['gameops.elastic_release benchmarks: %s' % ' '.join(['benchmarks/run.py'] + sys.argv[1:]),
                  machine(server),
                  'Medians of N runs ([min-max] xN); a whole process is one ansible-playbook run. Every figure '
                  'alternates with its baseline (A B, B A, ...).']
        t.lines[:0] = header
        t.lines.append('')
        t.lines.append('load average (1, 5, 15 min): %s at the start; after each part: %s; total %.1f min'
                       % (load_start, '; '.join(loads[1:]), (time.time() - started) / 60))
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
