# -*- coding: utf-8 -*-
# Copyright: (c) 2026, GameOps release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# This module_utils is PRIVATE to gameops.elastic_release; its API may change without notice.
"""The ownership rules of the release map, each written once.

- **Routing** (`route`): which release serves a section, a server or a client version. A section or
  an inner IP belongs to the one release that lists it. A version listed by a non-default release
  routes there; a version listed by the default release alone routes to it; a version no release
  lists routes to the default release too, as VMS routes it, but is not *listed* (`found` is
  false, and lookups fail on it unless told not to). Two owners is a configuration error.
- **One owner** (`conflicts`): no section or server is listed by two releases, no version by two
  non-default releases.
- **At least one owner** (`given_up`): no change takes a section or server from its owner without
  giving it to another release, unless the operator names it (`release_items`).

The lookups, the `release` lookup plugin, the `zookeeper` inventory, the guard of every write, the
move planner, the undo, the impact and the audit all decide through these functions.
No Ansible imports here.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from .names import KIND_LABEL, OWNED_KINDS
from .._zk.base import ZkError

ALL_ITEMS = 'all'


class OwnershipError(ZkError):
    """A question with no answer, or with two: the message names the item and the releases."""


def route(kind, name, owners, default_release):
    """(release or None, found) of one item, from the releases that list it.

    Sections and servers: the one owner (None, False when nobody lists it). Versions: the
    non-default release that lists it; else the default release, with found telling whether the
    default release lists it. OwnershipError names both releases of a doubly owned item.
    """
    label = KIND_LABEL[kind]
    owners = sorted(set(owners))
    if kind == 'versions':
        special = [r for r in owners if r != default_release]
        if len(special) > 1:
            raise OwnershipError('%s %s is listed by more than one non-default release: %s (a '
                                 'configuration error: a version routes to one release)'
                                 % (label, name, ' and '.join(special)))
        if special:
            return special[0], True
        return default_release, default_release is not None and default_release in owners
    if len(owners) > 1:
        raise OwnershipError('%s %s is owned by more than one release: %s (a configuration error)'
                             % (label, name, ' and '.join(owners)))
    return (owners[0], True) if owners else (None, False)


def route_or_none(kind, name, owners, default_release):
    """route()'s release, or None where the map is broken (two owners): the impact's view."""
    try:
        return route(kind, name, owners, default_release)
    except OwnershipError:
        return None, False


def rivals(kind, owners, default_release):
    """The owners that break the one-owner rule for one item ([] when it holds)."""
    owners = sorted(set(owners))
    if kind == 'versions':
        special = [r for r in owners if r != default_release]
        return special if len(special) > 1 else []
    return owners if len(owners) > 1 else []


def conflicts(members, default_release):
    """[(kind, name, owners)] where the one-owner rule does not hold. members: {(kind, name): owners}."""
    out = []
    for (kind, name), owners in sorted(members.items()):
        bad = rivals(kind, owners, default_release)
        if bad:
            out.append((kind, name, bad))
    return out


def solely_owned_by(owners, release):
    """Whether `release` is the one owner of an item (what a move may take from it)."""
    return sorted(set(owners)) == [release]


def allows(release_items, name):
    """Whether the operator gave up item `name` (release_items: names, or ['all'])."""
    return ALL_ITEMS in (release_items or ()) or name in (release_items or ())


def given_up(before, after, others):
    """{kind: {name: owner}} of the sections and servers a change leaves with no owner.

    before/after: {release: state or None} of the releases the change touches; others(kind, name)
    -> the releases outside the change that list the item.
    """
    out = {}
    for kind in OWNED_KINDS:
        kept = set()
        for state in after.values():
            if state is not None and state['exists']:
                kept.update(state[kind])
        for release, state in sorted(before.items()):
            if state is None or not state['exists']:
                continue
            for name in sorted(state[kind]):
                if name not in kept and not others(kind, name):
                    out.setdefault(kind, {})[name] = release
    return out


def describe_given_up(items, what):
    """The refusal of a change that would leave items with no owner (what: 'publish release gray1')."""
    parts = ['%s %s (owned by %s)' % (KIND_LABEL[kind], name, owner)
             for kind in OWNED_KINDS for name, owner in sorted(items.get(kind, {}).items())]
    names = ','.join(name for kind in OWNED_KINDS for name in sorted(items.get(kind, {})))
    shown = parts[:20]
    more = ' (and %d more)' % (len(parts) - len(shown)) if len(parts) > len(shown) else ''
    return ('refusing to %s: it would leave %s with no owner: %s%s; nothing was written. A section or server '
            'keeps an owner unless you give it up: keep it in the config, move it to another release first '
            '(playbooks/widen.yml, narrow.yml), or give it up on purpose with -e release_items=%s (or '
            '-e release_items=all) on the flow, option release_items on the module'
            % (what, 'an item' if len(parts) == 1 else '%d items' % len(parts), '; '.join(shown), more, names))


def describe_conflicts(release, items, what=None):
    """The refusal of a write that would give items a second owner. items: [(kind, name, [owners])]."""
    parts = []
    for kind, name, owners in items:
        if kind == 'versions':
            parts.append('version %s is listed by the non-default release %s' % (name, ' and '.join(owners)))
        else:
            parts.append('%s %s is owned by %s' % (KIND_LABEL[kind], name, ' and '.join(owners)))
    shown = parts[:20]
    more = ' (and %d more)' % (len(parts) - len(shown)) if len(parts) > len(shown) else ''
    holders = sorted(set(o for dummy, dummy2, owners in items for o in owners))
    return ('refusing to %s: it would give an item a second owner: %s%s; nothing was written. A section or server '
            'has one owner and a version at most one non-default release: remove the items from the config; or '
            'free them first: narrow or retire the release that holds them (ansible-playbook -i inventory '
            'playbooks/narrow.yml -e release=%s -e sections=...; playbooks/retire.yml), or move them on purpose '
            '(playbooks/widen.yml, gameops.elastic_release.zk_release_move); a module task may take them in the '
            'same transaction with takeover=true'
            % (what or 'write release %s' % release, '; '.join(shown), more, holders[0] if holders else '<release>'))
