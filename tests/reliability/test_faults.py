# -*- coding: utf-8 -*-
"""Faults on a real 3-node ensemble: the leader killed mid-publish, quorum lost, a session expired
while its lock is held. Every check reads ZooKeeper with raw kazoo, never with the collection.

Guarantees proven here (docs/guarantees.md): Atomic, Recoverable (rerun converges), Serialised
(the lock fence), and the deadline rule (a dead ensemble is an error within `timeout`, not a hang).
"""

import json
import os
import random
import signal
import threading
import time

import pytest
from kazoo.protocol.states import KazooState

import faultkit

from ansible_collections.gameops.elastic_release.plugins.module_utils._write import change as _change
from ansible_collections.gameops.elastic_release.plugins.module_utils._release import config as _config
from ansible_collections.gameops.elastic_release.plugins.module_utils._write import publish as _publish
from ansible_collections.gameops.elastic_release.plugins.module_utils._release import state as _state
from ansible_collections.gameops.elastic_release.plugins.module_utils._write import transaction as _write
from ansible_collections.gameops.elastic_release.plugins.module_utils._zk import session as _zk

MODULE = 'zk_release_node'
RELEASE = 'gray1'
SECTIONS = 2000          # ~2,000 nodes change in every publish: a ~250 kB transaction
MIDDLE_SECTIONS = 1000   # enough to have hundreds of reads in flight when the quorum goes
KILL_RUNS = 20
SEED = int(os.environ.get('RELIABILITY_SEED', '20260612'))


def publish_args(view, config, **extra):
    args = {'hosts': view.hosts, 'release': RELEASE, 'config': config}
    args.update(extra)
    return args


def expected_view(config):
    out = faultkit.expected_subtree(config)
    out['/'] = ('digest', faultkit.content_digest(config))
    return out


def read_release(client):
    return faultkit.release_view(faultkit.read_subtree(client, '/releases/' + RELEASE))


def lock_nodes(client, path):
    try:
        return set(client.get_children_async(path).get(timeout=5))
    except Exception:  # no lock taken yet, or the watcher is reconnecting
        return set()


def wait_for_lock_node(client, path, run, timeout=60, stale=()):
    """Poll until a writer holds a node under the lock path (the publish is past its first read).

    stale: lock nodes there before the run started; an earlier writer killed with its quorum leaves
    its ephemeral node until that session expires, and it must not be taken for this run's lock."""
    deadline = time.time() + timeout
    while time.time() < deadline and run.running():
        try:
            if set(client.get_children_async(path).get(timeout=1)) - set(stale):
                return True
        except Exception:  # the watcher itself may be reconnecting
            pass
        time.sleep(0.01)
    return False


def clear_failure(task):
    msg = (task or {}).get('msg', '')
    return any(word in msg for word in faultkit.ZK_TROUBLE), msg


# ---- the leader killed while a publish runs ------------------------------------------------------

def test_leader_killed_during_publish_leaves_old_or_new_tree(ens):
    """20 publishes of 2,000 changed sections, the leader SIGKILLed at varied moments of each.

    Odd runs kill a random 0-0.6 s after the writer's lock node appears (re-read under the lock and
    the commit); even runs kill 0.3-3.5 s after ansible starts (connect, first read, planning).
    After each run the release is exactly the old tree or exactly the new one; a success means
    the new one; a failure says why; the rerun converges. The killed node is restarted at once.
    """
    rng = random.Random(SEED)
    ensemble = ens.ensemble
    res, task, dummy = faultkit.adhoc(MODULE, publish_args(ens, faultkit.sections_config('t0', SECTIONS)))
    assert res.rc == 0, res
    rows = []
    lock_dir = '/elastic_release/locks/' + RELEASE
    with ens.client() as watcher:
        old = read_release(watcher)
        assert old == expected_view(faultkit.sections_config('t0', SECTIONS))
        for i in range(1, KILL_RUNS + 1):
            config = faultkit.sections_config('t%d' % i, SECTIONS)
            new = expected_view(config)
            stale = lock_nodes(watcher, lock_dir)
            run = faultkit.Background(MODULE, publish_args(ens, config))
            if i % 2:
                phase = 'after lock'
                saw_lock = wait_for_lock_node(watcher, lock_dir, run, stale=stale)
                delay = rng.uniform(0, 0.6)
                if not saw_lock:
                    phase = 'lock not seen'
            else:
                phase = 'from start'
                delay = rng.uniform(0.3, 3.5)
            time.sleep(delay)
            # The node killed last time was restarted at once; it has rejoined long before now.
            faultkit.heal(ensemble)
            leader = ensemble.leader()
            in_flight = run.running()
            leader.kill(signal.SIGKILL)
            killed_at = time.time() - run.started
            leader.start()
            res, task = run.wait(180)
            faultkit.assert_clean_output(res)
            after = read_release(watcher)
            state = 'new' if after == new else 'old' if after == old else 'MIXED'
            assert state != 'MIXED', 'run %d: the release is neither the old nor the new tree' % i
            if res.rc == 0:
                assert state == 'new', 'run %d succeeded but the tree is the old one' % i
                outcome = 'succeeded'
            else:
                clear, msg = clear_failure(task)
                assert clear, 'run %d failed without a clear message: %r' % (i, msg)
                outcome = 'failed: %s' % msg[:160]
            rerun, retask, dummy = faultkit.adhoc(MODULE, publish_args(ens, config))
            assert rerun.rc == 0, rerun
            assert read_release(watcher) == new, 'run %d: the rerun did not converge' % i
            if res.rc == 0:
                assert retask['changed'] is False, 'run %d: a rerun after a success changed something' % i
            rows.append({'run': i, 'phase': phase, 'delay': round(delay, 3), 'killed_at': round(killed_at, 2),
                         'in_flight': in_flight, 'outcome': outcome, 'tree': state,
                         'zk_seconds': (task or {}).get('zk_seconds'),
                         'rerun_changed': retask['changed']})
            old = new
        # Recoverable through the faults: one revision per change, each recording exactly the
        # state the previous publish left (its digest; the oldest ones trimmed to keep_changes=20) ...
        kept = faultkit.revisions(watcher, RELEASE)
        assert len(kept) == 20, sorted(kept)
        for name, doc in kept.items():
            run = int(name[len('rev-'):]) - 2          # rev-1 was the first publish, t0
            assert doc['digest_before'] == faultkit.content_digest(faultkit.sections_config('t%d' % run, SECTIONS)), name
        # ... and a rollback to the newest revision restores the state before the last publish.
        res, task, dummy = faultkit.adhoc('zk_release_revision', {'hosts': ens.hosts, 'release': RELEASE,
                                                                  'state': 'restored'})
        assert res.rc == 0, res
        assert read_release(watcher) == expected_view(faultkit.sections_config('t%d' % (KILL_RUNS - 1), SECTIONS))
    faultkit.record_rows('leader killed during publish', rows)
    print(json.dumps(rows, indent=1))
    assert len(rows) >= 20
    # The kills must really have hit running publishes, most of them inside the locked part.
    assert sum(1 for r in rows if r['in_flight']) >= 15, rows
    assert sum(1 for r in rows if r['in_flight'] and r['phase'] == 'after lock') >= 8, rows


# ---- quorum lost ---------------------------------------------------------------------------------

def _ansible_overhead(view):
    """Seconds ansible itself needs for one module run that fails before connecting."""
    dummy, task, elapsed = faultkit.adhoc(MODULE, {'hosts': view.hosts, 'release': 'Bad-Name', 'config': {}})
    assert 'invalid release name' in task['msg']
    return elapsed


def test_quorum_lost_fails_within_timeout_and_writes_nothing(ens):
    ensemble = ens.ensemble
    res, dummy, dummy2 = faultkit.adhoc(MODULE, publish_args(ens, faultkit.sections_config('q0', 50)))
    assert res.rc == 0, res
    before = ens.tree()
    overhead = _ansible_overhead(ens)
    timeout = 4
    for node in [n for n in ensemble.nodes if n is not ensemble.leader()][:1] + [ensemble.leader()]:
        node.kill()
    rows = []
    res, task, elapsed = faultkit.adhoc(MODULE, publish_args(ens, faultkit.sections_config('q1', 50), timeout=timeout))
    faultkit.assert_clean_output(res)
    assert res.rc != 0
    assert 'no quorum' in task['msg'] and 'cannot connect to ZooKeeper' in task['msg'], task['msg']
    assert elapsed <= overhead + timeout + 3, (elapsed, overhead)
    rows.append({'when': 'before the run', 'timeout': timeout, 'seconds': round(elapsed, 2),
                 'ansible_overhead': round(overhead, 2), 'msg': task['msg']})
    # A read-only question fails the same way.
    res, task, elapsed = faultkit.adhoc('release_lookup', {'hosts': ens.hosts, 'section_id': '10001', 'timeout': timeout})
    faultkit.assert_clean_output(res)
    assert res.rc != 0 and 'no quorum' in task['msg'], task
    assert elapsed <= overhead + timeout + 3, (elapsed, overhead)
    rows.append({'when': 'before the run (release_lookup)', 'timeout': timeout, 'seconds': round(elapsed, 2),
                 'msg': task['msg']})
    faultkit.heal(ensemble)
    assert ens.tree() == before, 'a module facing a dead ensemble wrote something'
    faultkit.record_rows('quorum lost before the run', rows)


def test_quorum_lost_in_the_middle_of_a_publish_is_bounded(ens):
    """Two nodes die once the writer holds its lock: the module must end (no hang) with a clear
    message within its deadlines: at most ~3 x timeout once connected (read, commit,
    reconnect), and the tree is the old one or the new one after the ensemble heals."""
    ensemble = ens.ensemble
    old_config = faultkit.sections_config('m0', MIDDLE_SECTIONS)
    res, dummy, dummy2 = faultkit.adhoc(MODULE, publish_args(ens, old_config))
    assert res.rc == 0, res
    overhead = _ansible_overhead(ens)
    timeout = 4
    rows = []
    with ens.client() as watcher:
        for i, delay in enumerate((0.0, 0.3)):
            faultkit.heal(ensemble)
            old = read_release(watcher)
            config = faultkit.sections_config('m%d' % (i + 1), MIDDLE_SECTIONS)
            run = faultkit.Background(MODULE, publish_args(ens, config, timeout=timeout))
            assert wait_for_lock_node(watcher, '/elastic_release/locks/' + RELEASE, run)
            time.sleep(delay)
            in_flight = run.running()
            for node in ensemble.nodes[:2]:
                node.kill()
            killed_at = time.time() - run.started
            res, task = run.wait(120)
            took = run.elapsed - killed_at
            faultkit.assert_clean_output(res)
            if res.rc != 0:
                clear, msg = clear_failure(task)
                assert clear, msg
                # refused before the write (also at connect time, when the nodes died before the module
                # connected), or a write whose outcome is unknown said so
                assert ('no quorum or is unreachable' in msg or 'did not answer' in msg or 'the ensemble has no quorum' in msg
                        or ('may or may not have been applied' in msg and 'run again to converge' in msg)), msg
            assert took <= overhead + 3 * timeout + 3, (took, overhead, task)
            faultkit.heal(ensemble)
            after = read_release(watcher)
            assert after in (old, expected_view(config)), 'the release is neither the old nor the new tree'
            rerun, dummy, dummy2 = faultkit.adhoc(MODULE, publish_args(ens, config))
            assert rerun.rc == 0, rerun
            assert read_release(watcher) == expected_view(config)
            rows.append({'delay_after_lock': delay, 'in_flight': in_flight, 'rc': res.rc,
                         'seconds_after_kill': round(took, 2), 'timeout': timeout,
                         'tree': 'new' if after == expected_view(config) else 'old',
                         'msg': (task or {}).get('msg')})
    faultkit.record_rows('quorum lost during a publish', rows)
    print(json.dumps(rows, indent=1))


# ---- the same faults, deterministic, at the module_utils level ----------------------------------

def _apply(session, n, tag, lock_factory=None, **options):
    """Publish n sections tagged `tag` to RELEASE with the collection's write engine."""
    cfg = _config.parse_config({'sections': dict((str(1000 + i), {'tag': tag}) for i in range(n))})
    intent = _publish.PublishIntent(RELEASE, _state.state_from_config(cfg))
    return _write.apply(session, intent, _change.Options(**options), lock_factory=lock_factory)


class _Hooked(object):
    """A lock factory that runs `before` ahead of taking the lock and `after` once it is held."""

    def __init__(self, session, before=None, after=None):
        self.session = session
        self.before = before
        self.after = after
        self.locks = []

    def __call__(self, path, identifier):
        lock = self.session.client.Lock(path, identifier)
        acquire = lock.acquire
        hooks = self

        def hooked(*args, **kwargs):
            if hooks.before:
                hooks.before(lock)
            got = acquire(*args, **kwargs)
            if got and hooks.after:
                hooks.after(lock)
            return got
        lock.acquire = hooked
        self.locks.append(lock)
        return lock


@pytest.mark.parametrize('when', ['before the lock', 'after the lock'])
def test_quorum_lost_around_the_lock_never_hangs(ens, when):
    """kazoo's Lock.acquire()/release() block forever while the session is suspended; the
    collection must bound both (found by this test: apply() hung > 120 s in either place)."""
    ensemble = ens.ensemble
    with _zk.ZkSession(hosts=ens.hosts, timeout=3) as session:
        _apply(session, 20, 'a')

        def kill_two(_lock):
            for node in ensemble.nodes[:2]:
                node.kill()
        hook = _Hooked(session, before=kill_two if when == 'before the lock' else None,
                       after=kill_two if when == 'after the lock' else None)
        started = time.time()
        with pytest.raises(_zk.ZkUnavailable) as err:
            _apply(session, 20, 'b', lock_factory=hook, lock_timeout=20)
        took = time.time() - started
    # Refused before the commit, or the commit was sent and its outcome is unknown: either way the
    # message says so (and the tree below is the old one or the new one).
    assert ('no quorum or is unreachable' in str(err.value)
            or 'may or may not have been applied' in str(err.value)), str(err.value)
    assert took < 3 * 3 + 3, took
    faultkit.heal(ensemble)
    with ens.client() as c:
        data = dict((k, json.loads(v)) for k, v in faultkit.read_subtree(c, '/releases/%s/sections' % RELEASE).items()
                    if k != '/')
    assert set(v['tag'] for v in data.values()) in ({'a'}, {'b'})
    faultkit.record_rows('quorum lost %s (module_utils)' % when, [{'seconds': round(took, 2), 'error': str(err.value)}])


def _expire(hosts, client, expired):
    """Expire `client`'s session from the outside: a second client joins the same session and
    closes it (the usual kazoo testing trick). ZooKeeper then deletes the session's ephemerals.
    The twin joins without the chroot (the session is the server's, not the path's); two clients
    of one session knock each other off, so a twin that lost the race tries again until
    `expired()` says the session is gone."""
    from kazoo.client import KazooClient
    server = hosts.split('/', 1)[0]
    session_id = client.client_id
    tries = 0
    while tries < 5:
        tries += 1
        twin = KazooClient(hosts=server, client_id=session_id, timeout=10)
        try:
            twin.start(timeout=15)
            twin.stop()
        except Exception:
            pass  # knocked off by the original client's reconnect: try again
        finally:
            twin.close()
        deadline = time.time() + 5
        while time.time() < deadline:
            if expired():
                return
            time.sleep(0.02)
    raise AssertionError('the session 0x%x did not expire' % session_id[0])


def _release_state(view):
    with view.client() as c:
        return (faultkit.read_subtree(c, '/releases/' + RELEASE),
                faultkit.read_subtree(c, '/elastic_release/history/' + RELEASE))


def test_session_expired_while_holding_the_lock_writes_nothing(ens):
    """The session expires right after each time the lock is taken: every attempt's fence fails,
    so the writer writes nothing and, once its attempts are spent, says so."""
    with _zk.ZkSession(hosts=ens.hosts, timeout=5) as session:
        _apply(session, 30, 'a')
        before = _release_state(ens)

        # session_lost stays set once the first session expired: each attempt waits for a LOST
        # of its own, or the next attempt would race the client's reconnect.
        lost = threading.Event()
        session.client.add_listener(lambda state: lost.set() if state == KazooState.LOST else None)

        def expire(_lock):
            lost.clear()
            _expire(ens.hosts, session.client, lost.is_set)
        hook = _Hooked(session, after=expire)
        with pytest.raises(_zk.ZkError) as err:
            _apply(session, 30, 'b', lock_factory=hook)
    assert 'session expired' in str(err.value) and 'nothing' in str(err.value), str(err.value)
    assert _release_state(ens) == before, 'a writer whose session expired wrote something'
    faultkit.record_rows('session expired while the lock is held (notified)', [{'error': str(err.value)}])


class _Unaware(_zk.ZkSession):
    """A session that is never told about its expiry: only the fence can stop its write."""

    @property
    def session_lost(self):
        return False


def test_session_expiry_not_yet_noticed_is_stopped_by_the_fence(ens):
    """The worst case: the expiry notification has not arrived when the commit is sent (kazoo has
    already reconnected with a new session). The commit's check on our own ephemeral lock node
    fails, so nothing is written, on every attempt."""
    with _Unaware(hosts=ens.hosts, timeout=5) as session:
        _apply(session, 30, 'a')
        before = _release_state(ens)

        def expire(lock):
            old_id = session.client.client_id
            _expire(ens.hosts, session.client,
                    lambda: session.client.client_id != old_id and session.client.connected)
            # The lock node went with the old session.
            assert not session.client.exists('%s/%s' % (lock.path, lock.node))
        hook = _Hooked(session, after=expire)
        with pytest.raises(_zk.ZkError) as err:
            _apply(session, 30, 'b', lock_factory=hook)
    message = str(err.value)
    # Every attempt loses its lock (the hook expires the session each time the lock is taken): the
    # last one says why, either the fence (the lock is gone) or the lost connection while retaking it.
    assert ('the lock is no longer held' in message or 'connection lost' in message) \
        and 'nothing was written' in message, message
    assert _release_state(ens) == before, 'the fence let a write through after the session expired'
    faultkit.record_rows('session expired, not yet noticed (fence)', [{'error': message}])
