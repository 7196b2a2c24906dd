# -*- coding: utf-8 -*-
"""Changes as the unit of history: every kind of change is undone whole, byte for byte, in one
transaction, and undoing the undo redoes it; the refusals (a later change touched the same items, a
revision that would split a change, items left with no owner, a second owner, another build) write
nothing; retention keeps the changes that hold the last builds; revisions written before changes
were recorded still list and restore.

Modules run in this process (tests/modrun.py) against a real ZooKeeper; every check reads the tree
with raw kazoo. tests/integration/test_operations_week.py runs the same through ansible-playbook.
"""

import json
import zlib

import pytest

import modrun
from ansible_collections.gameops.elastic_release.plugins.modules import (zk_release_move, zk_release_node,
                                                                         zk_release_revision)

SERVICE = {'services': {'gameserver': 'dev.190122.01'}}
PRODUCTION = {
    'global_url': 'http://10.1.0.5:9000', 'versions': ['1.2.0', '1.2.1'],
    'sections': {'1001': {'name': 'S1'}, '1002': {'name': 'S2'}, '1003': {'name': 'S3'}, '1004': {'name': 'S4'}},
    'servers': {'10.1.0.11': SERVICE, '10.1.0.12': SERVICE},
}
GRAY = {'global_url': 'http://10.1.0.6:9000', 'versions': ['1.3.0'], 'sections': {'1901': {}}, 'servers': {'10.1.0.21': SERVICE}}
GRAY_B = {'global_url': 'http://10.1.0.7:9000', 'versions': ['1.3.0', '1.3.1'], 'sections': {'1901': {}, '1902': {}},
          'servers': {'10.1.0.21': {'services': {'gameserver': 'dev.190123.01'}}}}


def node(zk, args, check=False):
    return modrun.run(zk_release_node, dict(args, hosts=zk.hosts), check=check)


def move(zk, args, check=False):
    return modrun.run(zk_release_move, dict(args, hosts=zk.hosts), check=check)


def undo(zk, release, check=False, **args):
    return modrun.run(zk_release_revision, dict(args, hosts=zk.hosts, release=release, state='restored'), check=check)


def listed(zk, release):
    return modrun.run(zk_release_revision, {'hosts': zk.hosts, 'release': release})['changes']


def content(zk):
    """Every node under /releases, and /default_release, with its exact data: what game services,
    VMS and the lookups read, the release nodes' bookkeeping included."""
    out = {}

    def walk(path):
        if not zk.client.exists(path):
            return
        out[path] = zk.client.get(path)[0]
        for child in sorted(zk.client.get_children(path)):
            walk(path + '/' + child)
    walk('/releases')
    walk('/default_release')
    return out


@pytest.fixture
def project(zk):
    """production (the default release) and gray1, as the production and gray flows leave them."""
    assert node(zk, {'release': 'production', 'config': PRODUCTION, 'set_default': True,
                     'origin': 'mygame-production-190122.01.tar.gz'})['changed']
    assert node(zk, {'release': 'gray1', 'config': GRAY, 'append_versions_to_default': True,
                     'origin': 'mygame-gray1-190122.01.tar.gz'})['changed']
    return zk


def check_undo_and_redo(zk, release, change, touched, before, after, **args):
    """Undo the newest change of `release` (it must be `change`): the tree as before it, in one
    transaction over `touched`; undo the undo: as after it."""
    tree = zk.tree()
    planned = undo(zk, release, check=True, **args)
    assert planned["changed"] is True and planned["undone_change"] == change, planned.get("msg")
    assert zk.tree() == tree, 'check mode wrote to ZooKeeper'
    res = undo(zk, release, **args)
    assert res['changed'] is True and res['transactions'] == 1 and res['undone_change'] == change, res
    assert sorted(res['revisions_written']) == sorted(touched), res
    assert content(zk) == before, 'the undo of %s did not restore the tree byte for byte' % change
    redo = undo(zk, release, **args)
    assert redo['changed'] is True and redo['transactions'] == 1 and redo['undone_change'] == res['change'], redo
    assert content(zk) == after, 'undoing the undo of %s did not return to the state after it' % change
    return res


def test_every_kind_of_change_is_undone_whole_and_redone(project):
    zk = project
    # A gray publish (a new build): gray1, and the version it appends to production.
    before = content(zk)
    res = node(zk, {'release': 'gray1', 'config': GRAY_B, 'append_versions_to_default': True,
                    'origin': 'mygame-gray1-190123.01.tar.gz'})
    assert sorted(res['revisions_written']) == ['gray1', 'production'] and res['appended_versions'] == {'production': ['1.3.1']}
    after = content(zk)
    # Section 1902 came with the build: undoing it leaves 1902 with no owner, given up by name.
    check_undo_and_redo(zk, 'gray1', res['change'], ['gray1', 'production'], before, after, release_items=['1902'])

    # A widen step: both releases.
    before = content(zk)
    res = move(zk, {'destination': 'gray1', 'sections': ['1003', '1004'], 'servers': ['10.1.0.12']})
    assert res['changed'] and res['transactions'] == 1, res
    check_undo_and_redo(zk, 'gray1', res['change'], ['gray1', 'production'], before, content(zk))

    # A production hotfix while widened: what gray1 holds by the widen stays there.
    hotfix = dict(PRODUCTION, global_url='http://10.1.0.8:9000')
    before = content(zk)
    res = node(zk, {'release': 'production', 'config': hotfix, 'set_default': True,
                    'origin': 'mygame-production-190122.02.tar.gz'})
    assert res['held_elsewhere'] == {'sections': {'1003': 'gray1', '1004': 'gray1'}, 'servers': {'10.1.0.12': 'gray1'}}
    assert res['impact']['held_elsewhere'][0] == {'kind': 'sections', 'name': '1003', 'holder': 'gray1'}
    check_undo_and_redo(zk, 'production', res['change'], ['production'], before, content(zk))

    # A narrow step, and the undo of a failed gate (every item of the run moved back at once).
    for release, args in (('gray1', {'source': 'gray1', 'sections': ['1004']}),
                          ('production', {'source': 'gray1', 'destination': 'production', 'sections': ['1003'],
                                          'servers': ['10.1.0.12']})):
        before = content(zk)
        res = move(zk, args)
        assert res['changed'] and res['transactions'] == 1, res
        check_undo_and_redo(zk, release, res['change'], ['gray1', 'production'], before, content(zk))
    assert move(zk, {'destination': 'gray1', 'sections': ['1003']})['changed']

    # A retire of the widened gray release: its lent items go back, its own ones are given up.
    before = content(zk)
    res = node(zk, {'release': 'gray1', 'state': 'absent', 'release_items': ['all']})
    assert res['returned'] == {'production': {'sections': ['1003']}}, res
    after = content(zk)
    assert '/releases/gray1' not in after
    check_undo_and_redo(zk, 'gray1', res['change'], ['gray1', 'production'], before, after, release_items=['all'])
    # Undo the retire for good: gray1 is back with its items, its build and what it held by a move.
    res = undo(zk, 'gray1', release_items=['all'])
    assert content(zk) == before and res['removed'] is False, res

    # A promote: production takes everything gray1 holds, gray1 goes; undone, gray1 comes back.
    before = content(zk)
    res = node(zk, {'release': 'production', 'config': dict(hotfix, versions=['1.2.0', '1.2.1', '1.3.0', '1.3.1']),
                    'set_default': True, 'absorb': ['gray1'], 'origin': 'mygame-production-190123.01.tar.gz'})
    assert res['changed'] and res['transactions'] == 1 and sorted(res['revisions_written']) == ['gray1', 'production']
    after = content(zk)
    assert '/releases/gray1' not in after
    check_undo_and_redo(zk, 'production', res['change'], ['gray1', 'production'], before, after)
    rows = listed(zk, 'production')
    assert [r['action'] for r in rows][-3:] == ['promote', 'undo', 'undo'], rows
    assert rows[-3]['builds']['gray1'] == {'before': 'mygame-gray1-190123.01.tar.gz', 'after': None}, rows[-3]
    assert rows[-3]['undone_by'] is None and rows[-2]['undone_by'] == rows[-1]['change']


def test_undo_newest_first_and_the_other_refusals_write_nothing(project):
    zk = project
    gray_b = node(zk, {'release': 'gray1', 'config': GRAY_B, 'append_versions_to_default': True})
    widen = move(zk, {'destination': 'gray1', 'sections': ['1003']})
    narrow = move(zk, {'source': 'gray1', 'sections': ['1003']})
    tree = zk.tree()
    # The widen: a later change (the narrow) moved 1003 again.
    res = undo(zk, 'gray1', change=widen['change'])
    assert res.get('failed') and res['write_outcome'] == 'not_written', res
    assert 'refusing to undo change %s: later changes touched the same items' % widen['change'] in res['msg']
    assert 'section 1003 of gray1 was changed by change %s (narrow' % narrow['change'] in res['msg']
    assert ('ansible-playbook -i inventory playbooks/rollback.yml -e release=gray1 -e change=%s' % narrow['change']
            in res['msg'])
    # A revision of a change that touched two releases: a change is undone whole.
    revision = widen['revisions_written']['gray1']
    res = undo(zk, 'gray1', revision=revision)
    assert res.get('failed') and 'is part of change %s, which also touched production' % widen['change'] in res['msg']
    assert '-e change=%s' % widen['change'] in res['msg']
    res = undo(zk, 'gray1', change='nope42')
    assert res.get('failed') and 'release gray1 has no change nope42' in res['msg'], res
    assert zk.tree() == tree
    # The gray publish itself is not blocked by the moves: they touched other items. Undone, it takes
    # back the version it appended to production too.
    res = undo(zk, 'gray1', change=gray_b['change'], release_items=['1902'])
    assert res['changed'] is True and res['undone_change'] == gray_b['change'], res.get('msg')
    assert sorted(zk.client.get_children('/releases/production/versions')) == ['1.2.0', '1.2.1', '1.3.0']
    assert sorted(zk.client.get_children('/releases/gray1/sections')) == ['1901']
    assert json.loads(zk.client.get('/releases/gray1')[0])['package'] == 'mygame-gray1-190122.01.tar.gz'
    assert json.loads(zk.client.get('/releases/production')[0])['appended'] == ['1.3.0']

    # A publish whose config drops a section leaves it with no owner: refused, naming it.
    tree = zk.tree()
    smaller = dict(PRODUCTION, sections=dict((k, v) for k, v in PRODUCTION['sections'].items() if k != '1004'))
    for check in (True, False):
        res = node(zk, {'release': 'production', 'config': smaller, 'set_default': True}, check=check)
        assert res.get('failed') and 'refusing to write release production: it would leave an item with no owner: ' \
            'section id 1004 (owned by production)' in res['msg'] and '-e release_items=1004' in res['msg'], res
    assert zk.tree() == tree
    res = node(zk, {'release': 'production', 'config': smaller, 'set_default': True, 'release_items': ['1004']})
    assert res['changed'] and res['given_up'] == {'sections': {'1004': 'production'}}, res
    assert any('1004' in line and 'given up' in line for line in res['impact_table']), res['impact_table']
    given = json.loads(zk.client.get('/elastic_release/given_up')[0])
    assert given['sections']['1004']['change'] == res['change']

    # An undo that would give back an item another release took since: refused, a second owner.
    assert node(zk, {'release': 'appstore_review', 'config': {'sections': ['1004']}})['changed']
    assert '1004' not in json.loads(zk.client.get('/elastic_release/given_up')[0])['sections']
    tree = zk.tree()
    res = undo(zk, 'production')
    assert res.get('failed') and 'section id 1004 is owned by appstore_review' in res['msg'], res
    assert zk.tree() == tree


def test_promote_checks_the_build_and_a_second_promote_is_ok(zk, packages):
    package = dict((key, packages[key]) for key in ('production-190122.01', 'production-190123.01',
                                                    'gray1-190122.01', 'gray1-190123.01'))
    assert node(zk, {'release': 'production', 'package': package['production-190122.01'], 'set_default': True})['changed']
    assert node(zk, {'release': 'gray1', 'package': package['gray1-190122.01'], 'append_versions_to_default': True})['changed']
    promote = {'release': 'production', 'package': package['production-190123.01'], 'set_default': True,
               'absorb': ['gray1']}
    tree = zk.tree()
    res = node(zk, promote)
    assert res.get('failed') and res['write_outcome'] == 'not_written', res
    assert ('refusing to promote gray1 with package mygame-production-190123.01.tar.gz (build 190123.01): gray1 runs '
            'package mygame-gray1-190122.01.tar.gz (build 190122.01)') in res['msg'] and 'allow_other_build' in res['msg']
    assert zk.tree() == tree
    assert node(zk, {'release': 'gray1', 'package': package['gray1-190123.01'], 'append_versions_to_default': True})['changed']
    res = node(zk, promote)
    assert res['changed'] is True and res['transactions'] == 1, res
    tree = zk.tree()
    again = node(zk, promote)
    assert again['changed'] is False and not again.get('failed'), again
    assert again['already_promoted'] == res['change'] and 'already promoted in change %s' % res['change'] in again['msg']
    assert zk.tree() == tree


def test_retention_keeps_the_changes_that_hold_the_last_builds(project):
    zk = project
    keep = {'keep_changes': 3, 'keep_builds': 2}
    for build in ('02', '03', '04'):
        assert node(zk, dict(keep, release='production', config=PRODUCTION, set_default=True,
                             origin='mygame-production-190122.%s.tar.gz' % build))['changed']
    for step in range(4):   # moves do not replace the build; they would push the builds out of 3 changes
        assert move(zk, dict(keep, destination='gray1', sections=['1003']) if step % 2 == 0
                    else dict(keep, source='gray1', sections=['1003']))['changed']
    rows = listed(zk, 'production')
    builds = [(r['holds_package'], r['package_after']) for r in rows if r['holds_package'] != r['package_after']]
    assert builds == [('mygame-production-190122.02.tar.gz', 'mygame-production-190122.03.tar.gz'),
                      ('mygame-production-190122.03.tar.gz', 'mygame-production-190122.04.tar.gz')], rows
    # The 3 newest changes, and the 2 that replaced the build before them.
    assert [r['action'] for r in rows] == ['publish', 'publish', 'narrow', 'widen', 'narrow'], rows
    # The bad build is undone after all those moves: they touched other items.
    res = undo(zk, 'production', change=rows[1]['change'])
    assert res['changed'] is True, res
    assert json.loads(zk.client.get('/releases/production')[0])['package'] == 'mygame-production-190122.03.tar.gz'


def _legacy_record(zk, release, revision, doc):
    path = '/elastic_release/history/%s/%s' % (release, revision)
    zk.client.create(path, zlib.compress(json.dumps(doc).encode()), makepath=True)


def test_revisions_written_before_changes_still_list_and_restore(zk):
    """A tree as an earlier version of the collection left it: revisions of format 1 (the whole
    state before each write), no index."""
    assert node(zk, {'release': 'production', 'config': PRODUCTION, 'set_default': True})['changed']
    zk.client.delete('/elastic_release/history/production', recursive=True)
    before = {'exists': True, 'global_url': 'http://10.1.0.4:9000', 'versions': {'1.1.0': ''},
              'sections': dict((k, json.dumps(v, separators=(',', ':'))) for k, v in PRODUCTION['sections'].items()),
              'servers': dict((k, json.dumps(SERVICE, separators=(',', ':'))) for k in PRODUCTION['servers'])}
    _legacy_record(zk, 'production', 'rev-0000000001', {
        'format': 1, 'release': 'production', 'revision': 'rev-0000000001', 'txn': 'ab' * 16, 'time': '2025-01-01T00:00:00Z',
        'operator': 'old@host', 'package': 'mygame-production-190121.01.tar.gz', 'action': 'publish',
        'digest_before': 'x', 'digest_after': 'y', 'before': before})
    rows = listed(zk, 'production')
    assert [(r['revision'], r['change'], r['action']) for r in rows] == [('rev-0000000001', 'abababababab', 'publish')]
    res = undo(zk, 'production', revision='1')
    assert res['changed'] is True and res['undone_change'] == 'abababababab', res
    assert zk.client.get('/releases/production/global_url')[0] == b'http://10.1.0.4:9000'
    assert sorted(zk.client.get_children('/releases/production/versions')) == ['1.1.0']
    # The undo is a change of the new kind: undoing it brings the later state back.
    res = undo(zk, 'production')
    assert res['changed'] is True and zk.client.get('/releases/production/global_url')[0] == b'http://10.1.0.5:9000'
