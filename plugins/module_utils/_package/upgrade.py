# -*- coding: utf-8 -*-
# Copyright: (c) 2026, GameOps release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# This module_utils is PRIVATE to gameops.elastic_release; its API may change without notice.
"""Client trees and upgrade packages: ``{from}_{to}.tar.gz`` built, applied and verified.

An upgrade package holds ``manifest.json`` (first, so a streaming client reads it before the
payload) and ``files/...``, the added and changed files of the newer client tree. Client trees are
directories or archives of regular files and directories only; an archive is extracted with
`safe_extract`, the one place in the package code that writes files out of an archive. The
manifest is untrusted input too: its paths say what to delete.

No Ansible imports here.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import shutil
import tempfile

from .archive import CHUNK, SHA256_RE, UnsafeArchiveError, check_relative_path, normal_mode, read_bounded, scan_archive
from .archive_writer import Entry, entry_sort_key, file_sha256, tree_entries, write_archive_file
from .pkgname import PackageError, parse_upgrade_name, upgrade_file_name

MANIFEST_MEMBER = 'manifest.json'
PAYLOAD_DIR = 'files'
MANIFEST_FORMAT = 1
MAX_MANIFEST_BYTES = 256 * 1024 * 1024


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
    for entry in tree_entries(root, '', label, allow_symlinks=False):
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
    entries.sort(key=lambda e: (e.name != MANIFEST_MEMBER, entry_sort_key(e)))
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
        result = write_archive_file(os.path.join(dest, file_name), entries, mtime, check, file_name, keep_order=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    result.update({'package': file_name, 'from_version': from_version, 'to_version': to_version,
                   'counts': counts(manifest)})
    return result


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
                if not isinstance(item.get(field), str) or not SHA256_RE.match(item[field]):
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
        data = read_bounded(src, MAX_MANIFEST_BYTES, '%s: member %r' % (label, MANIFEST_MEMBER))
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
