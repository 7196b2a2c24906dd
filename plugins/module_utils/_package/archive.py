# -*- coding: utf-8 -*-
# Copyright: (c) 2026, GameOps release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# This module_utils is PRIVATE to gameops.elastic_release; its API may change without notice.
"""The safe archive reader: a .tar.gz read as a stream, member by member, nothing extracted.

Archives are untrusted input. Every name, type, link target and size is checked before the
member's data is read, and the decompressed byte count is capped (total and ratio) so a zip bomb
stops early. What the members mean (a server package, an upgrade package) is the business of
`_server_package` and `_upgrade`; writing archives is `_archive_writer`'s.

No Ansible imports here.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import gzip
import hashlib
import os
import re
import tarfile
import zlib

from .pkgname import PackageError


# ---------------------------------------------------------------------------------------------
# Limits
# ---------------------------------------------------------------------------------------------

KIB = 1024
MIB = 1024 * KIB
GIB = 1024 * MIB
DEFAULT_MAX_MEMBER_SIZE = 4 * GIB
DEFAULT_MAX_TOTAL_SIZE = 64 * GIB
DEFAULT_MAX_RATIO = 200
DEFAULT_MAX_MEMBERS = 500000
# The ratio limit applies once this much has been decompressed: small archives full of zeros
# are harmless, and a bomb shows its ratio long before it hurts.
RATIO_FLOOR = 64 * MIB
HEADER_ALLOWANCE = 64 * MIB
MAX_LINK_HOPS = 40
CHUNK = 1024 * KIB
# A SHA-256 as the collection writes it in manifests and deploy records: 64 lower-case hex digits.
SHA256_RE = re.compile(r'^[0-9a-f]{64}\Z')


class UnsafeArchiveError(PackageError):
    """An archive refused for safety (path traversal, escaping link, device, size, bomb, corrupt).
    Never downgraded to a warning."""


class Limits(object):
    """Safety limits for reading an archive; every size is in bytes."""

    __slots__ = ('max_member_size', 'max_total_size', 'max_ratio', 'max_members', 'ratio_floor')

    def __init__(self, max_member_size=None, max_total_size=None, max_ratio=None, max_members=None,
                 ratio_floor=None):
        self.max_member_size = DEFAULT_MAX_MEMBER_SIZE if max_member_size is None else int(max_member_size)
        self.max_total_size = DEFAULT_MAX_TOTAL_SIZE if max_total_size is None else int(max_total_size)
        self.max_ratio = DEFAULT_MAX_RATIO if max_ratio is None else max_ratio
        self.max_members = DEFAULT_MAX_MEMBERS if max_members is None else int(max_members)
        self.ratio_floor = RATIO_FLOOR if ratio_floor is None else int(ratio_floor)
        for name in self.__slots__:
            if getattr(self, name) <= 0 and name != 'ratio_floor':
                raise PackageError('invalid limit %s=%r: must be a positive number' % (name, getattr(self, name)))

    def to_dict(self):
        return dict((name, getattr(self, name)) for name in self.__slots__)


# ---------------------------------------------------------------------------------------------
# Member names and the link checks shared by reading and building
# ---------------------------------------------------------------------------------------------

def has_control(text):
    return any(ord(ch) < 32 or ord(ch) == 127 for ch in text)


def check_relative_path(path, what):
    """Normalise an archive-relative path ('./a//b' -> 'a/b'); refuse absolute paths, '..',
    control characters and undecodable names. Returns '' for the archive root ('.')."""
    if not isinstance(path, str) or path == '':
        raise UnsafeArchiveError('%s: empty name' % what)
    if has_control(path):
        raise UnsafeArchiveError('%s: the name contains control characters' % what)
    try:
        path.encode('utf-8')
    except UnicodeEncodeError:
        raise UnsafeArchiveError('%s: the name is not valid UTF-8' % what)
    if path.startswith('/'):
        raise UnsafeArchiveError('%s: absolute path' % what)
    parts = []
    for part in path.split('/'):
        if part == '..':
            raise UnsafeArchiveError("%s: the path contains a '..' component" % what)
        if part not in ('', '.'):
            parts.append(part)
    return '/'.join(parts)


def _resolves_outside(start, links):
    """Resolve the component list `start` against the archive's symlinks {name: target}, the way
    the kernel would after extraction. True if it leaves the tree, is absolute or loops."""
    todo = list(start)
    done = []
    hops = 0
    while todo:
        part = todo.pop(0)
        if part in ('', '.'):
            continue
        if part == '..':
            if not done:
                return True
            done.pop()
            continue
        done.append(part)
        target = links.get('/'.join(done))
        if target is not None:
            hops += 1
            if hops > MAX_LINK_HOPS or target.startswith('/'):
                return True
            done.pop()
            todo = target.split('/') + todo
    return False


def check_links(label, members, links):
    """Checks that need the whole archive: no symlink resolves outside the tree (also through
    other symlinks), and no member lies inside a symlinked directory."""
    for name in sorted(links):
        target = links[name]
        parent = name.split('/')[:-1]
        if _resolves_outside(parent + target.split('/'), links):
            raise UnsafeArchiveError('%s: unsafe member %r: symlink to %r leaves the package tree'
                                     % (label, name, target))
    for name in members:
        parts = name.split('/')
        for depth in range(1, len(parts)):
            prefix = '/'.join(parts[:depth])
            if prefix in links:
                raise UnsafeArchiveError('%s: unsafe member %r: it lies inside the symlink %r'
                                         % (label, name, prefix))


def normal_mode(kind, mode):
    """Modes as packages carry them: directories 0755, files 0755 if any execute bit else 0644."""
    if kind == 'dir':
        return 0o755
    if kind == 'symlink':
        return 0o777
    return 0o755 if mode & 0o111 else 0o644


# ---------------------------------------------------------------------------------------------
# Safe streaming reader
# ---------------------------------------------------------------------------------------------

class _ForwardStream(object):
    """A read-only stream that only goes forward; `count` is the bytes read so far."""

    count = 0

    def readable(self):
        return True

    def seekable(self):
        return False

    def tell(self):
        return self.count


class _RawReader(_ForwardStream):
    """The compressed file: counted and hashed as gzip consumes it."""

    def __init__(self, fileobj):
        self.fileobj = fileobj
        self.count = 0
        self.digest = hashlib.sha256()

    def read(self, size=-1):
        data = self.fileobj.read(size)
        self.count += len(data)
        self.digest.update(data)
        return data


class _BombGuard(_ForwardStream):
    """The decompressed tar stream, as tarfile reads it: every byte counted against the limits
    before tarfile sees it, so a zip bomb (or a huge pax header) is stopped early."""

    def __init__(self, gz, raw, label, limits):
        self.gz = gz
        self.raw = raw
        self.label = label
        self.limits = limits
        self.count = 0
        self.current = None

    def _where(self):
        if self.current:
            return 'while reading member %r' % self.current
        return 'while reading the archive'

    def read(self, size=-1):
        # Member sizes are checked exactly against max_total_size from their headers; this cap
        # (with room for tar headers) catches what headers do not declare, e.g. a huge pax header.
        cap = self.limits.max_total_size + HEADER_ALLOWANCE
        room = cap - self.count + 1
        if size is None or size < 0 or size > room:
            size = max(room, 1)
        data = self.gz.read(size)
        self.count += len(data)
        if self.count > cap:
            raise UnsafeArchiveError('%s: refused %s: more than %d bytes uncompressed (max_total_size plus %d bytes '
                                     'for tar headers)' % (self.label, self._where(), self.limits.max_total_size,
                                                           HEADER_ALLOWANCE))
        if self.count > self.limits.ratio_floor:
            ratio = self.count / float(max(self.raw.count, 1))
            if ratio > self.limits.max_ratio:
                raise UnsafeArchiveError('%s: refused %s: compression ratio %d:1 is above the max_ratio limit '
                                         'of %s:1 (a zip bomb?)' % (self.label, self._where(), ratio,
                                                                    self.limits.max_ratio))
        return data


class _StrictTarInfo(tarfile.TarInfo):
    """tarfile silently stops at a damaged header in the middle of an archive; refuse instead."""

    @classmethod
    def frombuf(cls, buf, encoding, errors):
        try:
            return super(_StrictTarInfo, cls).frombuf(buf, encoding, errors)
        except tarfile.EOFHeaderError:
            raise
        except tarfile.EmptyHeaderError:
            raise _CorruptTar('the archive ends without the tar end-of-archive marker (truncated?)')
        except tarfile.HeaderError as exc:
            raise _CorruptTar('damaged tar header (%s)' % exc)


class _CorruptTar(Exception):
    pass


class Member(object):
    """One checked archive member. kind: file, dir, symlink or hardlink."""

    __slots__ = ('name', 'kind', 'mode', 'size', 'linkname', 'sha256')

    def __init__(self, name, kind, mode, size=0, linkname=None, sha256=None):
        self.name = name
        self.kind = kind
        self.mode = mode
        self.size = size
        self.linkname = linkname
        self.sha256 = sha256

    def to_dict(self):
        out = {'name': self.name, 'type': self.kind, 'mode': '%04o' % self.mode, 'size': self.size}
        if self.linkname is not None:
            out['linkname'] = self.linkname
        if self.sha256 is not None:
            out['sha256'] = self.sha256
        return out

    def line(self):
        digest = self.sha256[:16] if self.sha256 else '-'
        name = self.name + ('/' if self.kind == 'dir' else '')
        if self.linkname is not None:
            name += (' -> ' if self.kind == 'symlink' else ' link to ') + self.linkname
        return '%-8s %04o %12d %-16s %s' % (self.kind, self.mode, self.size, digest, name)


class ArchiveScan(object):
    __slots__ = ('label', 'members', 'total_size', 'compressed_size', 'sha256')

    def __init__(self, label):
        self.label = label
        self.members = []
        self.total_size = 0
        self.compressed_size = 0
        self.sha256 = None

    def listing(self):
        return listing(self.members)


_KIND_NAMES = {
    tarfile.CHRTYPE: 'a character device',
    tarfile.BLKTYPE: 'a block device',
    tarfile.FIFOTYPE: 'a FIFO',
    tarfile.GNUTYPE_SPARSE: 'a sparse file',
}


def _member_kind(label, info, name):
    if info.issparse():
        raise UnsafeArchiveError('%s: unsafe member %r: sparse files are not supported' % (label, name))
    if info.isreg():
        return 'file'
    if info.isdir():
        return 'dir'
    if info.issym():
        return 'symlink'
    if info.islnk():
        return 'hardlink'
    what = _KIND_NAMES.get(info.type, 'of unsupported tar type %r' % info.type)
    raise UnsafeArchiveError('%s: unsafe member %r: it is %s' % (label, name, what))


def scan_archive(path, limits=None, visitor=None, label=None, hash_members=False, check_member=None):
    """Read a .tar.gz as a stream and check every member; nothing is written anywhere.

    ``check_member(member)`` is called for every member once its header passed the checks (it
    may raise to refuse it); ``visitor(member, fileobj)`` for each regular file before its data is
    skipped, with a file object limited to the member. Returns an ArchiveScan. Raises
    UnsafeArchiveError for an archive that is unsafe or damaged, PackageError when the file cannot
    be read.
    """
    limits = limits or Limits()
    label = label or os.path.basename(path)
    scan = ArchiveScan(label)
    try:
        fileobj = open(path, 'rb')
    except (IOError, OSError) as exc:
        raise PackageError('%s: cannot open %s: %s' % (label, path, exc.strerror or exc))
    with fileobj:
        scan.compressed_size = os.fstat(fileobj.fileno()).st_size
        raw = _RawReader(fileobj)
        gz = gzip.GzipFile(fileobj=raw, mode='rb', filename='')
        guard = _BombGuard(gz, raw, label, limits)
        try:
            _scan_members(scan, guard, limits, visitor, hash_members, check_member)
            while raw.read(CHUNK):
                pass
        except UnsafeArchiveError:
            raise
        except (EOFError, zlib.error, gzip.BadGzipFile, tarfile.TarError, _CorruptTar) as exc:
            where = ('while reading member %r' % guard.current) if guard.current else \
                ('after member %r' % scan.members[-1].name if scan.members else 'at the start')
            if isinstance(exc, EOFError) or 'unexpected end' in str(exc):
                reason = 'the file is truncated (the gzip stream ends early)'
            elif isinstance(exc, gzip.BadGzipFile) and not scan.members and guard.count == 0:
                reason = 'not a gzip file (%s)' % exc
            else:
                reason = 'corrupt archive (%s)' % exc
            raise UnsafeArchiveError('%s: %s, %s' % (label, reason, where))
        except (IOError, OSError) as exc:
            raise PackageError('%s: cannot read %s: %s' % (label, path, exc))
    scan.sha256 = raw.digest.hexdigest()
    return scan


def _scan_members(scan, guard, limits, visitor, hash_members, check_member):
    label = scan.label
    tar = tarfile.open(fileobj=guard, mode='r|', tarinfo=_StrictTarInfo, encoding='utf-8',
                       errors='surrogateescape')
    seen = {}
    links = {}
    declared = 0
    while True:
        # Until the next header, the bytes read are the data of the member seen last: a bomb or
        # a truncation found while tarfile skips them is reported against that member.
        info = tar.next()
        if info is None:
            break
        raw_name = info.name
        guard.current = raw_name
        what = '%s: unsafe member %r' % (label, raw_name)
        name = check_relative_path(raw_name, what)
        if not name:
            continue  # the './' entry of 'tar -C dir .'
        kind = _member_kind(label, info, raw_name)
        if name in seen:
            raise UnsafeArchiveError('%s: unsafe member %r: duplicate of an earlier member %r'
                                     % (label, raw_name, name))
        if len(seen) >= limits.max_members:
            raise UnsafeArchiveError('%s: refused at member %r: more than %d members (max_members)'
                                     % (label, raw_name, limits.max_members))
        size = info.size if kind == 'file' else 0
        if size > limits.max_member_size:
            raise UnsafeArchiveError('%s: unsafe member %r: %d bytes is larger than the max_member_size '
                                     'limit of %d bytes' % (label, raw_name, size, limits.max_member_size))
        declared += size
        if declared > limits.max_total_size:
            raise UnsafeArchiveError('%s: refused at member %r: more than %d bytes uncompressed (max_total_size)'
                                     % (label, raw_name, limits.max_total_size))
        linkname = None
        if kind == 'symlink':
            linkname = info.linkname
            if not linkname or has_control(linkname):
                raise UnsafeArchiveError('%s: unsafe member %r: bad symlink target %r' % (label, raw_name, linkname))
            if linkname.startswith('/'):
                raise UnsafeArchiveError('%s: unsafe member %r: symlink to the absolute path %r'
                                         % (label, raw_name, linkname))
            links[name] = linkname
        elif kind == 'hardlink':
            target = check_relative_path(info.linkname, '%s: unsafe member %r: hardlink target %r'
                                         % (label, raw_name, info.linkname))
            if seen.get(target) != 'file':
                raise UnsafeArchiveError('%s: unsafe member %r: hardlink to %r, which is not an earlier regular '
                                         'file of the archive' % (label, raw_name, info.linkname))
            linkname = target
        member = Member(name, kind, normal_mode(kind, info.mode) if kind != 'file' else info.mode & 0o7777,
                        size, linkname)
        if check_member is not None:
            check_member(member)
        seen[name] = kind
        scan.members.append(member)
        scan.total_size += size
        if kind == 'file' and (visitor is not None or hash_members):
            data = tar.extractfile(info)
            if hash_members:
                data = HashingReader(data)
            if visitor is not None:
                visitor(member, data)
            if hash_members:
                while data.read(CHUNK):
                    pass
                member.sha256 = data.hexdigest()
    # Drain what follows the end-of-archive marker, through tarfile's buffer: it must be zeros (a
    # tool reading with --ignore-zeros would find hidden members there), and reading to the end
    # makes gzip check its CRC and length, so a truncated file is caught.
    guard.current = None
    while True:
        data = tar.fileobj.read(CHUNK)
        if not data:
            break
        if data.strip(b'\0'):
            raise UnsafeArchiveError('%s: refused: data after the tar end-of-archive marker' % label)
    check_links(label, list(seen), links)


class HashingReader(object):
    """A file object that hashes and counts what is read through it (members read, files packed)."""

    def __init__(self, fileobj):
        self.fileobj = fileobj
        self.digest = hashlib.sha256()
        self.count = 0

    def read(self, size=-1):
        data = self.fileobj.read(size)
        self.digest.update(data)
        self.count += len(data)
        return data

    def hexdigest(self):
        return self.digest.hexdigest()


def read_bounded(fileobj, limit, what):
    """At most `limit` bytes of a member; a longer one is refused rather than cut."""
    data = fileobj.read(limit + 1)
    if len(data) > limit:
        raise PackageError('%s: larger than the %d-byte limit' % (what, limit))
    return data


def listing(members):
    """One line per member (type, mode, size, start of the sha256, name): what diff mode shows."""
    return ''.join(m.line() + '\n' for m in members)


def existing_listing(path, limits=None):
    """The member listing of an existing archive, for diff mode ('' when there is none)."""
    if not os.path.lexists(path):
        return ''
    try:
        return scan_archive(path, limits, hash_members=True).listing()
    except PackageError as exc:
        return '(unreadable: %s)\n' % exc
