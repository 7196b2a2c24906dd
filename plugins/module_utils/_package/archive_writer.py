# -*- coding: utf-8 -*-
# Copyright: (c) 2026, GameOps release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# This module_utils is PRIVATE to gameops.elastic_release; its API may change without notice.
"""The reproducible archive writer: entries in, a byte-identical .tar.gz out.

Members sorted, a fixed mtime, owner 0/0 without names, modes normalised to 0755/0644 and a gzip
header without time or file name, so identical inputs give identical bytes. `write_archive_file`
writes through a temporary file and renames it over the target only when the content differs.
The entries come from `tree_entries` (a directory tree, checked like an archive being read) or
from bytes; what goes into a server or upgrade package is decided by `_server_package` and
`_upgrade`.

No Ansible imports here.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import gzip
import hashlib
import os
import posixpath
import stat
import tarfile

from .files import AtomicFile
from .archive import CHUNK, HashingReader, Member, check_relative_path, has_control, normal_mode
from .pkgname import PackageError


class PackageExists(PackageError):
    """A package of that name exists with other content, and replacing it was not asked for."""

    def __init__(self, path, old, new):
        PackageError.__init__(self, '%s exists with other content (sha256 %s; this build gives %s), and a package '
                                    'name stands for one build: build under a new build id, or replace it' % (path, old, new))
        self.path = path


COMPRESS_LEVEL = 6


class Entry(object):
    """A member to write: kind dir, file (from `source` on disk or `data` bytes) or symlink."""

    __slots__ = ('name', 'kind', 'mode', 'source', 'data', 'linkname', 'size')

    def __init__(self, name, kind, mode=0o644, source=None, data=None, linkname=None, size=0):
        self.name = name
        self.kind = kind
        self.mode = normal_mode(kind, mode)
        self.source = source
        self.data = data
        self.linkname = linkname
        self.size = len(data) if data is not None else size


def entry_sort_key(entry):
    """Archive order: by path components, so 'a/b' comes before 'a.txt' the same on every machine."""
    return entry.name.split('/')


class _HashingWriter(object):
    """Where gzip writes: hashed and counted, and passed on to a file unless only a digest is
    wanted (check mode builds the archive to nowhere to learn its sha256)."""

    def __init__(self, fileobj=None):
        self.fileobj = fileobj
        self.digest = hashlib.sha256()
        self.size = 0

    def write(self, data):
        self.digest.update(data)
        self.size += len(data)
        if self.fileobj is not None:
            self.fileobj.write(data)
        return len(data)

    def flush(self):
        if self.fileobj is not None:
            self.fileobj.flush()


def write_archive(entries, fileobj=None, mtime=0, label='archive', keep_order=False):
    """Write entries as a reproducible .tar.gz: members sorted, fixed mtime, owner 0/0 without
    names, normalised modes, gzip header without time or file name.

    Entries are sorted by path unless keep_order (the caller's order is then already fixed).
    Returns (sha256, size, members) where members are Member objects with the sha256 of each file.
    """
    mtime = int(mtime)
    if mtime < 0:
        raise PackageError('invalid mtime %r: must be a non-negative integer (seconds since the epoch)' % mtime)
    names = set()
    for entry in entries:
        if entry.name in names:
            raise PackageError('%s: two members named %r' % (label, entry.name))
        names.add(entry.name)
    sink = _HashingWriter(fileobj)
    members = []
    gz = gzip.GzipFile(filename='', mode='wb', fileobj=sink, mtime=0, compresslevel=COMPRESS_LEVEL)
    try:
        tar = tarfile.open(fileobj=gz, mode='w|', format=tarfile.PAX_FORMAT, encoding='utf-8')
        try:
            for entry in (entries if keep_order else sorted(entries, key=entry_sort_key)):
                members.append(_add_entry(tar, entry, mtime, label))
        finally:
            tar.close()
    finally:
        gz.close()
    sink.flush()
    return sink.digest.hexdigest(), sink.size, members


def _add_entry(tar, entry, mtime, label):
    info = tarfile.TarInfo(entry.name)
    info.mtime = mtime
    info.uid = info.gid = 0
    info.uname = info.gname = ''
    info.mode = entry.mode
    if entry.kind == 'dir':
        info.type = tarfile.DIRTYPE
        tar.addfile(info)
        return Member(entry.name, 'dir', entry.mode)
    if entry.kind == 'symlink':
        info.type = tarfile.SYMTYPE
        info.linkname = entry.linkname
        tar.addfile(info)
        return Member(entry.name, 'symlink', entry.mode, 0, entry.linkname)
    info.type = tarfile.REGTYPE
    if entry.data is not None:
        info.size = len(entry.data)
        tar.addfile(info, _BytesReader(entry.data))
        return Member(entry.name, 'file', entry.mode, info.size, None, hashlib.sha256(entry.data).hexdigest())
    try:
        with open(entry.source, 'rb') as src:
            size = os.fstat(src.fileno()).st_size
            info.size = size
            reader = HashingReader(src)
            tar.addfile(info, reader)
    except (IOError, OSError) as exc:
        raise PackageError('%s: cannot read %s for member %r: %s' % (label, entry.source, entry.name, exc))
    if reader.count != size:
        raise PackageError('%s: %s changed while it was being packed (member %r)' % (label, entry.source, entry.name))
    return Member(entry.name, 'file', entry.mode, size, None, reader.hexdigest())


class _BytesReader(object):
    def __init__(self, data):
        self.data = data
        self.pos = 0

    def read(self, size=-1):
        if size is None or size < 0:
            size = len(self.data) - self.pos
        chunk = self.data[self.pos:self.pos + size]
        self.pos += len(chunk)
        return chunk


def file_sha256(path):
    digest = hashlib.sha256()
    with open(path, 'rb') as src:
        while True:
            block = src.read(CHUNK)
            if not block:
                break
            digest.update(block)
    return digest.hexdigest()


def write_archive_file(final_path, entries, mtime=0, check=False, label=None, keep_order=False, replace=True):
    """Build entries into final_path atomically (a temp file in the same directory, compared with
    the existing file, renamed over it only when different). In check mode the archive is built
    to nowhere, only to learn its digest. Returns a dict: path, sha256, size, changed, members, and
    action (created, replaced or unchanged). With replace=False an existing file of other content
    is refused (PackageError), and kept."""
    label = label or os.path.basename(final_path)
    dest_dir = os.path.dirname(final_path) or '.'
    existing = os.path.isfile(final_path)
    if os.path.lexists(final_path) and not existing:
        raise PackageError('%s: %s exists and is not a regular file' % (label, final_path))

    def same_as_existing(digest, size):
        if not existing:
            return False
        old_size = os.path.getsize(final_path)
        old = file_sha256(final_path) if old_size == size or not replace else None
        if old == digest:
            return True
        if not replace:
            raise PackageExists(final_path, old, digest)
        return False

    if check:
        digest, size, members = write_archive(entries, None, mtime, label, keep_order)
        same = same_as_existing(digest, size)
        return {'path': final_path, 'sha256': digest, 'size': size, 'changed': not same, 'members': members,
                'action': 'unchanged' if same else ('replaced' if existing else 'created')}
    if not os.path.isdir(dest_dir):
        try:
            os.makedirs(dest_dir, 0o755)
        except OSError as exc:
            raise PackageError('%s: cannot create the directory %s: %s' % (label, dest_dir, exc))
    target = AtomicFile(final_path, prefix='.%s.' % os.path.basename(final_path), suffix='.tmp')
    try:
        target.open()
    except OSError as exc:
        raise PackageError('%s: cannot write in %s: %s' % (label, dest_dir, exc))
    with target:
        digest, size, members = write_archive(entries, target.file, mtime, label, keep_order)
        target.file.flush()
        same = same_as_existing(digest, size)    # a refusal leaves the block: the temp file goes, the old stays
        if same:
            target.discard()
    return {'path': final_path, 'sha256': digest, 'size': size, 'changed': not same, 'members': members,
            'action': 'unchanged' if same else ('replaced' if existing else 'created')}


def tree_entries(root, prefix, label, allow_symlinks=True):
    """Entries for everything under root/prefix, in archive names relative to root. Refuses
    special files, absolute symlinks and symlinks leaving the tree (checked again on the whole
    entry list by check_links)."""
    entries = []
    stack = [prefix]
    while stack:
        rel = stack.pop()
        full = os.path.join(root, rel)
        try:
            names = sorted(os.listdir(full))
        except OSError as exc:
            raise PackageError('%s: cannot list %s: %s' % (label, full, exc.strerror or exc))
        for child in names:
            child_rel = posixpath.join(rel, child) if rel else child
            child_full = os.path.join(full, child)
            what = '%s: source %s' % (label, child_full)
            if check_relative_path(child_rel, what) != child_rel:
                raise PackageError('%s: unusable file name' % what)
            try:
                st = os.lstat(child_full)
            except OSError as exc:
                raise PackageError('%s: %s' % (what, exc.strerror or exc))
            if stat.S_ISDIR(st.st_mode):
                entries.append(Entry(child_rel, 'dir'))
                stack.append(child_rel)
            elif stat.S_ISREG(st.st_mode):
                entries.append(Entry(child_rel, 'file', st.st_mode, source=child_full, size=st.st_size))
            elif stat.S_ISLNK(st.st_mode):
                target = os.readlink(child_full)
                if not allow_symlinks:
                    raise PackageError('%s: is a symlink (to %r); symlinks are not supported here' % (what, target))
                if target.startswith('/') or has_control(target):
                    raise PackageError('%s: symlink to the absolute path %r: a package must be relocatable'
                                       % (what, target))
                entries.append(Entry(child_rel, 'symlink', linkname=target))
            else:
                raise PackageError('%s: is not a regular file, directory or symlink (device, FIFO or socket)' % what)
    return entries
