# -*- coding: utf-8 -*-
"""zk_release_revision against a real ZooKeeper, verified with raw kazoo. The restore, named in
MATRIX_TESTS (scripts/test.sh), runs through real `ansible` (real=True); the refusals run main() in
this process (tests/modrun.py). (The flows test covers listing and restoring within the rollback flow.)"""

import json

import helpers
import modrun

MODULE = 'gameops.elastic_release.zk_release_revision'
GRAY = {'global_url': 'http://10.1.0.6:9000', 'versions': ['1.3.0'], 'sections': ['1901'], 'servers': ['10.1.0.21']}


def revision(zk, check=False, diff=False, real=False, **args):
    args.setdefault('hosts', zk.hosts)
    return (helpers.adhoc if real else modrun.adhoc)(MODULE, args, check=check, diff=diff)


def test_no_revisions(zk):
    res, task = revision(zk, release='gray1')
    assert res.rc == 0, res
    assert task['changed'] is False and task['revisions'] == []
    res, task = revision(zk, release='gray1', state='restored')
    assert res.rc != 0
    assert task['msg'] == ('cannot restore a revision of release gray1: release gray1 has no kept revisions '
                           'under /elastic_release/history/gray1')
    res, task = revision(zk, release='Gray1')
    assert res.rc != 0 and "invalid release name 'Gray1'" in task['msg']


def test_restore_before_the_release_existed_removes_it(zk):
    args = {'hosts': zk.hosts, 'release': 'gray1', 'config': GRAY, 'origin': 'mygame-gray1-1.tar.gz'}
    res = helpers.adhoc('gameops.elastic_release.zk_release_node', args)[0]
    assert res.rc == 0, res
    published = zk.tree()

    res, task = revision(zk, real=True, release='gray1', state='restored', revision='rev-0000000009')
    assert res.rc != 0 and 'release gray1 has no revision rev-0000000009 (kept: rev-0000000001)' in task['msg']

    res, task = revision(zk, real=True, check=True, diff=True, release='gray1', state='restored')
    assert res.rc == 0, res
    assert task['changed'] is True and task['removed'] is True and task['revision'] is None
    assert task['restored']['revision'] == 'rev-0000000001' and task['restored']['package'] == 'mygame-gray1-1.tar.gz'
    assert {'op': 'delete', 'path': '/releases/gray1'} in task['operations']
    assert zk.tree() == published, 'check mode wrote to ZooKeeper'

    res, task = revision(zk, real=True, release='gray1', state='restored', revision='1')
    assert res.rc == 0, res
    assert task['changed'] is True and task['revision'] == 'rev-0000000002'
    assert not zk.client.exists('/releases/gray1')
    res, task = revision(zk, real=True, release='gray1')
    assert [(r['revision'], r['action'], r['release_existed_before']) for r in task['revisions']] == [
        ('rev-0000000001', 'publish', False), ('rev-0000000002', 'rollback', True)]

    # The same restore again changes nothing; restoring the newest brings the release back.
    removed = zk.tree()
    res, task = revision(zk, real=True, release='gray1', state='restored', revision='1')
    assert res.rc == 0 and task['changed'] is False, res
    assert zk.tree() == removed
    res, task = revision(zk, real=True, release='gray1', state='restored')
    assert res.rc == 0 and task['changed'] is True, res
    assert sorted(zk.client.get_children('/releases/gray1/versions')) == ['1.3.0']
    assert json.loads(zk.client.get('/releases/gray1')[0])['action'] == 'rollback'
