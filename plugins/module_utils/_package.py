# -*- coding: utf-8 -*-
# Copyright: (c) 2026, GameOps release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# This module_utils is PRIVATE to gameops.elastic_release; its API may change without notice.
"""Server packages and upgrade packages: names, safe reading, reproducible building.

A server package is ``{project}-{release}-{build}.tar.gz`` holding ``filecache/{release}.config.zoo``,
``filecache/release_indicator.json``, ``lib/...`` and ``version/{component}/{version}/...``.
An upgrade package is ``{from}_{to}.tar.gz`` holding ``manifest.json`` and ``files/...`` (the
added and changed files of the newer client tree).

Archives are untrusted input. They are read as a stream, member by member, without extracting
anything to disk: every name, type, link target and size is checked before its data is read, and
the decompressed byte count is capped (total and ratio) so a zip bomb stops early. Only
``safe_extract`` writes, and only regular files and directories, into a directory it is given.

No Ansible imports here: modules, the filter, tests and benchmarks share this code.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import gzip
import hashlib
import json
import os
import posixpath
import re
import shutil
import stat
import tarfile
import tempfile
import zlib

from ._config import ConfigError, encode, parse_config_text
from ._names import NameError_, validate_release

# ---------------------------------------------------------------------------------------------
# Names
# ---------------------------------------------------------------------------------------------

# Release and build contain no '-'; the project may. Matched against the whole base name.
DEFAULT_NAME_PATTERN = r'(?P<project>.+)-(?P<release>[^-/]+)-(?P<build>[^-/]+)\.tar\.gz'
PROJECT_RE = re.compile(r'^[A-Za-z0-9][A-Za-z0-9._-]{0,127}\Z')
BUILD_RE = re.compile(r'^[A-Za-z0-9][A-Za-z0-9._+~]{0,127}\Z')
# What a custom name pattern may capture as a build: one printable file-name component.
LOOSE_BUILD_RE = re.compile(r'^[A-Za-z0-9][A-Za-z0-9._+~#@=,:-]{0,127}\Z')
# Client versions of upgrade packages: '_' separates them in '{from}_{to}.tar.gz', so it is not
# allowed inside one; neither are '/', spaces or characters that URLs and shells treat specially.
UPGRADE_VERSION_RE = re.compile(r'^[A-Za-z0-9][A-Za-z0-9.+~-]{0,127}\Z')
UPGRADE_NAME_RE = re.compile(r'^(?P<from_version>[^_/]+)_(?P<to_version>[^_/]+)\.tar\.gz\Z')
# Components and versions under version/: single file-name components.
LAYOUT_NAME_RE = re.compile(r'^[A-Za-z0-9_.:#@+=,~-]{1,200}\Z')

INDICATOR_MEMBER = 'filecache/release_indicator.json'
CONFIG_SUFFIX = '.config.zoo'
MANIFEST_MEMBER = 'manifest.json'
PAYLOAD_DIR = 'files'
TOP_LEVEL = ('filecache', 'lib', 'version')
MANIFEST_FORMAT = 1

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
MAX_INDICATOR_BYTES = 64 * KIB
MAX_MANIFEST_BYTES = 256 * MIB
MAX_CONFIG_BYTES = 4 * MIB
MAX_LINK_HOPS = 40
COMPRESS_LEVEL = 6
CHUNK = 1024 * KIB


class PackageError(ValueError):
    """A package that cannot be used. The message names the package and, where one is to blame,
    the member."""


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


class PackageName(object):
    __slots__ = ('name', 'project', 'release', 'build')

    def __init__(self, name, project, release, build):
        self.name = name
        self.project = project
        self.release = release
        self.build = build

    def to_dict(self):
        return dict((name, getattr(self, name)) for name in self.__slots__)


def _compile_pattern(pattern):
    if pattern is None or pattern == '':
        pattern = DEFAULT_NAME_PATTERN
    if not isinstance(pattern, str):
        raise PackageError('invalid package name pattern %r: must be a string' % (pattern,))
    try:
        regex = re.compile(pattern)
    except re.error as exc:
        raise PackageError('invalid package name pattern %r: %s' % (pattern, exc))
    missing = [g for g in ('release', 'build') if g not in regex.groupindex]
    if missing:
        raise PackageError('invalid package name pattern %r: it must define the named groups '
                           '(?P<release>...) and (?P<build>...); missing %s' % (pattern, ', '.join(missing)))
    return regex


def parse_package_name(name_or_path, pattern=None):
    """Split a package file name (or a path to one) into project, release and build.

    The pattern is a regular expression with the named groups ``release`` and ``build`` (and
    optionally ``project``) that must match the whole base name.
    """
    if not isinstance(name_or_path, str) or not name_or_path:
        raise PackageError('invalid package name %r: must be a non-empty string' % (name_or_path,))
    name = posixpath.basename(name_or_path.replace(os.sep, '/'))
    regex = _compile_pattern(pattern)
    match = regex.fullmatch(name)
    if not match:
        raise PackageError('package name %r does not match the pattern %r (by default '
                           '{project}-{release}-{build}.tar.gz, where release and build contain no "-")'
                           % (name, regex.pattern))
    release = match.group('release')
    build = match.group('build')
    project = match.group('project') if 'project' in regex.groupindex else None
    try:
        validate_release(release)
    except NameError_ as exc:
        raise PackageError('package %s: %s' % (name, exc))
    if not build or not LOOSE_BUILD_RE.match(build):
        raise PackageError('package %s: invalid build %r: must be a file-name component of letters, digits '
                           'and . _ + ~ # @ = , : -' % (name, build))
    return PackageName(name, project, release, build)


def package_file_name(project, release, build):
    """The file name the build module writes; validated so that it parses back unchanged."""
    if not isinstance(project, str) or not PROJECT_RE.match(project):
        raise PackageError('invalid project %r: must be 1-128 characters of letters, digits, . _ - '
                           '(starting with a letter or digit)' % (project,))
    try:
        validate_release(release)
    except NameError_ as exc:
        raise PackageError(str(exc))
    if not isinstance(build, str) or not BUILD_RE.match(build):
        raise PackageError('invalid build %r: must be 1-128 characters of letters, digits, . _ + ~ '
                           '(no "-": it separates the parts of the package name)' % (build,))
    return '%s-%s-%s.tar.gz' % (project, release, build)


def validate_upgrade_version(version, what='version'):
    if not isinstance(version, str) or not UPGRADE_VERSION_RE.match(version):
        raise PackageError('invalid %s %r for an upgrade package: must be 1-128 characters of letters, digits '
                           'and . + ~ - starting with a letter or digit ("_" separates the two versions in '
                           '{from}_{to}.tar.gz, "/" and spaces are never allowed)' % (what, version))
    return version


def upgrade_file_name(from_version, to_version):
    validate_upgrade_version(from_version, 'from_version')
    validate_upgrade_version(to_version, 'to_version')
    if from_version == to_version:
        raise PackageError('from_version and to_version are both %r: an upgrade package needs two versions'
                           % from_version)
    return '%s_%s.tar.gz' % (from_version, to_version)


def parse_upgrade_name(name_or_path):
    name = posixpath.basename(str(name_or_path).replace(os.sep, '/'))
    match = UPGRADE_NAME_RE.match(name)
    if not match:
        raise PackageError('upgrade package name %r is not {from_version}_{to_version}.tar.gz' % name)
    upgrade_file_name(match.group('from_version'), match.group('to_version'))
    return match.group('from_version'), match.group('to_version')


# ---------------------------------------------------------------------------------------------
# Member names and the link checks shared by reading and building
# ---------------------------------------------------------------------------------------------

def _has_control(text):
    return any(ord(ch) < 32 or ord(ch) == 127 for ch in text)


def check_relative_path(path, what):
    """Normalise an archive-relative path ('./a//b' -> 'a/b'); refuse absolute paths, '..',
    control characters and undecodable names. Returns '' for the archive root ('.')."""
    if not isinstance(path, str) or path == '':
        raise UnsafeArchiveError('%s: empty name' % what)
    if _has_control(path):
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

class _RawReader(object):
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

    def readable(self):
        return True

    def seekable(self):
        return False

    def tell(self):
        return self.count


class _BombGuard(object):
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

    def readable(self):
        return True

    def seekable(self):
        return False

    def tell(self):
        return self.count


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
        return ''.join(m.line() + '\n' for m in self.members)


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
            if not linkname or _has_control(linkname):
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
                data = _HashingReader(data)
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


class _HashingReader(object):
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


def _read_bounded(fileobj, limit, what):
    data = fileobj.read(limit + 1)
    if len(data) > limit:
        raise PackageError('%s: larger than the %d-byte limit' % (what, limit))
    return data


# ---------------------------------------------------------------------------------------------
# Server packages: reading
# ---------------------------------------------------------------------------------------------

class ServerPackage(object):
    __slots__ = ('path', 'name', 'indicator', 'config', 'components', 'problems', 'scan')

    def __init__(self, path, name, indicator, config, components, problems, scan):
        self.path = path
        self.name = name
        self.indicator = indicator
        self.config = config
        self.components = components
        self.problems = problems
        self.scan = scan

    def to_dict(self):
        return {
            'path': self.path,
            'package': self.name.name,
            'project': self.name.project,
            'release': self.name.release,
            'build': self.name.build,
            'indicator': self.indicator,
            'config': self.config.to_dict(),
            'components': self.components,
            'problems': list(self.problems),
            'members': len(self.scan.members),
            'size': self.scan.compressed_size,
            'uncompressed_size': self.scan.total_size,
            'sha256': self.scan.sha256,
        }


def parse_indicator(data, where):
    """release_indicator.json: a JSON object whose "name" is a release name (other keys allowed)."""
    try:
        text = data.decode('utf-8')
        if text.startswith(u'\ufeff'):
            text = text[1:]
        doc = json.loads(text)
    except UnicodeDecodeError:
        raise PackageError('%s: malformed release indicator: not UTF-8 text' % where)
    except (ValueError, RecursionError) as exc:
        raise PackageError('%s: malformed release indicator: not valid JSON (%s)' % (where, exc))
    if not isinstance(doc, dict):
        raise PackageError('%s: malformed release indicator: must be a JSON object such as '
                           '{"name": "production"}, got %s' % (where, type(doc).__name__))
    if 'name' not in doc:
        raise PackageError('%s: malformed release indicator: no "name" key' % where)
    try:
        validate_release(doc['name'])
    except NameError_ as exc:
        raise PackageError('%s: malformed release indicator: %s' % (where, exc))
    return doc


def read_server_package(path, name_pattern=None, expected_release=None, limits=None, hash_members=False):
    """Read and check a server package without extracting it. Returns a ServerPackage.

    Raises PackageError (UnsafeArchiveError for unsafe archives) for anything that makes the
    package unusable; layout oddities that do not are returned as ``problems``.
    """
    name = parse_package_name(path, name_pattern)
    label = name.name
    release = name.release
    if expected_release is not None and expected_release != release:
        raise PackageError('package %s is release %r, not the expected release %r'
                           % (label, release, expected_release))
    wanted = {}

    def visitor(member, fileobj):
        parts = member.name.split('/')
        if len(parts) != 2 or parts[0] != 'filecache':
            return
        if member.name == INDICATOR_MEMBER:
            limit = MAX_INDICATOR_BYTES
        elif member.name.endswith(CONFIG_SUFFIX):
            limit = MAX_CONFIG_BYTES
        else:
            return
        wanted[member.name] = _read_bounded(fileobj, limit, '%s: member %r' % (label, member.name))

    scan = scan_archive(path, limits, visitor, label, hash_members)
    kinds = dict((m.name, m) for m in scan.members)

    indicator_member = kinds.get(INDICATOR_MEMBER)
    if indicator_member is None:
        raise PackageError('%s: missing member %r: every server package must carry its release indicator'
                           % (label, INDICATOR_MEMBER))
    if indicator_member.kind != 'file':
        raise PackageError('%s: member %r must be a regular file, not a %s'
                           % (label, INDICATOR_MEMBER, indicator_member.kind))
    where = '%s: member %r' % (label, INDICATOR_MEMBER)
    indicator = parse_indicator(wanted[INDICATOR_MEMBER], where)
    if indicator['name'] != release:
        raise PackageError('%s: the release indicator names release %r but the package name says %r'
                           % (where, indicator['name'], release))

    config_name = 'filecache/%s%s' % (release, CONFIG_SUFFIX)
    for member in scan.members:
        parts = member.name.split('/')
        is_config = parts[-1] == CONFIG_SUFFIX[1:] or parts[-1].endswith(CONFIG_SUFFIX)
        if len(parts) == 2 and parts[0] == 'filecache' and is_config and member.name != config_name:
            other = parts[1][:-len(CONFIG_SUFFIX)] if parts[1].endswith(CONFIG_SUFFIX) else ''
            if other:
                raise PackageError('%s: member %r is the config.zoo of release %r, but the package is release %r'
                                   % (label, member.name, other, release))
            raise PackageError('%s: member %r has no release prefix (a legacy config.zoo); the package must carry '
                               '%r' % (label, member.name, config_name))
    config_member = kinds.get(config_name)
    if config_member is None:
        raise PackageError('%s: missing member %r (the config.zoo of release %r)' % (label, config_name, release))
    if config_member.kind != 'file':
        raise PackageError('%s: member %r must be a regular file, not a %s' % (label, config_name, config_member.kind))
    try:
        config = parse_config_text(wanted[config_name], source='%s: member %r' % (label, config_name))
    except ConfigError as exc:
        raise PackageError(str(exc))

    components, problems = _layout(scan.members, release)
    return ServerPackage(path, name, indicator, config, components, problems, scan)


def check_server_package(path, name_pattern=None, expected_release=None, limits=None, hash_members=False):
    """(package or None, the answer of server_package_info, the reason it cannot be used or None).

    The one wording of a refused package, for the module and for the controller-side lookup: an
    unsafe or unusable package, or one with layout problems."""
    try:
        package = read_server_package(path, name_pattern, expected_release, limits, hash_members)
    except PackageError as exc:
        return None, {'path': path, 'problems': []}, 'cannot read server package %s: %s' % (path, exc)
    result = package.to_dict()
    if result['problems']:
        return package, result, 'server package %s has %d problem(s): %s' % (
            result['package'], len(result['problems']), '; '.join(result['problems']))
    return package, result, None


def read_package_for_publish(path, release, name_pattern=None, limits=None):
    """(ReleaseConfig, indicator bytes) for the publish module: the package read from the archive
    itself and checked against the release it is published as. The indicator is returned as
    canonical JSON (what /default_release holds). Layout problems do not stop a publish."""
    package = read_server_package(path, name_pattern, expected_release=release, limits=limits)
    return package.config, encode(package.indicator)


def _layout(members, release):
    """Components and versions under version/, and layout oddities that do not make the package
    unusable (reported as problems)."""
    components = {}
    problems = []
    tops = set()
    allowed_filecache = (INDICATOR_MEMBER, 'filecache/%s%s' % (release, CONFIG_SUFFIX))
    for member in members:
        parts = member.name.split('/')
        tops.add(parts[0])
        if parts[0] not in TOP_LEVEL:
            if len(parts) == 1:
                problems.append('unexpected top-level member %r (a server package holds only %s)'
                                % (member.name, ', '.join(TOP_LEVEL)))
            continue
        if member.mode & 0o7000 and member.kind == 'file':
            problems.append('member %r has the setuid, setgid or sticky bit (mode %04o)' % (member.name, member.mode))
        elif member.mode & 0o002 and member.kind == 'file':
            problems.append('member %r is world-writable (mode %04o)' % (member.name, member.mode))
        if parts[0] == 'filecache' and len(parts) >= 2 and member.name not in allowed_filecache:
            problems.append('unexpected member %r in filecache/' % member.name)
        if parts[0] == 'version' and len(parts) >= 2:
            component = parts[1]
            if len(parts) == 2 and member.kind != 'dir':
                problems.append('member %r: version/ must hold only component directories' % member.name)
                continue
            if not LAYOUT_NAME_RE.match(component):
                problems.append('member %r: invalid component name %r' % (member.name, component))
                continue
            versions = components.setdefault(component, set())
            if len(parts) >= 3:
                if len(parts) == 3 and member.kind != 'dir':
                    problems.append('member %r: version/%s/ must hold only version directories'
                                    % (member.name, component))
                    continue
                if not LAYOUT_NAME_RE.match(parts[2]):
                    problems.append('member %r: invalid version name %r' % (member.name, parts[2]))
                    continue
                versions.add(parts[2])
    for top in ('lib', 'version'):
        if top not in tops:
            problems.append('the package has no %s/ directory' % top)
    for component, versions in sorted(components.items()):
        if not versions:
            problems.append('component %r under version/ has no version directory' % component)
    return dict((c, sorted(v)) for c, v in sorted(components.items())), problems


# ---------------------------------------------------------------------------------------------
# Reproducible writing
# ---------------------------------------------------------------------------------------------

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


def _sort_key(entry):
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
            for entry in (entries if keep_order else sorted(entries, key=_sort_key)):
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
            reader = _HashingReader(src)
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


def publish(final_path, entries, mtime=0, check=False, label=None, keep_order=False):
    """Build entries into final_path atomically (a temp file in the same directory, compared with
    the existing file, renamed over it only when different). In check mode the archive is built
    to nowhere, only to learn its digest. Returns a dict: path, sha256, size, changed, members."""
    label = label or os.path.basename(final_path)
    dest_dir = os.path.dirname(final_path) or '.'
    existing = os.path.isfile(final_path)
    if os.path.lexists(final_path) and not existing:
        raise PackageError('%s: %s exists and is not a regular file' % (label, final_path))
    if check:
        digest, size, members = write_archive(entries, None, mtime, label, keep_order)
        changed = not (existing and os.path.getsize(final_path) == size and file_sha256(final_path) == digest)
        return {'path': final_path, 'sha256': digest, 'size': size, 'changed': changed, 'members': members}
    if not os.path.isdir(dest_dir):
        try:
            os.makedirs(dest_dir, 0o755)
        except OSError as exc:
            raise PackageError('%s: cannot create the directory %s: %s' % (label, dest_dir, exc))
    try:
        fd, tmp = tempfile.mkstemp(dir=dest_dir, prefix='.%s.' % os.path.basename(final_path), suffix='.tmp')
    except OSError as exc:
        raise PackageError('%s: cannot write in %s: %s' % (label, dest_dir, exc))
    try:
        with os.fdopen(fd, 'wb') as out:
            digest, size, members = write_archive(entries, out, mtime, label, keep_order)
            out.flush()
            os.fsync(out.fileno())
        same = existing and os.path.getsize(final_path) == size and file_sha256(final_path) == digest
        if same:
            os.unlink(tmp)
        else:
            os.chmod(tmp, 0o644)
            os.rename(tmp, final_path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return {'path': final_path, 'sha256': digest, 'size': size, 'changed': not same, 'members': members}


def existing_listing(path, limits=None):
    """The member listing of an existing archive, for diff mode ('' when there is none)."""
    if not os.path.lexists(path):
        return ''
    try:
        return scan_archive(path, limits, hash_members=True).listing()
    except PackageError as exc:
        return '(unreadable: %s)\n' % exc


def listing(members):
    return ''.join(m.line() + '\n' for m in members)


# ---------------------------------------------------------------------------------------------
# Server packages: building
# ---------------------------------------------------------------------------------------------

def _tree_entries(root, prefix, label, allow_symlinks=True):
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
                if target.startswith('/') or _has_control(target):
                    raise PackageError('%s: symlink to the absolute path %r: a package must be relocatable'
                                       % (what, target))
                entries.append(Entry(child_rel, 'symlink', linkname=target))
            else:
                raise PackageError('%s: is not a regular file, directory or symlink (device, FIFO or socket)' % what)
    return entries


def config_bytes(config):
    """config.zoo as the package carries it: canonical, pretty JSON (keys sorted, 2 spaces)."""
    doc = config.to_dict()
    if doc.get('global_url') is None:
        doc.pop('global_url', None)
    return (json.dumps(doc, sort_keys=True, indent=2, ensure_ascii=False) + '\n').encode('utf-8')


def indicator_bytes(release):
    return (json.dumps({'name': release}, sort_keys=True, indent=2) + '\n').encode('utf-8')


def server_package_entries(src, release, config, label):
    if not os.path.isdir(src):
        raise PackageError('%s: source directory %s does not exist' % (label, src))
    entries = [
        Entry('filecache', 'dir'),
        Entry('filecache/%s%s' % (release, CONFIG_SUFFIX), 'file', 0o644, data=config_bytes(config)),
        Entry(INDICATOR_MEMBER, 'file', 0o644, data=indicator_bytes(release)),
    ]
    found = []
    for top in ('lib', 'version'):
        full = os.path.join(src, top)
        if os.path.islink(full) or (os.path.lexists(full) and not os.path.isdir(full)):
            raise PackageError('%s: %s must be a directory' % (label, full))
        if os.path.isdir(full):
            found.append(top)
            entries.append(Entry(top, 'dir'))
            entries.extend(_tree_entries(src, top, label))
    if not found:
        raise PackageError('%s: source directory %s has neither lib/ nor version/' % (label, src))
    ignored = sorted(n for n in os.listdir(src) if n not in ('lib', 'version'))
    for entry in entries:
        parts = entry.name.split('/')
        if parts[0] != 'version' or len(parts) not in (2, 3):
            continue
        if entry.kind != 'dir':
            raise PackageError('%s: source %s: version/ holds version/{component}/{version}/ directories only'
                               % (label, os.path.join(src, entry.name)))
        if not LAYOUT_NAME_RE.match(parts[-1]):
            what = 'component' if len(parts) == 2 else 'version'
            raise PackageError('%s: source %s: invalid %s name %r'
                               % (label, os.path.join(src, entry.name), what, parts[-1]))
    links = dict((e.name, e.linkname) for e in entries if e.kind == 'symlink')
    try:
        check_links(label, [e.name for e in entries], links)
    except UnsafeArchiveError as exc:
        raise PackageError(str(exc).replace('unsafe member', 'source'))
    return entries, ignored


def build_server_package(src, dest, release, project, build, config, mtime=0, check=False):
    """Build {dest}/{project}-{release}-{build}.tar.gz from src/lib, src/version and a parsed
    ReleaseConfig. Byte-identical for identical inputs. Returns a dict (see publish) plus
    release, build, project, ignored (top-level source entries left out)."""
    file_name = package_file_name(project, release, build)
    parsed = parse_package_name(file_name)
    if (parsed.project, parsed.release, parsed.build) != (project, release, build):
        raise PackageError('%s: the name does not parse back to project %r, release %r, build %r'
                           % (file_name, project, release, build))
    entries, ignored = server_package_entries(src, release, config, file_name)
    result = publish(os.path.join(dest, file_name), entries, mtime, check, file_name)
    result.update({'release': release, 'build': build, 'project': project, 'package': file_name,
                   'ignored': ignored, 'config_digest': config.digest()})
    return result


# ---------------------------------------------------------------------------------------------
# Client trees and upgrade packages
# ---------------------------------------------------------------------------------------------

class Tree(object):
    """A client tree: files {path: (sha256, size, mode, source)} and directories."""

    __slots__ = ('root', 'files', 'dirs')

    def __init__(self, root):
        self.root = root
        self.files = {}
        self.dirs = set()


def snapshot_tree(root, label=None):
    """Hash every file of a directory tree. Symlinks and special files are refused: upgrade
    packages carry regular files and directories only."""
    label = label or root
    if not os.path.isdir(root):
        raise PackageError('%s: %s is not a directory' % (label, root))
    tree = Tree(root)
    for entry in _tree_entries(root, '', label, allow_symlinks=False):
        if entry.kind == 'dir':
            tree.dirs.add(entry.name)
        else:
            try:
                digest = file_sha256(entry.source)
            except (IOError, OSError) as exc:
                raise PackageError('%s: cannot read %s: %s' % (label, entry.source, exc))
            tree.files[entry.name] = (digest, entry.size, entry.mode, entry.source)
    return tree


def safe_extract(path, dest, limits=None, label=None, check=None):
    """Extract a .tar.gz into the existing directory dest: regular files and directories only
    (hardlinks become copies; symlinks are refused). `check(member)` may refuse members. All checks
    of scan_archive apply; files are created exclusively and never through a symlink. On error
    dest may hold part of the archive: give it a fresh temporary directory."""
    label = label or os.path.basename(path)
    dest = os.path.realpath(dest)

    def target(name):
        full = os.path.join(dest, *name.split('/'))
        if not _inside(dest, os.path.dirname(full)):
            raise UnsafeArchiveError('%s: unsafe member %r: it would be written outside %s' % (label, name, dest))
        return full

    def allowed(member):
        if member.kind == 'symlink':
            raise UnsafeArchiveError('%s: member %r is a symlink; client trees and upgrade packages carry regular '
                                     'files and directories only' % (label, member.name))
        if check is not None:
            check(member)

    made = set([dest])

    def makedirs(path):
        # One mkdir per new directory, not one per file: metadata calls are what extraction costs.
        if path not in made:
            os.makedirs(path, 0o755, exist_ok=True)
            made.add(path)

    def visitor(member, fileobj):
        full = target(member.name)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, 'O_NOFOLLOW', 0)
        try:
            makedirs(os.path.dirname(full))
            with os.fdopen(os.open(full, flags, normal_mode('file', member.mode)), 'wb') as out:
                shutil.copyfileobj(fileobj, out, CHUNK)
        except OSError as exc:
            raise PackageError('%s: cannot extract member %r: %s' % (label, member.name, exc.strerror or exc))

    scan = scan_archive(path, limits, visitor, label, check_member=allowed)
    for member in scan.members:
        full = target(member.name)
        try:
            if member.kind == 'dir':
                makedirs(full)
            elif member.kind == 'hardlink':
                makedirs(os.path.dirname(full))
                shutil.copyfile(target(member.linkname), full)
                os.chmod(full, os.stat(target(member.linkname)).st_mode & 0o777)
        except OSError as exc:
            raise PackageError('%s: cannot extract member %r: %s' % (label, member.name, exc.strerror or exc))
    return scan


def materialize(src, workdir, what, limits=None):
    """A client tree given as a directory (used in place) or a .tar.gz/.tgz (safely extracted into
    workdir). Returns the directory."""
    if os.path.isdir(src):
        return src
    if os.path.isfile(src):
        if not (src.endswith('.tar.gz') or src.endswith('.tgz')):
            raise PackageError('%s %s: must be a directory or a .tar.gz archive' % (what, src))
        out = tempfile.mkdtemp(dir=workdir, prefix='tree.')
        safe_extract(src, out, limits, label='%s %s' % (what, os.path.basename(src)))
        return out
    raise PackageError('%s %s: no such directory or archive' % (what, src))


def _mode_text(mode):
    return '%04o' % mode


def diff_trees(old, new):
    added, changed, removed = [], [], []
    for path in sorted(new.files):
        sha, size, mode, _src = new.files[path]
        if path not in old.files:
            added.append({'path': path, 'sha256': sha, 'size': size, 'mode': _mode_text(mode)})
            continue
        osha, osize, omode, _osrc = old.files[path]
        if (osha, omode) != (sha, mode):
            changed.append({'path': path, 'sha256': sha, 'size': size, 'mode': _mode_text(mode),
                            'from_sha256': osha, 'from_size': osize})
    for path in sorted(old.files):
        if path not in new.files:
            sha, size, _mode, _src = old.files[path]
            removed.append({'path': path, 'sha256': sha, 'size': size})
    return {
        'added': added,
        'changed': changed,
        'removed': removed,
        'added_dirs': sorted(new.dirs - old.dirs, key=lambda p: p.split('/')),
        'removed_dirs': sorted(old.dirs - new.dirs, key=lambda p: p.split('/')),
    }


def manifest_bytes(manifest):
    return (json.dumps(manifest, sort_keys=True, indent=2, ensure_ascii=False) + '\n').encode('utf-8')


def upgrade_entries(old, new, from_version, to_version):
    changes = diff_trees(old, new)
    manifest = {'format': MANIFEST_FORMAT, 'from_version': from_version, 'to_version': to_version}
    manifest.update(changes)
    entries = [Entry(MANIFEST_MEMBER, 'file', 0o644, data=manifest_bytes(manifest))]
    dirs = set([PAYLOAD_DIR])
    for item in changes['added'] + changes['changed']:
        path = item['path']
        sha, size, mode, source = new.files[path]
        entries.append(Entry('%s/%s' % (PAYLOAD_DIR, path), 'file', mode, source=source, size=size))
        parts = path.split('/')[:-1]
        for depth in range(1, len(parts) + 1):
            dirs.add('%s/%s' % (PAYLOAD_DIR, '/'.join(parts[:depth])))
    entries.extend(Entry(d, 'dir') for d in dirs)
    # manifest.json first, so a streaming client reads it before the payload.
    entries.sort(key=lambda e: (e.name != MANIFEST_MEMBER, _sort_key(e)))
    return entries, manifest


def counts(manifest):
    return dict((key, len(manifest[key])) for key in ('added', 'changed', 'removed', 'added_dirs', 'removed_dirs'))


def build_upgrade_package(from_version, to_version, from_src, to_src, dest, mtime=0, check=False, limits=None):
    """Build {dest}/{from}_{to}.tar.gz from two client trees (directories or .tar.gz archives):
    manifest.json first, then the added and changed files under files/. Reproducible."""
    file_name = upgrade_file_name(from_version, to_version)
    workdir = tempfile.mkdtemp(prefix='elastic_release_upgrade.')
    try:
        old = snapshot_tree(materialize(from_src, workdir, 'from_src', limits), 'from_src %s' % from_src)
        new = snapshot_tree(materialize(to_src, workdir, 'to_src', limits), 'to_src %s' % to_src)
        entries, manifest = upgrade_entries(old, new, from_version, to_version)
        result = publish(os.path.join(dest, file_name), entries, mtime, check, file_name, keep_order=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    result.update({'package': file_name, 'from_version': from_version, 'to_version': to_version,
                   'counts': counts(manifest)})
    return result


_SHA256_RE = re.compile(r'^[0-9a-f]{64}\Z')


def _manifest_path(value, where):
    if not isinstance(value, str):
        raise PackageError('%s: path %r must be a string' % (where, value))
    normal = check_relative_path(value, '%s: path %r' % (where, value))
    if normal != value or not normal:
        raise PackageError('%s: path %r is not a normalised relative path' % (where, value))
    return value


def parse_manifest(data, label, from_version=None, to_version=None):
    """Validate manifest.json: it is untrusted input too (its paths say what to delete)."""
    where = '%s: member %r' % (label, MANIFEST_MEMBER)
    try:
        doc = json.loads(data.decode('utf-8'))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise PackageError('%s: not valid JSON (%s)' % (where, exc))
    if not isinstance(doc, dict):
        raise PackageError('%s: must be a JSON object' % where)
    if doc.get('format') != MANIFEST_FORMAT:
        raise PackageError('%s: unsupported format %r (this collection reads format %d)'
                           % (where, doc.get('format'), MANIFEST_FORMAT))
    for key, expected in (('from_version', from_version), ('to_version', to_version)):
        value = doc.get(key)
        if not isinstance(value, str):
            raise PackageError('%s: %s must be a string' % (where, key))
        if expected is not None and value != expected:
            raise PackageError('%s: %s is %r, expected %r' % (where, key, value, expected))
    seen = set()
    for key in ('added', 'changed', 'removed'):
        items = doc.get(key)
        if not isinstance(items, list):
            raise PackageError('%s: %s must be a list' % (where, key))
        for index, item in enumerate(items):
            at = '%s: %s[%d]' % (where, key, index)
            if not isinstance(item, dict):
                raise PackageError('%s: must be an object with path, sha256 and size' % at)
            path = _manifest_path(item.get('path'), at)
            if path in seen:
                raise PackageError('%s: path %r is listed twice' % (at, path))
            seen.add(path)
            digests = ('sha256', 'from_sha256') if key == 'changed' else ('sha256',)
            sizes = ('size', 'from_size') if key == 'changed' else ('size',)
            for field in digests:
                if not isinstance(item.get(field), str) or not _SHA256_RE.match(item[field]):
                    raise PackageError('%s: %s must be 64 lower-case hex digits' % (at, field))
            for field in sizes:
                value = item.get(field)
                if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                    raise PackageError('%s: %s must be a non-negative integer' % (at, field))
            if key != 'removed' and item.get('mode') not in ('0644', '0755'):
                raise PackageError('%s: mode must be "0644" or "0755"' % at)
    for key in ('added_dirs', 'removed_dirs'):
        items = doc.get(key, [])
        if not isinstance(items, list):
            raise PackageError('%s: %s must be a list' % (where, key))
        for index, value in enumerate(items):
            _manifest_path(value, '%s: %s[%d]' % (where, key, index))
    doc.setdefault('added_dirs', [])
    doc.setdefault('removed_dirs', [])
    return doc


def read_upgrade_package(path, workdir, from_version=None, to_version=None, limits=None):
    """Safely extract an upgrade package into a new directory under workdir and check its payload
    against its manifest. Returns (manifest, payload directory)."""
    label = os.path.basename(path)
    name_from, name_to = parse_upgrade_name(path)
    for what, expected, found in (('from_version', from_version, name_from), ('to_version', to_version, name_to)):
        if expected is not None and expected != found:
            raise PackageError('%s: the name says %s %r, expected %r' % (label, what, found, expected))
    staging = tempfile.mkdtemp(dir=workdir, prefix='payload.')

    def allowed(member):
        if member.name == MANIFEST_MEMBER and member.kind == 'file':
            return
        if (member.name == PAYLOAD_DIR and member.kind == 'dir') or \
                (member.name.startswith(PAYLOAD_DIR + '/') and member.kind in ('file', 'dir')):
            return
        raise UnsafeArchiveError('%s: unexpected member %r (a %s): an upgrade package holds %s and %s/ with '
                                 'regular files and directories only'
                                 % (label, member.name, member.kind, MANIFEST_MEMBER, PAYLOAD_DIR))

    safe_extract(path, staging, limits, label, check=allowed)
    manifest_file = os.path.join(staging, MANIFEST_MEMBER)
    if not os.path.isfile(manifest_file):
        raise PackageError('%s: missing member %r' % (label, MANIFEST_MEMBER))
    with open(manifest_file, 'rb') as src:
        data = _read_bounded(src, MAX_MANIFEST_BYTES, '%s: member %r' % (label, MANIFEST_MEMBER))
    manifest = parse_manifest(data, label, name_from, name_to)
    payload = os.path.join(staging, PAYLOAD_DIR)
    carried = snapshot_tree(payload, label).files if os.path.isdir(payload) else {}
    expected = dict((item['path'], item) for item in manifest['added'] + manifest['changed'])
    for path_ in sorted(expected):
        item = expected[path_]
        member = '%s/%s' % (PAYLOAD_DIR, path_)
        if path_ not in carried:
            raise PackageError('%s: member %r is listed in the manifest but missing' % (label, member))
        sha, size, mode, _src = carried[path_]
        if (sha, size) != (item['sha256'], item['size']):
            raise PackageError('%s: member %r does not match its manifest entry (sha256 %s, size %d; manifest: '
                               'sha256 %s, size %d)' % (label, member, sha, size, item['sha256'], item['size']))
        if _mode_text(mode) != item['mode']:
            raise PackageError('%s: member %r has mode %s, the manifest says %s'
                               % (label, member, _mode_text(mode), item['mode']))
    extra = sorted(set(carried) - set(expected))
    if extra:
        raise PackageError('%s: member %r is not listed in the manifest' % (label, '%s/%s' % (PAYLOAD_DIR, extra[0])))
    return manifest, payload


def _inside(root, full):
    """True if full (which may not exist yet) resolves inside root, through any symlink."""
    probe = full
    while not os.path.lexists(probe):
        probe = os.path.dirname(probe)
    real = os.path.realpath(probe)
    return real == root or real.startswith(root + os.sep)


def apply_upgrade(path, tree, from_version=None, to_version=None, limits=None):
    """Apply an upgrade package onto the directory `tree` (give it a copy of the old client tree).

    Every precondition is checked before anything changes: files to add do not exist yet, files
    to change or remove have the content the manifest expects. Returns the manifest."""
    label = os.path.basename(path)
    root = os.path.realpath(tree)
    if not os.path.isdir(root):
        raise PackageError('%s: cannot apply to %s: not a directory' % (label, tree))
    workdir = tempfile.mkdtemp(prefix='elastic_release_apply.')
    try:
        manifest, payload = read_upgrade_package(path, workdir, from_version, to_version, limits)
        _apply(manifest, payload, root, label)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return manifest


def _link_or_copy(src, dst):
    """Hard-link when possible (a copy of 2,000 files takes seconds, links a tenth of one). Safe
    because _apply never writes a file in place: it unlinks, then creates a new file."""
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def _apply(manifest, payload, root, label):
    # Never open an existing file for writing here: the tree may share inodes with from_src.
    def full(rel):
        out = os.path.join(root, *rel.split('/'))
        if not _inside(root, out):
            raise PackageError('%s: path %r would resolve outside %s' % (label, rel, root))
        return out

    problems = []
    removed_dirs = set(manifest['removed_dirs'])
    for item in manifest['added']:
        target = full(item['path'])
        if os.path.lexists(target) and not (item['path'] in removed_dirs and os.path.isdir(target)
                                            and not os.path.islink(target)):
            problems.append('%s is to be added but already exists' % item['path'])
    for key, field in (('changed', 'from_sha256'), ('removed', 'sha256')):
        for item in manifest[key]:
            target = full(item['path'])
            if not os.path.isfile(target) or os.path.islink(target):
                problems.append('%s is to be %s but is not a regular file in the tree' % (item['path'], key))
            elif file_sha256(target) != item[field]:
                problems.append('%s is to be %s but its content is not the one the package was built from'
                                % (item['path'], key))
    for rel in manifest['removed_dirs']:
        if not os.path.isdir(full(rel)):
            problems.append('directory %s is to be removed but does not exist' % rel)
    if problems:
        raise PackageError('%s: cannot apply to %s (is it version %s?): %s%s'
                           % (label, root, manifest['from_version'], '; '.join(problems[:10]),
                              ' (and %d more)' % (len(problems) - 10) if len(problems) > 10 else ''))
    for item in manifest['removed']:
        os.unlink(full(item['path']))
    for rel in sorted(manifest['removed_dirs'], key=lambda p: p.count('/'), reverse=True):
        try:
            os.rmdir(full(rel))
        except OSError as exc:
            raise PackageError('%s: cannot remove directory %s: %s (files the package does not know about?)'
                               % (label, rel, exc.strerror or exc))
    for rel in manifest['added_dirs']:
        os.makedirs(full(rel), 0o755, exist_ok=True)
    for item in manifest['added'] + manifest['changed']:
        target = full(item['path'])
        os.makedirs(os.path.dirname(target), 0o755, exist_ok=True)
        if os.path.lexists(target):
            os.unlink(target)
        shutil.copyfile(os.path.join(payload, *item['path'].split('/')), target)
        os.chmod(target, int(item['mode'], 8))


def compare_trees(got, expected):
    """Differences between two snapshots, as sentences; empty when they are the same."""
    out = []
    for rel in sorted(set(expected.files) | set(got.files)):
        if rel not in got.files:
            out.append('missing file %s' % rel)
        elif rel not in expected.files:
            out.append('unexpected file %s' % rel)
        else:
            gsha, gsize, gmode, _g = got.files[rel]
            esha, esize, emode, _e = expected.files[rel]
            if (gsha, gsize) != (esha, esize):
                out.append('content of %s differs (%d bytes, expected %d)' % (rel, gsize, esize))
            if gmode != emode:
                out.append('mode of %s is %s, expected %s' % (rel, _mode_text(gmode), _mode_text(emode)))
    for rel in sorted(expected.dirs - got.dirs):
        out.append('missing directory %s' % rel)
    for rel in sorted(got.dirs - expected.dirs):
        out.append('unexpected directory %s' % rel)
    return out


def verify_upgrade_package(path, from_version, to_version, from_src, to_src, limits=None):
    """Apply the package to a private copy of from_src and compare the result with to_src.
    Returns a dict with differences (empty when the package is right), counts, sha256, size."""
    label = os.path.basename(path)
    if not os.path.isfile(path):
        raise PackageError('%s: no upgrade package at %s' % (label, path))
    workdir = tempfile.mkdtemp(prefix='elastic_release_verify.')
    try:
        old = materialize(from_src, workdir, 'from_src', limits)
        tree = os.path.join(workdir, 'applied')
        if old == from_src:
            snapshot_tree(old, 'from_src %s' % from_src)  # refuse symlinks before copying
            shutil.copytree(old, tree, symlinks=True, copy_function=_link_or_copy)
        else:
            os.rename(old, tree)
        manifest = apply_upgrade(path, tree, from_version, to_version, limits)
        expected = snapshot_tree(materialize(to_src, workdir, 'to_src', limits), 'to_src %s' % to_src)
        differences = compare_trees(snapshot_tree(tree, 'the upgraded tree'), expected)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return {'path': path, 'package': label, 'from_version': from_version, 'to_version': to_version,
            'differences': differences, 'counts': counts(manifest), 'sha256': file_sha256(path),
            'size': os.path.getsize(path)}
