# -*- coding: utf-8 -*-
# Copyright: (c) 2026, GameOps release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# This module_utils is PRIVATE to gameops.elastic_release; its API may change without notice.
"""The node operations that turn what a release holds into what it should hold.

Operations are tuples for `_zk.ZkSession.commit`: ('create', path, data), ('set', path, data,
version), ('delete', path, version), ('check', path, version), in an order that is valid inside
one transaction and when split between several (parents before children on create, children
before parents on delete). No Ansible imports here.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from .._release.names import (DEFAULT_RELEASE_PATH, KINDS, RELEASES_ROOT, global_url_path, item_path, kind_path, release_path,
                              stored_item)
from .._release.state import same_data
from .._zk.session import ZkError


class Plan(object):
    def __init__(self):
        self.ops = []          # transaction ops, in a safe order
        self.report = []       # [{'op': ..., 'path': ...}] for people and Tianti

    def add(self, op, path, *rest):
        self.ops.append((op, path) + rest)
        self.report.append({'op': op, 'path': path})

    def extend(self, other):
        self.ops.extend(other.ops)
        self.report.extend(other.report)

    def __len__(self):
        return len(self.ops)


def membership_changes(ops):
    """Whether ops create or delete items (which changes who owns what: see the map epoch)."""
    for op in ops:
        if op[0] in ('create', 'delete') and op[1].startswith(RELEASES_ROOT + '/') and op[1].count('/') == 4:
            return True
    return False


def plan_release(snap, target, meta_bytes, prune_foreign=True):
    """Ops turning snap's release into `target` (exists=False removes it).

    The release node's metadata is written by the caller (a versioned set that also fences the
    write); a new release node is created here with `meta_bytes`. Nodes another tool wrote under the
    containers with names this collection would not write are removed (replace), or renamed to
    their canonical form when the target keeps the item.
    """
    plan = Plan()
    release = snap.release
    rpath = release_path(release)
    if not target['exists']:
        if not snap.exists:
            return plan
        unknown = snap.unknown_children
        if unknown:
            raise ZkError('refusing to remove %s: it holds nodes this collection does not manage: %s (remove '
                          'them first, for example with ZooKeeper\'s CLI: /usr/share/zookeeper/bin/zkCli.sh '
                          'deleteall <path> on Debian)' % (rpath, ', '.join(unknown)))
        for kind in KINDS:
            for name in sorted(snap.nodes[kind]):
                plan.add('delete', item_path(release, kind, name), -1)
            if snap.container_stats.get(kind) is not None:
                plan.add('delete', kind_path(release, kind), -1)
        if snap.global_url_stat is not None or 'global_url' in snap.release_children:
            plan.add('delete', global_url_path(release), -1)
        plan.add('delete', rpath, snap.meta_stat.version)
        return plan
    if not snap.exists:
        if not snap.releases_root_exists:
            plan.add('create', RELEASES_ROOT, b'')
        plan.add('create', rpath, meta_bytes)
    cur = snap.state
    for kind in KINDS:
        if snap.container_stats.get(kind) is None:
            plan.add('create', kind_path(release, kind), b'')
        have, want = cur[kind], target[kind]
        stored = snap.nodes[kind]
        for name in snap.foreign(kind):
            if stored_item(kind, name) is None and not prune_foreign:
                continue
            # A non-canonical spelling: the canonical node replaces it (created below if missing).
            plan.add('delete', item_path(release, kind, name), -1)
        for name in sorted(set(have) - set(want)):
            if name in stored:
                plan.add('delete', item_path(release, kind, name), -1)
        for name in sorted(want):
            if name not in stored:
                plan.add('create', item_path(release, kind, name), want[name])
            elif not same_data(stored[name], want[name]):
                plan.add('set', item_path(release, kind, name), want[name], -1)
    url_have, url_want = cur['global_url'], target['global_url']
    url_exists = snap.global_url_stat is not None
    if url_want is None and url_exists:
        plan.add('delete', global_url_path(release), -1)
    elif url_want is not None and not url_exists:
        plan.add('create', global_url_path(release), url_want)
    elif url_want is not None and url_want != url_have:
        plan.add('set', global_url_path(release), url_want, -1)
    return plan


def plan_default(snap, indicator):
    """Ops writing /default_release (indicator: bytes) unless it already names the same release."""
    plan = Plan()
    if indicator is None:
        return plan
    if snap.default_stat is None:
        plan.add('create', DEFAULT_RELEASE_PATH, indicator)
    elif not same_data(snap.default_raw, indicator):
        plan.add('set', DEFAULT_RELEASE_PATH, indicator, snap.default_stat.version)
    return plan


def plan_append(default_snap, versions, present):
    """Ops creating, under the default release's versions, those of `versions` not there yet.

    present: the canonical versions the default release lists (from its snapshot or the map).
    """
    plan = Plan()
    release = default_snap.release
    if not default_snap.exists:
        raise ZkError('the default release %s named by %s does not exist under %s (publish it with the '
                      'production flow first)' % (release, DEFAULT_RELEASE_PATH, RELEASES_ROOT))
    missing = sorted(v for v in versions if v not in present)
    if missing and default_snap.container_stats.get('versions') is None:
        plan.add('create', kind_path(release, 'versions'), b'')
    for version in missing:
        plan.add('create', item_path(release, 'versions', version), b'')
    return plan
