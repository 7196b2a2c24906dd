# -*- coding: utf-8 -*-
"""The rules of changes and ownership, as pure functions: the delta of a change, its three-way undo,
what retention keeps, who is left without an owner."""

from ansible_collections.gameops.elastic_release.plugins.module_utils._release import changes as _changes
from ansible_collections.gameops.elastic_release.plugins.module_utils._release import ownership as _ownership
from ansible_collections.gameops.elastic_release.plugins.module_utils._release.state import copy_state, empty_state


def state(**kinds):
    out = empty_state(True)
    out['global_url'] = b'http://a'
    for kind, items in kinds.items():
        out[kind] = dict(items)
    return out


def test_the_delta_holds_each_altered_field_before_and_after():
    before = state(sections={'1': b'{}', '2': b'{"a":1}'}, versions={'1.0': b''})
    after = state(sections={'1': b'{ }', '3': None}, versions={'1.0': b''})
    after['global_url'] = b'http://b'
    delta = _changes.state_delta(before, after)
    # '{}' and '{ }' are the same JSON value: not a change. NULL data (None) is not absence (False).
    assert delta == {'global_url': ['http://a', 'http://b'], 'sections': {'2': ['{"a":1}', False], '3': [False, None]}}
    created = _changes.state_delta(empty_state(False), before)
    assert created['exists'] == [False, True] and created['sections']['2'] == [False, '{"a":1}']


def test_revert_is_a_three_way_merge():
    before = state(sections={'1': b'{}', '2': b'{}'})
    after = state(sections={'1': b'{}', '3': b'{}'})
    delta = _changes.state_delta(before, after)
    meta = ['{"package":"a"}', '{"package":"b"}']
    # Nothing else wrote: back to before, release node bytes exactly.
    out = _changes.revert(after, b'{"package":"b"}', delta, meta)
    assert out.conflicts == [] and out.state['sections'] == before['sections'] and out.meta_raw == b'{"package":"a"}'
    # Already undone: nothing to do.
    out = _changes.revert(before, b'{"package":"a"}', delta, meta)
    assert out.conflicts == [] and out.changes == 0
    # Another field changed since (section 4, the build): kept; the change's own fields reverted.
    later = copy_state(after)
    later['sections']['4'] = b'{}'
    out = _changes.revert(later, b'{"package":"c"}', delta, meta)
    assert ('meta', 'package') in out.conflicts and sorted(out.state['sections']) == ['1', '2', '4']
    # A field of the change altered since: a conflict, named.
    later = copy_state(after)
    later['sections']['3'] = b'{"x":1}'
    out = _changes.revert(later, b'{"package":"b"}', delta, meta)
    assert out.conflicts == [('sections', '3')] and out.meta_raw is None
    assert _changes.label('gray1', ('sections', '3')) == 'section 3 of gray1'


def test_undoing_a_creation_or_a_removal():
    release = state(sections={'1': b'{}'})
    created = _changes.state_delta(empty_state(False), release)
    out = _changes.revert(release, b'{}', created, [False, '{}'])
    assert out.state['exists'] is False and out.conflicts == []
    grown = copy_state(release)
    grown['sections']['9'] = b'{}'
    assert _changes.revert(grown, b'{}', created, [False, '{}']).conflicts == [('sections', '9')]
    removed = _changes.state_delta(release, empty_state(False))
    out = _changes.revert(empty_state(False), None, removed, ['{"package":"p"}', False])
    assert out.state == release and out.meta_raw == b'{"package":"p"}'


def test_bookkeeping_merges_entry_by_entry():
    delta = {}
    meta = ['{"package":"p","appended":["1.0"]}', '{"package":"p","appended":["1.0","1.1"],"moved":{"sections":{"3":"prod"}}}']
    now = b'{"package":"q","appended":["1.0","1.1"],"moved":{"sections":{"3":"prod","4":"prod"}}}'
    out = _changes.revert(state(), now, delta, meta)
    assert out.conflicts == []
    assert out.meta_fields == {'package': 'q', 'appended': ['1.0'], 'moved': {'sections': {'4': 'prod'}, 'servers': {}}}


def test_retention_keeps_the_newest_changes_and_the_last_builds():
    history = ['rev-%010d' % i for i in range(1, 9)]
    index = {}
    for i, name in enumerate(history):
        build = i < 4  # the first four replaced the build, the rest are moves
        index[name] = {'releases': {'p': {'package_before': 'b%d' % i if build else 'b4', 'package_after': 'b%d' % (i + 1)
                                          if build else 'b4'}}}
    index[history[0]]['releases']['p']['package_before'] = None   # the first publish replaced no build
    kept = _changes.retained(history, index, keep=3, keep_builds=2, release='p')
    assert kept == [history[2], history[3], history[6], history[7]]
    assert _changes.retained(history, {}, keep=3, keep_builds=2, release='p') == history[-2:]


def test_routing_and_ownership_rules():
    assert _ownership.route('versions', '9', [], 'production') == ('production', False)
    assert _ownership.route('versions', '9', [], None) == (None, False)
    assert _ownership.route_or_none('sections', '1', ['a', 'b'], 'a') == (None, False)
    assert _ownership.conflicts({('sections', '1'): ['a', 'b'], ('versions', '2'): ['prod', 'g']}, 'prod') == [
        ('sections', '1', ['a', 'b'])]
    before = {'gray1': state(sections={'1901': b'{}', '1003': b'{}'}), 'production': state(sections={'1001': b'{}'})}
    after = {'gray1': empty_state(False), 'production': state(sections={'1001': b'{}', '1003': b'{}'})}
    assert _ownership.given_up(before, after, lambda kind, name: ()) == {'sections': {'1901': 'gray1'}}
    assert _ownership.given_up(before, after, lambda kind, name: ['gray2']) == {}
    assert _ownership.allows(['all'], 'x') and _ownership.allows(['1901'], '1901') and not _ownership.allows([], '1')


def test_the_totals_of_a_run_and_its_net_impact():
    from ansible_collections.gameops.elastic_release.plugins.module_utils._write.impact import totals
    step = {'changed': True, 'operations_count': 4, 'transactions': 1, 'change': 'c1', 'revision': 'rev-2',
            'revisions_written': {'gray1': 'rev-2', 'production': 'rev-5'}, 'write_outcome': 'written',
            'impact': {'owners': [{'kind': 'sections', 'name': '1003', 'from': 'production', 'to': 'gray1'}],
                       'hosts': [{'host': 'gs-prod-02', 'reasons': ['section 1003: production -> gray1']}],
                       'restart': ['gs-prod-02']}}
    back = {'changed': True, 'operations_count': 4, 'transactions': 1, 'change': 'c2', 'revision': 'rev-3',
            'revisions_written': {'gray1': 'rev-3', 'production': 'rev-6'}, 'write_outcome': 'written',
            'impact': {'owners': [{'kind': 'sections', 'name': '1003', 'from': 'gray1', 'to': 'production'}],
                       'hosts': [{'host': 'gs-prod-02', 'reasons': ['section 1003: gray1 -> production']}],
                       'restart': ['gs-prod-02']}}
    out = totals([step, back], with_net=True)
    assert out['transactions'] == 2 and out['operations_count'] == 8 and out['changes'] == ['c1', 'c2']
    assert out['revisions_written'] == {'gray1': 'rev-3', 'production': 'rev-6'} and out['revision'] == 'rev-3'
    assert out['impact']['hosts'] == [{'host': 'gs-prod-02', 'reasons': ['section 1003: production -> gray1',
                                                                         'section 1003: gray1 -> production']}]
    assert out['net_impact'] == {}
    out = totals([step], with_net=True)
    assert out['net_impact']['owners'] == step['impact']['owners'] and out['net_impact']['restart'] == ['gs-prod-02']
