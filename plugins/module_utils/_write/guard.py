# -*- coding: utf-8 -*-
# Copyright: (c) 2026, GameOps release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# This module_utils is PRIVATE to gameops.elastic_release; its API may change without notice.
"""The ownership guard: a write never gives a section or a server a second owner, nor a client
version a second non-default release.

Items change owner only on purpose: by a move (widen, narrow, promote: `_move.py`), or by a
publish with `takeover`, which removes them from their old owner in the same transaction. Items
another release holds by a move from this one stay there when this release is published again
(they are reported): a production publish never silently undoes a widening.
No Ansible imports here.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from .._release.names import KIND_LABEL, OWNED_KINDS
from .._zk.session import ZkError


class OwnershipConflict(ZkError):
    """A write refused because it would break the one-owner invariant; nothing was written."""

    def __init__(self, release, conflicts):
        self.release = release
        self.conflicts = conflicts  # [(kind, name, [owners])]
        ZkError.__init__(self, describe_conflicts(release, conflicts))


def describe_conflicts(release, conflicts):
    parts = []
    for kind, name, owners in conflicts:
        if kind == 'versions':
            parts.append('version %s is listed by the non-default release %s' % (name, ' and '.join(owners)))
        else:
            parts.append('%s %s is owned by %s' % (KIND_LABEL[kind], name, ' and '.join(owners)))
    shown = parts[:20]
    more = ' (and %d more)' % (len(parts) - len(shown)) if len(parts) > len(shown) else ''
    return ('refusing to write release %s: it would give an item a second owner: %s%s; nothing was written. '
            'A section or server has one owner and a version at most one non-default release: remove the '
            'items from the config, move them on purpose (playbooks/widen.yml, narrow.yml, or '
            'gameops.elastic_release.zk_release_move), or publish with takeover=true to take them from '
            'their owner in the same transaction' % (release, '; '.join(shown), more))


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
