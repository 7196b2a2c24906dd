# -*- coding: utf-8 -*-
"""What an operator reads and what Tianti reads, along one sequence of flows as the demo runs them:
each flow's default output stays within the line count docs/flows.md records, each error is shown by
one task only, and every summary file has `next` (the commands to run, values filled in),
`revisions` and `write_outcome`. Real ansible-playbook (the checkout's ansible.cfg, the default
stdout callback), real ZooKeeper, a real HTTP monitor for the gates."""

import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest

import helpers
import httpkit
from flowkit import children, flow

FLOWS_MD = os.path.join(helpers.ROOT, 'docs', 'flows.md')
MEASURED = {}


def recorded_limits():
    """{run: line limit} from the table of docs/flows.md ("What a flow prints")."""
    with open(FLOWS_MD) as f:
        text = f.read()
    section = text[text.index('## What a flow prints'):]
    section = section[:section.index('\n## ', 4)]
    limits = {}
    for row in re.findall(r'(?m)^\| `([^`]+)` \| (\d+) \| (\d+) \| (\d+) \|$', section):
        limits[row[0]] = int(row[3])
    assert limits, 'docs/flows.md has no line-count table'
    return limits


def tasks_showing(stdout, text):
    """The names of the tasks (and recap) whose output contains text: an error shown once is shown by one."""
    names = []
    for block in re.split(r'\n(?=TASK \[|PLAY RECAP)', stdout):
        if text in block:
            names.append(block.splitlines()[0])
    return names


def within(run, limits, key):
    lines = MEASURED[key] = len(run.res.stdout.splitlines())
    # FLOW_OUTPUT_LINES=<file>: the figures of docs/flows.md's table, measured
    if os.environ.get('FLOW_OUTPUT_LINES'):
        with open(os.environ['FLOW_OUTPUT_LINES'], 'w') as f:
            json.dump(MEASURED, f, indent=1)
    assert lines <= limits[key], '%s printed %d lines, docs/flows.md records at most %d:\n%s' % (
        key, lines, limits[key], run.res.stdout)
    return lines


def fields(run, outcome):
    assert run.summary is not None, run
    for key in ('next', 'revisions', 'write_outcome'):
        assert key in run.summary, (key, run.summary)
    assert run.summary['write_outcome'] == outcome, run.summary
    return run.summary


class _Monitor(httpkit.Handler):
    """/ok answers 200; /down 503 with a body that holds a terminal escape and a newline."""

    def do_GET(self):
        if self.path.startswith('/ok'):
            self.answer(200, b'healthy')
        else:
            self.answer(503, b'replica lag 42s\x1b[31m\nretry later' + b'x' * 900)


def test_what_each_flow_prints_and_records(zk, inventory, packages, tmp_path):
    limits = recorded_limits()
    client = zk.client

    run = flow(inventory, tmp_path, 'production', package=packages['production-190122.01'], release='production')
    assert run.rc == 0, run
    within(run, limits, 'production')
    summary = fields(run, 'written')
    assert 'default release: (none yet: first default release) -> production' in run.res.stdout
    assert list(summary['revisions']) == ['production'] and summary['revisions']['production'] == summary['revision']
    inv = inventory
    assert summary['next'] == ['ansible-playbook -i %s playbooks/sync.yml -e target=%s -e package_dir=%s' % (
        inv, ','.join(summary['impact']['restart']), os.path.dirname(packages['production-190122.01']))], summary['next']
    assert 'next: ' + summary['next'][0] in run.res.stdout

    run = flow(inventory, tmp_path, 'gray', package=packages['gray1-190122.01'], release='gray1')
    assert run.rc == 0, run
    within(run, limits, 'gray')
    assert sorted(fields(run, 'written')['revisions']) == ['gray1', 'production']   # the appended versions

    # A refusal: nothing written, the error shown by the task that refused and nowhere else.
    before = helpers.dump_tree(client)
    run = flow(inventory, tmp_path, 'widen', release='gray1', sections='10O3')
    assert run.rc == 2, run
    within(run, limits, 'refusal')
    summary = fields(run, 'not_written')
    assert helpers.dump_tree(client) == before
    assert summary['revisions'] == {} and summary['error'], summary
    assert tasks_showing(run.res.stdout, summary['error']) == [
        'TASK [gameops.elastic_release.validate : Check the parameters, the package name, the release registry and the package] ***']
    assert '"flow_info"' not in run.res.stdout and '"problems"' not in run.res.stdout
    assert summary['next'][0].startswith('fix what the error names') and 'rerun: ansible-playbook -i ' in summary['next'][0]

    with httpkit.serve(_Monitor) as port:
        run = flow(inventory, tmp_path, 'widen', release='gray1', steps='[[1003],[1004],[1001]]',
                   gate_url='http://127.0.0.1:%d/ok' % port, gate_interval=1, gate_timeout=5)
        assert run.rc == 0, run
        within(run, limits, 'widen (3 steps, gate)')
        summary = fields(run, 'written')
        assert 'skipping' not in run.res.stdout and 'Validating arguments' not in run.res.stdout.split('Check the parameters')[1]
        assert sorted(summary['revisions']) == ['gray1', 'production']
        assert summary['next'] == ['ansible-playbook -i %s playbooks/sync.yml -e target=gs-prod-01,gs-prod-02 '
                                   '-e sections=1001,1003,1004' % inv], summary['next']

        # A failing URL gate: its answer (the body, escaped, cut at 500 characters) in the message, once.
        before = helpers.dump_tree(client)
        run = flow(inventory, tmp_path, 'widen', release='gray1', sections='1002',
                   gate_url='http://127.0.0.1:%d/down' % port, gate_interval=1, gate_timeout=0)
        assert run.rc == 2, run
        within(run, limits, 'widen, failed gate')
        summary = run.summary
        assert 'answered 503: replica lag 42s\\x1b[31m\\x0aretry later' in summary['error'], summary['error']
        assert 'xxx' in summary['gate_answer'] and 'x' * 500 not in summary['gate_answer']
        shown = tasks_showing(run.res.stdout, 'replica lag 42s')
        assert len(shown) == 1, shown
        assert summary['undone'] is True and not summary['net_impact'].get('owners'), summary
        assert children(client, '/releases/gray1/sections') == ['1001', '1003', '1004', '1901']
        assert sorted(summary['revisions']) == ['gray1', 'production'] and summary['next'], summary

    # The listing: one table (what each revision holds, its change, the build that made it), no JSON.
    run = flow(inventory, tmp_path, 'rollback', release='gray1', list_revisions='true')
    assert run.rc == 0, run
    within(run, limits, 'rollback, list_revisions')
    summary = fields(run, 'unchanged')
    assert re.search(r'revision +change +time +action +releases +holds \(an undo restores\) +made by +operator',
                     run.res.stdout), run.res.stdout
    first = summary['changes'][0]
    assert re.search(r'%s +%s +\S+ +publish +gray1,production +\(nothing\) +mygame-gray1-190122\.01\.tar\.gz ' % (
        first['revision'], first['change']), run.res.stdout), run.res.stdout
    assert '"holds_package"' not in run.res.stdout and summary['next'] == []

    run = flow(inventory, tmp_path, 'audit')
    within(run, limits, 'audit')
    summary = fields(run, 'unchanged' if run.rc == 0 else 'not_written')
    if summary['findings']:
        kinds = set(f['kind'] for f in summary['findings'])
        for kind in kinds:
            assert len(re.findall(r'(?m)^ +"[A-Z]+ %s \(\d+ findings?\)' % re.escape(kind), run.res.stdout)) == 1, kind

    run = flow(inventory, tmp_path, 'narrow', release='gray1', all='true')
    assert run.rc == 0, run
    within(run, limits, 'narrow')
    fields(run, 'written')

    # A promote removes the gray release: the next step says to take it out of the registry.
    run = flow(inventory, tmp_path, 'promote', release='gray1', package=packages['production-190123.01'],
               allow_other_build='true')
    assert run.rc == 0, run
    within(run, limits, 'promote')
    summary = fields(run, 'written')
    assert client.exists('/releases/gray1') is None
    assert summary['next'][0].startswith('remove gray1 from elastic_release_registry'), summary['next']


@pytest.mark.full
def test_a_cancelled_widen_leaves_a_summary_and_stats_naming_the_steps_applied(zk, inventory, packages, tmp_path):
    """SIGTERM to ansible-playbook, as AWX cancels a job, while the gate after step 1 of 2 waits: the
    summary file and the custom stat say step 1 is applied (its change and revisions), and the
    signal still ends the run."""
    for key, release in (('production-190122.01', 'production'), ('gray1-190122.01', 'gray1')):
        assert flow(inventory, tmp_path, 'gray' if release == 'gray1' else 'production', package=packages[key],
                    release=release).rc == 0
    marker = tmp_path / 'gate-asked'
    gate = json.dumps([sys.executable, '-c', 'import os, pathlib, sys, time; pathlib.Path(sys.argv[1]).write_text('
                       'str(os.getpid())); time.sleep(600)', str(marker)], separators=(',', ':'))
    summary = tmp_path / 'cancelled.json'
    cmd = ['ansible-playbook', '-i', inventory, 'playbooks/widen.yml', '-e', 'release=gray1',
           '-e', 'steps=[[1003],[1004]]', '-e', 'gate_command=%s' % gate, '-e', 'gate_timeout=600',
           '-e', 'summary_file=%s' % summary]
    proc = subprocess.Popen(cmd, env=helpers.ansible_env({'ANSIBLE_SHOW_CUSTOM_STATS': 'true'}), cwd=helpers.ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while not marker.exists() and time.time() < deadline and proc.poll() is None:
        time.sleep(0.2)
    assert marker.exists(), proc.communicate()
    time.sleep(0.5)
    gate_pid = int(marker.read_text())
    proc.send_signal(signal.SIGTERM)
    stdout, stderr = proc.communicate(timeout=120)
    # The gate command (a session of its own) ends with the job, as its process group.
    deadline = time.time() + 10
    while os.path.exists('/proc/%d' % gate_pid) and time.time() < deadline:
        time.sleep(0.1)
    alive = os.path.exists('/proc/%d' % gate_pid)
    if alive:
        os.kill(gate_pid, signal.SIGKILL)
    assert not alive, 'the gate command outlived the cancelled job'
    assert proc.returncode == -signal.SIGTERM, (proc.returncode, stdout[-3000:], stderr[-3000:])
    doc = json.loads(summary.read_text())
    assert doc['status'] == 'cancelled' and doc['flow'] == 'widen' and doc['write_outcome'] == 'written', doc
    assert [w['task'].endswith('Move the items of this step') for w in doc['applied']] == [True], doc['applied']
    assert sorted(doc['revisions']) == ['gray1', 'production'] and len(doc['changes']) == 1, doc
    assert children(zk.client, '/releases/gray1/sections') == ['1003', '1901']
    assert doc['next'][0].startswith('see what the run applied (its changes: %s)' % doc['changes'][0]), doc['next']
    stats = stdout[stdout.index('CUSTOM STATS'):]
    assert '"status": "cancelled"' in stats or "'status': 'cancelled'" in stats or 'cancelled' in stats, stats[:2000]
