# -*- coding: utf-8 -*-
"""Server packages and upgrade packages: pure logic of module_utils/_package.py.

Every archive is made here, hostile ones included. The builders at the top are also used by
tests/integration/test_package_modules.py.
"""

import gzip
import hashlib
import io
import json
import os
import random
import shutil
import tarfile

import pytest

from ansible_collections.gameops.elastic_release.plugins.module_utils import _package as P
from ansible_collections.gameops.elastic_release.plugins.module_utils._config import parse_config

CONFIG = {
    'global_url': 'http://10.0.0.5:9000',
    'versions': ['1.2.0', '1.2.1'],
    'sections': {'1001': {'name': 'S1'}, '1002': {}},
    'servers': {'10.1.2.3': {'services': {'gameserver': 'dev.190122.01'}}},
}


# ------------------------------------------------------------------------------------------------
# Builders
# ------------------------------------------------------------------------------------------------

def make_src(root):
    """A small build output: lib/ and version/{component}/{version}/ with an executable and a link."""
    root = str(root)
    files = {
        'lib/dk-server/libdk.so.1': b'\x7fELF' + bytes(range(256)),
        'lib/global/global.lua': b'return {}\n',
        'lib/vms/empty': b'',
        'version/gameserver/dev.190122.01/bin/gameserver': b'#!/bin/sh\necho gs\n',
        'version/gameserver/dev.190122.02/bin/gameserver': b'#!/bin/sh\necho gs2\n',
        'version/dataconfig/Numeric#Development#17253/items.json': b'{"a": 1}\n',
        'version/vms/vms-notice.181230.11/notice.txt': b'hello\n',
    }
    for rel, data in files.items():
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, 'wb') as out:
            out.write(data)
    os.chmod(os.path.join(root, 'version/gameserver/dev.190122.01/bin/gameserver'), 0o755)
    os.chmod(os.path.join(root, 'version/gameserver/dev.190122.02/bin/gameserver'), 0o750)
    os.symlink('libdk.so.1', os.path.join(root, 'lib/dk-server/libdk.so'))
    os.makedirs(os.path.join(root, 'version/global/dev.190122.01'))
    return root


def tinfo(name, kind='file', data=b'', mode=0o644, linkname='', size=None):
    info = tarfile.TarInfo(name)
    info.mode = mode
    info.mtime = 0
    if kind == 'file':
        info.type = tarfile.REGTYPE
        info.size = len(data) if size is None else size
    elif kind == 'dir':
        info.type = tarfile.DIRTYPE
        info.mode = 0o755
    elif kind == 'symlink':
        info.type = tarfile.SYMTYPE
        info.linkname = linkname
    elif kind == 'hardlink':
        info.type = tarfile.LNKTYPE
        info.linkname = linkname
    elif kind == 'chr':
        info.type = tarfile.CHRTYPE
        info.devmajor, info.devminor = 1, 3
    elif kind == 'blk':
        info.type = tarfile.BLKTYPE
        info.devmajor, info.devminor = 8, 0
    elif kind == 'fifo':
        info.type = tarfile.FIFOTYPE
    return info


def valid_members(release='production', config=None, indicator=None):
    """(TarInfo, data) pairs of a well-formed server package."""
    cfg = json.dumps(config if config is not None else CONFIG).encode()
    ind = json.dumps({'name': release}).encode() if indicator is None else indicator
    return [
        (tinfo('filecache', 'dir'), None),
        (tinfo('filecache/%s.config.zoo' % release, data=cfg), cfg),
        (tinfo('filecache/release_indicator.json', data=ind), ind),
        (tinfo('lib', 'dir'), None),
        (tinfo('lib/a.so', data=b'x'), b'x'),
        (tinfo('version', 'dir'), None),
        (tinfo('version/gameserver/dev.1/bin/gs', data=b'#!', mode=0o755), b'#!'),
    ]


def write_tgz(path, members, raw_tail=b''):
    """A .tar.gz from (TarInfo, data) pairs, written with tarfile as an attacker would."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode='w', format=tarfile.GNU_FORMAT) as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    with open(str(path), 'wb') as out:
        with gzip.GzipFile(fileobj=out, mode='wb', mtime=0, filename='') as gz:
            gz.write(buf.getvalue() + raw_tail)
    return str(path)


def bomb_tgz(path, release='production', zeros=96 * 1024 * 1024):
    """A valid-looking package with one member of `zeros` zero bytes, streamed (never in memory)."""
    class Zeros(object):
        def __init__(self, n):
            self.left = n

        def read(self, size=-1):
            size = self.left if size < 0 else min(size, self.left)
            self.left -= size
            return b'\0' * size
    with open(str(path), 'wb') as out:
        with gzip.GzipFile(fileobj=out, mode='wb', mtime=0, filename='', compresslevel=9) as gz:
            with tarfile.open(fileobj=gz, mode='w|', format=tarfile.GNU_FORMAT) as tar:
                for info, data in valid_members(release)[:3]:
                    tar.addfile(info, io.BytesIO(data) if data is not None else None)
                tar.addfile(tinfo('lib/zeros.bin', size=zeros), Zeros(zeros))
    return str(path)


def hostile_cases(release='production'):
    """name -> (members, expected words in the error). Each is refused with the member named."""
    ok = valid_members(release)
    other = b'{"versions": ["9.9"]}'
    return {
        'traversal': (ok + [(tinfo('../evil', data=b'x'), b'x')], ["'../evil'", '..']),
        'nested_traversal': (ok + [(tinfo('lib/../../evil', data=b'x'), b'x')], ["'lib/../../evil'"]),
        'absolute': (ok + [(tinfo('/etc/evil', data=b'x'), b'x')], ["'/etc/evil'", 'absolute']),
        'symlink_escape': (ok + [(tinfo('lib/passwd', 'symlink', linkname='../../etc/passwd'), None)],
                           ["'lib/passwd'", 'leaves the package tree']),
        'symlink_absolute': (ok + [(tinfo('lib/passwd', 'symlink', linkname='/etc/passwd'), None)],
                             ["'lib/passwd'", 'absolute']),
        'symlink_chain': (ok + [(tinfo('lib/up', 'symlink', linkname='..'), None),
                                (tinfo('lib/out', 'symlink', linkname='up/..'), None)],
                          ["'lib/out'", 'leaves the package tree']),
        'through_symlink': (ok + [(tinfo('lib/v', 'symlink', linkname='../version'), None),
                                  (tinfo('lib/v/x', data=b'x'), b'x')],
                            ["'lib/v/x'", "inside the symlink 'lib/v'"]),
        'hardlink_escape': (ok + [(tinfo('lib/h', 'hardlink', linkname='../../etc/shadow'), None)],
                            ["'lib/h'", '..']),
        'hardlink_absolute': (ok + [(tinfo('lib/h', 'hardlink', linkname='/etc/shadow'), None)],
                              ["'lib/h'", 'absolute']),
        'hardlink_unknown': (ok + [(tinfo('lib/h', 'hardlink', linkname='lib/nothing'), None)],
                             ["'lib/h'", 'not an earlier regular file']),
        'char_device': (ok + [(tinfo('lib/null', 'chr'), None)], ["'lib/null'", 'character device']),
        'block_device': (ok + [(tinfo('lib/sda', 'blk'), None)], ["'lib/sda'", 'block device']),
        'fifo': (ok + [(tinfo('lib/pipe', 'fifo'), None)], ["'lib/pipe'", 'FIFO']),
        'other_release_config': (ok + [(tinfo('filecache/gray1.config.zoo', data=other), other)],
                                 ["'filecache/gray1.config.zoo'", "'gray1'", "'%s'" % release]),
        'legacy_config': (ok + [(tinfo('filecache/config.zoo', data=other), other)],
                          ["'filecache/config.zoo'", 'no release prefix']),
        'duplicate': (ok + [(tinfo('lib/a.so', data=b'y'), b'y')], ["'lib/a.so'", 'duplicate']),
        'missing_indicator': ([m for m in ok if m[0].name != 'filecache/release_indicator.json'],
                              ["'filecache/release_indicator.json'", 'missing']),
        'malformed_indicator': (valid_members(release, indicator=b'{"name": '),
                                ["'filecache/release_indicator.json'", 'malformed', 'not valid JSON']),
        'indicator_not_object': (valid_members(release, indicator=b'["production"]'),
                                 ["'filecache/release_indicator.json'", 'must be a JSON object']),
        'indicator_other_release': (valid_members(release, indicator=b'{"name": "gray1"}'),
                                    ["'filecache/release_indicator.json'", "'gray1'", "'%s'" % release]),
        'missing_config': ([m for m in ok if not m[0].name.endswith('.config.zoo')],
                           ["'filecache/%s.config.zoo'" % release, 'missing']),
        'invalid_config': (valid_members(release, config={'versions': ['a/b']}),
                           ["'filecache/%s.config.zoo'" % release, 'versions[0]']),
    }


def tree_state(root):
    """Every path under root with its type and content digest: two states compare equal only if
    nothing was created, removed or modified."""
    out = {}
    for base, dirs, files in os.walk(str(root)):
        for name in dirs + files:
            full = os.path.join(base, name)
            rel = os.path.relpath(full, str(root))
            if os.path.islink(full) or os.path.isdir(full):
                out[rel] = 'dir' if os.path.isdir(full) else 'link'
            else:
                with open(full, 'rb') as src:
                    out[rel] = hashlib.sha256(src.read()).hexdigest()
    return out


def clone(src, dst):
    """A hard-linked copy of a tree (fast); write into it only through _write, which unlinks first."""
    shutil.copytree(str(src), str(dst), copy_function=os.link)
    return str(dst)


def _write(root, rel, data, mode=0o644):
    path = os.path.join(str(root), *rel.split('/'))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if os.path.lexists(path):
        os.unlink(path)
    with open(path, 'wb') as out:
        out.write(data)
    os.chmod(path, mode)


def make_client_trees(base, files=2000, seed=20260101):
    """Two client trees c-1 and c-2 of `files`+ small files in nested directories: c-2 changes,
    removes, renames (moves) and adds files, flips execute bits, replaces a file by a directory
    and a directory by a file, and adds and removes empty directories. Binary, text, empty and
    non-ASCII-named files. Returns (c-1 path, c-2 path)."""
    rng = random.Random(seed)
    old = {}
    for i in range(files):
        depth = rng.randint(0, 4)
        parts = ['d%d' % rng.randint(0, 6) for _level in range(depth)]
        name = 'f%05d%s' % (i, rng.choice(['.bin', '.txt', '.lua', '']))
        kind = i % 10
        if kind == 0:
            data = b''
        elif kind < 6:
            data = rng.randbytes(rng.randint(1, 400))
        else:
            data = ('line %d\n' % i * rng.randint(1, 20)).encode()
        old['/'.join(parts + [name])] = (data, 0o755 if i % 23 == 0 else 0o644)
    old[u'donn\u00e9es/caf\u00e9 menu.txt'] = (u'cr\u00e8me\n'.encode('utf-8'), 0o644)
    old['swap_to_dir'] = (b'a file in c-1', 0o644)
    old['swap_to_file/inner.txt'] = (b'a directory in c-1', 0o644)
    new = dict(old)
    names = sorted(k for k in old if k.startswith(('d', 'f')) and not k.startswith('donn'))
    rng.shuffle(names)
    tenth, twentieth = files // 10, files // 20
    changed = names[:tenth]
    removed = names[tenth:tenth + twentieth]
    renamed = names[tenth + twentieth:tenth + 2 * twentieth]
    flipped = names[tenth + 2 * twentieth:tenth + 2 * twentieth + files // 60]
    for rel in changed:
        data, mode = new[rel]
        new[rel] = (data + rng.randbytes(rng.randint(1, 50)), mode)
    for rel in removed:
        del new[rel]
    for rel in renamed:
        new['moved/' + rel.replace('/', '_') + '.renamed'] = new.pop(rel)
    for rel in flipped:
        data, mode = new[rel]
        new[rel] = (data, 0o755 if mode == 0o644 else 0o644)
    for i in range(files * 3 // 40):
        new['added/a%d/n%04d.bin' % (i % 7, i)] = (rng.randbytes(rng.randint(0, 300)), 0o644)
    new['added/empty'] = (b'', 0o644)
    del new['swap_to_dir']
    new['swap_to_dir/now_a_dir.txt'] = (b'c-2', 0o644)
    del new['swap_to_file/inner.txt']
    new['swap_to_file'] = (b'now a file', 0o755)
    c1 = os.path.join(str(base), 'c-1')
    c2 = os.path.join(str(base), 'c-2')
    for root, tree in ((c1, old), (c2, new)):
        os.makedirs(root)
        for rel, (data, mode) in tree.items():
            _write(root, rel, data, mode)
    os.makedirs(os.path.join(c1, 'empty_dir_removed'))
    os.makedirs(os.path.join(c2, 'empty_dir_added/deeper'))
    os.makedirs(os.path.join(c1, 'empty_dir_kept'))
    os.makedirs(os.path.join(c2, 'empty_dir_kept'))
    return c1, c2


def tar_dir(src, path):
    """A plain (non-reproducible) .tar.gz of a directory, as a CI job would make one."""
    with tarfile.open(str(path), 'w:gz') as tar:
        tar.add(str(src), arcname='.')
    return str(path)


# ------------------------------------------------------------------------------------------------
# Names
# ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize('name, project, release, build', [
    ('mygame-production-190122.01.tar.gz', 'mygame', 'production', '190122.01'),
    ('my-game-gray1-190122.01.tar.gz', 'my-game', 'gray1', '190122.01'),
    ('/data/packages/a-b-c-appstore_review-7.tar.gz', 'a-b-c', 'appstore_review', '7'),
])
def test_default_name_pattern(name, project, release, build):
    parsed = P.parse_package_name(name)
    assert (parsed.project, parsed.release, parsed.build) == (project, release, build)
    assert parsed.name == os.path.basename(name)


@pytest.mark.parametrize('name, words', [
    ('mygame-production.tar.gz', ['does not match']),
    ('mygame-production-1.tgz', ['does not match']),
    ('mygame-Production-1.tar.gz', ['invalid release', 'Production']),
    ('mygame-releases-1.tar.gz', ['reserved']),
    ('production-1.tar.gz', ['does not match']),
])
def test_bad_package_names(name, words):
    with pytest.raises(P.PackageError) as err:
        P.parse_package_name(name)
    for word in words:
        assert word in str(err.value)


def test_custom_name_pattern():
    pattern = r'(?P<release>[a-z][a-z0-9_]*)\.(?P<build>[0-9-]+)\.tgz'
    parsed = P.parse_package_name('review_a.2019-01-22.tgz', pattern)
    assert (parsed.project, parsed.release, parsed.build) == (None, 'review_a', '2019-01-22')
    with pytest.raises(P.PackageError) as err:
        P.parse_package_name('x.tgz', r'(?P<release>.+)\.tgz')
    assert 'named groups' in str(err.value) and 'build' in str(err.value)
    with pytest.raises(P.PackageError) as err:
        P.parse_package_name('x.tgz', r'(?P<release>.+')
    assert 'invalid package name pattern' in str(err.value)


def test_built_names_parse_back_and_bad_parts_are_refused():
    assert P.package_file_name('my-game', 'gray1', '190122.01') == 'my-game-gray1-190122.01.tar.gz'
    for project, release, build, word in [
            ('mygame', 'gray1', '1-2', 'build'), ('-x', 'gray1', '1', 'project'),
            ('mygame', 'Gray', '1', 'release'), ('my/game', 'gray1', '1', 'project')]:
        with pytest.raises(P.PackageError) as err:
            P.package_file_name(project, release, build)
        assert word in str(err.value)


@pytest.mark.parametrize('version', ['c_1', 'a/b', '..', '.hidden', '', 'c 1', '-c1'])
def test_upgrade_versions_are_validated(version):
    with pytest.raises(P.PackageError) as err:
        P.upgrade_file_name(version, 'c-2')
    assert 'from_version' in str(err.value)


def test_upgrade_names():
    assert P.upgrade_file_name('c-1', 'c-2') == 'c-1_c-2.tar.gz'
    assert P.parse_upgrade_name('/x/c-1_c-2.tar.gz') == ('c-1', 'c-2')
    with pytest.raises(P.PackageError):
        P.upgrade_file_name('c-1', 'c-1')


# ------------------------------------------------------------------------------------------------
# Building and reading back
# ------------------------------------------------------------------------------------------------

def build(src, dest, release='production', config=None, **kw):
    return P.build_server_package(str(src), str(dest), release, 'my-game', '190122.01',
                                  parse_config(config or CONFIG), **kw)


def test_build_reads_back_exactly(tmp_path):
    src = make_src(tmp_path / 'src')
    result = build(src, tmp_path / 'out')
    assert result['changed'] and result['package'] == 'my-game-production-190122.01.tar.gz'
    package = P.read_server_package(result['path'], expected_release='production', hash_members=True)
    assert package.indicator == {'name': 'production'}
    assert package.config.to_dict() == parse_config(CONFIG).to_dict()
    assert package.components == {
        'dataconfig': ['Numeric#Development#17253'],
        'gameserver': ['dev.190122.01', 'dev.190122.02'],
        'global': ['dev.190122.01'],
        'vms': ['vms-notice.181230.11'],
    }
    assert package.problems == []
    assert package.scan.sha256 == result['sha256']
    members = dict((m.name, m) for m in package.scan.members)
    # Every source file is in the archive with its content; modes normalised to 0755/0644.
    for base, _dirs, files in os.walk(src):
        for name in files:
            full = os.path.join(base, name)
            rel = os.path.relpath(full, src)
            if os.path.islink(full):
                assert members[rel].kind == 'symlink' and members[rel].linkname == 'libdk.so.1'
                continue
            with open(full, 'rb') as f:
                assert members[rel].sha256 == hashlib.sha256(f.read()).hexdigest(), rel
            assert members[rel].mode == (0o755 if os.stat(full).st_mode & 0o111 else 0o644), rel
    # config.zoo is canonical pretty JSON, parsed back to the same config.
    with tarfile.open(result['path']) as tar:
        text = tar.extractfile('filecache/production.config.zoo').read().decode()
        indicator = tar.extractfile('filecache/release_indicator.json').read()
        infos = tar.getmembers()
    assert text == json.dumps(json.loads(text), sort_keys=True, indent=2) + '\n'
    assert json.loads(indicator) == {'name': 'production'}
    assert all((i.mtime, i.uid, i.gid, i.uname, i.gname) == (0, 0, 0, '', '') for i in infos)
    assert [i.name for i in infos] == sorted((i.name for i in infos), key=lambda n: n.split('/'))


def test_two_builds_are_byte_identical_whatever_the_source_metadata(tmp_path):
    src = make_src(tmp_path / 'src')
    first = build(src, tmp_path / 'one')
    # Same content, different times, permissions (beyond the execute bit) and copy.
    copy = tmp_path / 'copy'
    shutil.copytree(src, str(copy), symlinks=True)
    for base, _dirs, files in os.walk(str(copy)):
        for name in files:
            full = os.path.join(base, name)
            if not os.path.islink(full):
                os.utime(full, (1234567890, 1234567890))
                os.chmod(full, 0o700 if os.stat(full).st_mode & 0o111 else 0o600)
    second = build(copy, tmp_path / 'two')
    with open(first['path'], 'rb') as a, open(second['path'], 'rb') as b:
        assert a.read() == b.read()
    assert first['sha256'] == second['sha256']
    with open(first['path'], 'rb') as f:
        header = f.read(10)
    assert header[:4] == b'\x1f\x8b\x08\x00'  # gzip, deflate, no FNAME flag
    assert header[4:8] == b'\0\0\0\0'  # no timestamp


def test_rebuild_is_unchanged_and_untouched_check_mode_writes_nothing(tmp_path):
    src = make_src(tmp_path / 'src')
    dest = tmp_path / 'out'
    check = build(src, dest, check=True)
    assert check['changed'] and not dest.exists()
    real = build(src, dest)
    assert real['sha256'] == check['sha256'] and real['size'] == check['size']
    stat_before = os.stat(real['path'])
    again = build(src, dest)
    assert not again['changed']
    assert os.stat(real['path']).st_ino == stat_before.st_ino
    assert sorted(os.listdir(str(dest))) == ['my-game-production-190122.01.tar.gz']  # no temp file left
    assert not build(src, dest, check=True)['changed']
    other = build(src, dest, config=dict(CONFIG, versions=['1.2.0']))
    assert other['changed'] and other['sha256'] != real['sha256']


def test_mtime_option(tmp_path):
    src = make_src(tmp_path / 'src')
    result = build(src, tmp_path / 'out', mtime=1548115200)
    with tarfile.open(result['path']) as tar:
        assert set(i.mtime for i in tar.getmembers()) == set([1548115200])
    with pytest.raises(P.PackageError):
        build(src, tmp_path / 'neg', mtime=-1)


def test_build_refuses_bad_sources(tmp_path):
    src = make_src(tmp_path / 'src')
    os.symlink('/etc/passwd', os.path.join(src, 'lib/abs'))
    with pytest.raises(P.PackageError) as err:
        build(src, tmp_path / 'out')
    assert 'lib/abs' in str(err.value) and 'absolute' in str(err.value)
    os.unlink(os.path.join(src, 'lib/abs'))
    os.symlink('../../outside', os.path.join(src, 'lib/up'))
    with pytest.raises(P.PackageError) as err:
        build(src, tmp_path / 'out')
    assert "'lib/up'" in str(err.value) and 'leaves' in str(err.value)
    os.unlink(os.path.join(src, 'lib/up'))
    os.mkfifo(os.path.join(src, 'lib/pipe'))
    with pytest.raises(P.PackageError) as err:
        build(src, tmp_path / 'out')
    assert 'lib/pipe' in str(err.value)
    os.unlink(os.path.join(src, 'lib/pipe'))
    _write(src, 'version/stray.txt', b'x')
    with pytest.raises(P.PackageError) as err:
        build(src, tmp_path / 'out')
    assert 'version/stray.txt' in str(err.value)
    assert not (tmp_path / 'out').exists() or os.listdir(str(tmp_path / 'out')) == []


def test_old_filecache_in_source_is_left_out(tmp_path):
    src = make_src(tmp_path / 'src')
    _write(src, 'filecache/config.zoo', b'{"versions": ["stale"]}')
    result = build(src, tmp_path / 'out')
    assert result['ignored'] == ['filecache']
    package = P.read_server_package(result['path'])
    assert 'stale' not in package.config.versions


def test_read_package_for_publish(tmp_path):
    result = build(make_src(tmp_path / 'src'), tmp_path / 'out')
    config, indicator = P.read_package_for_publish(result['path'], 'production')
    assert config.to_dict() == parse_config(CONFIG).to_dict()
    assert json.loads(indicator) == {'name': 'production'}
    with pytest.raises(P.PackageError) as err:
        P.read_package_for_publish(result['path'], 'gray1')
    assert "'production'" in str(err.value) and "'gray1'" in str(err.value)


# ------------------------------------------------------------------------------------------------
# Hostile and damaged archives
# ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize('case', sorted(hostile_cases()))
def test_hostile_archives_are_refused_naming_the_member(tmp_path, case):
    members, words = hostile_cases()[case]
    path = write_tgz(tmp_path / 'mygame-production-1.tar.gz', members)
    before = tree_state(tmp_path)
    with pytest.raises(P.PackageError) as err:
        P.read_server_package(path)
    message = str(err.value)
    assert message.startswith('mygame-production-1.tar.gz'), message
    for word in words:
        assert word in message, message
    assert tree_state(tmp_path) == before


def test_unsafe_archives_are_refused_before_the_package_checks(tmp_path):
    members, _words = hostile_cases()['traversal']
    path = write_tgz(tmp_path / 'mygame-production-1.tar.gz', members)
    with pytest.raises(P.UnsafeArchiveError):
        P.read_server_package(path)
    members, _words = hostile_cases()['missing_indicator']
    path = write_tgz(tmp_path / 'mygame-production-2.tar.gz', members)
    with pytest.raises(P.PackageError) as err:
        P.read_server_package(path)
    assert not isinstance(err.value, P.UnsafeArchiveError)


def test_member_size_and_total_limits(tmp_path):
    big = b'y' * 5000
    path = write_tgz(tmp_path / 'mygame-production-1.tar.gz',
                     valid_members() + [(tinfo('lib/big.bin', data=big), big)])
    with pytest.raises(P.UnsafeArchiveError) as err:
        P.read_server_package(path, limits=P.Limits(max_member_size=4096))
    assert "'lib/big.bin'" in str(err.value) and 'max_member_size' in str(err.value)
    with pytest.raises(P.UnsafeArchiveError) as err:
        P.read_server_package(path, limits=P.Limits(max_total_size=4500))
    assert "'lib/big.bin'" in str(err.value) and 'max_total_size' in str(err.value)
    assert P.read_server_package(path).problems == []


def test_zip_bomb_is_stopped_by_the_ratio_limit(tmp_path):
    path = bomb_tgz(tmp_path / 'mygame-production-1.tar.gz', zeros=8 * 1024 * 1024)
    with pytest.raises(P.UnsafeArchiveError) as err:
        P.read_server_package(path, limits=P.Limits(ratio_floor=1024 * 1024, max_ratio=100))
    assert "'lib/zeros.bin'" in str(err.value) and 'max_ratio' in str(err.value)


def test_zip_bomb_is_stopped_with_default_limits(tmp_path):
    path = bomb_tgz(tmp_path / 'mygame-production-1.tar.gz', zeros=96 * 1024 * 1024)
    assert os.path.getsize(path) < 200 * 1024
    with pytest.raises(P.UnsafeArchiveError) as err:
        P.read_server_package(path)
    assert "'lib/zeros.bin'" in str(err.value) and 'zip bomb' in str(err.value)


def test_truncated_and_corrupt_gzip(tmp_path):
    big = bytes(random.Random(1).randbytes(200000))
    good = write_tgz(tmp_path / 'good.tar.gz', valid_members() + [(tinfo('lib/r.bin', data=big), big)])
    with open(good, 'rb') as f:
        data = f.read()
    for name, damaged in [('mygame-production-1.tar.gz', data[:len(data) // 2]),
                          ('mygame-production-2.tar.gz', data[:-4]),
                          ('mygame-production-3.tar.gz', data[:len(data) // 2] + b'\xff' * 64 + data[len(data) // 2 + 64:])]:
        path = tmp_path / name
        path.write_bytes(damaged)
        with pytest.raises(P.UnsafeArchiveError) as err:
            P.read_server_package(str(path))
        message = str(err.value)
        assert message.startswith(name) and ('truncated' in message or 'corrupt' in message), message
    (tmp_path / 'mygame-production-4.tar.gz').write_bytes(b'PK\x03\x04 not a gzip file')
    with pytest.raises(P.UnsafeArchiveError) as err:
        P.read_server_package(str(tmp_path / 'mygame-production-4.tar.gz'))
    assert 'not a gzip file' in str(err.value)


def test_data_hidden_after_the_end_of_archive_is_refused(tmp_path):
    hidden = io.BytesIO()
    with tarfile.open(fileobj=hidden, mode='w', format=tarfile.GNU_FORMAT) as tar:
        tar.addfile(tinfo('filecache/gray1.config.zoo', data=b'{}'), io.BytesIO(b'{}'))
    path = write_tgz(tmp_path / 'mygame-production-1.tar.gz', valid_members(), raw_tail=hidden.getvalue())
    with pytest.raises(P.UnsafeArchiveError) as err:
        P.read_server_package(path)
    assert 'after the tar end-of-archive marker' in str(err.value)
    # The same header hidden in the padding of the last record, which tarfile has already
    # buffered when it meets the end marker.
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode='w', format=tarfile.GNU_FORMAT) as tar:
        for info, data in valid_members():
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    raw = bytearray(buf.getvalue())
    end = (max(i for i, byte in enumerate(raw) if byte) // 512 + 1) * 512 + 1024
    header = tinfo('filecache/gray1.config.zoo', data=b'{}').tobuf(tarfile.GNU_FORMAT)
    assert end + len(header) <= len(raw)
    raw[end:end + len(header)] = header
    padded = tmp_path / 'mygame-production-2.tar.gz'
    padded.write_bytes(gzip.compress(bytes(raw), mtime=0))
    with pytest.raises(P.UnsafeArchiveError) as err:
        P.read_server_package(str(padded))
    assert 'after the tar end-of-archive marker' in str(err.value)


def test_problems_are_reported_not_raised(tmp_path):
    members = valid_members() + [
        (tinfo('README', data=b'x'), b'x'),
        (tinfo('version/stray', data=b'x'), b'x'),
        (tinfo('lib/suid', data=b'x', mode=0o4755), b'x'),
        (tinfo('filecache/notes.txt', data=b'x'), b'x'),
    ]
    members = [m for m in members if not m[0].name.startswith('lib/a')]
    path = write_tgz(tmp_path / 'mygame-production-1.tar.gz', members)
    package = P.read_server_package(path)
    text = '\n'.join(package.problems)
    for word in ("'README'", "'version/stray'", "'lib/suid'", "'filecache/notes.txt'"):
        assert word in text
    assert package.components == {'gameserver': ['dev.1']}


def test_hardlinks_and_dot_slash_names_inside_the_tree_are_fine(tmp_path):
    members = [(tinfo('./' + i.name, i.type == tarfile.DIRTYPE and 'dir' or 'file', data=d or b''), d)
               for i, d in valid_members()]
    members.append((tinfo('./lib/b.so', 'hardlink', linkname='./lib/a.so'), None))
    members.append((tinfo('./lib/c.so', 'symlink', linkname='a.so'), None))
    path = write_tgz(tmp_path / 'mygame-production-1.tar.gz', members)
    package = P.read_server_package(path)
    names = [m.name for m in package.scan.members]
    assert 'lib/b.so' in names and 'filecache/production.config.zoo' in names


def test_expected_release_mismatch_names_both(tmp_path):
    path = write_tgz(tmp_path / 'mygame-production-1.tar.gz', valid_members())
    with pytest.raises(P.PackageError) as err:
        P.read_server_package(path, expected_release='gray1')
    assert "'production'" in str(err.value) and "'gray1'" in str(err.value)


# ------------------------------------------------------------------------------------------------
# Upgrade packages
# ------------------------------------------------------------------------------------------------

@pytest.fixture(scope='module')
def client_trees(tmp_path_factory):
    base = tmp_path_factory.mktemp('trees')
    return make_client_trees(base)


def test_upgrade_package_applied_to_c1_gives_c2(client_trees, tmp_path):
    c1, c2 = client_trees
    assert sum(len(f) for _b, _d, f in os.walk(c1)) >= 2000
    result = P.build_upgrade_package('c-1', 'c-2', c1, c2, str(tmp_path / 'out'))
    counts = result['counts']
    assert counts['changed'] >= 200 + 33 and counts['removed'] >= 200 and counts['added'] >= 250
    assert counts['added_dirs'] >= 2 and counts['removed_dirs'] >= 2
    with tarfile.open(result['path']) as tar:
        names = tar.getnames()
        manifest = json.loads(tar.extractfile('manifest.json').read())
    assert names[0] == 'manifest.json'
    assert manifest['from_version'] == 'c-1' and manifest['to_version'] == 'c-2'
    for item in manifest['added'] + manifest['changed']:
        assert set(item) >= set(['path', 'sha256', 'size'])
        assert 'files/' + item['path'] in names
    assert set(manifest['removed'][0]) == set(['path', 'sha256', 'size'])
    # Unchanged files are not carried.
    carried = set(n[len('files/'):] for n in names if n.startswith('files/'))
    assert len(carried & set(i['path'] for i in manifest['added'] + manifest['changed'])) == \
        counts['added'] + counts['changed']

    c1_before = tree_state(c1)
    tree = clone(c1, tmp_path / 'applied')
    P.apply_upgrade(result['path'], str(tree), 'c-1', 'c-2')
    assert P.compare_trees(P.snapshot_tree(str(tree)), P.snapshot_tree(c2)) == []
    assert tree_state(tree) == tree_state(c2)
    assert tree_state(c1) == c1_before  # applying never wrote through the shared inodes
    assert P.verify_upgrade_package(result['path'], 'c-1', 'c-2', c1, c2)['differences'] == []


def test_upgrade_package_is_reproducible(client_trees, tmp_path):
    c1, c2 = client_trees
    one = P.build_upgrade_package('c-1', 'c-2', c1, c2, str(tmp_path / 'one'))
    two = P.build_upgrade_package('c-1', 'c-2', c1, c2, str(tmp_path / 'two'))
    with open(one['path'], 'rb') as a, open(two['path'], 'rb') as b:
        assert a.read() == b.read()
    again = P.build_upgrade_package('c-1', 'c-2', c1, c2, str(tmp_path / 'one'))
    assert not again['changed']


def test_upgrade_package_from_archived_trees(tmp_path):
    # Smaller trees: extracting 2 x 2,000 files twice costs more than it proves.
    c1, c2 = make_client_trees(tmp_path, files=300, seed=3)
    one = P.build_upgrade_package('c-1', 'c-2', c1, c2, str(tmp_path / 'one'))
    c1_tgz = tar_dir(c1, tmp_path / 'c-1.tar.gz')
    c2_tgz = tar_dir(c2, tmp_path / 'c-2.tar.gz')
    two = P.build_upgrade_package('c-1', 'c-2', c1_tgz, c2_tgz, str(tmp_path / 'two'))
    with open(one['path'], 'rb') as a, open(two['path'], 'rb') as b:
        assert a.read() == b.read()
    assert P.verify_upgrade_package(one['path'], 'c-1', 'c-2', c1_tgz, c2_tgz)['differences'] == []
    assert P.verify_upgrade_package(one['path'], 'c-1', 'c-2', c1, c2_tgz)['differences'] == []


def test_verify_reports_differences(client_trees, tmp_path):
    c1, c2 = client_trees
    other = clone(c2, tmp_path / 'c-2b')
    _write(other, 'added/empty', b'not empty any more')
    os.unlink(os.path.join(other, 'swap_to_file'))
    result = P.build_upgrade_package('c-1', 'c-2', c1, c2, str(tmp_path / 'out'))
    differences = P.verify_upgrade_package(result['path'], 'c-1', 'c-2', c1, str(other))['differences']
    assert 'content of added/empty differs (0 bytes, expected 18)' in differences
    assert 'unexpected file swap_to_file' in differences


def test_apply_to_the_wrong_tree_changes_nothing(client_trees, tmp_path):
    c1, c2 = client_trees
    result = P.build_upgrade_package('c-1', 'c-2', c1, c2, str(tmp_path / 'out'))
    tree = clone(c2, tmp_path / 'wrong')
    before = tree_state(tree)
    with pytest.raises(P.PackageError) as err:
        P.apply_upgrade(result['path'], str(tree))
    assert 'cannot apply' in str(err.value) and 'c-1' in str(err.value)
    assert tree_state(tree) == before


def _upgrade_tgz(path, manifest, payload):
    members = [(tinfo('manifest.json', data=manifest), manifest)]
    for rel, data in payload.items():
        members.append((tinfo('files/' + rel, data=data), data))
    return write_tgz(path, members)


def _manifest(**kw):
    doc = {'format': 1, 'from_version': 'c-1', 'to_version': 'c-2', 'added': [], 'changed': [], 'removed': [],
           'added_dirs': [], 'removed_dirs': []}
    doc.update(kw)
    return json.dumps(doc).encode()


def test_hostile_upgrade_packages(tmp_path):
    tree = tmp_path / 'tree'
    _write(tree, 'keep.txt', b'keep')
    (tmp_path / 'victim').write_bytes(b'victim')
    sha = hashlib.sha256(b'victim').hexdigest()
    cases = {
        'traversal_in_manifest': (_manifest(removed=[{'path': '../victim', 'sha256': sha, 'size': 6}]), {},
                                  "'..'"),
        'absolute_in_manifest': (_manifest(removed=[{'path': '/etc/passwd', 'sha256': sha, 'size': 6}]), {},
                                 'absolute'),
        'payload_not_in_manifest': (_manifest(), {'extra.bin': b'x'}, "'files/extra.bin'"),
        'payload_mismatch': (_manifest(added=[{'path': 'a', 'sha256': sha, 'size': 6, 'mode': '0644'}]),
                             {'a': b'other!'}, "'files/a'"),
        'bad_format': (b'{"format": 2}', {}, 'unsupported format'),
        'wrong_versions': (_manifest(from_version='c-0'), {}, "'c-0'"),
    }
    before = tree_state(tmp_path)
    for case, (manifest, payload, word) in cases.items():
        path = _upgrade_tgz(tmp_path / 'c-1_c-2.tar.gz', manifest, payload)
        state = tree_state(tmp_path)
        with pytest.raises(P.PackageError) as err:
            P.apply_upgrade(path, str(tree))
        assert word in str(err.value), (case, str(err.value))
        assert tree_state(tmp_path) == state, case
        os.unlink(path)
    assert tree_state(tmp_path) == before
    manifest = (tinfo('manifest.json', data=_manifest()), _manifest())
    escape = write_tgz(tmp_path / 'c-1_c-2.tar.gz', [manifest, (tinfo('files/x', 'symlink', linkname='/etc'), None)])
    with pytest.raises(P.UnsafeArchiveError) as err:
        P.apply_upgrade(escape, str(tree))
    assert "'files/x'" in str(err.value)
    os.unlink(escape)
    extra = write_tgz(tmp_path / 'c-1_c-2.tar.gz', [manifest, (tinfo('install.sh', data=b'rm -rf /'), b'rm -rf /')])
    with pytest.raises(P.UnsafeArchiveError) as err:
        P.apply_upgrade(extra, str(tree))
    assert "'install.sh'" in str(err.value)
    assert (tmp_path / 'victim').read_bytes() == b'victim'


def test_trees_with_symlinks_are_refused(tmp_path):
    c1 = tmp_path / 'c1'
    c2 = tmp_path / 'c2'
    _write(c1, 'a', b'a')
    _write(c2, 'a', b'b')
    os.symlink('a', str(c2 / 'link'))
    with pytest.raises(P.PackageError) as err:
        P.build_upgrade_package('c-1', 'c-2', str(c1), str(c2), str(tmp_path / 'out'))
    assert 'link' in str(err.value) and 'symlink' in str(err.value)
    assert not (tmp_path / 'out').exists()
