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
import hashlib
import json
import os
import re
import shutil
import stat
import time

from .._package.archive import CHUNK, SHA256_RE, normal_mode, scan_archive
from .._package.archive_writer import file_sha256
from .deploy_plan import Build, DeployError, listing, plan_deploy, version_digests
from .rootfs import MissingRoot, RootFs
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
    """The install root as deploy manages it; every access goes through `fs` (a RootFs: no link
    deploy did not make is ever followed)."""

    def __init__(self, root, fs=None):
        if not os.path.isabs(root):
            raise DeployError('install_root %r must be an absolute path' % root)
        self.root = os.path.normpath(root)
        self.state = os.path.join(self.root, STATE_DIR)
        self.fs = fs

    def path(self, *parts):
        return os.path.join(self.root, *'/'.join(parts).split('/'))

    def record_file(self, release):
        return os.path.join(self.state, release + '.json')

    def read_records(self):
        """({release: [Build]}, [Build whose directory is gone])."""
        records, gone = {}, []
        for name in self.fs.listdir(STATE_DIR) if self.fs is not None else ():
            if name.endswith('.json') and not name.startswith('.'):
                builds = self._read_record(name[:-5])
                records[name[:-5]] = [b for b in builds if self.fs.is_dir('builds/%s/%s' % b.key)]
                gone.extend(b for b in builds if b not in records[name[:-5]])
        return records, gone

    def _read_record(self, release):
        path = self.record_file(release)
        try:
            doc = json.loads(self.fs.read_file('%s/%s.json' % (STATE_DIR, release)).decode('utf-8'))
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
        doc = {'format': FORMAT, 'release': release, 'builds': [b.to_dict() for b in builds]}
        self.fs.write_file('%s/%s.json' % (STATE_DIR, release),
                           (json.dumps(doc, indent=2, sort_keys=True) + '\n').encode('utf-8'))

    def names(self, rel, leftover=False):
        """Names in the directory rel: deploy's own, or the leftovers of an interrupted deploy.
        A link or a file where deploy keeps a directory fails naming it."""
        if self.fs is None:   # check mode, and the install root does not exist yet
            return []
        return [n for n in self.fs.listdir(rel) if bool(LEFTOVER_RE.match(n)) == leftover]

    def read_links(self):
        """{path: link target} of current/* and version/*/*; None for an entry that is no symlink."""
        out = {}
        paths = ['current/' + n for n in self.names('current')]
        for service in self.names('version'):
            rel = 'version/' + service
            if self.fs.is_dir(rel) or self.fs.readlink(rel) is not None:
                # a link here fails naming it: the versions below are reached through it
                paths.extend('%s/%s' % (rel, n) for n in self.names(rel))
            else:
                out[rel] = None
        for rel in paths:
            out[rel] = self.fs.readlink(rel)
        return out

    def leftovers(self):
        dirs = [STATE_DIR, 'current'] + ['builds/' + r for r in self.names('builds')] + \
            ['version/' + s for s in self.names('version') if self.fs.is_dir('version/' + s)]
        return ['%s/%s' % (d, n) for d in dirs for n in self.names(d, leftover=True)]

    @contextlib.contextmanager
    def lock(self, timeout):
        """One deploy per install root: flock on the directory itself (no lock file to leave behind)."""
        deadline = time.time() + timeout
        while not _flock(self.fs.fd):
            if time.time() >= deadline:
                raise DeployError('another deploy into %s holds its lock: waited %s seconds (lock_timeout)'
                                  % (self.root, timeout))
            time.sleep(0.2)
        try:
            yield
        finally:
            fcntl.flock(self.fs.fd, fcntl.LOCK_UN)

    def switch(self, rel, target):
        """Point the link rel at target (None: remove it), atomically: a new link renamed over it."""
        if target is None:
            if self.fs.readlink(rel) is not None:
                self.fs.unlink(rel)
            if rel.startswith('version/'):
                try:
                    self.fs.rmdir(rel.rsplit('/', 1)[0])
                except OSError:
                    pass  # other versions of the service are still there
            return
        self.fs.symlink(rel, target)


def _flock(fd):
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False


def unpack(path, dest_fd, limits=None, label=None):
    """Unpack a package into the new, empty directory open as dest_fd, with every check of the safe
    reader: files as the stream passes (created exclusively, never through a link), then directories,
    hard links and symlinks once the whole archive, links included, passed. Modes 0755/0644.
    Everything is made relative to dest_fd, in directories made here: nothing outside it is touched
    even if the directory is renamed meanwhile."""
    label = label or os.path.basename(path)
    made = set([''])

    def makedirs(directory):
        if directory not in made:
            makedirs(os.path.dirname(directory))
            try:
                os.mkdir(directory, 0o755, dir_fd=dest_fd)
            except FileExistsError:
                pass
            fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=dest_fd)
            try:
                os.fchmod(fd, 0o755)
            finally:
                os.close(fd)
            made.add(directory)

    def write(member, fileobj):
        try:
            makedirs(os.path.dirname(member.name))
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
            with os.fdopen(os.open(member.name, flags, 0o600, dir_fd=dest_fd), 'wb') as out:
                shutil.copyfileobj(fileobj, out, CHUNK)
                os.fchmod(out.fileno(), normal_mode('file', member.mode))
        except OSError as exc:
            raise DeployError('%s: cannot unpack member %r: %s' % (label, member.name, exc.strerror or exc))

    scan = scan_archive(path, limits, write, label)
    later = sorted(scan.members, key=lambda m: m.kind == 'symlink')
    for member in (m for m in later if m.kind != 'file'):
        try:
            makedirs(member.name if member.kind == 'dir' else os.path.dirname(member.name))
            if member.kind == 'hardlink':
                os.link(member.linkname, member.name, src_dir_fd=dest_fd, dst_dir_fd=dest_fd, follow_symlinks=False)
            elif member.kind == 'symlink':
                os.symlink(member.linkname, member.name, dir_fd=dest_fd)
        except OSError as exc:
            raise DeployError('%s: cannot unpack member %r: %s' % (label, member.name, exc.strerror or exc))
    return scan


def deploy(package, release, install_root, keep=DEFAULT_KEEP, name_pattern=None, limits=None, package_dir=None,
           check=False, lock_timeout=DEFAULT_LOCK_TIMEOUT, stage_dir=None):
    """Deploy the package at `package` (on this host) into install_root; the result server_deploy
    returns. Raises PackageError or InvalidName, having written nothing, for a refusal.

    With package_dir, a copy of the package is kept there (`package_copy`: copied or present),
    written through a descriptor of package_dir opened first, link-safely: a link planted at
    {install_root}/packages is refused before anything is written, never followed. stage_dir is
    where the package was sent (the deploy role's): removed builds' packages leave it too."""
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
    root.fs = _open_existing(root.root)
    cache = None
    try:
        if check:
            return _planned(root, package, name, keep, name_pattern, limits, read)[1]
        cache = _package_cache(root, package_dir) if package_dir else None
        try:
            plan, result, repair = _planned(root, package, name, keep, name_pattern, limits, read)
            if not result['changed']:
                return _keep_copy(cache, package, name.name, result)   # a rerun that changes nothing takes no lock
        except DeployError:
            pass    # decided under the lock: another deploy of this root may be half-way (an AWX double launch)
        if root.fs is None:
            root.fs = RootFs(root.root, create=True)
        with root.lock(lock_timeout):
            plan, result, repair = _planned(root, package, name, keep, name_pattern, limits, read)
            if result['changed']:
                _apply(root, plan, package, limits, name.name, repair, package_dir)
                if stage_dir:
                    _drop_cached(stage_dir, [b.package for b in plan.removed], package)
        return _keep_copy(cache, package, name.name, result)
    finally:
        if cache is not None and cache[0] is not root.fs:
            cache[0].close()
        if root.fs is not None:
            root.fs.close()


def _package_cache(root, package_dir):
    """(RootFs, path relative to it) of package_dir, opened before any write: inside the install root
    through the root's own descriptors (a link there, which deploy never makes, is refused naming
    it), elsewhere as the install root's own path is walked (a link another user owns is refused)."""
    package_dir = os.path.normpath(package_dir)
    if not package_dir.startswith(root.root + os.sep):
        return RootFs(package_dir, create=True), ''
    if root.fs is None:
        root.fs = RootFs(root.root, create=True)
    rel = os.path.relpath(package_dir, root.root)
    root.fs.dir(rel, create=True)
    return root.fs, rel


def _keep_copy(cache, package, name, result):
    """Keep a copy of the package in the cache directory unless the same file is there already."""
    if cache is None:
        return result
    fs, rel = cache
    target = '%s/%s' % (rel, name) if rel else name
    info, here = fs.lstat(target), os.stat(package)
    result['package_copy'] = 'present'
    if info is not None and (info.st_dev, info.st_ino) == (here.st_dev, here.st_ino):
        return result   # the package was given from the cache itself
    if info is not None and stat.S_ISREG(info.st_mode) and info.st_size == here.st_size:
        with fs.open_file(target) as handle:
            if _sha256(handle) == file_sha256(package):
                return result
    with open(package, 'rb') as source:
        fs.write_file(target, mode=0o644, prefix='.copy-', source=source)
    result['package_copy'] = 'copied'
    result['changed'] = True
    return result


def _sha256(handle):
    digest = hashlib.sha256()
    for block in iter(lambda: handle.read(CHUNK), b''):
        digest.update(block)
    return digest.hexdigest()


def _open_existing(path):
    """The install root opened (see RootFs), or None when it does not exist yet."""
    try:
        return RootFs(path)
    except MissingRoot:
        return None


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
    if not known and root.fs is not None and root.fs.lstat('builds/%s/%s' % (release, name.build)) is not None:
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
    if root.fs is not None:
        probe, info = root.root, os.fstatvfs(root.fs.fd)
    else:
        probe = root.root
        while not os.path.isdir(probe):
            probe = os.path.dirname(probe)
        info = os.statvfs(probe)
    free = info.f_bavail * info.f_frsize
    if need > free:
        raise DeployError('%s: unpacking needs %d bytes but %s has %d bytes free: nothing was unpacked'
                          % (label, need, probe, free))


def _apply(root, plan, package, limits, label, repair, package_dir):
    """The writes, ordered so the next run recovers from an interruption: unpack into a hidden
    directory, record, rename into place; switch links; hide a removed build, then drop its record.
    Every write goes through root.fs: relative to directories opened without following links."""
    entry, release = plan.entry, plan.entry.release
    fs = root.fs
    gone, leftovers = repair
    for rel in leftovers:
        fs.rmtree(rel)
    for name in sorted(set(b.release for b in gone) - set([release])):
        root.write_records(name, plan.records[name])
    builds = 'builds/%s' % release
    fs.dir(builds, create=True)
    if plan.unpack:
        staging, staged = fs.mkdir_new(builds, '.unpack-%s.' % entry.build)
        try:
            scan = unpack(package, staged, limits, label)
            if scan.sha256 != entry.sha256:
                raise DeployError('%s: the package changed while it was being deployed (sha256 %s, then %s): '
                                  'nothing was unpacked' % (label, entry.sha256[:16], scan.sha256[:16]))
            os.fchmod(staged, 0o755)
            if not fs.same('%s/%s' % (builds, staging), staged):
                raise DeployError('%s: the directory it was unpacked into, %s, was moved away while deploy wrote it '
                                  '(by another user of the install root?): nothing was deployed'
                                  % (label, root.path(builds, staging)))
            root.write_records(release, plan.ordered)
            fs.rename('%s/%s' % (builds, staging), '%s/%s' % (builds, entry.build))
        except BaseException:
            if fs.same('%s/%s' % (builds, staging), staged):
                fs.rmtree('%s/%s' % (builds, staging))
            raise
        finally:
            os.close(staged)
    else:
        root.write_records(release, plan.ordered)
    for path, (_before, target) in sorted(plan.links.items(), key=lambda item: item[1][1] is None):
        root.switch(path, target)
    trash = []
    for build in plan.removed:
        trash.append('%s/.remove-%s.%d' % (builds, build.build, os.getpid()))
        fs.rename('%s/%s' % (builds, build.build), trash[-1])
    root.write_records(release, plan.records[release])
    for rel in trash:
        fs.rmtree(rel)
    if package_dir and plan.removed:
        _drop_cached(package_dir, [b.package for b in plan.removed], package)


def _drop_cached(package_dir, names, package):
    """Remove the copied packages of removed builds from package_dir, never through a link."""
    try:
        cache = RootFs(package_dir)
    except DeployError:
        return  # no cache directory (or not one we may walk): nothing to remove
    with cache:
        for name in names:
            info = cache.lstat(name)
            if info is not None and stat.S_ISREG(info.st_mode) and os.path.join(package_dir, name) != package:
                cache.unlink(name)
