# -*- coding: utf-8 -*-
# Copyright: (c) 2026, GameOps release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# This module_utils is PRIVATE to gameops.elastic_release; its API may change without notice.
"""An install root as deploy touches it: opened once, walked without following links.

Deploy often runs as root into an install root another user owns (the game's user). That user can
put a symbolic link anywhere inside it - `builds -> /etc`, `.deploy -> /root` - at any moment,
also between a check and a write. So every operation below the root goes through directory file
descriptors opened with O_NOFOLLOW, one path component at a time (`*at` system calls with
`dir_fd`): a link deploy did not make is never followed, whatever happens meanwhile, and a
directory renamed away under us is still the one we write into. A link met where deploy must go
through a directory fails naming it.

The path of the install root itself is the operator's: a link in it is followed only when root
or the user running deploy owns the link (as the kernel's protected_symlinks rule does in sticky
directories); a link another user made there is refused, naming it.
No Ansible imports here.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import os
import shutil
import stat

from .deploy_plan import DeployError

DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
MAX_LINKS = 40


class MissingRoot(DeployError):
    """The install root (or a directory above it) does not exist."""


class RootFs(object):
    """Directory descriptors below one install root; every path argument is relative to it."""

    def __init__(self, root, create=False):
        self.root = root
        self.fd = open_trusted(root, create)
        self._dirs = {'': self.fd}

    def close(self):
        for fd in set(self._dirs.values()):
            os.close(fd)
        self._dirs = {}

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def show(self, rel):
        return os.path.join(self.root, rel) if rel else self.root

    # ---- directories ---------------------------------------------------------------------------
    def dir(self, rel, create=False):
        """The descriptor of the directory rel, or None when it does not exist (and not create).
        Raises DeployError when a component is a link or not a directory."""
        rel = rel.strip('/')
        if rel in self._dirs:
            return self._dirs[rel]
        parent_rel, _sep, name = rel.rpartition('/')
        parent = self.dir(parent_rel, create)
        if parent is None:
            return None
        try:
            fd = os.open(name, DIR_FLAGS, dir_fd=parent)
        except OSError as exc:
            if exc.errno != errno.ENOENT:
                raise self._refusal(rel, exc)
            if not create:
                return None
            try:
                os.mkdir(name, 0o755, dir_fd=parent)
            except FileExistsError:
                pass    # made meanwhile: opened (and checked) below
            fd = self._open_new(rel, name, parent)
        self._dirs[rel] = fd
        return fd

    def _open_new(self, rel, name, parent):
        try:
            fd = os.open(name, DIR_FLAGS, dir_fd=parent)
        except OSError as exc:
            raise self._refusal(rel, exc)
        os.fchmod(fd, 0o755)
        return fd

    def forget(self, rel):
        """rel was renamed or removed: its descriptor (and those below it) are closed."""
        for key in [k for k in self._dirs if k == rel or k.startswith(rel + '/')]:
            os.close(self._dirs.pop(key))

    def _refusal(self, rel, exc):
        if exc.errno in (errno.ELOOP, errno.ENOTDIR):
            what = self.describe(rel)
            return DeployError('%s is %s, which deploy did not make: deploy never writes through a link or into '
                               'something that is not a directory there (planted by another user?). Remove it '
                               '(or move it away) and deploy again' % (self.show(rel), what))
        return DeployError('cannot open %s: %s' % (self.show(rel), exc.strerror or exc))

    def describe(self, rel):
        """'a symbolic link to X' / 'not a directory' for the first such component of rel."""
        parts = rel.split('/')
        for i in range(len(parts)):
            sub = '/'.join(parts[:i + 1])
            info = self.lstat(sub)
            if info is None:
                break
            if stat.S_ISLNK(info.st_mode):
                return 'a symbolic link to %s%s' % (self.readlink(sub), '' if sub == rel else ' (%s)' % self.show(sub))
            if not stat.S_ISDIR(info.st_mode):
                return 'not a directory%s' % ('' if sub == rel else ' (%s)' % self.show(sub))
        return 'not a directory'

    # ---- entries ------------------------------------------------------------------------------
    def _at(self, rel, create=False):
        parent_rel, _sep, name = rel.strip('/').rpartition('/')
        return self.dir(parent_rel, create), name

    def listdir(self, rel):
        fd = self.dir(rel)
        if fd is None:
            return []
        return sorted(os.listdir(fd))

    def lstat(self, rel):
        parent, name = self._at(rel)
        if parent is None:
            return None
        try:
            return os.stat(name, dir_fd=parent, follow_symlinks=False)
        except FileNotFoundError:
            return None

    def is_dir(self, rel):
        info = self.lstat(rel)
        return info is not None and stat.S_ISDIR(info.st_mode)

    def readlink(self, rel):
        """The target of the link rel, or None when rel is no link (or missing)."""
        parent, name = self._at(rel)
        if parent is None:
            return None
        try:
            return os.readlink(name, dir_fd=parent)
        except OSError as exc:
            if exc.errno in (errno.EINVAL, errno.ENOENT):
                return None
            raise

    def open_file(self, rel):
        """The regular file rel opened for reading (a file object), never through a link."""
        parent, name = self._at(rel)
        if parent is None:
            raise FileNotFoundError(errno.ENOENT, 'no such file', self.show(rel))
        try:
            fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=parent)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise self._refusal(rel, exc)
            raise
        handle = os.fdopen(fd, 'rb')
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            handle.close()
            raise OSError(errno.EINVAL, 'not a regular file', self.show(rel))
        return handle

    def read_file(self, rel):
        with self.open_file(rel) as handle:
            return handle.read()

    def write_file(self, rel, data=None, mode=0o644, prefix='.write-', source=None):
        """Write rel whole or not at all: a new file beside it, flushed, renamed over it. Its
        content is data, or the file object source, copied in blocks (a package of gigabytes)."""
        parent, name = self._at(rel, create=True)
        tmp = '%s%d.%s' % (prefix, os.getpid(), name)
        self._remove_entry(parent, tmp)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, mode, dir_fd=parent)
        try:
            with os.fdopen(fd, 'wb') as out:
                if source is None:
                    out.write(data)
                else:
                    shutil.copyfileobj(source, out, 1024 * 1024)
                out.flush()
                os.fsync(out.fileno())
                os.fchmod(out.fileno(), mode)
            os.replace(tmp, name, src_dir_fd=parent, dst_dir_fd=parent)
        except BaseException:
            self._remove_entry(parent, tmp)
            raise

    def symlink(self, rel, target, prefix='.link-'):
        """Point the link rel at target, atomically: a new link renamed over it."""
        parent, name = self._at(rel, create=True)
        tmp = '%s%d-%s' % (prefix, os.getpid(), name)
        self._remove_entry(parent, tmp)
        os.symlink(target, tmp, dir_fd=parent)
        os.replace(tmp, name, src_dir_fd=parent, dst_dir_fd=parent)

    def unlink(self, rel):
        parent, name = self._at(rel)
        if parent is not None:
            self._remove_entry(parent, name)

    def rmdir(self, rel):
        parent, name = self._at(rel)
        self.forget(rel)
        os.rmdir(name, dir_fd=parent)

    def rename(self, src, dst):
        sparent, sname = self._at(src)
        dparent, dname = self._at(dst, create=True)
        self.forget(src)
        os.rename(sname, dname, src_dir_fd=sparent, dst_dir_fd=dparent)

    def rmtree(self, rel):
        """Remove rel and everything below it without following a link (a descriptor walk)."""
        parent, name = self._at(rel)
        if parent is None:
            return
        self.forget(rel)
        info = self.lstat(rel)
        if info is not None and stat.S_ISDIR(info.st_mode):
            rmtree_at(parent, name)
        elif info is not None:
            os.unlink(name, dir_fd=parent)

    def mkdir_new(self, rel_dir, prefix):
        """A new, empty, private directory in rel_dir: (its name, its descriptor)."""
        parent = self.dir(rel_dir, create=True)
        for attempt in range(100):
            name = '%s%d.%d' % (prefix, os.getpid(), attempt)
            try:
                os.mkdir(name, 0o700, dir_fd=parent)
            except FileExistsError:
                continue
            fd = os.open(name, DIR_FLAGS, dir_fd=parent)
            return name, fd
        raise DeployError('cannot make a new directory in %s' % self.show(rel_dir))

    def same(self, rel, fd):
        """Whether rel is (still) the directory open as fd."""
        info = self.lstat(rel)
        mine = os.fstat(fd)
        return info is not None and (info.st_dev, info.st_ino) == (mine.st_dev, mine.st_ino)

    @staticmethod
    def _remove_entry(parent, name):
        try:
            os.unlink(name, dir_fd=parent)
        except FileNotFoundError:
            pass


def rmtree_at(parent, name):
    """Remove the directory name in the directory open as parent, and everything below it, one
    descriptor per level opened with O_NOFOLLOW: a link found inside is removed, never followed.
    (shutil.rmtree takes dir_fd only from Python 3.11; the hosts may run older ones.)"""
    fd = os.open(name, DIR_FLAGS, dir_fd=parent)
    try:
        for entry in os.listdir(fd):
            try:
                info = os.stat(entry, dir_fd=fd, follow_symlinks=False)
            except FileNotFoundError:
                continue
            if stat.S_ISDIR(info.st_mode):
                rmtree_at(fd, entry)
            else:
                RootFs._remove_entry(fd, entry)
    finally:
        os.close(fd)
    try:
        os.rmdir(name, dir_fd=parent)
    except FileNotFoundError:
        pass


def open_trusted(path, create=False):
    """A descriptor of the directory path, resolved one component at a time: a link is followed
    only when root or this user owns it; with create, missing directories are made (0755)."""
    if not os.path.isabs(path):
        raise DeployError('install_root %r must be an absolute path' % path)
    todo = [n for n in path.split('/') if n and n != '.']
    fd = os.open('/', DIR_FLAGS)
    walked, links = '', 0
    try:
        while todo:
            name = todo.pop(0)
            here = walked + '/' + name
            info = _lstat_or_make(fd, name, here, create)
            if stat.S_ISLNK(info.st_mode):
                target = os.readlink(name, dir_fd=fd)
                if info.st_uid not in (0, os.geteuid()):
                    raise DeployError('%s is a symbolic link to %s owned by uid %d, who can change it: deploy follows '
                                      'links in the install root\'s path only when root or the deploying user owns '
                                      'them. Give install_root without it (the directory it points to), or have root '
                                      'own it' % (here, target, info.st_uid))
                links += 1
                if links > MAX_LINKS:
                    raise DeployError('%s: too many levels of symbolic links' % here)
                todo[:0] = [n for n in target.split('/') if n and n != '.']
                if target.startswith('/'):
                    os.close(fd)
                    fd, walked = None, ''
                    fd = os.open('/', DIR_FLAGS)
                continue
            try:
                nxt = os.open(name, DIR_FLAGS, dir_fd=fd)
            except OSError as exc:
                raise DeployError('%s is not a directory (%s)' % (here, exc.strerror or exc))
            os.close(fd)
            fd, walked = nxt, os.path.normpath(here)
        return fd
    except BaseException:
        if fd is not None:
            os.close(fd)
        raise


def _lstat_or_make(fd, name, here, create):
    try:
        return os.stat(name, dir_fd=fd, follow_symlinks=False)
    except FileNotFoundError:
        if not create:
            raise MissingRoot('%s does not exist' % here)
    try:
        os.mkdir(name, 0o755, dir_fd=fd)
    except FileExistsError:
        pass    # made meanwhile: looked at again
    return os.stat(name, dir_fd=fd, follow_symlinks=False)
