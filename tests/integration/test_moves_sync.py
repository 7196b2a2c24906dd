# -*- coding: utf-8 -*-
"""Moves restart what they moved: widen, narrow, promote and retire with -e sync=true.

The local hosts of test_fleet (two of them serve two sections each) run the example game service,
deployed from real packages and started by the collection. After each flow, status.yml reports
every instance in_sync; what runs is also read without the collection (each instance's answer on its
port). The widen's gate is a command that asks the moved section's own process which release it runs.
"""

import json
import os

import pytest

import helpers
# fleet is the fixture of test_fleet, used by name.
from test_fleet import GRAY, HOSTS, OWNERS, PROD, fleet, put  # noqa: F401  # pylint: disable=unused-import

GATE = '''import json, socket, sys
with socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=3) as conn:
    answer = json.loads(conn.makefile().readline())
print("section %s runs %s" % (answer["section"], answer["release"]))
sys.exit(0 if answer["release"] == sys.argv[2] else 3)
'''


def promote_package(f):
    """mygame-production-190123.01: gray1's build as production, every section of both releases."""
    src = os.path.join(f.base, 'work', 'src', 'gray1')
    playbook = os.path.join(f.base, 'promote-build.yml')
    config = {'versions': ['1.0', '1.1'], 'sections': sorted(OWNERS), 'global_url': 'http://10.3.0.9:9000',
              'services': {'gameserver': GRAY}}
    with open(playbook, 'w') as out:
        json.dump([{'name': 'Build', 'hosts': 'localhost', 'gather_facts': False, 'tasks': [{
            'name': 'Build', 'gameops.elastic_release.server_package': {
                'src': src, 'dest': f.dist, 'project': 'mygame', 'release': 'production', 'build': '190123.01',
                'config': config}}]}], out)
    res = helpers.playbook(playbook)
    assert res.rc == 0, res
    return os.path.join(f.dist, 'mygame-production-190123.01.tar.gz')


def in_sync(f, expected):
    """status.yml says every instance is in sync, and every instance answers with its expected release."""
    res = f.run('status', fail_on_drift=True)
    assert res.rc == 0 and res.summary['counts']['in_sync'] == 5, res
    answers = f.answers()
    assert dict((sid, (rel, ver)) for sid, (rel, ver, _pid) in answers.items()) == expected, answers
    return answers


def synced(summary):
    """{section: (action, release, build)} of every instance a flow's syncs touched."""
    runs = [step['synced'] for step in summary.get('steps') or [] if step.get('synced')]
    runs += [summary[key] for key in ('synced', 'undo_synced') if summary.get(key)]
    return dict((i['section_id'], (i['action'], i['release'], i['build'])) for run in runs for i in run['instances'])


@pytest.mark.full
def test_moves_sync_what_they_moved(fleet):  # noqa: F811
    f = fleet
    # The CMDB's deploy location (the publishing flows check it) and a second gray release, for the retire.
    with open(f.inventory) as handle:
        inventory = json.load(handle)
    inventory['all']['children'] = {'location_cn_prod': {'hosts': dict((h, {}) for h in HOSTS)}}
    inventory['all']['vars']['elastic_release_registry']['gray2'] = {'type': 'gray', 'location': 'cn_prod'}
    with open(f.inventory, 'w') as handle:
        json.dump(inventory, handle)
    for package in ('mygame-production-190122.01.tar.gz', 'mygame-gray1-190123.01.tar.gz'):
        assert f.run('deploy', package=os.path.join(f.dist, package), target='all').rc == 0
    assert f.run('start').rc == 0
    expected = dict((sid, (owner, GRAY if owner == 'gray1' else PROD)) for sid, owner in OWNERS.items())
    before = in_sync(f, expected)
    gate = os.path.join(f.base, 'gate.py')
    with open(gate, 'w') as out:
        out.write(GATE)

    # Widen 1003 with sync: its process runs gray1 before the gate asks it (the gate asks that process).
    res = f.run('widen', release='gray1', sections='1003', sync=True, package_dir=f.dist, gate_timeout=20, gate_interval=1,
                gate_command=[helpers.PYTHON, gate, str(f.ports['1003']), 'gray1'])
    assert res.rc == 0 and res.summary['undone'] is False, res
    assert synced(res.summary) == {'1003': ('restarted', 'gray1', GRAY)}, res.summary
    assert res.summary['steps'][0]['synced']['hosts'] == ['gs-b'] and res.summary['steps'][0]['synced']['sections'] == ['1003']
    expected['1003'] = ('gray1', GRAY)
    answers = in_sync(f, expected)
    assert all(answers[s][2] == before[s][2] for s in answers if s != '1003')   # nothing else restarted

    # Narrow it back with sync: 1003 runs production's build again.
    res = f.run('narrow', release='gray1', sections='1003', sync=True, package_dir=f.dist)
    assert res.rc == 0 and synced(res.summary) == {'1003': ('restarted', 'production', PROD)}, res
    expected['1003'] = ('production', PROD)
    in_sync(f, expected)

    # Promote with sync: production takes gray1's build and sections; every production instance restarts.
    package = promote_package(f)
    res = f.run('promote', release='gray1', package=package, sync=True, package_dir=f.dist)
    assert res.rc == 0, res.summary['error']
    assert synced(res.summary) == dict((sid, ('restarted', 'production', GRAY)) for sid in OWNERS), res.summary
    assert res.summary['synced']['hosts'] == sorted(HOSTS)
    expected = dict((sid, ('production', GRAY)) for sid in OWNERS)
    in_sync(f, expected)

    # Retire with sync: gray2 holds 1004 by a widen and a section no host serves; the retire gives 1004 back.
    put(f.zk.client, '/releases/gray2', {'package': 'mygame-gray2-190123.01.tar.gz', 'services': {'gameserver': GRAY}})
    put(f.zk.client, '/releases/gray2/sections/1999', {})
    f.zk.client.ensure_path('/releases/gray2/versions')
    f.zk.client.ensure_path('/releases/gray2/servers')
    res = f.run('widen', release='gray2', sections='1004', sync=True)
    assert res.rc == 0 and synced(res.summary) == {'1004': ('restarted', 'gray2', GRAY)}, res
    expected['1004'] = ('gray2', GRAY)
    in_sync(f, expected)
    res = f.run('retire', release='gray2', release_items='all', sync=True)
    assert res.rc == 0 and synced(res.summary) == {'1004': ('restarted', 'production', GRAY)}, res
    assert res.summary['synced']['left'] == ['section 1999']
    expected['1004'] = ('production', GRAY)
    in_sync(f, expected)


@pytest.mark.full
def test_a_failed_sync_moves_the_step_back(fleet):  # noqa: F811
    """gray1's build is not on gs-b and no package_dir is given: the sync after the step cannot start
    1003 with gray1. The gate is not asked, the step is moved back in one transaction, the instances
    are synced back (1003 was never restarted), and the flow fails naming the sync."""
    f = fleet
    with open(f.inventory) as handle:
        inventory = json.load(handle)
    inventory['all']['children'] = {'location_cn_prod': {'hosts': dict((h, {}) for h in HOSTS)}}
    with open(f.inventory, 'w') as handle:
        json.dump(inventory, handle)
    assert f.run('deploy', package=os.path.join(f.dist, 'mygame-production-190122.01.tar.gz'), target='gs-a,gs-b').rc == 0
    assert f.run('deploy', package=os.path.join(f.dist, 'mygame-gray1-190123.01.tar.gz'), target='gs-c').rc == 0
    assert f.run('start').rc == 0
    before = f.answers()
    res = f.run('widen', release='gray1', sections='1003', sync=True, gate_command=['/bin/false'], gate_timeout=5)
    assert res.rc == 2, res
    assert res.summary['undone'] is True and not res.summary['net_impact'].get('owners'), res.summary
    assert "the sync of the instances step 1 moved failed" in res.summary["error"], json.dumps(res.summary["steps"], indent=1)[:3000]
    assert res.summary['steps'][0]['synced']['status'] == 'failed' and 'gate_answer' not in res.summary
    assert f.zk.client.exists('/releases/production/sections/1003') and not f.zk.client.exists('/releases/gray1/sections/1003')
    assert f.answers() == before
