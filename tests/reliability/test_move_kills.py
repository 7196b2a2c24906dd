# -*- coding: utf-8 -*-
"""kill -9 during widen, narrow and promote: of ansible-playbook or of the worker it forked to run
the task, mid-step (while the move holds its lock), during the pause between steps and during the
health gate. After each trial the map is never mixed - each step's transaction is whole or absent,
every item has one owner - the audit has no error, and a rerun of the flow (or the rollback flow's
undo of the promote) converges. Real ansible-playbook, real ZooKeeper, raw kazoo to judge; the
trials are recorded in .build/reliability/faults.json and docs/guarantees.md."""

import json
import os
import signal
import sys
import threading
import time

import pytest

import faultkit
import flowkit
import modrun

from ansible_collections.gameops.elastic_release.plugins.modules import release_audit, zk_release_node

pytestmark = pytest.mark.full

STEPS = [['1003'], ['1004']]
STEPS_ARG = json.dumps(STEPS, separators=(',', ':'))
# (moment, whom to kill, seconds after the moment): each of widen and narrow is killed at each.
MOMENTS = [('locked', 'ansible-playbook', 0.0), ('locked', 'worker', 0.02), ('pause', 'ansible-playbook', 1.0),
           ('gate', 'worker', 0.5)]
# The promote: as soon as its lock is taken (the commit follows within milliseconds), or while the
# flow still checks (its first worker runs, then 0 or 0.5 s), ansible-playbook and its worker.
PROMOTE_MOMENTS = [('locked', 'ansible-playbook', 0.0), ('locked', 'worker', 0.0), ('running', 'worker', 0.0),
                   ('running', 'ansible-playbook', 0.5)]


def owners(client, kind, name):
    return sorted(r for r in client.get_children('/releases') if client.exists('/releases/%s/%s/%s' % (r, kind, name)))


def audit_errors(zk):
    res = modrun.run(release_audit, {'hosts': zk.hosts})
    assert 'findings' in res, res
    return [f for f in res['findings'] if f['severity'] == 'error']


def lock_taken(client, releases):
    """An Event set as soon as a writer takes one of the releases' locks (a new lock node: a watch,
    not polling, since a move holds its lock for some milliseconds only)."""
    fired = threading.Event()

    def watcher(there):
        def watch(children):
            if set(children or []) - there:
                fired.set()
                return False
            return None
        return watch
    for release in releases:
        path = '/elastic_release/locks/%s' % release
        client.ensure_path(path)
        client.ChildrenWatch(path, watcher(set(client.get_children(path))))
    return fired


def killer(client, moment, whom, delay, seen, marker=None, releases=('gray1',)):
    """during(proc) of flowkit.flow: wait for the moment (`running`: a worker runs a task; `locked`: a writer took a lock; `pause`:
    step 1 committed; `gate`: the gate command started), wait delay seconds, then kill -9
    ansible-playbook or the worker it forked for the task that runs."""
    def during(proc):
        started, fired = time.time(), lock_taken(client, releases) if moment == 'locked' else None
        while proc.poll() is None and time.time() < started + 180:
            if (fired is not None and fired.is_set()) or (moment == 'pause' and seen['moved'](client)) \
                    or (moment == 'gate' and os.path.exists(marker)) or (moment == 'running' and faultkit.playbook_workers(proc.pid)):
                break
            time.sleep(0.005)
        time.sleep(delay)
        seen['hit'], below, until = False, [], time.time() + 5
        while not seen['hit'] and proc.poll() is None and time.time() < until:
            # Between two tasks no worker runs, and a worker may end as it is found: the next one
            # comes within milliseconds.
            target = proc.pid if whom == 'ansible-playbook' else (faultkit.playbook_workers(proc.pid) or [None])[-1]
            below = faultkit.descendants(proc.pid)
            if target is None:
                continue
            try:
                os.kill(target, signal.SIGKILL)
            except ProcessLookupError:
                continue
            seen['hit'], seen['at'] = True, round(time.time() - started, 2)
        proc.wait()
        # Orphans of a killed ansible-playbook finish what they run: judge the tree after them.
        seen['orphans'] = len(faultkit.wait_gone(below, timeout=60))
    return during


def assert_steps_whole(client, steps, sources):
    """Each step's items all with one release (the step's transaction whole or absent); [applied?]."""
    out = []
    for step in steps:
        where = set()
        for name in step:
            found = owners(client, 'sections', name)
            assert len(found) == 1, 'section %s has owners %s' % (name, found)
            where.add(found[0])
        assert len(where) == 1, 'step %s is mixed: %s' % (step, where)
        out.append(where.pop() not in sources)
    return out


def publish(zk, packages, gray_key):
    for key, extra in (('production-190122.01', {'set_default': True}), (gray_key, {'append_versions_to_default': True})):
        res = modrun.run(zk_release_node, dict(extra, hosts=zk.hosts, release=key.split('-', 1)[0], package=packages[key]))
        assert res.get('changed') is True, res


def test_kill_9_during_widen_and_narrow_never_mixes_the_map(zk, inventory, packages, tmp_path):
    publish(zk, packages, 'gray1-190122.01')
    client = zk.client
    script = tmp_path / 'gate.py'       # marks that the gate runs, then passes after 2 s
    script.write_text('import sys, time\nopen(sys.argv[1], "w").close()\ntime.sleep(2)\n')
    rows = []
    for moment, whom, delay in MOMENTS:
        for flow_name, target, source in (('widen', 'gray1', 'production'), ('narrow', 'production', 'gray1')):
            marker = str(tmp_path / ('gate-%s-%s-%s' % (flow_name, moment, whom)))
            gate = [sys.executable, str(script), marker]
            seen = {'moved': lambda c, t=target: owners(c, 'sections', '1003') == [t]}
            run = flowkit.flow(inventory, tmp_path, flow_name,
                               during=killer(client, moment, whom, delay, seen, marker, ('gray1', 'production')),
                               release='gray1', steps=STEPS_ARG, pause_seconds=3 if moment == 'pause' else 0,
                               gate_command=json.dumps(gate, separators=(',', ':')), gate_interval=1, gate_timeout=20)
            applied = assert_steps_whole(client, STEPS, [source])
            errors = audit_errors(zk)
            row = {'flow': flow_name, 'moment': moment, 'killed': whom, 'delay': delay, 'hit': seen.get('hit'),
                   'at_seconds': seen.get('at'), 'rc': run.rc, 'steps_applied': applied,
                   'orphans_killed': seen.get('orphans'), 'audit_errors': len(errors)}
            assert not errors, (row, errors)
            # A rerun without pause or gate converges: every step's items with the target.
            rerun = flowkit.flow(inventory, tmp_path, flow_name, release='gray1', steps=STEPS_ARG)
            assert rerun.rc == 0, rerun
            assert assert_steps_whole(client, STEPS, [source]) == [True, True]
            assert not audit_errors(zk)
            row['rerun_converged'] = True
            rows.append(row)
    faultkit.record_rows('kill -9 during widen and narrow (ansible-playbook or its worker)', rows)
    assert all(r['hit'] for r in rows), rows      # every kill hit a running flow
    assert any(r['steps_applied'] != [True, True] for r in rows), rows


def test_kill_9_during_promote_leaves_it_whole_or_absent(zk, inventory, packages, tmp_path):
    publish(zk, packages, 'gray1-190123.01')
    client = zk.client
    gray_items = [('sections', '1901'), ('servers', '10.1.0.21')]
    before = faultkit.release_view(faultkit.read_subtree(client, '/releases/production'))
    promote = {'release': 'gray1', 'package': packages['production-190123.01'], 'release_items': '1902'}
    rows = []
    for trial, (moment, whom, delay) in enumerate(PROMOTE_MOMENTS):
        seen = {}
        run = flowkit.flow(inventory, tmp_path, 'promote', during=killer(client, moment, whom, delay, seen,
                                                                         releases=('gray1', 'production')), **promote)
        gray = client.exists('/releases/gray1') is not None
        where = dict((name, owners(client, kind, name)) for kind, name in gray_items)
        assert all(found == (['gray1'] if gray else ['production']) for found in where.values()), (gray, where)
        errors = audit_errors(zk)
        row = {'trial': trial, 'moment': moment, 'delay': delay, 'killed': whom, 'hit': seen.get('hit'),
               'at_seconds': seen.get('at'), 'rc': run.rc, 'promoted': not gray, 'orphans_killed': seen.get('orphans'),
               'audit_errors': len(errors)}
        assert not errors, (row, errors)
        if gray:
            rerun = flowkit.flow(inventory, tmp_path, 'promote', **promote)
            assert rerun.rc == 0 and not client.exists('/releases/gray1'), rerun
        # The undo of the promote, by its change id, brings everything back for the next trial.
        newest = sorted(faultkit.revisions(client, 'production').items())[-1][1]
        undo = flowkit.flow(inventory, tmp_path, 'rollback', release='production', change=newest['change'])
        assert undo.rc == 0, undo
        assert client.exists('/releases/gray1') and all(owners(client, k, n) == ['gray1'] for k, n in gray_items)
        assert faultkit.release_view(faultkit.read_subtree(client, '/releases/production')) == before
        assert not audit_errors(zk)
        row['converged'] = 'rerun, then undo' if gray else 'undo'
        rows.append(row)
    faultkit.record_rows('kill -9 during promote (ansible-playbook or its worker)', rows)
    # The last moment (0.5 s into the run) can come after a quick promote has ended: nothing to kill,
    # and the trial still checks the tree; the others must land.
    assert sum(bool(r['hit']) for r in rows) >= len(rows) - 1, rows
    assert any(not r['promoted'] for r in rows), rows
