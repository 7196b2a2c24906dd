# -*- coding: utf-8 -*-
# Copyright: (c) 2026, GameOps release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# This module_utils is PRIVATE to gameops.elastic_release; its API may change without notice.
"""The ownership guard of every write, over the rules of `_release/ownership.py`.

- One owner (`place`): a write never gives a section or a server a second owner, nor a client
  version a second non-default release. Items change owner only on purpose: by a move (widen,
  narrow, promote: `move.py`), or by a publish with `takeover`, which removes them from their old
  owner in the same transaction. Items another release holds by a move from this one stay there
  when this release is published again (they are reported): a production publish never silently
  undoes a widening.
- At least one owner (`check_given_up`): no change - a publish whose config drops an item, a
  promote, a retire, an undo - takes a section or a server from its owner without giving it to
  another release, unless the operator names it (`release_items`); the change records what it gave up.
No Ansible imports here.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from .._release.names import OWNED_KINDS
from .._release.ownership import allows, describe_conflicts, describe_given_up, given_up
from .._zk.session import ZkError


class OwnershipConflict(ZkError):
    """A write refused because it would break the one-owner invariant; nothing was written."""

    def __init__(self, release, conflicts, what=None):
        self.release = release
        self.conflicts = conflicts  # [(kind, name, [owners])]
        ZkError.__init__(self, describe_conflicts(release, conflicts, what))


class GivenUpRefused(ZkError):
    """A write refused because it would leave sections or servers with no owner; nothing was written."""

    def __init__(self, items, what):
        self.items = items          # {kind: {name: owner}}
        ZkError.__init__(self, describe_given_up(items, what))


def check_given_up(ctx, change, release_items):
    """Refuse a change that leaves a section or server with no owner, unless release_items names it
    (or is ['all']); record on the change what it gives up."""
    before, after = {}, {}
    for target in change.targets:
        if target.state is None:
            continue
        before[target.release] = ctx.snapshot(target.release).state
        after[target.release] = target.state
    # Under the one-owner invariant an item a touched release drops has no other owner: the map is
    # read only to confirm the candidates (a broken map may list them elsewhere too).
    lost = given_up(before, after, lambda kind, name: ())
    if lost:
        rmap = ctx.map()
        lost = given_up(before, after, lambda kind, name: [r for r in rmap.owners(kind, name) if r not in before])
    refused = {}
    for kind, items in lost.items():
        for name, owner in items.items():
            if not allows(release_items, name):
                refused.setdefault(kind, {})[name] = owner
    if refused:
        raise GivenUpRefused(refused, change.what)
    change.given_up = lost


class Placement(object):
    """Where the items of a target state go, once the guard has looked at the map."""

    def __init__(self):
        self.state = None
        self.conflicts = []          # [(kind, name, owners)]
        self.held_elsewhere = {}     # {kind: {name: holder}}: lent by a move to another release, left there
        self.taken = {}              # {owner: {kind: [names]}}: taken from their owner (takeover)


def place(rmap, release, target, default_release, takeover=False, ignore=()):
    """Check `target` (the state `release` should hold) against the map.

    ignore: releases whose items do not count (they are removed in the same change, e.g. by a promote).
    Returns a Placement; `state` is target without the items held elsewhere by a move.
    """
    out = Placement()
    state = dict(target)
    skip = set(ignore) | set([release])
    for kind in OWNED_KINDS:
        rmap.check_readable(kind, [n for n in target[kind] if n not in rmap.items(release, kind)], skip)
        items = dict(target[kind])
        for name in sorted(target[kind]):
            others = [r for r in rmap.owners(kind, name) if r not in skip]
            if not others:
                continue
            if len(others) == 1 and rmap.moved(others[0])[kind].get(name) == release:
                out.held_elsewhere.setdefault(kind, {})[name] = others[0]
                del items[name]
            elif takeover:
                for owner in others:
                    out.taken.setdefault(owner, {}).setdefault(kind, []).append(name)
            else:
                out.conflicts.append((kind, name, others))
        state[kind] = items
    if release != default_release:
        rmap.check_readable('versions', [n for n in target['versions'] if n not in rmap.items(release, 'versions')],
                            skip | set([default_release]))
        for name in sorted(target['versions']):
            others = [r for r in rmap.owners('versions', name) if r not in skip and r != default_release]
            if not others:
                continue
            if takeover:
                for owner in others:
                    out.taken.setdefault(owner, {}).setdefault('versions', []).append(name)
            else:
                out.conflicts.append(('versions', name, others))
    out.state = state
    return out
