# -*- coding: utf-8 -*-
# Copyright: (c) 2026, GameOps release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# This module_utils is PRIVATE to gameops.elastic_release; its API may change without notice.
"""Deploying a server package on a game host: several releases in one install root.

    builds/{release}/{build}/     a package as unpacked, never written again
    current/{release}             -> ../builds/{release}/{build}, the release's build deployed last
    version/{service}/{version}   -> ../../builds/{release}/{build}/version/{service}/{version}
    .deploy/{release}.json        the release's kept builds, newest first, with the digest of each
                                  version directory they provide

server_start runs version/{service}/{version}/bin/{service}, a symlink into a build that provides
the version. Releases running the same version share it when their packages carry the same
content there (equal digests); other content under a version another release provides is refused.
Links are switched atomically; a build goes only once no link points into it (`_deploy_plan`
decides). The package is checked with the safe reader before anything is written; deploys into
one root take turns (flock on the root). See docs/packages.md, "Deploying".
No Ansible imports here.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import fcntl
import json
import os
import re
import shutil
import tempfile
import time

from .._package.archive import CHUNK, SHA256_RE, normal_mode, scan_archive
from .._package.archive_writer import file_sha256
from .._package.files import atomic_write
from .deploy_plan import Build, DeployError, listing, plan_deploy, version_digests
from .._release.names import InvalidName, validate_release
from .._package.pkgname import LOOSE_BUILD_RE, parse_package_name
from .._package.server_package import LAYOUT_NAME_RE, read_server_package

DEFAULT_KEEP = 5
DEFAULT_LOCK_TIMEOUT = 300
STATE_DIR = '.deploy'
FORMAT = 1
# Hidden names deploy leaves only when interrupted: removed by the next run.
LEFTOVER_RE = re.compile(r'^\.(unpack|remove|link|write)-')


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
                if not (LOOSE_BUILD_RE.match(build.build) and SHA256_RE.match(build.sha256) and '/' not in
                        build.package and all(LAYOUT_NAME_RE.match(n) for n in names)):
                    raise ValueError('invalid entry %r' % (build.to_dict(),))
            return out
        except (OSError, ValueError, KeyError, TypeError, AttributeError, InvalidName) as exc:
            raise DeployError('%s is not a deploy record this collection can read (%s): move it away, with the '
                              'builds/%s directory it describes' % (path, exc, release))

    def write_records(self, release, builds):
        os.makedirs(self.state, 0o755, exist_ok=True)
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
    def lock(self, timeout):
        """One deploy per install root: flock on the directory itself (no lock file to leave behind)."""
        fd = os.open(self.root, os.O_RDONLY | os.O_DIRECTORY)
        try:
            deadline = time.time() + timeout
            while not _flock(fd):
                if time.time() >= deadline:
                    raise DeployError('another deploy into %s holds its lock: waited %s seconds (lock_timeout)'
                                      % (self.root, timeout))
                time.sleep(0.2)
            yield
        finally:
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


def _flock(fd):
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False


def _atomic_write(path, data):
    atomic_write(path, data)


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
    if name.release != release:
        raise DeployError('package %s is release %r, not the expected release %r: nothing was unpacked'
                          % (name.name, name.release, release))
    root = InstallRoot(install_root)
    if not os.path.isfile(package) and not check:
        raise DeployError('%s: no package at %s' % (name.name, package))
    read = {}
    plan, result, repair = _planned(root, package, name, keep, name_pattern, limits, read)
    if check or not result['changed']:
        return result
    os.makedirs(root.root, 0o755, exist_ok=True)
    with root.lock(lock_timeout):
        # Planned again under the lock: another deploy may have written meanwhile.
        plan, result, repair = _planned(root, package, name, keep, name_pattern, limits, read)
        if result['changed']:
            _apply(root, plan, package, limits, name.name, repair, package_dir)
    return result


def _planned(root, package, name, keep, name_pattern, limits, read):
    """(plan, result, (gone, leftovers)) from the install root as it is now. The package is read once (`read` keeps
    it): hashed only when its build is deployed already, else checked in full (nothing written)."""
    release, label = name.release, name.name
    records, gone = root.read_records()
    links, leftovers = root.read_links(), root.leftovers()
    new = Build(release, name.build, label, None, time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime()), None)
    known = [b for b in records.get(release, []) if b.build == name.build]
    present = os.path.isfile(package)
    if present and not known and 'checked' not in read:
        read['checked'] = read_server_package(package, name_pattern, release, limits, hash_members=True)
    elif present and known and not read:
        read['sha256'] = file_sha256(package)
    checked = read.get('checked')
    if checked is not None:
        new.sha256, new.versions = checked.scan.sha256, version_digests(checked.scan.members, checked.components)
    new.sha256 = new.sha256 or read.get('sha256')
    build_dir = root.path('builds', release, name.build)
    if not known and os.path.lexists(build_dir):
        raise DeployError('%s: %s exists but no deploy record names it (unpacked by hand, or its record %s was '
                          'removed): move it away; deploy never overwrites it'
                          % (label, build_dir, root.record_file(release)))
    plan = plan_deploy(records, new, keep, links)
    if plan.unpack and checked is not None:
        _check_space(root, checked.scan.total_size, label)
    reorder = [b.build for b in records.get(release, [])] != [b.build for b in plan.ordered]
    after_links = dict(links)
    after_links.update((path, target) for path, (_before, target) in plan.links.items())
    scan = checked.scan if checked is not None and plan.unpack else None
    result = {
        'changed': bool(plan.unpack or plan.removed or plan.links or gone or leftovers or reorder),
        'release': release, 'build': name.build, 'package': label, 'sha256': new.sha256, 'install_root': root.root,
        'build_dir': build_dir, 'keep': keep,
        'action': 'unpacked' if plan.unpack else ('switched' if 'current/' + release in plan.links else 'present'),
        'unpacked': {'members': len(scan.members), 'size': scan.total_size} if scan else None,
        'removed': [{'build': b.build, 'package': b.package, 'path': root.path('builds', release, b.build)}
                    for b in plan.removed],
        'kept': [b.build for b in plan.records[release]],
        'versions': plan.entry.versions,
        'links': [{'path': p, 'before': b, 'after': a} for p, (b, a) in sorted(plan.links.items())],
        'repaired': ['record of builds/%s/%s (its directory is gone)' % b.key for b in gone] + leftovers,
        'problems': checked.problems if checked is not None else [],
        'diff': {'before': listing(records, links, leftovers), 'after': listing(plan.records, after_links),
                 'before_header': root.root, 'after_header': root.root},
    }
    if not present:
        result['note'] = ('%s is not on the host yet (check mode does not copy it): the version links it makes are '
                          'decided when it is read' % package)
    return plan, result, (gone, leftovers)


def _check_space(root, need, label):
    probe = root.root
    while not os.path.isdir(probe):
        probe = os.path.dirname(probe)
    free = os.statvfs(probe).f_bavail * os.statvfs(probe).f_frsize
    if need > free:
        raise DeployError('%s: unpacking needs %d bytes but %s has %d bytes free: nothing was unpacked'
                          % (label, need, probe, free))


def _apply(root, plan, package, limits, label, repair, package_dir):
    """The writes, ordered so the next run recovers from an interruption: unpack into a hidden
    directory, record, rename into place; switch links; hide a removed build, then drop its record."""
    entry, release = plan.entry, plan.entry.release
    gone, leftovers = repair
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
