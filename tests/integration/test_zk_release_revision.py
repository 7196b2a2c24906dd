# -*- coding: utf-8 -*-
"""zk_release_revision against a real ZooKeeper, verified with raw kazoo. The restore, named in
MATRIX_TESTS (scripts/test.sh), runs through real `ansible` (real=True); the refusals run main() in
this process (tests/modrun.py). (The flows test covers listing and restoring within the rollback flow.)"""

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
    assert task['msg'] == ('cannot undo a change of release gray1: release gray1 has no kept changes '
                           'under /elastic_release/history/gray1')
    res, task = revision(zk, release='Gray1')
    assert res.rc != 0 and "invalid release name 'Gray1'" in task['msg']


def test_undo_of_the_publish_that_created_the_release_removes_it(zk):
    args = {'hosts': zk.hosts, 'release': 'gray1', 'config': GRAY, 'origin': 'mygame-gray1-1.tar.gz'}
    res = helpers.adhoc('gameops.elastic_release.zk_release_node', args)[0]
    assert res.rc == 0, res
    published = zk.tree()
    node = zk.client.get('/releases/gray1')[0]

    res, task = revision(zk, real=True, release='gray1', state='restored', revision='rev-0000000009')
    assert res.rc != 0 and 'release gray1 has no revision rev-0000000009 (kept: rev-0000000001)' in task['msg']
    # Its section and server would have no owner: refused, naming them and the option that allows it.
    res, task = revision(zk, release='gray1', state='restored')
    assert res.rc != 0 and 'section id 1901 (owned by gray1); server inner IP 10.1.0.21 (owned by gray1)' in task['msg']
    assert '-e release_items=1901,10.1.0.21' in task['msg'] and task['write_outcome'] == 'not_written'
    assert zk.tree() == published

    res, task = revision(zk, real=True, check=True, diff=True, release='gray1', state='restored', release_items=['all'])
    assert res.rc == 0, res
    assert task['changed'] is True and task['removed'] is True and task['revision'] is None
    assert task['restored']['revision'] == 'rev-0000000001' and task['restored']['package'] == 'mygame-gray1-1.tar.gz'
    assert {'op': 'delete', 'path': '/releases/gray1'} in task['operations']
    assert zk.tree() == published, 'check mode wrote to ZooKeeper'

    res, task = revision(zk, real=True, release='gray1', state='restored', revision='1', release_items=['all'])
    assert res.rc == 0, res
    assert task['changed'] is True and task['revision'] == 'rev-0000000002' and task['transactions'] == 1
    assert task['undone_change'] == task['changes'][0]['change'] and task['change'] != task['undone_change']
    assert task['given_up'] == {'sections': {'1901': 'gray1'}, 'servers': {'10.1.0.21': 'gray1'}}
    assert not zk.client.exists('/releases/gray1')
    res, task = revision(zk, real=True, release='gray1')
    assert [(r['revision'], r['action'], r['release_existed_before'], r['releases']) for r in task['changes']] == [
        ('rev-0000000001', 'publish', False, ['gray1']), ('rev-0000000002', 'undo', True, ['gray1'])]
    assert task['changes'][0]['undone_by'] == task['changes'][1]['change']

    # The same undo again changes nothing; undoing the undo brings the release back, byte for byte.
    removed = zk.tree()
    res, task = revision(zk, real=True, release='gray1', state='restored', revision='1')
    assert res.rc == 0 and task['changed'] is False, res
    assert zk.tree() == removed
    res, task = revision(zk, real=True, release='gray1', state='restored')
    assert res.rc == 0 and task['changed'] is True, res
    assert sorted(zk.client.get_children('/releases/gray1/versions')) == ['1.3.0']
    assert zk.client.get('/releases/gray1')[0] == node
