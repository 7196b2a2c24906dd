# -*- coding: utf-8 -*-
"""kill -9 of the worker that runs a widen's or a narrow's write, right after its commit or just
before it: the flow reads the tree back with the step's request id and its summary says what
happened - `written` exactly when the change is in the tree, `not_written` when it is not - and the
audit has no error. Real ansible-playbook, real ZooKeeper, raw kazoo to judge; the trials are
recorded in .build/reliability/faults.json and docs/guarantees.md."""

import json
import os
import signal
import threading
import time

import pytest

import faultkit
import flowkit
from test_move_kills import audit_errors, lock_taken, owners, publish

pytestmark = pytest.mark.full

STEP_ARG = json.dumps([['1003']], separators=(',', ':'))
# (moment, seconds after it): `committed` is the change landing in the history index (the worker
# still has its locks to release and its result to send), `locked` the write taking its first lock
# (its transaction follows within milliseconds).
LOST = 8
MAX_TRIALS = 40
MOMENTS = [('committed', 0.0)] * 5 + [('locked', 0.0), ('locked', 0.0), ('locked', 0.002), ('locked', 0.005), ('committed', 0.0)]


def committed(client, release):
    """An Event set as soon as a change lands in the release's history index (a data watch)."""
    fired, first = threading.Event(), []

    def watch(data, stat):
        if not first:
            first.append(stat)
            return None
        fired.set()
        return False
    client.DataWatch('/elastic_release/history/%s' % release, watch)
    return fired


def module_processes(pid):
    """The processes an in-process module task runs in: forks of a worker of ansible-playbook `pid`
    (same command line, one level below the worker), not the worker itself."""
    workers = faultkit.playbook_workers(pid)
    below = set(p for worker in workers for p in faultkit.descendants(worker))
    return [p for p in workers if p in below]


def kill_the_writer(client, moment, delay, seen):
    """during(proc) of flowkit.flow: at the moment, plus delay, kill -9 the process running the write."""
    def during(proc):
        fired = committed(client, 'gray1') if moment == 'committed' else lock_taken(client, ('gray1', 'production'))
        deadline = time.time() + 120
        while not fired.is_set() and proc.poll() is None and time.time() < deadline:
            time.sleep(0.001)
        time.sleep(delay)
        seen['hit'] = False
        for pid in module_processes(proc.pid):
            try:
                os.kill(pid, signal.SIGKILL)
                seen['hit'] = True
            except ProcessLookupError:
                pass
        proc.wait()
    return during


def test_a_killed_writer_is_read_back_from_the_tree(zk, inventory, packages, tmp_path):
    publish(zk, packages, 'gray1-190122.01')
    client = zk.client
    rows = []
    # A kill lands on the module process only when it is still running: on a quiet machine the
    # result is often on its way first. Trials go on (the moments in turn, at most MAX_TRIALS) until
    # LOST results were lost; every trial, lost or not, checks the summary against the tree.
    for trial in range(MAX_TRIALS):
        if sum(r['result_lost'] for r in rows) >= LOST and trial >= len(MOMENTS):
            break
        moment, delay = MOMENTS[trial % len(MOMENTS)]
        before = owners(client, 'sections', '1003')
        flow_name = 'widen' if before == ['production'] else 'narrow'
        seen = {}
        run = flowkit.flow(inventory, tmp_path, flow_name, during=kill_the_writer(client, moment, delay, seen),
                           release='gray1', steps=STEP_ARG)
        after = owners(client, 'sections', '1003')
        assert len(after) == 1, after
        summary = run.summary or {}
        lost = summary.get('lost_step')
        written = after != before
        errors = audit_errors(zk)
        row = {'trial': trial, 'flow': flow_name, 'moment': moment, 'delay': delay, 'hit': seen.get('hit'), 'rc': run.rc,
               'result_lost': lost is not None, 'written': written, 'write_outcome': summary.get('write_outcome'),
               'audit_errors': len(errors)}
        assert summary, (row, run)
        assert summary['write_outcome'] == ('written' if written else 'not_written'), (row, summary, run)
        assert summary['changed'] is written and summary['transactions'] == (1 if written else 0), (row, summary)
        assert not errors, (row, errors)
        if lost is not None:
            assert run.rc == 2 and summary['status'] == 'failed', (row, run)
            assert lost['write_outcome'] == summary['write_outcome'], (row, lost)
            assert ('playbooks/rollback.yml' in lost['msg']) is written, (row, lost)
            # The error says what the tree says, and nothing that contradicts it.
            assert lost['msg'] in summary['error'], (row, summary)
            assert ('no step of this run was applied' in summary['error']) is not written, (row, summary)
        rows.append(row)
    faultkit.record_rows('kill -9 of the worker running a widen or narrow write (result lost, read back)', rows)
    assert sum(r['result_lost'] for r in rows) >= LOST, rows
    # Both answers were given from the tree, not only one.
    assert set(r['write_outcome'] for r in rows if r['result_lost']) == {'written', 'not_written'}, rows
