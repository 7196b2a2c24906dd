# -*- coding: utf-8 -*-
"""The release flows as Tianti runs them: real `ansible-playbook -i <inventory dir> playbooks/<flow>.yml`
over a copy of the example CMDB inventory, against a real ZooKeeper, verified with raw kazoo.

The packages are built with the server_package module (one playbook run for all of them); the
unsafe and malformed ones, which that module refuses to build, with tarfile.
"""

import json
import os

import pytest

import helpers
from flowkit import TIMES, children, expected_state, first_step, flow, lookups, release_state

# ---- the life of a game project ------------------------------------------------------------------


def test_life_of_a_game_project(zk, inventory, packages, tmp_path):
    client = zk.client
    prod, gray_a, gray_b, review = (packages['production-190122.01'], packages['gray1-190122.01'],
                                    packages['gray1-190123.01'], packages['appstore_review-190122.01'])

    # Production: --check --diff shows the change and writes nothing.
    empty = zk.tree()
    run = flow(inventory, tmp_path, 'production', check=True, diff=True, package=prod, release='production')
    assert run.rc == 0, run
    assert zk.tree() == empty, 'check mode wrote to ZooKeeper'
    assert '+/default_release: production' in run.res.stdout and '"1001": {' in run.res.stdout
    assert run.summary['check_mode'] is True and run.summary['changed'] is True and run.summary['revision'] is None

    # Production for real: the release and /default_release in one transaction.
    run = flow(inventory, tmp_path, 'production', package=prod, release='production')
    assert run.rc == 0, run
    assert release_state(client, 'production') == expected_state('production-190122.01')
    assert json.loads(client.get('/default_release')[0]) == {'name': 'production'}
    summary = run.summary
    assert summary['flow'] == 'production' and summary['release'] == 'production' and summary['status'] == 'ok'
    assert summary['package'] == os.path.basename(prod)
    assert summary['changed_nodes'] > 10 and summary['transactions'] == 1
    assert summary['revision'] == 'rev-0000000001' and summary['default_release'] == 'production'
    assert summary['duration_seconds'] > 0 and summary['error'] is None

    # An identical rerun writes nothing.
    published = zk.tree()
    run = flow(inventory, tmp_path, 'production', package=prod, release='production')
    assert run.rc == 0, run
    assert zk.tree() == published
    assert run.summary['changed'] is False and run.summary['changed_nodes'] == 0 and run.summary['revision'] is None

    # A gray release in the production location; its versions are appended to production's.
    run = flow(inventory, tmp_path, 'gray', check=True, diff=True, package=gray_a, release='gray1')
    assert run.rc == 0, run
    assert zk.tree() == published
    assert 'create /releases/production/versions/1.3.0' in run.res.stdout  # the appended version is shown
    run = flow(inventory, tmp_path, 'gray', package=gray_a, release='gray1')
    assert run.rc == 0, run
    assert run.summary['transactions'] == 1 and run.summary['revision'] == 'rev-0000000001'
    assert release_state(client, 'gray1') == expected_state('gray1-190122.01')
    assert children(client, '/releases/production/versions') == ['1.2.0', '1.2.1', '1.3.0']
    assert json.loads(client.get('/default_release')[0]) == {'name': 'production'}

    # An App Store review release in its own deploy location.
    run = flow(inventory, tmp_path, 'review', package=review, release='appstore_review')
    assert run.rc == 0, run
    assert release_state(client, 'appstore_review') == expected_state('appstore_review-190122.01')
    assert children(client, '/releases/production/versions') == ['1.2.0', '1.2.1', '1.3.0', '1.4.0']
    assert json.loads(client.get('/default_release')[0]) == {'name': 'production'}

    # VMS routing: a version listed by a non-default release routes there, the others to production;
    # sections and servers belong to the release that lists them.
    answers = lookups(inventory, tmp_path, [
        {'version': '1.2.0'}, {'version': '1.3.0'}, {'version': '1.4.0'},
        {'version': '9.9.9', 'fail_on_missing': False},
        {'section_id': '2001'}, {'section_id': '1901'}, {'inner_ip': '10.1.0.11'}, {'inner_ip': '10.2.0.11'}])
    prod_url, gray_url, review_url = 'http://10.1.0.5:9000', 'http://10.1.0.6:9000', 'http://10.2.0.5:9000'
    assert answers == [['production', prod_url], ['gray1', gray_url], ['appstore_review', review_url],
                       ['production', prod_url], ['appstore_review', review_url], ['gray1', gray_url],
                       ['production', prod_url], ['appstore_review', review_url]]

    # A second gray build, then a rollback to the first one.
    run = flow(inventory, tmp_path, 'gray', package=gray_b, release='gray1')
    assert run.rc == 0, run
    assert release_state(client, 'gray1') == expected_state('gray1-190123.01')
    before_listing = zk.tree()
    run = flow(inventory, tmp_path, 'rollback', release='gray1', list_revisions='true')
    assert run.rc == 0, run
    assert zk.tree() == before_listing, 'listing revisions wrote to ZooKeeper'
    listed = run.summary['changes']
    assert [(r['revision'], r['action'], r['package']) for r in listed] == [
        ('rev-0000000001', 'publish', os.path.basename(gray_a)),
        ('rev-0000000002', 'publish', os.path.basename(gray_b))]
    assert all(r['time'] and r['operator'] for r in listed)
    assert listed[1]['holds_package'] == os.path.basename(gray_a)
    assert 'rev-0000000002' in run.res.stdout and os.path.basename(gray_b) in run.res.stdout

    before_rollback = zk.tree()
    # The second build brought section 1902: undoing it leaves 1902 with no owner, given up by name.
    run = flow(inventory, tmp_path, 'rollback', release='gray1')
    assert run.rc == 2 and 'section id 1902 (owned by gray1)' in run.summary['error'], run
    assert '-e release_items=1902' in run.summary['error'] and run.failed_task() == CHECK_TASK
    run = flow(inventory, tmp_path, 'rollback', check=True, diff=True, release='gray1', release_items='1902')
    assert run.rc == 0, run
    assert zk.tree() == before_rollback
    assert '-    "1902": {}' in run.res.stdout  # the diff shows the section the rollback removes
    run = flow(inventory, tmp_path, 'rollback', release='gray1', release_items='1902')
    assert run.rc == 0, run
    assert release_state(client, 'gray1') == expected_state('gray1-190122.01')
    assert run.summary['revision'] == 'rev-0000000003' and run.summary['restored']['revision'] == 'rev-0000000002'
    # The change undone touched production too: the version it appended is gone with it.
    assert children(client, '/releases/production/versions') == ['1.2.0', '1.2.1', '1.3.0', '1.4.0']
    undone = run.summary['undone_change']
    run = flow(inventory, tmp_path, 'rollback', release='gray1', list_revisions='true')
    assert run.summary['changes'][-1]['action'] == 'undo' and run.summary['changes'][-2]['undone_by'] is not None
    assert run.summary['changes'][-1]['builds']['gray1']['after'] == os.path.basename(gray_a)  # the build it restored
    # An undo of a chosen change is repeatable; a revision of a change of two releases is refused.
    run = flow(inventory, tmp_path, 'rollback', release='gray1', change=undone)
    assert run.rc == 0 and run.summary['changed'] is False, run
    run = flow(inventory, tmp_path, 'rollback', release='gray1', revision='2')
    assert run.rc == 2 and 'is part of change %s, which also touched production' % undone in run.summary['error'], run

    # Production's first publish cannot be undone while later changes stand on it.
    tree = zk.tree()
    run = flow(inventory, tmp_path, 'rollback', release='production', revision='rev-0000000001')
    assert run.rc == 2, run
    assert 'later changes touched the same items' in run.summary['error'] and 'Undo newest first' in run.summary['error']
    assert zk.tree() == tree

    # Retire the review release: check mode first, then for real.
    run = flow(inventory, tmp_path, 'retire', check=True, diff=True, release='appstore_review', release_items='all')
    assert run.rc == 0, run
    assert zk.tree() == tree
    assert 'delete /releases/appstore_review/global_url' in run.res.stdout
    run = flow(inventory, tmp_path, 'retire', release='appstore_review', release_items='all')
    assert run.rc == 0, run
    assert not client.exists('/releases/appstore_review')
    assert run.summary['changed_nodes'] > 0 and run.summary['revision'] == 'rev-0000000002'
    # Its appended version stays with the default release, so review clients keep a route.
    assert children(client, '/releases/production/versions') == ['1.2.0', '1.2.1', '1.3.0', '1.4.0']
    assert lookups(inventory, tmp_path, [{'version': '1.4.0'}]) == [['production', 'http://10.1.0.5:9000']]

    # A mistaken retire is undone by the rollback flow.
    run = flow(inventory, tmp_path, 'rollback', release='appstore_review')
    assert run.rc == 0, run
    assert release_state(client, 'appstore_review') == expected_state('appstore_review-190122.01')

    # The production release is refused by the retire flow in its first step.
    tree = zk.tree()
    run = flow(inventory, tmp_path, 'retire', release='production')
    assert run.rc == 2, run
    assert run.failed_task() == CHECK_TASK
    assert 'registered as a production release' in run.summary['error']
    assert zk.tree() == tree
    _report_times()


def _report_times():
    lines = ['%-22s %6.2fs  rc=%d' % row for row in TIMES]
    text = 'Wall time of each flow run (ansible-playbook -i <copy of inventory/>):\n' + '\n'.join(lines) + '\n'
    os.makedirs(helpers.BUILD, exist_ok=True)
    with open(os.path.join(helpers.BUILD, 'flow-times.txt'), 'w') as handle:
        handle.write(text)
    print(text)


# ---- first-step refusals -------------------------------------------------------------------------

CHECK_TASK = 'gameops.elastic_release.validate : Check the parameters, the package name, the release registry and the package'
ARGSPEC = "gameops.elastic_release.validate : Validating arguments against arg spec 'main'"


def seed(client):
    """A production release and a gray release, written with raw kazoo."""
    client.create('/default_release', b'{"name":"production"}')
    for release, url, versions in (('production', b'http://10.1.0.5:9000', ['1.2.0']),
                                   ('gray1', b'http://10.1.0.6:9000', ['1.3.0'])):
        client.create('/releases/%s/global_url' % release, url, makepath=True)
        for version in versions:
            client.create('/releases/%s/versions/%s' % (release, version), b'', makepath=True)
        client.create('/releases/%s/sections' % release, b'')
        client.create('/releases/%s/servers' % release, b'')


REFUSALS = [
    ('mismatched package name', {'flow': 'gray', 'package': 'gray1-190122.01', 'release': 'appstore_review'},
     CHECK_TASK, 'package mygame-gray1-190122.01.tar.gz is a package of release gray1, not of release appstore_review'),
    ('package name without a release', {'flow': 'gray', 'package': 'renamed', 'release': 'gray1'},
     CHECK_TASK, "package name 'gray1.tgz' does not match the pattern"),
    ('wrong release type', {'flow': 'production', 'package': 'gray1-190122.01', 'release': 'gray1'},
     CHECK_TASK, 'release gray1 is registered as a gray release, not as a production release: run playbooks/gray.yml'),
    ('review release in the gray flow', {'flow': 'gray', 'package': 'appstore_review-190122.01', 'release': 'appstore_review'},
     CHECK_TASK, 'registered as a review release, not as a gray release'),
    ('unregistered release', {'flow': 'gray', 'package': 'unregistered', 'release': 'gray9'},
     CHECK_TASK, 'release gray9 is not registered in elastic_release_registry (registered: appstore_review, gray1, production)'),
    ('unsafe package', {'flow': 'gray', 'package': 'unsafe', 'release': 'gray1'},
     CHECK_TASK, 'lib/../../../../tmp/evil.sh'),
    ('malformed package', {'flow': 'gray', 'package': 'wrong_indicator', 'release': 'gray1'},
     CHECK_TASK, 'production'),
    ('missing package and release', {'flow': 'review'},
     CHECK_TASK, 'missing parameter release: pass -e release=<release name>; missing parameter package'),
    ('missing release in rollback', {'flow': 'rollback'}, CHECK_TASK, 'missing parameter release'),
    ('retire a production release', {'flow': 'retire', 'release': 'production'},
     CHECK_TASK, 'release production is registered as a production release: the retire flow removes review and gray releases only'),
    ('retire an unregistered release', {'flow': 'retire', 'release': 'gray7'}, CHECK_TASK, 'release gray7 is not registered'),
]
# One refusal per flow runs through ansible-playbook (the role's argument check, the failed task, the
# summary file, exit code 2; the retire flow's is in test_life_of_a_game_project); the others run the
# flow's first step in this process (first_step).
THROUGH_PLAYBOOK = ('mismatched package name', 'wrong release type', 'missing package and release',
                    'missing release in rollback')


def seeded_refusal(zk, packages, params):
    """(the tree before, the flow, its extra vars) of a refusal case, over the seeded releases."""
    seed(zk.client)
    extra = dict(params)
    flow_name = extra.pop('flow')
    if 'package' in extra:
        extra['package'] = packages[extra['package']]
    return zk.tree(), flow_name, extra


@pytest.mark.parametrize('name,params,task,message', [c for c in REFUSALS if c[0] in THROUGH_PLAYBOOK])
def test_refused_in_the_first_step_writing_nothing(zk, inventory, packages, tmp_path, name, params, task, message):
    before, flow_name, extra = seeded_refusal(zk, packages, params)
    run = flow(inventory, tmp_path, flow_name, **extra)
    assert run.rc == 2, run
    assert zk.tree() == before, '%s: ZooKeeper changed' % name
    assert run.failed_task() == task, run
    # Nothing ran before the failure but the validate role's argument check, then its one check task.
    ran = run.tasks[:run.tasks.index(task) + 1]
    assert len(ran) == 2 and ran[0].startswith(ARGSPEC) and ran[1] == CHECK_TASK, ran
    assert message in run.summary['error'], run.summary['error']
    assert run.summary['status'] == 'failed' and run.summary['failed_task'] == task.split(' : ', 1)[1]
    assert run.summary['changed_nodes'] == 0
    fatal = [line for line in run.res.stdout.splitlines() if line.startswith('fatal:')][0]
    assert message in fatal.replace('\\"', '"'), fatal


@pytest.mark.parametrize('name,params,task,message', [c for c in REFUSALS if c[0] not in THROUGH_PLAYBOOK])
def test_refused_by_the_first_step_writing_nothing(zk, inventory, packages, name, params, task, message):
    before, flow_name, extra = seeded_refusal(zk, packages, params)
    result = first_step(inventory, flow_name, **extra)
    assert result.get('failed') is True, result
    assert zk.tree() == before, '%s: ZooKeeper changed' % name
    assert message in result['msg'], result['msg']
    assert result['msg'].startswith('%s flow refused, nothing was written: ' % flow_name), result['msg']
