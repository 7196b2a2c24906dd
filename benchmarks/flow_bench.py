# -*- coding: utf-8 -*-
"""The release flows as Tianti runs them, for benchmarks/run.py (not a test, not part of the collection).

`ansible-playbook -i <inventory> playbooks/<flow>.yml -e package=... -e release=... -e summary_file=...`
on a copy of the example inventory whose ZooKeeper is a chroot of the benchmark's server, with the
packages tests/flowkit.py builds. Each flow has two chroots: one restored, before every timed first
run, to the state the flow starts from (nothing for production; production published for gray and
review), and one holding the state the flow leaves, for identical reruns. So first runs and reruns
can alternate with the empty playbook in any order.
"""

from __future__ import absolute_import, division, print_function

import json
import os
import pathlib
import time

import flowkit
import helpers
import release_bench as rb

from ansible_collections.gameops.elastic_release.plugins.module_utils._zk.session import request_size

HERE = os.path.dirname(os.path.abspath(__file__))
# ansible-core 2.19 ships no profile_tasks callback (it moved to ansible.posix): ours times each task.
CALLBACKS = os.path.join(HERE, 'callback_plugins')
EMPTY = [{'name': 'Empty playbook', 'hosts': 'localhost', 'gather_facts': False,
          'tasks': [{'name': 'Nothing', 'ansible.builtin.meta': 'noop'}]}]
# The summary step alone, as every flow ends: the summary role with -e summary_file (what a flow adds
# to report its result), beside the empty playbook.
SUMMARY_ONLY = [{'name': 'Summary only', 'hosts': 'localhost', 'connection': 'local', 'gather_facts': False,
                 'vars': {'elastic_release_flow': 'audit'},
                 'tasks': [{'name': 'Summarise', 'ansible.builtin.import_role': {
                     'name': 'gameops.elastic_release.summary', 'rolespec_validate': False}}]}]
# flow -> (package key in flowkit.CONFIGS, release, the flow run first to make its starting state)
FLOWS = {
    'production': ('production-190122.01', 'production', None),
    'gray': ('gray1-190122.01', 'gray1', 'production'),
    'review': ('appstore_review-190122.01', 'appstore_review', 'production'),
}


def task_results(stdout):
    """Task results printed by the default callback in the json result format."""
    out, decoder, pos = [], json.JSONDecoder(), 0
    while True:
        pos = stdout.find('] => {', pos)
        if pos < 0:
            return out
        value, end = decoder.raw_decode(stdout, pos + 5)
        out.append(value)
        pos = end


class _Factory(object):
    """What flowkit.build_packages expects of pytest's tmp_path_factory."""

    def __init__(self, base):
        self.base = pathlib.Path(base)

    def mktemp(self, name):
        path = self.base / name
        path.mkdir(parents=True)
        return path


def snapshot(raw, roots=('/releases', '/default_release', '/elastic_release')):
    """[(path, data)] of every node under roots, parents first (no ephemeral node is left by a flow)."""
    out = []
    for root in roots:
        for path in raw.subtree(root, leaf_depth=99):
            out.append((path, raw.client.get(path)[0]))
    return out


def restore(raw, nodes, roots=('/releases', '/default_release', '/elastic_release')):
    raw.wipe(*roots, leaf_depth=99)
    if nodes:
        raw.write(nodes, request_size)


class Flows(object):
    """Packages, inventories and chroots for the flows; run_* return (seconds, details)."""

    def __init__(self, server_hosts, workdir):
        self.workdir = workdir
        self.packages = flowkit.build_packages(_Factory(os.path.join(workdir, 'flow-packages')))
        self.inventories = {}
        self.raws = {}
        self.states = {}
        for flow in FLOWS:
            for role in ('first', 'rerun'):
                chroot = '/flow-%s-%s' % (flow, role)
                self.raws[flow, role] = rb.Raw(server_hosts, chroot)
                base = pathlib.Path(workdir) / ('inventory-%s-%s' % (flow, role))
                base.mkdir()
                self.inventories[flow, role] = helpers.copy_inventory(base, server_hosts + chroot)
        self.empty = os.path.join(workdir, 'empty.yml')
        with open(self.empty, 'w') as f:
            json.dump(EMPTY, f)
        self.summary = os.path.join(workdir, 'summary.json')
        self.summary_only = os.path.join(workdir, 'summary-only.yml')
        with open(self.summary_only, 'w') as f:
            json.dump(SUMMARY_ONLY, f)
        self.times_file = os.path.join(workdir, 'task-times.json')

    def close(self):
        for raw in self.raws.values():
            raw.close()

    def prepare(self, flow):
        """The starting state of a first run (kept as a snapshot) and the state its rerun repeats."""
        before = FLOWS[flow][2]
        first = self.raws[flow, 'first']
        restore(first, [])
        if before:
            self.check(self.run(before, 'first', chroot_of=flow), before, True)
        self.states[flow] = snapshot(first)
        for role in ('first', 'rerun'):
            raw = self.raws[flow, role]
            restore(raw, self.states[flow])
        self.check(self.run(flow=flow, role='rerun'), flow, True)

    def run(self, flow, role, timed_tasks=False, chroot_of=None, summary_file=False, extra=None):
        """One ansible-playbook run of the flow: (seconds, summary, task times or None). A first run
        starts from the flow's starting state (restored, untimed); chroot_of runs it in the chroot
        of another flow (to make that flow's starting state). Without summary_file the summary is
        read from the output of the task that shows it."""
        key, release, dummy = FLOWS[flow]
        where = (chroot_of or flow, role)
        if role == 'first' and not chroot_of:
            restore(self.raws[where], self.states.get(flow, []))
        if os.path.exists(self.summary):
            os.unlink(self.summary)
        cmd = ['ansible-playbook', '-i', self.inventories[where], os.path.join(helpers.ROOT, 'playbooks', flow + '.yml'),
               '-e', 'package=%s' % self.packages[key], '-e', 'release=%s' % release]
        if summary_file:
            cmd += ['-e', 'summary_file=%s' % self.summary]
        if extra:
            cmd += ['-e', json.dumps(extra)]
        if timed_tasks:
            cmd.append('-v')  # every task's result in the output: the publish task's zk_seconds
        seconds, res, tasks = self._timed(cmd, timed_tasks)
        if tasks is not None:
            written = [r for r in task_results(res.stdout) if 'zk_seconds' in r and 'operations_count' in r]
            tasks['zk_seconds'] = written[-1]['zk_seconds'] if written else None
        if res.rc != 0 or (summary_file and not os.path.exists(self.summary)):
            raise rb.BenchError('%s flow (%s) failed:\n%r' % (flow, role, res))
        if summary_file:
            with open(self.summary) as f:
                return seconds, json.load(f), tasks
        # Without a file, the summary's lines in the output: "<flow> <release>: ok", "ZooKeeper: written (...)".
        shown = [r['msg'] for r in task_results(res.stdout) if isinstance(r.get('msg'), list) and r['msg']
                 and str(r['msg'][0]).startswith(flow + ' ')]
        if not shown:
            raise rb.BenchError('%s flow (%s): no summary in the output:\n%r' % (flow, role, res))
        lines = shown[-1]
        return seconds, {'status': 'ok' if lines[0].endswith(': ok') else 'failed',
                         'changed': any(line.startswith('ZooKeeper: written') for line in lines)}, tasks

    def run_empty(self, flow='production'):
        seconds, res, dummy = self._timed(['ansible-playbook', '-i', self.inventories[flow, 'first'], self.empty], False)
        if res.rc != 0:
            raise rb.BenchError('empty playbook failed:\n%r' % (res,))
        return seconds

    def run_summary_only(self, flow='production'):
        """The summary step alone, writing its file: seconds."""
        if os.path.exists(self.summary):
            os.unlink(self.summary)
        seconds, res, dummy = self._timed(['ansible-playbook', '-i', self.inventories[flow, 'first'], self.summary_only,
                                           '-e', 'summary_file=%s' % self.summary], False)
        if res.rc != 0 or not os.path.exists(self.summary):
            raise rb.BenchError('the summary step alone failed:\n%r' % (res,))
        return seconds

    def _timed(self, cmd, timed_tasks):
        # The default callback with results as JSON: the summary is read from the task showing it.
        env = {'ANSIBLE_STDOUT_CALLBACK': 'ansible.builtin.default', 'ANSIBLE_CALLBACK_RESULT_FORMAT': 'json'}
        if timed_tasks:
            env.update({'ANSIBLE_CALLBACK_PLUGINS': CALLBACKS, 'ANSIBLE_CALLBACKS_ENABLED': 'task_times',
                        'ELASTIC_RELEASE_TASK_TIMES': self.times_file})
            if os.path.exists(self.times_file):
                os.unlink(self.times_file)
        t0 = time.perf_counter()
        res = helpers.run(cmd, env=env, timeout=600)
        seconds = time.perf_counter() - t0
        tasks = None
        if timed_tasks and os.path.exists(self.times_file):
            with open(self.times_file) as f:
                tasks = json.load(f)
        return seconds, res, tasks

    @staticmethod
    def check(outcome, flow, changed):
        summary = outcome[1]
        if summary.get('status') != 'ok' or summary.get('changed') is not changed:
            raise rb.BenchError('%s flow: expected status ok and changed %s, summary %r' % (flow, changed, summary))
        return outcome
