# -*- coding: utf-8 -*-
# Copyright: (c) 2026, GameOps release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# This module_utils is PRIVATE to gameops.elastic_release; its API may change without notice.
"""Moves: sections and servers change owner on purpose, with their node data, in one transaction.

A widen moves items from the default release into a gray release; a narrow moves them back.
The receiving release's metadata records where each item came from (`moved`), so that:
- a narrow of "everything lent" knows what to give back and to whom;
- a publish of either release leaves lent items where they are (see _guard.py and _publish.py);
- retiring a release gives its lent items back (see _publish.py).
Both releases are locked, both get a revision of the one change (recording the move, `moves`), and
undoing that change moves the items back. No Ansible imports here.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from .._release.names import KIND_LABEL, OWNED_KINDS, release_path, validate_item, validate_release
from .._release.ownership import solely_owned_by
from .._release.state import copy_state
from .change import Change, Target
from .._zk.session import ZkError


class MoveRefused(ZkError):
    """A move that cannot be made as asked; nothing was written."""


def parse_items(sections=None, servers=None):
    """{kind: [canonical names]} from the module's lists; invalid names fail before connecting."""
    out = {}
    for kind, names in (('sections', sections), ('servers', servers)):
        seen = []
        for name in names or []:
            canonical = validate_item(kind, str(name) if isinstance(name, int) and not isinstance(name, bool) else name)
            if canonical not in seen:
                seen.append(canonical)
        if seen:
            out[kind] = seen
    return out


class MoveIntent(object):
    """Move items from `source` to `destination` (None: the default release).

    lent=True moves every item `source` holds by a move back to the release it came from
    (`items` may then narrow that set). A move of items `destination` already owns is a no-op
    for those items (a rerun is changed=false).
    """

    def __init__(self, source=None, destination=None, items=None, lent=False, action=None, origin=None):
        self.source = validate_release(source, 'source release') if source else None
        self.destination = validate_release(destination, 'destination release') if destination else None
        self.items = items or {}
        self.lent = lent
        self.action = action
        self.origin = origin
        if not self.items and not lent:
            raise ValueError('nothing to move: give sections or servers (or all_lent=true)')

    def plan(self, ctx):
        rmap = ctx.map()
        default = rmap.default_release
        source = self.source or default
        if source is None:
            raise MoveRefused('cannot move: no source release given and /default_release names none')
        if not rmap.exists(source):
            raise MoveRefused('cannot move from release %s: %s does not exist' % (source, release_path(source)))
        ssnap = ctx.snapshot(source)
        lent = ssnap.moved()
        if self.lent:
            wanted = dict((kind, sorted(lent[kind])) for kind in OWNED_KINDS if lent[kind])
            if self.items:
                wanted = dict((kind, [n for n in names if n in self.items.get(kind, [])]) for kind, names in wanted.items())
            routes = {}
            for kind, names in wanted.items():
                for name in names:
                    routes.setdefault(self.destination or lent[kind][name], {}).setdefault(kind, []).append(name)
        else:
            destination = self.destination or default
            if destination is None:
                raise MoveRefused('cannot move: no destination release given and /default_release names none')
            routes = {destination: dict((k, list(v)) for k, v in self.items.items())}
        action = self.action or ('widen' if source == default else 'narrow')
        change = Change(source, action, 'move items from release %s' % source)
        change.verified = 'full'
        change.origin = self.origin
        moved_now = dict((kind, []) for kind in OWNED_KINDS)
        already = dict((kind, []) for kind in OWNED_KINDS)
        problems = []
        source_target = copy_state(ssnap.state)
        source_lent = dict((k, dict(v)) for k, v in lent.items())
        plans = []
        for destination, kinds in sorted(routes.items()):
            if destination == source:
                raise MoveRefused('cannot move items from release %s to itself' % source)
            if not rmap.exists(destination):
                raise MoveRefused('cannot move to release %s: %s does not exist (publish it first)'
                                  % (destination, release_path(destination)))
            todo = {}
            for kind, names in kinds.items():
                rmap.check_readable(kind, names, (source, destination))
                for name in names:
                    owners = rmap.owners(kind, name)
                    if solely_owned_by(owners, source):
                        todo.setdefault(kind, []).append(name)
                    elif solely_owned_by(owners, destination):
                        already[kind].append(name)
                    elif not owners:
                        problems.append('%s %s is owned by no release' % (KIND_LABEL[kind], name))
                    else:
                        problems.append('%s %s is owned by %s, not by %s' % (KIND_LABEL[kind], name,
                                                                             ' and '.join(owners), source))
            if todo:
                plans.append((destination, todo))
        if problems:
            raise MoveRefused('cannot move from %s: %s; nothing was written' % (source, '; '.join(problems)))
        for destination, todo in plans:
            dsnap = ctx.snapshot(destination)
            dest_target = copy_state(dsnap.state)
            dest_lent = dsnap.moved()
            for kind, names in todo.items():
                for name in names:
                    dest_target[kind][name] = ssnap.state[kind][name]
                    del source_target[kind][name]
                    origin = source_lent[kind].pop(name, source)
                    if origin == destination:
                        dest_lent[kind].pop(name, None)
                    else:
                        dest_lent[kind][name] = origin
                    moved_now[kind].append(name)
            record = dict((kind, sorted(names)) for kind, names in todo.items())
            record.update({'from': source, 'to': destination})
            change.add(_target(destination, dest_target, dest_lent, action, record, [source, destination]))
        if plans:
            moves = [t.extra['moves'] for t in change.targets]
            linked = [source] + [t.release for t in change.targets]
            change.targets.insert(0, _target(source, source_target, source_lent, action,
                                             moves[0] if len(moves) == 1 else moves, linked))
        change.notes.update({
            'source': source,
            'destinations': sorted(d for d, dummy in plans) or sorted(routes),
            'moved': dict((k, sorted(v)) for k, v in moved_now.items()),
            'already_there': dict((k, sorted(v)) for k, v in already.items()),
        })
        return change


def _target(release, state, lent, action, moves, linked):
    """A release's part of a move: its items, what it holds by a move, its build unchanged."""
    target = Target(release, state, action)
    target.keep_package = True
    target.moved = lent
    target.extra = {'moves': moves, 'linked': sorted(set(linked))}
    return target


def inverse(record, action='undo', origin=None):
    """The move that undoes a recorded move (a revision's `moves`)."""
    moves = record if isinstance(record, list) else [record]
    if len(moves) != 1:
        raise MoveRefused('this revision records moves to several releases: narrow them one release at a time')
    move = moves[0]
    items = dict((kind, list(move.get(kind) or [])) for kind in OWNED_KINDS if move.get(kind))
    return MoveIntent(source=move['to'], destination=move['from'], items=items, action=action, origin=origin)
