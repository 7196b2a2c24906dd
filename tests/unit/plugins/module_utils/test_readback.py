# -*- coding: utf-8 -*-
"""The read-back of a write whose result was lost, on a fake session (pure): written when a kept
change records the request, not_written once no lock node names it, unknown while one still does;
the request id the write modules accept; the lock identifier that carries it."""

import pytest

from ansible_collections.gameops.elastic_release.plugins.module_utils._release.changes import encode_index
from ansible_collections.gameops.elastic_release.plugins.module_utils._write import front, readback
from ansible_collections.gameops.elastic_release.plugins.module_utils._write.change import Options


class FakeSession(object):
    """children_many / get_many / exists_many / sync over a dict of path -> bytes; `script` is a list
    of callables run one per holders() round, to let a lock node go while the read-back waits."""

    def __init__(self, nodes):
        self.nodes = dict(nodes)
        self.synced = []

    def _children(self, path):
        prefix = path.rstrip('/') + '/'
        return sorted(set(p[len(prefix):].split('/')[0] for p in self.nodes if p.startswith(prefix)))

    def children_many(self, paths):
        return dict((p, self._children(p) if self._exists(p) else None) for p in paths)

    def _exists(self, path):
        return path in self.nodes or any(p.startswith(path.rstrip('/') + '/') for p in self.nodes)

    def exists_many(self, paths):
        return dict((p, {} if self._exists(p) else None) for p in paths)

    def get_many(self, paths):
        return dict((p, (self.nodes[p], {}) if p in self.nodes else None) for p in paths)

    def sync(self, path):
        self.synced.append(path)


def history(release, rows):
    return {'/elastic_release/history/%s' % release: encode_index(rows)}


class Clock(object):
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def test_a_change_that_records_the_request_is_written_at_once():
    nodes = history('gray1', {'rev-0000000003': {'change': 'aa11', 'action': 'widen', 'request': 'run7.1'},
                              'rev-0000000002': {'change': 'bb22', 'action': 'widen', 'request': 'other.1'}})
    nodes.update(history('production', {'rev-0000000009': {'change': 'aa11', 'action': 'widen', 'request': 'run7.1'}}))
    # Its dead writer's lock node may still be there: the change settles it without waiting.
    nodes['/elastic_release/locks/gray1/lock-0000000001'] = b'ops request run7.1'
    session, clock = FakeSession(nodes), Clock()
    out = readback.readback(session, 'run7', wait=30, clock=clock, sleep=clock.sleep)
    assert out['write_outcome'] == 'written' and out['changed'] is True
    assert out['revisions_written'] == {'gray1': 'rev-0000000003', 'production': 'rev-0000000009'}
    assert out['transactions'] == 1 and out['change'] == 'aa11' and clock.now == 0
    assert session.synced == ['/elastic_release/history']
    assert 'aa11' in out['msg'] and 'applied' in out['msg']


def test_no_change_and_no_lock_is_not_written():
    nodes = history('gray1', {'rev-0000000002': {'change': 'bb22', 'request': 'run70.1'}})   # a prefix is not a match
    out = readback.readback(FakeSession(nodes), 'run7', wait=5)
    assert out['write_outcome'] == 'not_written' and out['changed'] is False
    assert out['transactions'] == 0 and out['revisions_written'] == {} and out['changes'] == []
    assert 'nothing was written' in out['msg']


def test_an_empty_tree_is_not_written():
    out = readback.readback(FakeSession({}), 'run7', wait=0)
    assert out['write_outcome'] == 'not_written'


def test_a_lock_that_goes_while_waiting_is_then_read():
    lock = '/elastic_release/locks/gray1/lock-0000000004'
    session, clock = FakeSession({lock: b'ops request run7.2'}), Clock()

    def sleep(seconds):
        clock.sleep(seconds)
        if clock.now >= 2:
            # The writer's session ended and its transaction had committed just before.
            session.nodes.pop(lock, None)
            session.nodes.update(history('gray1', {'rev-0000000005': {'change': 'cc33', 'request': 'run7.2'}}))
    out = readback.readback(session, 'run7', wait=30, poll=0.5, clock=clock, sleep=sleep)
    assert out['write_outcome'] == 'written' and out['change'] == 'cc33' and out['held'] == []
    assert 2 <= out['waited'] < 3


def test_a_lock_that_stays_is_unknown_with_how_to_converge():
    lock = '/elastic_release/locks/gray1/lock-0000000004'
    session, clock = FakeSession({lock: b'ops request run7.2'}), Clock()
    out = readback.readback(session, 'run7', wait=3, poll=1, clock=clock, sleep=clock.sleep)
    assert out['write_outcome'] == 'unknown' and out['changed'] is None
    assert out['held'] == [lock] and clock.now >= 3
    assert 'run the flow again' in out['msg'] and 'playbooks/rollback.yml' in out['msg']


def test_locks_of_other_writers_are_not_waited_for():
    nodes = {'/elastic_release/locks/gray1/lock-0000000001': b'ops',
             '/elastic_release/locks/gray1/lock-0000000002': b'ops request other.1'}
    clock = Clock()
    out = readback.readback(FakeSession(nodes), 'run7', wait=30, clock=clock, sleep=clock.sleep)
    assert out['write_outcome'] == 'not_written' and clock.now == 0


@pytest.mark.parametrize('value, wanted', [('run7.1', True), ('run7', True), ('run70', False), ('run', False), (None, False)])
def test_matches(value, wanted):
    assert readback.matches(value, 'run7') is wanted


@pytest.mark.parametrize('value', ['', None])
def test_no_request_id_is_none(value):
    assert front.request_id(value) is None


@pytest.mark.parametrize('value', ['-x', 'a b', 'a/b', 'x' * 101, 'é'])
def test_a_bad_request_id_is_refused_naming_it(value):
    with pytest.raises(ValueError, match='request_id'):
        front.request_id(value)


def test_the_lock_identifier_carries_the_request():
    assert Options(operator='ops', request_id='run7.1').lock_identifier == 'ops request run7.1'
    assert Options(operator='ops').lock_identifier == 'ops'
