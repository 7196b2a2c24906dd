# -*- coding: utf-8 -*-
"""module_utils/_server_package.py: server packages built, read back exactly, and refused when
hostile or malformed (naming the package and the member) without anything being written."""

import hashlib
import json
import os
import shutil
import tarfile

import pytest

import packagekit as pk
from ansible_collections.gameops.elastic_release.plugins.module_utils._package.archive import UnsafeArchiveError
from ansible_collections.gameops.elastic_release.plugins.module_utils._package.archive_writer import PackageExists
from ansible_collections.gameops.elastic_release.plugins.module_utils._release.config import MAX_CONFIG_BYTES, parse_config
from ansible_collections.gameops.elastic_release.plugins.module_utils._package.pkgname import PackageError
from ansible_collections.gameops.elastic_release.plugins.module_utils._package.server_package import (
    build_server_package, check_server_package, read_package_for_publish, read_server_package)


def build(src, dest, release='production', config=None, **kw):
    return build_server_package(str(src), str(dest), release, 'my-game', '190122.01',
                                parse_config(config or pk.CONFIG), **kw)


def test_build_reads_back_exactly(tmp_path):
    src = pk.make_src(tmp_path / 'src')
    result = build(src, tmp_path / 'out')
    assert result['changed'] and result['package'] == 'my-game-production-190122.01.tar.gz'
    package = read_server_package(result['path'], expected_release='production', hash_members=True)
    assert package.indicator == {'name': 'production'}
    assert package.config.to_dict() == parse_config(pk.CONFIG).to_dict()
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
    src = pk.make_src(tmp_path / 'src')
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
    src = pk.make_src(tmp_path / 'src')
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
    assert not build(src, dest, check=True)['changed'] and again['action'] == 'unchanged'


def test_a_package_of_the_same_build_with_other_content_is_refused_unless_forced(tmp_path):
    """A package name stands for one build: rebuilding it from other inputs would leave two packages
    under one name on the hosts. Refused, naming both checksums, the file kept byte for byte (check
    mode too); force replaces it."""
    src = pk.make_src(tmp_path / 'src')
    dest = tmp_path / 'out'
    real = build(src, dest)
    assert real['action'] == 'created'
    with open(real['path'], 'rb') as f:
        before = f.read()
    other = dict(pk.CONFIG, versions=['1.2.0'])
    for check in (True, False):
        with pytest.raises(PackageExists) as exc:
            build(src, dest, config=other, check=check)
        assert str(exc.value).startswith('%s exists with other content (sha256 %s; this build gives ' % (
            real['path'], real['sha256']))
        assert 'build under a new build id, or replace it' in str(exc.value) and exc.value.path == real['path']
        with open(real['path'], 'rb') as f:
            assert f.read() == before
        assert sorted(os.listdir(str(dest))) == ['my-game-production-190122.01.tar.gz']  # no temp file left
    assert build(src, dest, config=other, check=True, force=True)['action'] == 'replaced'
    replaced = build(src, dest, config=other, force=True)
    assert replaced['changed'] and replaced['action'] == 'replaced' and replaced['sha256'] != real['sha256']


def test_mtime_option(tmp_path):
    src = pk.make_src(tmp_path / 'src')
    result = build(src, tmp_path / 'out', mtime=1548115200)
    with tarfile.open(result['path']) as tar:
        assert set(i.mtime for i in tar.getmembers()) == set([1548115200])
    with pytest.raises(PackageError):
        build(src, tmp_path / 'neg', mtime=-1)


def test_build_refuses_bad_sources(tmp_path):
    src = pk.make_src(tmp_path / 'src')
    os.symlink('/etc/passwd', os.path.join(src, 'lib/abs'))
    with pytest.raises(PackageError) as err:
        build(src, tmp_path / 'out')
    assert 'lib/abs' in str(err.value) and 'absolute' in str(err.value)
    os.unlink(os.path.join(src, 'lib/abs'))
    os.symlink('../../outside', os.path.join(src, 'lib/up'))
    with pytest.raises(PackageError) as err:
        build(src, tmp_path / 'out')
    assert "'lib/up'" in str(err.value) and 'leaves' in str(err.value)
    os.unlink(os.path.join(src, 'lib/up'))
    os.mkfifo(os.path.join(src, 'lib/pipe'))
    with pytest.raises(PackageError) as err:
        build(src, tmp_path / 'out')
    assert 'lib/pipe' in str(err.value)
    os.unlink(os.path.join(src, 'lib/pipe'))
    pk.write_file(src, 'version/stray.txt', b'x')
    with pytest.raises(PackageError) as err:
        build(src, tmp_path / 'out')
    assert 'version/stray.txt' in str(err.value)
    assert not (tmp_path / 'out').exists() or os.listdir(str(tmp_path / 'out')) == []


def test_old_filecache_in_source_is_left_out(tmp_path):
    src = pk.make_src(tmp_path / 'src')
    pk.write_file(src, 'filecache/config.zoo', b'{"versions": ["stale"]}')
    result = build(src, tmp_path / 'out')
    assert result['ignored'] == ['filecache']
    package = read_server_package(result['path'])
    assert 'stale' not in package.config.versions


def test_read_package_for_publish(tmp_path):
    result = build(pk.make_src(tmp_path / 'src'), tmp_path / 'out')
    config, indicator = read_package_for_publish(result['path'], 'production')
    assert config.to_dict() == parse_config(pk.CONFIG).to_dict()
    assert json.loads(indicator) == {'name': 'production'}
    with pytest.raises(PackageError) as err:
        read_package_for_publish(result['path'], 'gray1')
    assert "'production'" in str(err.value) and "'gray1'" in str(err.value)


@pytest.mark.parametrize('case', sorted(pk.hostile_cases()))
def test_hostile_archives_are_refused_naming_the_member(tmp_path, case):
    members, words = pk.hostile_cases()[case]
    path = pk.write_tgz(tmp_path / 'mygame-production-1.tar.gz', members)
    before = pk.tree_state(tmp_path)
    with pytest.raises(PackageError) as err:
        read_server_package(path)
    message = str(err.value)
    assert message.startswith('mygame-production-1.tar.gz'), message
    for word in words:
        assert word in message, message
    assert pk.tree_state(tmp_path) == before


def test_unsafe_archives_are_refused_before_the_package_checks(tmp_path):
    members, _words = pk.hostile_cases()['traversal']
    path = pk.write_tgz(tmp_path / 'mygame-production-1.tar.gz', members)
    with pytest.raises(UnsafeArchiveError):
        read_server_package(path)
    members, _words = pk.hostile_cases()['missing_indicator']
    path = pk.write_tgz(tmp_path / 'mygame-production-2.tar.gz', members)
    with pytest.raises(PackageError) as err:
        read_server_package(path)
    assert not isinstance(err.value, UnsafeArchiveError)


def test_problems_are_reported_not_raised(tmp_path):
    members = pk.valid_members() + [
        (pk.tinfo('README', data=b'x'), b'x'),
        (pk.tinfo('version/stray', data=b'x'), b'x'),
        (pk.tinfo('lib/suid', data=b'x', mode=0o4755), b'x'),
        (pk.tinfo('filecache/notes.txt', data=b'x'), b'x'),
    ]
    members = [m for m in members if not m[0].name.startswith('lib/a')]
    path = pk.write_tgz(tmp_path / 'mygame-production-1.tar.gz', members)
    package = read_server_package(path)
    text = '\n'.join(package.problems)
    for word in ("'README'", "'version/stray'", "'lib/suid'", "'filecache/notes.txt'"):
        assert word in text
    assert package.components == {'gameserver': ['dev.1']}


def test_expected_release_mismatch_names_both(tmp_path):
    path = pk.write_tgz(tmp_path / 'mygame-production-1.tar.gz', pk.valid_members())
    with pytest.raises(PackageError) as err:
        read_server_package(path, expected_release='gray1')
    assert "'production'" in str(err.value) and "'gray1'" in str(err.value)


def test_check_server_package_gives_the_one_wording_of_a_refusal(tmp_path):
    good = pk.write_tgz(tmp_path / 'mygame-production-1.tar.gz', pk.valid_members())
    package, result, error = check_server_package(good, expected_release='production')
    assert error is None and result == package.to_dict() and result['release'] == 'production'
    odd = pk.write_tgz(tmp_path / 'mygame-production-2.tar.gz', pk.valid_members() + [(pk.tinfo('README', data=b'x'), b'x')])
    package, result, error = check_server_package(odd)
    assert package is not None and error == ("server package mygame-production-2.tar.gz has 1 problem(s): unexpected "
                                             "top-level member 'README' (a server package holds only filecache, lib, version)")
    package, result, error = check_server_package(good, expected_release='gray1')
    assert package is None and result == {'path': good, 'problems': []}
    assert error == ("cannot read server package %s: package mygame-production-1.tar.gz is release 'production', "
                     "not the expected release 'gray1'" % good)


def test_config_and_indicator_members_are_read_within_their_limits(tmp_path):
    # The config.zoo limit is _config's MAX_CONFIG_BYTES, the same as for a config file.
    big = b' ' * (MAX_CONFIG_BYTES + 1)
    members = [m for m in pk.valid_members() if not m[0].name.endswith('.config.zoo')]
    path = pk.write_tgz(tmp_path / 'mygame-production-1.tar.gz',
                        members + [(pk.tinfo('filecache/production.config.zoo', data=big), big)])
    with pytest.raises(PackageError) as err:
        read_server_package(path)
    assert str(err.value) == ("mygame-production-1.tar.gz: member 'filecache/production.config.zoo': larger than "
                              "the %d-byte limit" % MAX_CONFIG_BYTES)
    big = b'{"name": "production", "pad": "%s"}' % (b'x' * 70000)
    path = pk.write_tgz(tmp_path / 'mygame-production-2.tar.gz', pk.valid_members(indicator=big))
    with pytest.raises(PackageError) as err:
        read_server_package(path)
    assert "member 'filecache/release_indicator.json': larger than the 65536-byte limit" in str(err.value)
