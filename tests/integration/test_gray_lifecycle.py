# -*- coding: utf-8 -*-
"""The gray lifecycle as Tianti and AWX run it: widen in steps (with a gate that records what the
lookups answer after each step), a failing gate that moves the run back, the production publish
after a widening, rollback of one step, narrow and abort, promote; then audit and map.
Real ansible-playbook over a copy of the example inventory, real ZooKeeper, raw kazoo to check."""

import json
import os
import shlex
import sys
import time

import pytest

import helpers
import modrun
from flowkit import children, first_step, flow

from ansible_collections.gameops.elastic_release.plugins.modules import release_audit, zk_release_move, zk_release_node

GATE = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'gate.py')


def owners(client, items):
    """{item: [releases that list it]}, read with raw kazoo."""
    out = {}
    for kind, name in items:
        out[name] = sorted(r for r in client.get_children('/releases')
                           if client.exists('/releases/%s/%s/%s' % (r, kind, name)))
    return out


def releases_data(client):
    """Every node under /releases and /default_release with its data (no stat: moves and their undo
    bump versions and create revisions, but must leave the content exactly as it was). Of a release
    node's metadata, what the release serves (package, lent items, appended versions, services) is
    compared; when, by which action and with which digest of its content it was last written is not."""
    out = {}

    def walk(path):
        data = client.get(path)[0]
        if path.count('/') == 2:
            data = dict((k, v) for k, v in json.loads(data).items() if k not in ('updated', 'action', 'digest'))
        out[path] = data
        for child in sorted(client.get_children(path)):
            walk(path.rstrip('/') + '/' + child)
    walk('/releases')
    out['/default_release'] = client.get('/default_release')[0]
    return out


def publish_basics(inventory, tmp_path, packages):
    for name, release in (('production-190122.01', 'production'), ('gray1-190122.01', 'gray1')):
        run = flow(inventory, tmp_path, 'gray' if release == 'gray1' else 'production', package=packages[name],
                   release=release)
        assert run.rc == 0, run


@pytest.fixture(scope='module')
def basics(zk_module, packages, tmp_path_factory):
    """production and gray1 published by their flows once; each test starts from a copy."""
    work = tmp_path_factory.mktemp('basics')
    publish_basics(helpers.copy_inventory(work, zk_module.hosts), work, packages)
    return zk_module


def test_widen_in_two_steps_with_a_gate_then_production_publish_rollback_and_narrow(zk, inventory, packages, tmp_path, basics):
    client = zk.client
    zk.copy_from(basics)
    record = tmp_path / 'gate.jsonl'
    gate = json.dumps([sys.executable, GATE, zk.hosts, str(record), 'section_id=1003', 'section_id=1004',
                       'inner_ip=10.1.0.12'], separators=(',', ':'))
    before = zk.tree()
    run = flow(inventory, tmp_path, 'widen', check=True, release='gray1', steps='[[1003],[1004]]')
    assert run.rc == 0, run
    assert zk.tree() == before, 'check mode wrote to ZooKeeper'
    assert 'production -> gray1' in run.res.stdout

    run = flow(inventory, tmp_path, 'widen', release='gray1', steps='[[1003],[1004]]', gate_command=gate,
               gate_interval=1, gate_timeout=10)
    assert run.rc == 0, run
    answers = [json.loads(line) for line in record.read_text().splitlines()]
    # What VMS-style lookups answered after each step, from a process of its own.
    assert [a['answers'] for a in answers] == [
        {'section_id=1003': 'gray1', 'section_id=1004': 'production', 'inner_ip=10.1.0.12': 'production'},
        {'section_id=1003': 'gray1', 'section_id=1004': 'gray1', 'inner_ip=10.1.0.12': 'production'}]
    steps = run.summary['steps']
    assert [s['moved']['sections'] for s in steps] == [['1003'], ['1004']]
    assert all(sorted(s['revisions_written']) == ['gray1', 'production'] for s in steps)
    assert run.summary['undone'] is False and run.summary['impact']['owners'][0]['to'] == 'gray1'
    # The summary counts the whole run, not its last step; each step is a change of its own.
    assert run.summary['transactions'] == 2 and len(set(run.summary['changes'])) == 2, run.summary
    assert [s['change'] for s in steps] == run.summary['changes']
    assert [(o['name'], o['from'], o['to']) for o in run.summary['impact']['owners']] == [
        ('1003', 'production', 'gray1'), ('1004', 'production', 'gray1')], run.summary['impact']
    assert [h['host'] for h in run.summary['impact']['hosts']] == ['gs-prod-02'], run.summary['impact']
    assert len(run.summary['impact']['hosts'][0]['reasons']) == 2, run.summary['impact']
    assert children(client, '/releases/gray1/sections') == ['1003', '1004', '1901']

    # The production flow again, with a config that still lists 1003 and 1004: they stay with gray1.
    tree = zk.tree()
    run = flow(inventory, tmp_path, 'production', package=packages['production-190122.01'], release='production')
    assert run.rc == 0 and run.summary['changed'] is False, run
    assert zk.tree() == tree

    # Rolling gray1 back undoes the second step only.
    run = flow(inventory, tmp_path, 'rollback', release='gray1')
    assert run.rc == 0, run
    assert owners(client, [('sections', '1003'), ('sections', '1004')]) == {'1003': ['gray1'], '1004': ['production']}

    # Narrow 1003 back; then nothing is lent any more and the abort changes nothing.
    run = flow(inventory, tmp_path, 'narrow', release='gray1', sections='1003')
    assert run.rc == 0, run
    assert children(client, '/releases/gray1/sections') == ['1901']
    tree = zk.tree()
    run = flow(inventory, tmp_path, 'narrow', release='gray1', all='true')
    assert run.rc == 0 and run.summary['changed'] is False, run
    assert zk.tree() == tree


def test_a_failing_gate_moves_the_whole_run_back(zk, inventory, packages, tmp_path, basics):
    client = zk.client
    zk.copy_from(basics)
    before = releases_data(client)
    gate = json.dumps([sys.executable, os.path.join(os.path.dirname(GATE), 'gate.py'), '--fail', 'error_rate_7%'],
                      separators=(',', ':'))
    run = flow(inventory, tmp_path, 'widen', release='gray1', steps='[[1003],[1004]]', gate_command=gate,
               gate_interval=1, gate_timeout=1)
    assert run.rc == 2, run
    assert releases_data(client) == before, 'the undo did not restore the release map'
    assert run.summary['status'] == 'failed' and run.summary['undone'] is True
    assert 'health gate failed after step 1 of 2' in run.summary['error'] and 'error_rate_7%' in run.summary['error']
    assert 'exited 3' in run.summary['error']
    # Both transactions are counted: the step, and the undo that moved it back; net, nothing changed.
    assert run.summary['transactions'] == 2 and run.summary['changed'] is True, run.summary
    assert run.summary['net_impact'] == {} and len(run.summary['changes']) == 2, run.summary
    assert run.summary['undo_change'] == run.summary['changes'][1], run.summary
    assert [s['moved']['sections'] for s in run.summary['steps']] == [['1003']]


def widen_with_an_interloper(zk, inventory, packages, tmp_path, first, second, seen, **extra):
    """widen.yml of [[first], [second]] with a pause; during the pause, someone moves section second
    from production to appstore_review (published first), so step 2 is refused. seen gets the map
    when the flow starts, and just before and just after that move."""
    client = zk.client
    review = modrun.run(zk_release_node, {'hosts': zk.hosts, 'release': 'appstore_review',
                                          'package': packages['appstore_review-190122.01']})
    assert review.get('failed') is not True, review

    seen['flow_started'] = releases_data(client)

    def interloper(proc):
        deadline = time.time() + 120
        while not client.exists('/releases/gray1/sections/%s' % first):
            assert proc.poll() is None and time.time() < deadline, 'step 1 never committed'
            time.sleep(0.05)
        seen['before'] = releases_data(client)
        moved = modrun.run(zk_release_move, {'hosts': zk.hosts, 'destination': 'appstore_review', 'sections': [second]})
        assert moved['changed'] is True, moved
        seen['after'] = releases_data(client)
        assert proc.poll() is None, 'the flow ended before the pause was over'
    return flow(inventory, tmp_path, 'widen', during=interloper, release='gray1', pause_seconds=4,
                steps='[[%s],[%s]]' % (first, second), **extra)


def test_a_step_refused_after_the_pause_moves_the_applied_steps_back(zk, inventory, packages, tmp_path, basics):
    """By default the steps applied before a refused step are moved back in one transaction: the
    map is as before but for that someone's move, the audit is clean, and the summary counts both
    transactions - never "nothing was written"."""
    client = zk.client
    zk.copy_from(basics)
    seen = {}
    run = widen_with_an_interloper(zk, inventory, packages, tmp_path, '1003', '1004', seen)
    assert run.rc == 2, run
    # The map as before the flow, but for the interloper's move: what it changed between its two views.
    before = seen['flow_started']
    expected = dict((k, v) for k, v in before.items() if k in seen['after'] or k not in seen['before'])
    expected.update((k, v) for k, v in seen['after'].items() if seen['before'].get(k) != v)
    assert releases_data(client) == expected, 'step 1 was not moved back whole'
    assert owners(client, [('sections', '1003'), ('sections', '1004')]) == {'1003': ['production'], '1004': ['appstore_review']}
    summary = run.summary
    assert 'step 2 of 2 failed: cannot move from production: section id 1004 is owned by appstore_review' in summary['error'], summary
    assert 'step 1, applied before it, was moved back in one transaction (change %s' % summary['undo_change'] in summary['error']
    assert 'nothing was written' not in summary['error'], summary['error']
    assert summary['changed'] is True and summary['write_outcome'] == 'written' and summary['transactions'] == 2, summary
    assert summary['undone'] is True and summary['kept'] is False and summary['net_impact'] == {}, summary
    assert summary['applied_steps'] == [1] and summary['failed_step'] == 2 and len(summary['changes']) == 2, summary
    assert summary['failed_task'] == 'Move the items of this step', summary
    audit = modrun.run(release_audit, {'hosts': zk.hosts})
    assert [f for f in audit['findings'] if f['severity'] == 'error'] == [], audit['findings']


@pytest.mark.full
def test_keep_applied_keeps_and_lists_the_applied_steps_and_the_printed_undo_works(zk, inventory, packages, tmp_path, basics):
    """With keep_applied the step applied before the refused one stays, listed with the command that
    undoes it, and the flow still fails; that command, pasted, moves it back."""
    client = zk.client
    zk.copy_from(basics)
    run = widen_with_an_interloper(zk, inventory, packages, tmp_path, '1003', '1002', {}, keep_applied='true')
    assert run.rc == 2, run
    assert owners(client, [('sections', '1003'), ('sections', '1002')]) == {'1003': ['gray1'], '1002': ['appstore_review']}
    summary = run.summary
    assert summary['changed'] is True and summary['write_outcome'] == 'written' and summary['transactions'] == 1, summary
    assert summary['kept'] is True and summary['undone'] is False and summary['applied_steps'] == [1], summary
    assert [s['moved']['sections'] for s in summary['steps']] == [['1003']] and summary['revisions_written'], summary
    assert 'step 1 kept as applied (keep_applied=true: %s)' % summary['changes'][0] in summary['error'], summary['error']
    assert 'nothing was written' not in summary['error'], summary['error']
    command = summary['error'].rsplit('with: ', 1)[1]
    assert command.startswith('ansible-playbook -i ') and ' then ' not in command, command
    undo = helpers.run(shlex.split(command))
    assert undo.rc == 0, undo
    assert owners(client, [('sections', '1003')]) == {'1003': ['production']}
    audit = modrun.run(release_audit, {'hosts': zk.hosts})
    assert [f for f in audit['findings'] if f['severity'] == 'error'] == [], audit['findings']


def test_refusals_of_the_new_flows_write_nothing(zk, inventory, packages, tmp_path, basics):
    zk.copy_from(basics)
    before = zk.tree()
    # (flow, extra vars, the refusal's words or None for a run that has nothing to do, through
    # ansible-playbook or the first step in this process); one refusal per flow runs the playbook.
    cases = [
        ('widen', {'release': 'gray1', 'sections': '1999'}, 'section id 1999 is owned by no release', flow),
        ('widen', {'release': 'gray1', 'sections': '1901'}, None, flow),   # already gray1's: nothing to do
        ('widen', {'release': 'gray1', 'sections': '../x'}, "invalid section id '../x'", first_step),
        ('widen', {'release': 'production', 'sections': '1001'}, 'the widen flow works on gray releases', first_step),
        ('widen', {'release': 'gray1'}, 'nothing to widen', first_step),
        ('narrow', {'release': 'gray1', 'sections': '1001'}, None, flow),  # already production's
        ('promote', {'release': 'gray1', 'package': packages['gray1-190122.01']},
         'is a package of release gray1, not of the production release production', flow),
    ]
    for name, extra, message, how in cases:
        if how is first_step:
            result = first_step(inventory, name, **extra)
            assert result.get('failed') is True and message in result['msg'], (name, extra, result)
        else:
            run = flow(inventory, tmp_path, name, **extra)
            if message is None:
                assert run.rc == 0 and run.summary['changed'] is False, run
            else:
                assert run.rc == 2 and message in run.summary['error'], (name, extra, run)
        assert zk.tree() == before, (name, extra)
    # The production publish that would take gray1's section and version: refused by the first step.
    result = first_step(inventory, 'production', package=packages['production-190123.01'], release='production')
    assert result.get('failed') is True and 'section id 1901 is owned by gray1' in result['msg'], result
    assert zk.tree() == before


def test_promote_then_audit_and_map(zk, inventory, packages, tmp_path, basics):
    client = zk.client
    zk.copy_from(basics)
    run = flow(inventory, tmp_path, 'widen', release='gray1', sections='1003')
    assert run.rc == 0, run
    # The promoted build is the one gray1 runs (the first step refuses another build).
    run = flow(inventory, tmp_path, 'gray', package=packages['gray1-190123.01'], release='gray1')
    assert run.rc == 0, run
    tree = zk.tree()
    run = flow(inventory, tmp_path, 'promote', check=True, release='gray1', package=packages['production-190123.01'])
    assert run.rc == 0, run
    assert zk.tree() == tree
    run = flow(inventory, tmp_path, 'promote', release='gray1', package=packages['production-190123.01'])
    assert run.rc == 0, run
    assert run.summary['transactions'] == 1 and sorted(run.summary['revisions_written']) == ['gray1', 'production']
    assert not client.exists('/releases/gray1')
    assert children(client, '/releases') == ['production']
    assert children(client, '/releases/production/sections') == ['1001', '1002', '1003', '1004', '1901', '1902']
    assert children(client, '/releases/production/servers') == ['10.1.0.11', '10.1.0.12', '10.1.0.21']
    assert '1.3.0' in children(client, '/releases/production/versions')

    # The audit of the promoted map: gray1 is still registered (the registry is the inventory's). The
    # CMDB's review host serves section 2001: with no review release published, that is an error.
    run = flow(inventory, tmp_path, 'audit')
    assert run.rc == 2 and 'section 2001 of host gs-review-01 is owned by no release' in run.summary['error'], run
    run = flow(inventory, tmp_path, 'review', package=packages['appstore_review-190122.01'], release='appstore_review')
    assert run.rc == 0, run
    run = flow(inventory, tmp_path, 'audit')
    assert run.rc == 0, run
    kinds = [f['kind'] for f in run.summary['findings']]
    assert 'registered_not_published' in kinds and run.summary['counts']['error'] == 0, run.summary['findings']
    page = tmp_path / 'map.html'
    run = flow(inventory, tmp_path, 'map', map_file=str(page))
    assert run.rc == 0, run
    html = page.read_text()
    assert 'production' in html and '<script' not in html
    assert '| production |' in run.res.stdout or 'production' in run.res.stdout

    # A seeded conflict makes the audit flow fail with exit code 2, naming it.
    client.create('/releases/appstore_review/sections/1001', b'{}', makepath=True)
    run = flow(inventory, tmp_path, 'audit')
    assert run.rc == 2, run
    assert 'section id 1001 is owned by 2 releases: appstore_review, production' in run.summary['error']
