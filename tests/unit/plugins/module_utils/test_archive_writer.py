# -*- coding: utf-8 -*-
"""module_utils/_archive_writer.py: reproducible archives, written atomically and only when their
content changes; source trees walked with the reader's checks."""

import os
import tarfile

import pytest

from ansible_collections.gameops.elastic_release.plugins.module_utils._package.archive import scan_archive
from ansible_collections.gameops.elastic_release.plugins.module_utils._package.archive_writer import (
    Entry, file_sha256, tree_entries, write_archive, write_archive_file)
from ansible_collections.gameops.elastic_release.plugins.module_utils._package.pkgname import PackageError

ENTRIES = [Entry('b', 'dir'), Entry('b/z.txt', 'file', 0o600, data=b'z'), Entry('a.txt', 'file', 0o751, data=b'a'),
           Entry('b/link', 'symlink', linkname='z.txt')]


def test_members_are_sorted_and_normalised(tmp_path):
    result = write_archive_file(str(tmp_path / 'x.tar.gz'), list(ENTRIES), mtime=7)
    with tarfile.open(result['path']) as tar:
        infos = tar.getmembers()
    assert [i.name for i in infos] == ['a.txt', 'b', 'b/link', 'b/z.txt']
    assert [(i.mode, i.mtime, i.uid, i.gid, i.uname, i.gname) for i in infos] == [
        (0o755, 7, 0, 0, '', ''), (0o755, 7, 0, 0, '', ''), (0o777, 7, 0, 0, '', ''), (0o644, 7, 0, 0, '', '')]
    assert result['sha256'] == file_sha256(result['path']) == scan_archive(result['path']).sha256
    kinds = ('file', 'dir', 'symlink', 'file')
    assert [(m.name, m.kind) for m in result['members']] == [(i.name, k) for i, k in zip(infos, kinds)]


def test_written_atomically_and_only_when_different(tmp_path):
    path = str(tmp_path / 'out' / 'x.tar.gz')
    check = write_archive_file(path, ENTRIES, check=True)
    assert check['changed'] and not os.path.exists(str(tmp_path / 'out'))     # check mode writes nothing
    first = write_archive_file(path, ENTRIES)
    assert first['changed'] and (first['sha256'], first['size']) == (check['sha256'], check['size'])
    inode = os.stat(path).st_ino
    again = write_archive_file(path, ENTRIES)
    assert not again['changed'] and os.stat(path).st_ino == inode
    assert not write_archive_file(path, ENTRIES, check=True)['changed']
    assert os.listdir(str(tmp_path / 'out')) == ['x.tar.gz']                 # no temporary file left
    other = write_archive_file(path, ENTRIES[:1])
    assert other['changed'] and os.stat(path).st_ino != inode and file_sha256(path) == other['sha256']


def test_refusals(tmp_path):
    os.mkdir(str(tmp_path / 'x.tar.gz'))
    with pytest.raises(PackageError, match='exists and is not a regular file'):
        write_archive_file(str(tmp_path / 'x.tar.gz'), ENTRIES)
    with pytest.raises(PackageError, match="two members named 'a'"):
        write_archive([Entry('a', 'dir'), Entry('a', 'file', data=b'')])
    with pytest.raises(PackageError, match='invalid mtime -1'):
        write_archive(ENTRIES, mtime=-1)


def test_tree_entries(tmp_path):
    root = tmp_path / 'src'
    (root / 'lib' / 'sub').mkdir(parents=True)
    (root / 'lib' / 'sub' / 'f').write_bytes(b'f')
    os.symlink('sub/f', str(root / 'lib' / 'l'))
    entries = sorted((e.name, e.kind) for e in tree_entries(str(root), 'lib', 'pkg'))
    assert entries == [('lib/l', 'symlink'), ('lib/sub', 'dir'), ('lib/sub/f', 'file')]
    with pytest.raises(PackageError, match='symlinks are not supported here'):
        tree_entries(str(root), 'lib', 'pkg', allow_symlinks=False)
    os.symlink('/etc/passwd', str(root / 'lib' / 'abs'))
    with pytest.raises(PackageError, match="pkg: source .*lib/abs: symlink to the absolute path '/etc/passwd'"):
        tree_entries(str(root), 'lib', 'pkg')
    os.unlink(str(root / 'lib' / 'abs'))
    os.mkfifo(str(root / 'lib' / 'fifo'))
    with pytest.raises(PackageError, match='lib/fifo: is not a regular file, directory or symlink'):
        tree_entries(str(root), 'lib', 'pkg')
