# -*- coding: utf-8 -*-
"""module_utils/_archive.py: the safe streaming reader. Every archive is written here with tarfile,
hostile and damaged ones included (tests/packagekit.py); nothing is ever extracted."""

import gzip
import hashlib
import io
import os
import random
import tarfile

import pytest

import packagekit as pk
from ansible_collections.gameops.elastic_release.plugins.module_utils._package.archive import (
    Limits, UnsafeArchiveError, check_links, check_relative_path, existing_listing, listing, read_bounded,
    scan_archive)
from ansible_collections.gameops.elastic_release.plugins.module_utils._package.pkgname import PackageError


def test_member_size_and_total_limits(tmp_path):
    big = b'y' * 5000
    path = pk.write_tgz(tmp_path / 'mygame-production-1.tar.gz',
                        pk.valid_members() + [(pk.tinfo('lib/big.bin', data=big), big)])
    with pytest.raises(UnsafeArchiveError) as err:
        scan_archive(path, limits=Limits(max_member_size=4096))
    assert "'lib/big.bin'" in str(err.value) and 'max_member_size' in str(err.value)
    with pytest.raises(UnsafeArchiveError) as err:
        scan_archive(path, limits=Limits(max_total_size=4500))
    assert "'lib/big.bin'" in str(err.value) and 'max_total_size' in str(err.value)
    # Within the default limits the same archive reads through, the big member included.
    assert ('lib/big.bin', 5000) in [(m.name, m.size) for m in scan_archive(path).members]


def test_zip_bomb_is_stopped_by_the_ratio_limit(tmp_path):
    path = pk.bomb_tgz(tmp_path / 'mygame-production-1.tar.gz', zeros=8 * 1024 * 1024)
    with pytest.raises(UnsafeArchiveError) as err:
        scan_archive(path, limits=Limits(ratio_floor=1024 * 1024, max_ratio=100))
    assert "'lib/zeros.bin'" in str(err.value) and 'max_ratio' in str(err.value)


def test_zip_bomb_is_stopped_with_default_limits(tmp_path):
    path = pk.bomb_tgz(tmp_path / 'mygame-production-1.tar.gz', zeros=96 * 1024 * 1024)
    assert os.path.getsize(path) < 200 * 1024
    with pytest.raises(UnsafeArchiveError) as err:
        scan_archive(path)
    assert "'lib/zeros.bin'" in str(err.value) and 'zip bomb' in str(err.value)


def test_truncated_and_corrupt_gzip(tmp_path):
    big = bytes(random.Random(1).randbytes(200000))
    good = pk.write_tgz(tmp_path / 'good.tar.gz', pk.valid_members() + [(pk.tinfo('lib/r.bin', data=big), big)])
    with open(good, 'rb') as f:
        data = f.read()
    for name, damaged in [('mygame-production-1.tar.gz', data[:len(data) // 2]),
                          ('mygame-production-2.tar.gz', data[:-4]),
                          ('mygame-production-3.tar.gz', data[:len(data) // 2] + b'\xff' * 64 + data[len(data) // 2 + 64:])]:
        path = tmp_path / name
        path.write_bytes(damaged)
        with pytest.raises(UnsafeArchiveError) as err:
            scan_archive(str(path))
        message = str(err.value)
        assert message.startswith(name) and ('truncated' in message or 'corrupt' in message), message
    (tmp_path / 'mygame-production-4.tar.gz').write_bytes(b'PK\x03\x04 not a gzip file')
    with pytest.raises(UnsafeArchiveError) as err:
        scan_archive(str(tmp_path / 'mygame-production-4.tar.gz'))
    assert 'not a gzip file' in str(err.value)


def test_data_hidden_after_the_end_of_archive_is_refused(tmp_path):
    hidden = io.BytesIO()
    with tarfile.open(fileobj=hidden, mode='w', format=tarfile.GNU_FORMAT) as tar:
        tar.addfile(pk.tinfo('filecache/gray1.config.zoo', data=b'{}'), io.BytesIO(b'{}'))
    path = pk.write_tgz(tmp_path / 'mygame-production-1.tar.gz', pk.valid_members(), raw_tail=hidden.getvalue())
    with pytest.raises(UnsafeArchiveError) as err:
        scan_archive(path)
    assert 'after the tar end-of-archive marker' in str(err.value)
    # The same header hidden in the padding of the last record, which tarfile has already
    # buffered when it meets the end marker.
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode='w', format=tarfile.GNU_FORMAT) as tar:
        for info, data in pk.valid_members():
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    raw = bytearray(buf.getvalue())
    end = (max(i for i, byte in enumerate(raw) if byte) // 512 + 1) * 512 + 1024
    header = pk.tinfo('filecache/gray1.config.zoo', data=b'{}').tobuf(tarfile.GNU_FORMAT)
    assert end + len(header) <= len(raw)
    raw[end:end + len(header)] = header
    padded = tmp_path / 'mygame-production-2.tar.gz'
    padded.write_bytes(gzip.compress(bytes(raw), mtime=0))
    with pytest.raises(UnsafeArchiveError) as err:
        scan_archive(str(padded))
    assert 'after the tar end-of-archive marker' in str(err.value)


def test_hardlinks_and_dot_slash_names_inside_the_tree_are_fine(tmp_path):
    members = [(pk.tinfo('./' + i.name, i.type == tarfile.DIRTYPE and 'dir' or 'file', data=d or b''), d)
               for i, d in pk.valid_members()]
    members.append((pk.tinfo('./lib/b.so', 'hardlink', linkname='./lib/a.so'), None))
    members.append((pk.tinfo('./lib/c.so', 'symlink', linkname='a.so'), None))
    path = pk.write_tgz(tmp_path / 'mygame-production-1.tar.gz', members)
    scan = scan_archive(path)
    names = [m.name for m in scan.members]
    assert 'lib/b.so' in names and 'filecache/production.config.zoo' in names


@pytest.mark.parametrize('path, normal', [
    ('./a//b', 'a/b'), ('a/./b/', 'a/b'), ('.', ''), ('lib/x.so', 'lib/x.so'),
])
def test_member_names_are_normalised(path, normal):
    assert check_relative_path(path, 'member') == normal


@pytest.mark.parametrize('path, words', [
    ('/etc/passwd', 'absolute path'), ('a/../../b', "'..'"), ('a\nb', 'control characters'),
    ('', 'empty name'), ('a/\udcff', 'not valid UTF-8'),
])
def test_bad_member_names_are_refused(path, words):
    with pytest.raises(UnsafeArchiveError) as err:
        check_relative_path(path, 'x.tar.gz: member %r' % path)
    assert words in str(err.value) and str(err.value).startswith('x.tar.gz: member')


def test_links_are_resolved_through_each_other():
    # lib/up -> .. is inside the tree; lib/out -> up/.. resolves through it to outside.
    check_links('x', ['lib', 'lib/up', 'lib/a'], {'lib/up': '..'})
    with pytest.raises(UnsafeArchiveError) as err:
        check_links('x', ['lib', 'lib/up', 'lib/out'], {'lib/up': '..', 'lib/out': 'up/..'})
    assert "'lib/out'" in str(err.value) and 'leaves the package tree' in str(err.value)
    with pytest.raises(UnsafeArchiveError) as err:
        check_links('x', ['a', 'b'], dict(('l%d' % i, 'l%d' % (i + 1)) for i in range(50)))
    assert 'leaves the package tree' in str(err.value)  # a chain longer than MAX_LINK_HOPS


@pytest.mark.parametrize('limits', [dict(max_member_size=0), dict(max_total_size=-1), dict(max_ratio=0),
                                    dict(max_members=0)])
def test_limits_must_be_positive(limits):
    with pytest.raises(PackageError) as err:
        Limits(**limits)
    assert 'invalid limit %s=' % list(limits)[0] in str(err.value)


def test_read_bounded():
    assert read_bounded(io.BytesIO(b'x' * 10), 10, 'm') == b'x' * 10
    with pytest.raises(PackageError) as err:
        read_bounded(io.BytesIO(b'x' * 11), 10, 'pkg: member m')
    assert str(err.value) == 'pkg: member m: larger than the 10-byte limit'


def test_scan_reports_sizes_digests_and_each_file_to_the_visitor(tmp_path):
    path = pk.write_tgz(tmp_path / 'a.tar.gz', pk.valid_members())
    seen = {}
    scan = scan_archive(path, visitor=lambda member, data: seen.setdefault(member.name, data.read()),
                        hash_members=True)
    with open(path, 'rb') as f:
        raw = f.read()
    assert scan.compressed_size == len(raw)
    assert scan.sha256 == hashlib.sha256(raw).hexdigest()
    assert seen['lib/a.so'] == b'x' and seen['version/gameserver/dev.1/bin/gs'] == b'#!'
    files = [m for m in scan.members if m.kind == 'file']
    assert scan.total_size == sum(m.size for m in files) and all(m.sha256 for m in files)
    assert [m.mode for m in scan.members if m.name == 'version/gameserver/dev.1/bin/gs'] == [0o755]


def test_check_member_may_refuse(tmp_path):
    path = pk.write_tgz(tmp_path / 'a.tar.gz', pk.valid_members())

    def no_lib(member):
        if member.name.startswith('lib/'):
            raise UnsafeArchiveError('no lib: %s' % member.name)
    with pytest.raises(UnsafeArchiveError) as err:
        scan_archive(path, check_member=no_lib)
    assert str(err.value) == 'no lib: lib/a.so'


def test_listings_for_diff_mode(tmp_path):
    assert existing_listing(str(tmp_path / 'missing.tar.gz')) == ''
    (tmp_path / 'junk.tar.gz').write_bytes(b'not a gzip file')
    assert existing_listing(str(tmp_path / 'junk.tar.gz')).startswith('(unreadable: junk.tar.gz: not a gzip file')
    path = pk.write_tgz(tmp_path / 'a.tar.gz', pk.valid_members())
    text = existing_listing(path)
    assert text == listing(scan_archive(path, hash_members=True).members)
    assert 'file     0755            2 ' in text and text.endswith('version/gameserver/dev.1/bin/gs\n')
    assert 'dir      0755            0 -                filecache/\n' in text
