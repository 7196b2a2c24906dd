# -*- coding: utf-8 -*-
# Copyright: (c) 2026, GameOps release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# This module_utils is PRIVATE to gameops.elastic_release; its API may change without notice.
"""A publish: make one release hold a config, keeping the release map whole.

`PublishIntent` is what `_write.apply` plans and writes: the config (or removal) of a release, with
/default_release (production), the versions appended to the default release (review and gray),
items another release holds by a move (left there), items this release holds by a move (kept),
the ownership guard, `takeover` and `absorb` (promote: the production package must carry the gray
release's build, and a promote already made is recognised and reported, not refused).
`request_from_params` builds it from module parameters; everything that can fail before
connecting fails there, with nothing written. No Ansible imports here.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from .._package.pkgname import PackageError, parse_package_name
from .._release.changes import parse_index
from .._release.config import encode, parse_config, read_config_file, check_config_release
from .._release.names import DEFAULT_RELEASE_PATH, KINDS, release_path, validate_release
from .._release.snapshot import fast_unchanged, parse_default
from .._release.state import copy_state, empty_state, merge_states, state_digest, state_from_config
from .._zk.session import ZkError
from .change import Change, Target
from .front import options_from_params
from .guard import OwnershipConflict, place
from .plan import plan_default


class PublishIntent(object):
    """What a caller wants one release to hold (desired: a state; exists=False removes it)."""

    def __init__(self, release, desired, mode='replace', indicator=None, append_to_default=False,
                 keep_appended=True, verify='full', package=None, action='publish', takeover=False, absorb=(),
                 name_pattern=None, allow_other_build=False, leave=()):
        self.release = release
        self.desired = desired
        self.mode = mode
        self.indicator = indicator
        self.append_to_default = append_to_default
        self.keep_appended = keep_appended
        self.verify = verify
        self.package = package
        self.action = action
        self.takeover = takeover
        self.absorb = tuple(absorb)
        self.name_pattern = name_pattern
        self.allow_other_build = allow_other_build
        # releases whose sections and servers stay theirs: the first write of a promote made in parts
        self.leave = tuple(leave)
        # Computed once (CPU only, before any ZooKeeper request): the fast rerun compares it.
        self.digest = state_digest(desired) if desired['exists'] else None

    def _change(self):
        if not self.desired['exists']:
            return Change(self.release, 'retire', 'retire release %s' % self.release)
        if self.absorb:
            return Change(self.release, 'promote', 'promote %s into release %s' % (' and '.join(self.absorb), self.release))
        return Change(self.release, self.action, 'write release %s' % self.release)

    def plan(self, ctx):
        release = self.release
        simple = self.mode == 'replace' and not self.takeover and not self.absorb and not self.leave
        if self.verify == 'fast' and self.desired['exists'] and simple:
            snap = ctx.snapshot(release, items=False)
            if fast_unchanged(snap, self.digest) and not plan_default(snap, self.indicator).ops \
                    and not self.append_to_default:
                change = self._change()
                change.verified = 'fast'
                return change
        snap = ctx.snapshot(release)
        change = self._change()
        change.verified = 'full'
        if self.absorb:
            done = self._promoted(ctx, snap)
            if done:
                change.notes.update(already_promoted=done, msg='already promoted in change %s: %s no longer exists '
                                    'and the newest promote of %s absorbed it with %s'
                                    % (done, ' and '.join(self.absorb), release, self.package))
                return change
        change.indicator = self.indicator
        default_after = parse_default(self.indicator) if self.indicator is not None else snap.default_release
        if not self.desired['exists']:
            return self._remove(ctx, snap, change)
        target = merge_states(snap.state, self.desired) if self.mode == 'merge' else copy_state(self.desired)
        notes = change.notes
        notes['kept_moved'] = _keep_lent(snap, target)
        kept = []
        if self.mode == 'replace' and self.keep_appended and default_after == release:
            candidates = set(snap.state['versions']) - set(target['versions'])
            if candidates:
                rmap = ctx.map()
                kept = sorted(v for v in candidates if any(r != release for r in rmap.owners('versions', v)))
                for name in kept:
                    target['versions'][name] = snap.state['versions'][name]
        notes['kept_versions'] = kept
        for other in self.absorb:
            self._check_build(ctx.snapshot(other))
            _absorb(ctx, change, target, other, 'promote')
        if self.leave:
            notes['left_to'] = _leave(ctx.map(), snap, target, self.leave)
        added = any(name not in snap.state[kind] for kind in KINDS for name in target[kind])
        notes['held_elsewhere'] = {}
        notes['taken_over'] = {}
        if added or self.takeover or self.absorb:
            rmap = ctx.map()
            placed = place(rmap, release, target, default_after, self.takeover, ignore=self.absorb)
            if placed.conflicts:
                raise OwnershipConflict(release, placed.conflicts)
            target = placed.state
            notes['held_elsewhere'] = placed.held_elsewhere
            notes['taken_over'] = dict((owner, dict((k, sorted(v)) for k, v in kinds.items()))
                                       for owner, kinds in placed.taken.items())
            for owner, kinds in sorted(placed.taken.items()):
                _take(ctx, change, owner, kinds, release)
        main = Target(release, target, change.action, self.package)
        if target != self.desired:
            main.config_digest = self.digest
        if default_after == release and self.mode == 'replace':
            main.appended = kept
        change.targets.insert(0, main)
        if self.append_to_default:
            if default_after is None:
                raise ZkError('cannot append versions to the default release: %s does not exist '
                              '(publish the production release first)' % DEFAULT_RELEASE_PATH)
            if default_after != release:
                change.append_to = default_after
                change.append_versions = sorted(target['versions'])
        return change

    def _remove(self, ctx, snap, change):
        release = self.release
        if snap.exists and snap.default_release == release:
            raise ZkError('refusing to remove %s: it is the default release named by %s'
                          % (release_path(release), DEFAULT_RELEASE_PATH))
        if not snap.exists:
            return change
        # Items lent to this release by a move go back to where they came from, in the same
        # transaction: retiring a gray release never leaves a section without an owner.
        returned = {}
        for kind, items in snap.moved().items():
            for name, origin in sorted(items.items()):
                if name in snap.state[kind]:
                    returned.setdefault(origin, {}).setdefault(kind, []).append(name)
        for origin, kinds in sorted(returned.items()):
            osnap = ctx.snapshot(origin)
            if not osnap.exists:
                raise ZkError('refusing to remove %s: it holds items moved from release %s, which no longer '
                              'exists (%s); move them to another release first (zk_release_move)'
                              % (release_path(release), origin, _items_text(kinds)))
            target = copy_state(osnap.state)
            for kind, names in kinds.items():
                for name in names:
                    target[kind][name] = snap.state[kind][name]
            back = Target(origin, target, 'return')
            back.keep_package = True
            back.extra = {'moves': dict(kinds, **{'from': release, 'to': origin}), 'linked': sorted([origin, release])}
            change.add(back)
        change.notes['returned'] = dict((o, dict((k, sorted(v)) for k, v in kinds.items())) for o, kinds in returned.items())
        main = Target(release, empty_state(False), change.action, self.package)
        change.targets.insert(0, main)
        return change

    def _promoted(self, ctx, snap):
        """The change that already promoted the absorbed releases with this package, when none of them
        exists any more (a pipeline's retry), else None."""
        if not self.package or any(ctx.snapshot(other, items=False).exists for other in self.absorb):
            return None
        index = parse_index(snap.index)
        for name in sorted(index, reverse=True):
            entry = index[name]
            if entry.get('action') == 'promote' and not entry.get('undoes'):
                absorbed = set(entry.get('releases') or {}) >= set(self.absorb)
                return entry.get('change') if absorbed and entry.get('package') == self.package else None
        return None

    def _check_build(self, osnap):
        """promote: the production package carries the gray release's build (allow_other_build overrides)."""
        if self.allow_other_build or not self.package or not osnap.exists:
            return
        recorded = osnap.meta.get('package')
        mine = _build(self.package, self.name_pattern)
        theirs = _build(recorded, self.name_pattern) if recorded else None
        if mine is not None and mine == theirs:
            return
        runs = ('package %s (build %s)' % (recorded, theirs or 'unknown') if recorded
                else 'no recorded package (it was not published from a server package)')
        raise ZkError('refusing to promote %s with package %s (build %s): %s runs %s; promote the production '
                      'package of build %s, or pass -e allow_other_build=true (module option allow_other_build) '
                      'to promote another build; nothing was written'
                      % (osnap.release, self.package, mine or 'unknown', osnap.release, runs, theirs or 'unknown'))


def _build(package, pattern):
    try:
        return parse_package_name(package, pattern).build
    except (PackageError, TypeError):
        return None


def _keep_lent(snap, target):
    """Items this release holds by a move and that `target` drops: a replace keeps them."""
    kept = {}
    for kind, items in snap.moved().items():
        for name, origin in items.items():
            if name in snap.state[kind] and name not in target[kind]:
                target[kind][name] = snap.state[kind][name]
                kept.setdefault(kind, {})[name] = origin
    return kept


def _take(ctx, change, owner, kinds, taker):
    """The owner's target once `takeover` removed the items from it."""
    osnap = ctx.snapshot(owner)
    target = copy_state(osnap.state)
    moved = osnap.moved()
    for kind, names in kinds.items():
        for name in names:
            target[kind].pop(name, None)
            if kind in moved:
                moved[kind].pop(name, None)
    entry = Target(owner, target, 'takeover')
    entry.keep_package = True
    entry.moved = moved
    entry.extra = {'taken_by': taker, 'taken': dict((k, sorted(v)) for k, v in kinds.items())}
    change.add(entry)


def _absorb(ctx, change, target, other, action):
    """promote: `other`'s sections, servers and versions join the target; `other` is removed."""
    osnap = ctx.snapshot(other)
    if not osnap.exists:
        raise ZkError('cannot absorb release %s: %s does not exist' % (other, release_path(other)))
    if osnap.unknown_children:
        raise ZkError('cannot absorb release %s: it holds nodes this collection does not manage: %s'
                      % (other, ', '.join(osnap.unknown_children)))
    for kind in KINDS:
        for name, data in osnap.state[kind].items():
            target[kind].setdefault(name, data)
    entry = Target(other, empty_state(False), action)
    entry.extra = {'absorbed_by': change.main}
    change.add(entry)


def _leave(rmap, snap, target, releases):
    """Drop from target the sections and servers `releases` own (and this release does not list
    yet): they stay where they are until the promote that absorbs those releases."""
    left = {}
    for kind in ('sections', 'servers'):
        for name in sorted(target[kind]):
            owners = rmap.owners(kind, name)
            if name not in snap.state[kind] and owners and set(owners) <= set(releases):
                del target[kind][name]
                left.setdefault(kind, []).append(name)
    return left


def _items_text(kinds):
    return '; '.join('%s %s' % (kind, ', '.join(sorted(names))) for kind, names in sorted(kinds.items()))


# ---- from module parameters -------------------------------------------------------------------

def load_package(path, release, name_pattern=None):
    """(ReleaseConfig, indicator bytes) read from inside a server package, checked against release."""
    from .._package.server_package import read_package_for_publish
    return read_package_for_publish(path, release, name_pattern)


def request_from_params(p, package_label=None):
    """(PublishIntent, Options) from zk_release_node's parameters, or a clear error."""
    release = validate_release(p['release'])
    opts = options_from_params(p)
    indicator = None
    absorb = [validate_release(r, 'absorbed release') for r in (p.get('absorb') or [])]
    if release in absorb:
        raise ValueError('release %s cannot absorb itself' % release)
    leave = [validate_release(r, 'leave_to release') for r in (p.get('leave_to') or [])]
    if leave and absorb:
        raise ValueError('leave_to and absorb exclude each other: leave_to is the publish before the promote')
    if p.get('state', 'present') == 'absent':
        desired = empty_state(False)
        for name in ('set_default', 'append_versions_to_default', 'takeover'):
            if p.get(name):
                raise ValueError('%s needs state=present' % name)
        if absorb:
            raise ValueError('absorb needs state=present')
    else:
        if p.get('package'):
            cfg, indicator_bytes = load_package(p['package'], release, p.get('name_pattern'))
        elif p.get('config_file'):
            cfg, indicator_bytes = read_config_file(p['config_file'], release), None
        else:
            cfg, indicator_bytes = parse_config(p['config'], source='config'), None
            check_config_release(cfg, release, 'config')
        desired = state_from_config(cfg)
        if p.get('set_default'):
            indicator = indicator_bytes if indicator_bytes is not None else encode({'name': release})
    if p.get('verify') == 'fast' and p.get('mode') == 'merge':
        raise ValueError('verify=fast works with mode=replace only (merge must read every node)')
    intent = PublishIntent(
        release, desired, mode=p.get('mode') or 'replace', indicator=indicator,
        append_to_default=bool(p.get('append_versions_to_default')),
        keep_appended=p.get('keep_appended_versions', True) is not False, verify=p.get('verify') or 'full',
        package=p.get('origin') or package_label, action=p.get('action') or 'publish',
        takeover=bool(p.get('takeover')), absorb=absorb, name_pattern=p.get('name_pattern'),
        allow_other_build=bool(p.get('allow_other_build')), leave=leave)
    return intent, opts
