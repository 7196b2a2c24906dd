# -*- coding: utf-8 -*-
# Copyright: (c) 2026, GameOps release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# This module_utils is PRIVATE to gameops.elastic_release; its API may change without notice.
"""What a write whose result was lost did: `written`, `not_written` or `unknown`, from the tree.

A write module's process can die after its transaction committed and before it reported (the OOM
killer, a kill -9, a lost connection to the host that ran it). The flow cannot know the
transaction's id in advance, so it names each write itself: the `request_id` the write modules
record in every revision of the change and on each lock node they hold (`_write/change.py`).

Why the answer is sound: a change commits in one transaction that also checks the writer's lock
nodes (the fences, `_write/transaction.py`). A dead writer sends nothing more; a transaction it sent
before dying is ordered by ZooKeeper before the end of its session, and the end of the session
deletes its lock nodes. So once no lock node names the request any more, every transaction the
writer sent has been applied or refused, and a `sync` and one read of the history indexes tell
which. While a lock node still names it (the session lives until its timeout, or the writer is
still running) the outcome can still change: we wait for it, up to `wait` seconds, and then say
`unknown` with how to converge. No Ansible imports here.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from .._release.changes import parse_index
from .._release.names import DEFAULT_ADMIN_ROOT, lock_request


def matches(request, wanted):
    """A request id answers a run's id: the same, or the run's id followed by '.' and a step."""
    return bool(request) and (request == wanted or request.startswith(wanted + '.'))


def holders(session, wanted, admin_root=DEFAULT_ADMIN_ROOT):
    """[lock node path] of the lock nodes whose identifier names the request (or one of its steps)."""
    root = '%s/locks' % admin_root
    releases = session.children_many([root]).get(root) or []
    dirs = ['%s/%s' % (root, r) for r in releases]
    nodes = []
    for path, names in sorted(session.children_many(dirs).items()):
        nodes.extend('%s/%s' % (path, n) for n in names or [])
    out = []
    for path, entry in sorted(session.get_many(nodes).items()):
        if entry is None or not entry[0]:
            continue
        if matches(lock_request(entry[0].decode('utf-8', 'replace')), wanted):
            out.append(path)
    return out


def changes(session, wanted, admin_root=DEFAULT_ADMIN_ROOT, sync=False):
    """[{change, release, revision, action, request, time}] of every kept change the request wrote,
    read from each release's history index (one request round, after a sync when asked)."""
    root = '%s/history' % admin_root
    if sync:
        session.sync(root if session.exists_many([root]).get(root) is not None else '/')
    releases = session.children_many([root]).get(root) or []
    paths = ['%s/%s' % (root, r) for r in releases]
    out = []
    for path, entry in sorted(session.get_many(paths).items()):
        index = parse_index(entry[0] if entry else None)
        for revision, row in sorted(index.items()):
            if matches(row.get('request'), wanted):
                out.append({'change': row.get('change'), 'release': path.rsplit('/', 1)[1], 'revision': revision,
                            'action': row.get('action'), 'request': row.get('request'), 'time': row.get('time')})
    return out


def readback(session, wanted, admin_root=DEFAULT_ADMIN_ROOT, wait=30.0, poll=0.25, clock=time.time, sleep=time.sleep):
    """The outcome of the write(s) of request `wanted` (see the module docstring), as a dict:
    write_outcome, changed (None when unknown), changes, revisions_written, transactions, waited, held, msg.

    A change that records the request settles it at once (written, even while its dead writer's lock
    node waits for the session to end); otherwise the lock nodes naming it are waited for."""
    started = clock()
    found = changes(session, wanted, admin_root, sync=True)
    held = [] if found else holders(session, wanted, admin_root)
    while held and clock() - started < wait:
        sleep(poll)
        held = holders(session, wanted, admin_root)
        if not held:
            found = changes(session, wanted, admin_root, sync=True)
    written = {}
    for row in found:
        written[row['release']] = row['revision']
    ids = sorted(set(row['change'] for row in found if row['change']))
    out = {'changes': found, 'revisions_written': written, 'transactions': len(ids), 'change': ids[-1] if ids else None,
           'waited': round(clock() - started, 3), 'held': held, 'request_id': wanted}
    if found:
        out.update(write_outcome='written', changed=True, msg='the write of request %s was applied: change %s (%s)' % (
            wanted, ', '.join(ids), ', '.join('%s %s' % kv for kv in sorted(written.items()))))
    elif held:
        out.update(write_outcome='unknown', changed=None, msg=(
            'the write of request %s may or may not have been applied: its writer still holds %s after %ss (its '
            'ZooKeeper session has not ended). Wait for the session timeout, then run the flow again (a rerun writes '
            'only what is missing), or list the changes with ansible-playbook -i <inventory> playbooks/rollback.yml -e release=<release> '
            '-e list_revisions=true' % (wanted, ', '.join(held), round(wait, 1))))
    else:
        out.update(write_outcome='not_written', changed=False, msg=(
            'the write of request %s was not applied: no change records it and no writer of it holds a lock; '
            'nothing was written' % wanted))
    return out
