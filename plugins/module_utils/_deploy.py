# -*- coding: utf-8 -*-
# Copyright: (c) 2026, GameOps release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# This module_utils is PRIVATE to gameops.elastic_release; its API may change without notice.
"""Deploying a server package on a game host: several releases in one install root.

    builds/{release}/{build}/     a package as unpacked, never written again
    current/{release}             -> ../builds/{release}/{build}, the release's build deployed last
    version/{service}/{version}   -> ../../builds/{release}/{build}/version/{service}/{version}
    .deploy/{release}.json        the release's kept builds, newest first, with the digest of each
                                  version directory they provide; .deploy/lock: one deploy at a time

server_start runs version/{service}/{version}/bin/{service}, a symlink into a build that provides
the version. Releases running the same version share it when their packages carry the same
content there (equal digests); other content under a version another release provides is refused.
Links are switched atomically; a build goes only once no link points into it. The package is
checked with the safe reader before anything is written. See docs/packages.md, "Deploying".
No Ansible imports here.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import collections
import contextlib
import fcntl
import hashlib
import json
import os
import re
import shutil
import tempfile
import time

from ._archive import CHUNK, normal_mode, scan_archive
from ._archive_writer import file_sha256
from ._names import InvalidName, validate_release
from ._pkgname import LOOSE_BUILD_RE, PackageError, parse_package_name
from ._server_package import LAYOUT_NAME_RE, read_server_package

DEFAULT_KEEP = 5
DEFAULT_LOCK_TIMEOUT = 300
STATE_DIR = '.deploy'
FORMAT = 1
# Hidden names deploy leaves only when interrupted: removed by the next run.
LEFTOVER_RE = re.compile(r'^\.(unpack|remove|link|write)-')
_SHA256_RE = re.compile(r'^[0-9a-f]{64}\Z')


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


# ---- pure parts: digests, links, the plan ----------------------------------------------------

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
                          'remove it from this install root first' % (new.package, new.build, release,
                                                                       existing[0].sha256[:16], new.sha256[:16]))
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
            lines.append('builds/%s/%s  %s sha256:%s' % (release, build.build, build.package, build.sha256[:16]
                                                      if build.sha256 else '?'))
    lines.extend('%s -> %s' % (path, target) for path, target in sorted(links.items()) if target)
    lines.extend('%s  (left by an interrupted deploy)' % name for name in leftovers)
    return ''.join(line + '\n' for line in sorted(lines))


# ---- the install root on disk ----------------------------------------------------------------

class InstallRoot(object):
    def __init__(self, root):
        if not os.path.isabs(root):
            raise DeployError('install_root %r must be an absolute path' % root)
        self.root = os.path.normpath(root)
        self.state = os.path.join(self.root, STATE_DIR)

    def path(self, *parts):
        return os.path.join(self.root, *'/'.join(parts).split('/'))

    def record_file(self, release):
        return os.path.join(self.state, release + '.json')

    def read_records(self):
        """({release: [Build]}, [Build whose directory is gone])."""
        records, gone = {}, []
        names = sorted(os.listdir(self.state)) if os.path.isdir(self.state) else []
        for name in names:
            if name.endswith('.json') and not name.startswith('.'):
                builds = self._read_record(name[:-5])
                records[name[:-5]] = [b for b in builds if os.path.isdir(self.path('builds', b.release, b.build))]
                gone.extend(b for b in builds if b not in records[name[:-5]])
        return records, gone

    def _read_record(self, release):
        path = self.record_file(release)
        try:
            with open(path) as handle:
                doc = json.load(handle)
            validate_release(release)
            if doc.get('format') != FORMAT or doc.get('release') != release:
                raise ValueError('not format %d of release %s' % (FORMAT, release))
            out = [Build(release, i['build'], i['package'], i['sha256'], i['deployed'], i['versions'])
                   for i in doc['builds']]
            for build in out:
                names = [n for pair in build.pairs() for n in pair]
                if not (LOOSE_BUILD_RE.match(build.build) and _SHA256_RE.match(build.sha256) and '/' not in
                        build.package and all(LAYOUT_NAME_RE.match(n) for n in names)):
                    raise ValueError('invalid entry %r' % (build.to_dict(),))
            return out
        except (OSError, ValueError, KeyError, TypeError, AttributeError, InvalidName) as exc:
            raise DeployError('%s is not a deploy record this collection can read (%s): move it away, with the '
                              'builds/%s directory it describes' % (path, exc, release))

    def write_records(self, release, builds):
        doc = {'format': FORMAT, 'release': release, 'builds': [b.to_dict() for b in builds]}
        _atomic_write(self.record_file(release), (json.dumps(doc, indent=2, sort_keys=True) + '\n').encode('utf-8'))

    def names(self, rel, leftover=False):
        """Names in the real directory rel: deploy's own, or the leftovers of an interrupted deploy."""
        full = self.path(rel)
        if not os.path.isdir(full) or os.path.islink(full):
            return []
        return sorted(n for n in os.listdir(full) if bool(LEFTOVER_RE.match(n)) == leftover)

    def read_links(self):
        """{path: link target} of current/* and version/*/*; None for an entry that is no symlink."""
        out = {}
        paths = ['current/' + n for n in self.names('current')]
        for service in self.names('version'):
            rel = 'version/' + service
            if os.path.isdir(self.path(rel)) and not os.path.islink(self.path(rel)):
                paths.extend('%s/%s' % (rel, n) for n in self.names(rel))
            else:
                out[rel] = None
        for rel in paths:
            full = self.path(rel)
            out[rel] = os.readlink(full) if os.path.islink(full) else None
        return out

    def leftovers(self):
        dirs = [STATE_DIR, 'current'] + ['builds/' + r for r in self.names('builds')] + \
            ['version/' + s for s in self.names('version')]
        return ['%s/%s' % (d, n) for d in dirs for n in self.names(d, leftover=True)]

    @contextlib.contextmanager
    def lock(self, timeout, check):
        """One deploy per install root (flock on .deploy/lock); check mode only waits for it."""
        path = os.path.join(self.state, 'lock')
        if not check:
            os.makedirs(self.state, 0o755, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644) if not check or os.path.exists(path) else None
        try:
            deadline = time.time() + timeout
            while fd is not None and not _flock(fd, fcntl.LOCK_SH if check else fcntl.LOCK_EX):
                if time.time() >= deadline:
                    raise DeployError('another deploy into %s holds %s: waited %s seconds (lock_timeout)'
                                      % (self.root, path, timeout))
                time.sleep(0.2)
            yield
        finally:
            if fd is not None:
                os.close(fd)

    def switch(self, rel, target):
        """Point the link rel at target (None: remove it), atomically: a new link renamed over it."""
        full = self.path(rel)
        if target is None:
            if os.path.islink(full):
                os.unlink(full)
            if rel.startswith('version/'):
                try:
                    os.rmdir(os.path.dirname(full))
                except OSError:
                    pass  # other versions of the service are still there
            return
        os.makedirs(os.path.dirname(full), 0o755, exist_ok=True)
        tmp = os.path.join(os.path.dirname(full), '.link-%d-%s' % (os.getpid(), os.path.basename(full)))
        if os.path.lexists(tmp):
            os.unlink(tmp)
        os.symlink(target, tmp)
        os.replace(tmp, full)


def _flock(fd, mode):
    try:
        fcntl.flock(fd, mode | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False


def _atomic_write(path, data):
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix='.write-')
    try:
        with os.fdopen(fd, 'wb') as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def unpack(path, dest, limits=None, label=None):
    """Unpack a package into the new, empty directory dest with every check of the safe reader:
    files as the stream passes (created exclusively, never through a link), then directories, hard
    links and symlinks once the whole archive, links included, passed. Modes 0755/0644."""
    label = label or os.path.basename(path)
    made = set([dest])

    def makedirs(directory):
        if directory not in made:
            makedirs(os.path.dirname(directory))
            if not os.path.isdir(directory):
                os.mkdir(directory)
            os.chmod(directory, 0o755)
            made.add(directory)

    def full(name):
        return os.path.join(dest, *name.split('/'))

    def write(member, fileobj):
        try:
            makedirs(os.path.dirname(full(member.name)))
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
            with os.fdopen(os.open(full(member.name), flags, 0o600), 'wb') as out:
                shutil.copyfileobj(fileobj, out, CHUNK)
                os.fchmod(out.fileno(), normal_mode('file', member.mode))
        except OSError as exc:
            raise DeployError('%s: cannot unpack member %r: %s' % (label, member.name, exc.strerror or exc))

    scan = scan_archive(path, limits, write, label)
    later = sorted(scan.members, key=lambda m: m.kind == 'symlink')
    for member in (m for m in later if m.kind != 'file'):
        try:
            makedirs(full(member.name) if member.kind == 'dir' else os.path.dirname(full(member.name)))
            if member.kind == 'hardlink':
                os.link(full(member.linkname), full(member.name))
            elif member.kind == 'symlink':
                os.symlink(member.linkname, full(member.name))
        except OSError as exc:
            raise DeployError('%s: cannot unpack member %r: %s' % (label, member.name, exc.strerror or exc))
    return scan


def deploy(package, release, install_root, keep=DEFAULT_KEEP, name_pattern=None, limits=None, package_dir=None,
           check=False, lock_timeout=DEFAULT_LOCK_TIMEOUT):
    """Deploy the package at `package` (on this host) into install_root; the result server_deploy
    returns. Raises PackageError or InvalidName, having written nothing, for a refusal."""
    validate_release(release)
    if not isinstance(keep, int) or keep < 1:
        raise DeployError('keep must be at least 1 (the build being deployed), got %r' % (keep,))
    name = parse_package_name(package, name_pattern)
    label = name.name
    if name.release != release:
        raise DeployError('package %s is release %r, not the expected release %r: nothing was unpacked'
                          % (label, name.release, release))
    root = InstallRoot(install_root)
    present = os.path.isfile(package)
    if not present and not check:
        raise DeployError('%s: no package at %s' % (label, package))
    with root.lock(lock_timeout, check):
        records, gone = root.read_records()
        links, leftovers = root.read_links(), root.leftovers()
        stamp = time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())
        new = Build(release, name.build, label, None, stamp, None)
        known = [b for b in records.get(release, []) if b.build == name.build]
        scan, problems = None, []
        if present and known:
            new.sha256 = file_sha256(package)
        elif present:
            checked = read_server_package(package, name_pattern, release, limits, hash_members=True)
            scan, problems = checked.scan, checked.problems
            new.sha256, new.versions = scan.sha256, version_digests(scan.members, checked.components)
        build_dir = root.path('builds', release, name.build)
        if not known and os.path.lexists(build_dir):
            raise DeployError('%s: %s exists but no deploy record names it (unpacked by hand, or its record %s was '
                              'removed): move it away; deploy never overwrites it' % (label, build_dir,
                                                                                    root.record_file(release)))
        plan = plan_deploy(records, new, keep, links)
        if plan.unpack and scan is not None:
            _check_space(root, scan.total_size, label)
        reorder = [b.build for b in records.get(release, [])] != [b.build for b in plan.ordered]
        changed = bool(plan.unpack or plan.removed or plan.links or gone or leftovers or reorder)
        after_links = dict(links)
        after_links.update((path, target) for path, (_before, target) in plan.links.items())
        result = {
            'changed': changed, 'release': release, 'build': name.build, 'package': label, 'sha256': new.sha256,
            'install_root': root.root, 'path': build_dir, 'keep': keep,
            'action': 'unpacked' if plan.unpack else ('switched' if 'current/' + release in plan.links else 'present'),
            'unpacked': {'members': len(scan.members), 'size': scan.total_size} if plan.unpack and scan else None,
            'removed': [{'build': b.build, 'package': b.package, 'path': root.path('builds', release, b.build)}
                        for b in plan.removed],
            'kept': [b.build for b in plan.records[release]],
            'versions': plan.entry.versions,
            'links': [{'path': p, 'before': b, 'after': a} for p, (b, a) in sorted(plan.links.items())],
            'repaired': ['record of builds/%s/%s (its directory is gone)' % b.key for b in gone] + leftovers,
            'problems': problems,
            'diff': {'before': listing(records, links, leftovers), 'after': listing(plan.records, after_links),
                     'before_header': '%s (before)' % root.root, 'after_header': '%s (after)' % root.root},
        }
        if not present:
            result['note'] = ('%s is not on the host yet (check mode does not copy it): the version links it makes '
                              'are decided when it is read' % package)
        if changed and not check:
            _apply(root, plan, package, limits, label, gone, leftovers, package_dir)
        return result


def _check_space(root, need, label):
    probe = root.root
    while not os.path.isdir(probe):
        probe = os.path.dirname(probe)
    free = os.statvfs(probe).f_bavail * os.statvfs(probe).f_frsize
    if need > free:
        raise DeployError('%s: unpacking needs %d bytes but %s has %d bytes free: nothing was unpacked'
                          % (label, need, probe, free))


def _apply(root, plan, package, limits, label, gone, leftovers, package_dir):
    """The writes, ordered so the next run recovers from an interruption: unpack into a hidden
    directory, record, rename into place; switch links; hide a removed build, then drop its record."""
    entry, release = plan.entry, plan.entry.release
    for rel in leftovers:
        full = root.path(rel)
        if os.path.isdir(full) and not os.path.islink(full):
            shutil.rmtree(full)
        else:
            os.unlink(full)
    for name in sorted(set(b.release for b in gone) - set([release])):
        root.write_records(name, plan.records[name])
    builds = root.path('builds', release)
    os.makedirs(builds, 0o755, exist_ok=True)
    if plan.unpack:
        staging = tempfile.mkdtemp(dir=builds, prefix='.unpack-%s.' % entry.build)
        try:
            scan = unpack(package, staging, limits, label)
            if scan.sha256 != entry.sha256:
                raise DeployError('%s: the package changed while it was being deployed (sha256 %s, then %s): '
                                  'nothing was unpacked' % (label, entry.sha256[:16], scan.sha256[:16]))
            os.chmod(staging, 0o755)
            root.write_records(release, plan.ordered)
            os.rename(staging, os.path.join(builds, entry.build))
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    else:
        root.write_records(release, plan.ordered)
    for path, (_before, target) in sorted(plan.links.items(), key=lambda item: item[1][1] is None):
        root.switch(path, target)
    trash = []
    for build in plan.removed:
        trash.append(os.path.join(builds, '.remove-%s.%d' % (build.build, os.getpid())))
        os.rename(os.path.join(builds, build.build), trash[-1])
    root.write_records(release, plan.records[release])
    for path in trash:
        shutil.rmtree(path)
    for build in plan.removed if package_dir else ():
        cached = os.path.join(package_dir, build.package)
        if os.path.isfile(cached) and not os.path.islink(cached) and cached != package:
            os.unlink(cached)
