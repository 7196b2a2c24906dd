# -*- coding: utf-8 -*-
# Copyright: (c) 2026, GameOps release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# This module_utils is PRIVATE to gameops.elastic_release; its API may change without notice.
"""What deploying a build changes in an install root, decided without touching it.

Given the builds each release has deployed there (newest first, each with the digest of every
version directory it provides) and the links on disk, `plan_deploy` says which builds of the
release stay (the last N), which go, and where every `current/{release}` and
`version/{service}/{version}` link points afterwards; it refuses other content under a version
another release provides, and entries deploy did not make. `_deploy` reads the install root,
unpacks and applies the plan. No Ansible imports here.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import collections
import hashlib
import json

from .._package.archive import normal_mode
from .._package.pkgname import PackageError


class DeployError(PackageError):
    """A deploy refused or failed; the message names the package, the path or the member."""


class Build(object):
    """A deployed build; versions {service: {version: digest}} (None: unknown, not read yet)."""

    __slots__ = ('release', 'build', 'package', 'sha256', 'deployed', 'versions')

    def __init__(self, release, build, package, sha256, deployed, versions):
        self.release = release
        self.build = build
        self.package = package
        self.sha256 = sha256
        self.deployed = deployed
        self.versions = versions

    @property
    def key(self):
        return (self.release, self.build)

    def pairs(self):  # {(service, version): digest}
        return dict(((s, v), d) for s, vs in (self.versions or {}).items() for v, d in vs.items())

    def to_dict(self):
        return {'build': self.build, 'package': self.package, 'sha256': self.sha256, 'deployed': self.deployed,
                'versions': self.versions or {}}


def version_digests(members, components):
    """{service: {version: digest}} of a package's version directories (members hashed): what
    unpacking writes there (paths, directories implied or not, modes, contents, link targets)."""
    files = dict((m.name, m) for m in members if m.kind == 'file')
    lines = {}
    for member in members:
        parts = member.name.split('/')
        if len(parts) < 3 or parts[0] != 'version' or parts[2] not in components.get(parts[1], ()):
            continue
        entries = lines.setdefault((parts[1], parts[2]), set())
        for depth in range(3, len(parts)):
            entries.add(('/'.join(parts[3:depth]), 'dir', ''))
        rel = '/'.join(parts[3:])
        source = files.get(member.linkname) if member.kind == 'hardlink' else member
        if member.kind in ('file', 'hardlink'):
            entries.add((rel, 'file', '%04o' % normal_mode('file', source.mode), source.sha256))
        else:
            entries.add((rel, member.kind, member.linkname or ''))
    out = {}
    for (service, version), entries in sorted(lines.items()):
        text = json.dumps(sorted(entries), separators=(',', ':')).encode('utf-8')
        out.setdefault(service, {})[version] = hashlib.sha256(text).hexdigest()
    return out


def version_path(service, version):
    return 'version/%s/%s' % (service, version)


def link_target(path, build):
    """Where the link at path points when it belongs to build (relative: the root may move)."""
    if path.startswith('current/'):
        return '../builds/%s/%s' % build.key
    return '../../builds/%s/%s/%s' % (build.release, build.build, path)


def link_owner(path, target):
    """(release, build) a link of ours points into, or None for anything deploy did not make."""
    parts = (target or '').split('/')
    if path.startswith('current/'):
        ok = len(parts) == 4 and parts[:2] == ['..', 'builds'] and parts[2] == path.split('/')[1]
        return tuple(parts[2:4]) if ok else None
    ok = len(parts) == 8 and parts[:3] == ['..', '..', 'builds'] and '/'.join(parts[5:]) == path
    return tuple(parts[3:5]) if ok else None


# ordered: the release's builds newest first, kept then removed; links: {path: (before, after)}.
Plan = collections.namedtuple('Plan', 'entry ordered records unpack removed links')


def plan_deploy(records, new, keep, links):
    """Deploying `new` given the records ({release: [Build newest first]}) and the links on disk
    ({path: target, None for no symlink}). Raises DeployError for a conflict, before any write."""
    release = new.release
    previous = records.get(release, [])
    existing = [b for b in previous if b.build == new.build]
    if existing and new.sha256 and existing[0].sha256 != new.sha256:
        raise DeployError('%s: build %s of release %s is already deployed from a package with another content '
                          '(sha256 %s, this one %s): a build name stands for one package. Build a new build, or '
                          'remove it from this install root first'
                          % (new.package, new.build, release, existing[0].sha256[:16], new.sha256[:16]))
    entry = existing[0] if existing else new
    ordered = [entry] + [b for b in previous if b.build != new.build]
    after = dict(records)
    after[release] = ordered[:keep]
    mine = entry.pairs()
    for other in sorted(r for r in after if r != release):
        for build in after[other]:
            for pair, digest in sorted(build.pairs().items()):
                if pair in mine and mine[pair] != digest:
                    raise DeployError(
                        '%s: member %r differs from the same version deployed by release %s (build %s, package '
                        '%s): a version name must mean one content in an install root, and deploy never '
                        'overwrites another release\'s files. Give the new content a new version name'
                        % (new.package, version_path(*pair) + '/', other, build.build, build.package))
    desired = {}
    for path, builds, pin in _wanted(after, release, entry):
        owner = link_owner(path, links.get(path))
        valid = [b for b in builds if b.key == owner]
        if pin is not None and not (valid and valid[0].pairs()[pin] == mine[pin]):
            valid = [entry]
        desired[path] = (valid or [max(builds, key=lambda b: (b.deployed, b.key))])[0]
    changes = {}
    for path in sorted(set(desired) | set(p for p in links if link_owner(p, links[p]))):
        target = link_target(path, desired[path]) if path in desired else None
        before = links.get(path)
        blocked = [p for p in (path, path.rsplit('/', 1)[0]) if p in links and not link_owner(p, links[p])]
        if target is not None and blocked:
            raise DeployError('%s: %s exists and deploy did not make it (unpacked by hand or by another tool?): '
                              'move it away; deploy never overwrites it' % (new.package, path))
        if before != target:
            changes[path] = (before, target)
    return Plan(entry, ordered, after, not existing, ordered[keep:], changes)


def _wanted(records, release, entry):
    """(link path, builds it may point to, the version the deployed build pins or None): current/*
    of each release with builds, version/*/* of each version a kept build provides."""
    mine, providers = entry.pairs(), {}
    for name in sorted(records):
        if records[name]:
            yield 'current/%s' % name, [entry] if name == release else records[name], None
        for build in records[name]:
            for pair in build.pairs():
                providers.setdefault(pair, []).append(build)
    for pair, builds in sorted(providers.items()):
        yield version_path(*pair), builds, pair if pair in mine else None


def listing(records, links, leftovers=()):
    """The install root as deploy manages it, one line per entry: what diff mode compares."""
    lines = []
    for release in sorted(records):
        for build in records[release]:
            digest = build.sha256[:16] if build.sha256 else '? (not on the host yet)'
            lines.append('builds/%s/%s  %s sha256:%s' % (release, build.build, build.package, digest))
    lines.extend('%s -> %s' % (path, target) for path, target in sorted(links.items()) if target)
    lines.extend('%s  (left by an interrupted deploy)' % name for name in leftovers)
    return ''.join(line + '\n' for line in sorted(lines))
