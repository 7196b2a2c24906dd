# -*- coding: utf-8 -*-
"""module_utils/_deploy.py: the plan (pure) and deploys into real install roots under tmp_path.

What is on disk is read with os and hashlib, never with the code under test: the files of a
release stay byte for byte when another release deploys, a refused package leaves the install
root as it was (compared with packagekit.tree_state), the links say which build provides a version.
"""

import hashlib
import io
import json
import os
import tarfile

import pytest

import packagekit as pk
from ansible_collections.gameops.elastic_release.plugins.module_utils._host import deploy as _deploy
from ansible_collections.gameops.elastic_release.plugins.module_utils._package.archive import Member, UnsafeArchiveError
from ansible_collections.gameops.elastic_release.plugins.module_utils._host.deploy import deploy
from ansible_collections.gameops.elastic_release.plugins.module_utils._host.deploy_plan import (
    Build, DeployError, link_owner, plan_deploy, version_digests)
from ansible_collections.gameops.elastic_release.plugins.module_utils._release.names import InvalidName
from ansible_collections.gameops.elastic_release.plugins.module_utils._package.pkgname import PackageError

SHA = 'a' * 64


def package(where, release, build, versions=None, extra=(), lib=b'lib of %(release)s %(build)s'):
    """mygame-{release}-{build}.tar.gz with version/{service}/{version}/bin/{service} for each
    ((service, version): content) of versions, written with tarfile."""
    versions = versions if versions is not None else {('gameserver', 'dev.1'): b'#!/bin/sh\necho dev.1\n'}
    members = [m for m in pk.valid_members(release) if not m[0].name.startswith(('lib/', 'version/'))]
    data = lib % {b'release': release.encode(), b'build': build.encode()}
    members.append((pk.tinfo('lib/a.so', data=data), data))
    for (service, version), content in sorted(versions.items()):
        members.append((pk.tinfo('version/%s/%s/bin/%s' % (service, version, service), data=content, mode=0o755),
                        content))
    members.extend(extra)
    os.makedirs(str(where), exist_ok=True)
    return pk.write_tgz(os.path.join(str(where), 'mygame-%s-%s.tar.gz' % (release, build)), members)


def sha(path):
    with open(path, 'rb') as handle:
        return hashlib.sha256(handle.read()).hexdigest()


def files_of(root, release):
    """{path: sha256} of every file under builds/{release}/, read through os."""
    out = {}
    base = os.path.join(root, 'builds', release)
    for dirpath, _dirs, files in os.walk(base):
        for name in files:
            full = os.path.join(dirpath, name)
            out[os.path.relpath(full, base)] = sha(full)
    return out


def links(root):
    out = {}
    for top in ('current', 'version'):
        for dirpath, dirs, files in os.walk(os.path.join(root, top)):
            for name in dirs + files:
                full = os.path.join(dirpath, name)
                if os.path.islink(full):
                    out[os.path.relpath(full, root)] = os.readlink(full)
    return out


@pytest.fixture
def root(tmp_path):
    return str(tmp_path / 'game')


# ---- the pure parts --------------------------------------------------------------------------

def test_version_digests_are_the_content_of_each_version_directory():
    def members(mode=0o755, data_sha=SHA, dirs=True):
        out = [Member('version/gs/dev.1/bin/gs', 'file', mode, 3, sha256=data_sha),
               Member('version/gs/dev.1/etc/link', 'symlink', 0o777, linkname='../bin/gs'),
               Member('version/gs/dev.2/bin/gs', 'file', 0o755, 3, sha256='b' * 64),
               Member('lib/a.so', 'file', 0o644, 1, sha256='c' * 64)]
        if dirs:
            out[:0] = [Member('version', 'dir', 0o755), Member('version/gs', 'dir', 0o755),
                       Member('version/gs/dev.1', 'dir', 0o755), Member('version/gs/dev.1/bin', 'dir', 0o755)]
        return out
    components = {'gs': ['dev.1', 'dev.2']}
    base = version_digests(members(), components)
    assert sorted(base['gs']) == ['dev.1', 'dev.2'] and 'lib' not in base
    # Directory entries or not, group-execute only or 0755: unpacked, the same tree.
    assert version_digests(members(dirs=False), components) == base
    assert version_digests(members(mode=0o750), components) == base
    assert version_digests(members(mode=0o644), components)['gs']['dev.1'] != base['gs']['dev.1']
    changed = version_digests(members(data_sha='d' * 64), components)
    assert changed['gs']['dev.1'] != base['gs']['dev.1'] and changed['gs']['dev.2'] == base['gs']['dev.2']
    # Only the versions the layout check accepted get a digest (and so a link).
    assert version_digests(members(), {'gs': ['dev.2']}) == {'gs': {'dev.2': base['gs']['dev.2']}}


def test_link_owner_knows_only_the_links_deploy_makes():
    assert link_owner('version/gs/dev.1', '../../builds/gray1/02/version/gs/dev.1') == ('gray1', '02')
    assert link_owner('current/gray1', '../builds/gray1/02') == ('gray1', '02')
    for path, target in (('version/gs/dev.1', '../../builds/gray1/02/version/gs/dev.2'),
                         ('version/gs/dev.1', '/opt/game/version/gs/dev.1'),
                         ('version/gs/dev.1', None),
                         ('current/gray1', '../builds/production/02'),
                         ('current/gray1', '../../builds/gray1/02')):
        assert link_owner(path, target) is None, (path, target)


def build(release, name, versions, deployed='2026-01-01T00:00:00Z', digest=SHA):
    return Build(release, name, 'mygame-%s-%s.tar.gz' % (release, name), digest, deployed,
                 dict((s, dict((v, d) for (s2, v), d in versions.items() if s2 == s)) for s, _v in versions))


def test_plan_keeps_n_and_repoints_a_version_a_kept_build_still_provides():
    old = [build('gray1', '0%d' % i, {('gs', 'dev.%d' % i): 'd%d' % i, ('gs', 'shared'): 'S'},
                 deployed='2026-01-0%dT00:00:00Z' % i) for i in (3, 2, 1)]
    on_disk = {'version/gs/shared': '../../builds/gray1/01/version/gs/shared', 'current/gray1': '../builds/gray1/03'}
    for b in old:
        on_disk['version/gs/dev.%s' % b.build[-1]] = '../../builds/gray1/%s/version/gs/dev.%s' % (b.build, b.build[-1])
    new = build('gray1', '04', {('gs', 'dev.4'): 'd4', ('gs', 'shared'): 'S'}, deployed='2026-01-04T00:00:00Z')
    plan = plan_deploy({'gray1': old}, new, 2, on_disk)
    assert [b.build for b in plan.records['gray1']] == ['04', '03'] and [b.build for b in plan.removed] == ['02', '01']
    assert plan.unpack
    assert plan.links == {
        'current/gray1': ('../builds/gray1/03', '../builds/gray1/04'),
        'version/gs/dev.4': (None, '../../builds/gray1/04/version/gs/dev.4'),
        'version/gs/dev.2': ('../../builds/gray1/02/version/gs/dev.2', None),
        'version/gs/dev.1': ('../../builds/gray1/01/version/gs/dev.1', None),
        # its build goes: the link moves to a kept build with the same content (the newest)
        'version/gs/shared': ('../../builds/gray1/01/version/gs/shared', '../../builds/gray1/04/version/gs/shared'),
    }


def test_plan_refuses_other_content_under_a_version_another_release_provides():
    prod = build('production', '01', {('gs', 'dev.1'): 'P'})
    with pytest.raises(DeployError) as err:
        plan_deploy({'production': [prod]}, build('gray1', '01', {('gs', 'dev.1'): 'G'}), 5, {})
    assert "member 'version/gs/dev.1/'" in str(err.value) and 'release production (build 01' in str(err.value)
    # The same content is shared: the link stays on production's build.
    link = {'version/gs/dev.1': '../../builds/production/01/version/gs/dev.1', 'current/production': '../builds/production/01'}
    plan = plan_deploy({'production': [prod]}, build('gray1', '01', {('gs', 'dev.1'): 'P'}), 5, link)
    assert plan.links == {'current/gray1': (None, '../builds/gray1/01')}
    # Within one release the newest build's content wins.
    plan = plan_deploy({'gray1': [build('gray1', '01', {('gs', 'dev.1'): 'A'})]},
                       build('gray1', '02', {('gs', 'dev.1'): 'B'}), 5,
                       {'version/gs/dev.1': '../../builds/gray1/01/version/gs/dev.1'})
    assert plan.links['version/gs/dev.1'][1] == '../../builds/gray1/02/version/gs/dev.1'


def test_plan_never_overwrites_what_deploy_did_not_make():
    new = build('gray1', '01', {('gs', 'dev.1'): 'G'})
    for on_disk in ({'version/gs/dev.1': None}, {'version/gs/dev.1': '/opt/elsewhere'}, {'version/gs': None},
                    {'current/gray1': None}):
        with pytest.raises(DeployError) as err:
            plan_deploy({}, new, 5, on_disk)
        assert 'deploy did not make it' in str(err.value) and 'move it away' in str(err.value), on_disk
    # Entries it does not need are left alone.
    plan = plan_deploy({}, new, 5, {'version/gs/dev.9': None, 'version/other/x': '/opt/x'})
    assert set(plan.links) == {'current/gray1', 'version/gs/dev.1'}


def test_plan_refuses_another_package_under_a_deployed_build_name():
    old = build('gray1', '01', {('gs', 'dev.1'): 'G'}, digest='a' * 64)
    with pytest.raises(DeployError) as err:
        plan_deploy({'gray1': [old]}, build('gray1', '01', {}, digest='b' * 64), 5, {})
    assert 'already deployed from a package with another content' in str(err.value)


# ---- deploys on disk ---------------------------------------------------------------------------

def test_deploy_rerun_second_release_and_keep(root, tmp_path):
    dist = tmp_path / 'dist'
    prod = package(dist, 'production', '01')
    result = deploy(prod, 'production', root)
    assert result['changed'] and result['action'] == 'unpacked' and result['unpacked']['members'] == 7
    program = os.path.join(root, 'version', 'gameserver', 'dev.1', 'bin', 'gameserver')
    with open(program, 'rb') as handle:
        assert handle.read() == b'#!/bin/sh\necho dev.1\n'
    assert os.stat(program).st_mode & 0o777 == 0o755
    assert os.path.realpath(program) == os.path.join(root, 'builds', 'production', '01', 'version', 'gameserver',
                                                     'dev.1', 'bin', 'gameserver')
    assert deploy(prod, 'production', root)['changed'] is False

    # Another release into the same root: production's files do not change, dev.1 (same content) is shared.
    before = files_of(root, 'production')
    gray = package(dist, 'gray1', '01', versions={('gameserver', 'dev.1'): b'#!/bin/sh\necho dev.1\n',
                                                  ('gameserver', 'dev.2'): b'#!/bin/sh\necho dev.2\n'})
    result = deploy(gray, 'gray1', root)
    assert result['changed'] and files_of(root, 'production') == before
    assert links(root) == {
        'current/production': '../builds/production/01',
        'current/gray1': '../builds/gray1/01',
        'version/gameserver/dev.1': '../../builds/production/01/version/gameserver/dev.1',
        'version/gameserver/dev.2': '../../builds/gray1/01/version/gameserver/dev.2',
    }

    # Keep 2 builds of gray1: 01 goes, dev.2 (only 01 had it) goes, dev.1 stays on production.
    deploy(package(dist, 'gray1', '02', versions={('gameserver', 'dev.3'): b'3'}), 'gray1', root, keep=2)
    result = deploy(package(dist, 'gray1', '03', versions={('gameserver', 'dev.1'): b'#!/bin/sh\necho dev.1\n'}),
                    'gray1', root, keep=2)
    assert result['kept'] == ['03', '02'] and [r['build'] for r in result['removed']] == ['01']
    assert sorted(os.listdir(os.path.join(root, 'builds', 'gray1'))) == ['02', '03']
    assert not os.path.lexists(os.path.join(root, 'version', 'gameserver', 'dev.2'))
    assert links(root)['version/gameserver/dev.1'] == '../../builds/production/01/version/gameserver/dev.1'
    assert files_of(root, 'production') == before

    # Production goes to a build without dev.1 and keeps one build: dev.1 moves to gray1's copy.
    deploy(package(dist, 'production', '02', versions={('gameserver', 'dev.4'): b'4'}), 'production', root, keep=1)
    assert links(root)['version/gameserver/dev.1'] == '../../builds/gray1/03/version/gameserver/dev.1'
    assert sorted(os.listdir(os.path.join(root, 'builds', 'production'))) == ['02']
    with open(program, 'rb') as handle:
        assert handle.read() == b'#!/bin/sh\necho dev.1\n'


def test_redeploying_a_kept_build_makes_it_current(root, tmp_path):
    one = package(tmp_path, 'gray1', '01')
    two = package(tmp_path, 'gray1', '02', versions={('gameserver', 'dev.2'): b'2'})
    deploy(one, 'gray1', root)
    deploy(two, 'gray1', root)
    result = deploy(one, 'gray1', root)
    assert result['changed'] and result['action'] == 'switched' and result['kept'] == ['01', '02']
    assert links(root)['current/gray1'] == '../builds/gray1/01'
    assert deploy(one, 'gray1', root)['changed'] is False


@pytest.mark.parametrize('case', sorted(pk.hostile_cases()))
def test_a_hostile_package_unpacks_nothing(case, root, tmp_path):
    deploy(package(tmp_path / 'ok', 'production', '01'), 'production', root)
    state = pk.tree_state(root)
    members, words = pk.hostile_cases()[case]
    path = pk.write_tgz(tmp_path / 'mygame-production-02.tar.gz', members)
    with pytest.raises(PackageError) as err:
        deploy(path, 'production', root)
    for word in words:
        assert word in str(err.value), (case, str(err.value))
    assert pk.tree_state(root) == state


def test_a_bomb_and_a_package_of_another_release_unpack_nothing(root, tmp_path):
    with pytest.raises(UnsafeArchiveError) as err:
        deploy(pk.bomb_tgz(tmp_path / 'mygame-gray1-09.tar.gz', 'gray1'), 'gray1', root)
    assert "'lib/zeros.bin'" in str(err.value) and 'zip bomb' in str(err.value)
    prod = package(tmp_path, 'production', '01')
    with pytest.raises(DeployError) as err:
        deploy(prod, 'gray1', root)
    assert "is release 'production', not the expected release 'gray1'" in str(err.value)
    # The name says gray1, the indicator production.
    renamed = tmp_path / 'mygame-gray1-01.tar.gz'
    os.rename(prod, str(renamed))
    with pytest.raises(PackageError) as err:
        deploy(str(renamed), 'gray1', root)
    assert "'filecache/release_indicator.json'" in str(err.value) and "'production'" in str(err.value)
    assert not os.path.exists(root)
    with pytest.raises(InvalidName):
        deploy(str(renamed), 'Gray1', root)


def test_symlinks_and_hardlinks_are_unpacked_inside_the_build(root, tmp_path):
    extra = [(pk.tinfo('lib/a.so.1', 'symlink', linkname='a.so'), None),
             (pk.tinfo('version/gameserver/dev.1/bin/gs-link', 'hardlink', linkname='version/gameserver/dev.1/bin/gameserver'),
              None),
             (pk.tinfo('version/gameserver/dev.1/lib', 'symlink', linkname='../../../lib'), None)]
    deploy(package(tmp_path, 'gray1', '01', extra=extra), 'gray1', root)
    build_dir = os.path.join(root, 'builds', 'gray1', '01')
    assert os.readlink(os.path.join(build_dir, 'lib', 'a.so.1')) == 'a.so'
    program = os.path.join(build_dir, 'version', 'gameserver', 'dev.1', 'bin')
    assert os.stat(os.path.join(program, 'gs-link')).st_ino == os.stat(os.path.join(program, 'gameserver')).st_ino
    with open(os.path.join(root, 'version', 'gameserver', 'dev.1', 'lib', 'a.so'), 'rb') as handle:
        assert handle.read() == b'lib of gray1 01'


def test_modes_do_not_depend_on_the_umask(root, tmp_path):
    old = os.umask(0o077)
    try:
        deploy(package(tmp_path, 'gray1', '01'), 'gray1', root)
    finally:
        os.umask(old)
    build_dir = os.path.join(root, 'builds', 'gray1', '01')
    assert os.stat(build_dir).st_mode & 0o777 == 0o755
    assert os.stat(os.path.join(build_dir, 'lib')).st_mode & 0o777 == 0o755
    assert os.stat(os.path.join(build_dir, 'lib', 'a.so')).st_mode & 0o777 == 0o644


def test_check_mode_writes_nothing_and_says_what_would_change(root, tmp_path):
    path = package(tmp_path, 'gray1', '01')
    result = deploy(path, 'gray1', root, check=True)
    assert result['changed'] and result['action'] == 'unpacked' and not os.path.exists(root)
    assert 'builds/gray1/01  mygame-gray1-01.tar.gz' in result['diff']['after'] and result['diff']['before'] == ''
    assert 'version/gameserver/dev.1 -> ../../builds/gray1/01/version/gameserver/dev.1' in result['diff']['after']
    deploy(path, 'gray1', root)
    state = pk.tree_state(root)
    two = package(tmp_path, 'gray1', '02', versions={('gameserver', 'dev.2'): b'2'})
    result = deploy(two, 'gray1', root, check=True, keep=1)
    assert [r['build'] for r in result['removed']] == ['01'] and pk.tree_state(root) == state
    # A package check mode did not copy: planned from its name.
    result = deploy(str(tmp_path / 'mygame-gray1-03.tar.gz'), 'gray1', root, check=True, keep=1)
    assert result['changed'] and result['action'] == 'unpacked' and 'not on the host yet' in result['note']
    assert pk.tree_state(root) == state
    with pytest.raises(DeployError) as err:
        deploy(str(tmp_path / 'mygame-gray1-03.tar.gz'), 'gray1', root)
    assert 'no package at' in str(err.value)


def test_what_deploy_did_not_make_is_never_overwritten(root, tmp_path):
    os.makedirs(os.path.join(root, 'version', 'gameserver', 'dev.1', 'bin'))
    state = pk.tree_state(root)
    with pytest.raises(DeployError) as err:
        deploy(package(tmp_path, 'gray1', '01'), 'gray1', root)
    assert 'version/gameserver/dev.1 exists and deploy did not make it' in str(err.value)
    assert pk.tree_state(root) == state
    os.makedirs(os.path.join(root, 'builds', 'gray1', '01'))
    with pytest.raises(DeployError) as err:
        deploy(package(tmp_path, 'gray1', '01', versions={('gameserver', 'dev.2'): b'2'}), 'gray1', root)
    assert 'exists but no deploy record names it' in str(err.value)


def test_a_rebuilt_package_under_a_deployed_build_name_is_refused(root, tmp_path):
    deploy(package(tmp_path / 'a', 'gray1', '01'), 'gray1', root)
    state = pk.tree_state(root)
    with pytest.raises(DeployError) as err:
        deploy(package(tmp_path / 'b', 'gray1', '01', lib=b'rebuilt'), 'gray1', root)
    assert 'already deployed from a package with another content' in str(err.value)
    assert pk.tree_state(root) == state


def test_an_interrupted_deploy_is_recovered_by_the_next_run(root, tmp_path, monkeypatch):
    path = package(tmp_path, 'gray1', '01')

    def crash(*_args):
        raise OSError('disk gone')
    monkeypatch.setattr(_deploy.InstallRoot, 'switch', crash)
    with pytest.raises(OSError):
        deploy(path, 'gray1', root)
    monkeypatch.undo()
    # Unpacked and recorded, links missing: the rerun finishes the job.
    result = deploy(path, 'gray1', root)
    assert result['changed'] and result['action'] == 'switched' and 'current/gray1' in [x['path'] for x in result['links']]
    # Leftovers of a crash (a half-unpacked directory, a build being removed) are cleaned.
    os.makedirs(os.path.join(root, 'builds', 'gray1', '.unpack-02.x', 'lib'))
    os.makedirs(os.path.join(root, 'builds', 'gray1', '.remove-00.1'))
    result = deploy(path, 'gray1', root)
    assert result['changed'] and sorted(result['repaired']) == ['builds/gray1/.remove-00.1', 'builds/gray1/.unpack-02.x']
    assert os.listdir(os.path.join(root, 'builds', 'gray1')) == ['01']
    assert deploy(path, 'gray1', root)['changed'] is False
    # A build whose directory was removed by hand is unpacked again.
    os.rename(os.path.join(root, 'builds', 'gray1', '01'), str(tmp_path / 'away'))
    result = deploy(path, 'gray1', root)
    assert result['action'] == 'unpacked' and os.path.isfile(os.path.join(root, 'version', 'gameserver', 'dev.1',
                                                                          'bin', 'gameserver'))


def test_removed_builds_take_their_copied_package_along(root, tmp_path):
    cache = tmp_path / 'packages'
    one = package(cache, 'gray1', '01')
    two = package(cache, 'gray1', '02', versions={('gameserver', 'dev.2'): b'2'})
    elsewhere = package(tmp_path / 'dist', 'gray1', '03', versions={('gameserver', 'dev.3'): b'3'})
    deploy(one, 'gray1', root, package_dir=str(cache))
    deploy(two, 'gray1', root, package_dir=str(cache), keep=1)
    assert sorted(os.listdir(str(cache))) == ['mygame-gray1-02.tar.gz']
    deploy(elsewhere, 'gray1', root, keep=1)        # no package_dir: nothing is removed from it
    assert sorted(os.listdir(str(cache))) == ['mygame-gray1-02.tar.gz']


def test_a_second_deploy_waits_for_the_lock(root, tmp_path):
    import fcntl
    path = package(tmp_path, 'gray1', '01')
    deploy(path, 'gray1', root)
    held = os.open(root, os.O_RDONLY)
    try:
        fcntl.flock(held, fcntl.LOCK_EX)
        with pytest.raises(DeployError) as err:
            deploy(package(tmp_path, 'gray1', '02'), 'gray1', root, lock_timeout=0)
    finally:
        os.close(held)
    assert 'another deploy into %s holds its lock' % root in str(err.value)
    assert deploy(path, 'gray1', root, lock_timeout=0)['changed'] is False    # nothing to write: no lock


def test_a_damaged_record_is_named(root, tmp_path):
    path = package(tmp_path, 'gray1', '01')
    deploy(path, 'gray1', root)
    record = os.path.join(root, '.deploy', 'gray1.json')
    with open(record) as handle:
        doc = json.load(handle)
    doc['builds'][0]['build'] = '../../etc'
    with open(record, 'w') as handle:
        json.dump(doc, handle)
    with pytest.raises(DeployError) as err:
        deploy(path, 'gray1', root)
    assert '%s is not a deploy record' % record in str(err.value)


def test_keep_and_paths_are_checked(root, tmp_path):
    path = package(tmp_path, 'gray1', '01')
    with pytest.raises(DeployError):
        deploy(path, 'gray1', root, keep=0)
    with pytest.raises(DeployError) as err:
        deploy(path, 'gray1', 'relative/root')
    assert 'must be an absolute path' in str(err.value)


def test_tar_written_by_hand_without_directory_entries(root, tmp_path):
    """GNU tar of a file list (no directory members): directories are made as needed."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode='w:gz') as tar:
        for info, data in pk.valid_members('gray1'):
            if info.isfile():
                tar.addfile(info, io.BytesIO(data))
    path = tmp_path / 'mygame-gray1-01.tar.gz'
    path.write_bytes(buf.getvalue())
    result = deploy(str(path), 'gray1', root)
    assert result['versions'] == {'gameserver': {'dev.1': result['versions']['gameserver']['dev.1']}}
    assert os.access(os.path.join(root, 'version', 'gameserver', 'dev.1', 'bin', 'gs'), os.X_OK)


# ---- an install root another user owns: planted links ------------------------------------------

OTHER_UID = 65534   # nobody: the game's user, who owns the install root and may plant links in it


def own_by_other(root):
    for base, dirs, files in os.walk(root):
        for name in [base] + [os.path.join(base, n) for n in dirs + files]:
            os.lchown(name, OTHER_UID, OTHER_UID)


def plant(root, rel, target):
    path = os.path.join(root, *rel.split('/'))
    if os.path.isdir(path) and not os.path.islink(path):
        import shutil
        shutil.rmtree(path)
    elif os.path.lexists(path):
        os.unlink(path)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    os.symlink(target, path)
    os.lchown(path, OTHER_UID, OTHER_UID)


@pytest.fixture
def outside(tmp_path):
    """What a planted link points to: a directory with a file, and a file (a root-owned config)."""
    where = tmp_path / 'outside'
    (where / 'etc').mkdir(parents=True)
    (where / 'etc' / 'passwd').write_text('root:x:0:0\n')
    (where / 'gray1.json').write_text('{}')
    return str(where)


# rel: where the link is planted after a first good deploy (build 01); deploy 02 must go through there
PLANTED = [
    ('builds', 'etc'),
    ('builds/gray1', 'etc'),
    ('current', 'etc'),
    ('version', 'etc'),
    ('version/gameserver', 'etc'),
    ('.deploy', 'etc'),
    ('.deploy/gray1.json', 'gray1.json'),
]


@pytest.mark.parametrize('rel,target', PLANTED, ids=[p[0] for p in PLANTED])
def test_a_planted_link_is_never_followed(rel, target, root, tmp_path, outside):
    deploy(package(tmp_path / 'a', 'gray1', '01'), 'gray1', root)
    own_by_other(root)
    plant(root, rel, os.path.join(outside, target))
    before, inside = pk.tree_state(outside), pk.tree_state(root)
    with pytest.raises(DeployError) as err:
        deploy(package(tmp_path / 'b', 'gray1', '02', versions={('gameserver', 'dev.2'): b'2'}), 'gray1', root)
    message = str(err.value)
    assert '%s/%s is a symbolic link to %s/%s, which deploy did not make' % (root, rel, outside, target) in message
    assert 'Errno' not in message
    assert pk.tree_state(outside) == before and pk.tree_state(root) == inside


def test_three_planted_links_at_once_write_nothing_anywhere(root, tmp_path, outside):
    one = package(tmp_path / 'a', 'gray1', '01')
    deploy(one, 'gray1', root)
    own_by_other(root)
    for rel in ('builds/gray1', 'current', '.deploy'):
        plant(root, rel, os.path.join(outside, 'etc'))
    before, inside = pk.tree_state(outside), pk.tree_state(root)
    for path, keep in ((package(tmp_path / 'b', 'gray1', '02'), 5), (one, 1)):
        with pytest.raises(DeployError) as err:
            deploy(path, 'gray1', root, keep=keep)
        assert 'is a symbolic link to %s/etc, which deploy did not make' % outside in str(err.value)
    assert pk.tree_state(outside) == before and pk.tree_state(root) == inside
    # check mode says the same, and writes nothing either
    with pytest.raises(DeployError):
        deploy(one, 'gray1', root, check=True)


def test_a_deployed_build_swapped_for_a_link_is_removed_as_a_link(root, tmp_path, outside):
    deploy(package(tmp_path / 'a', 'gray1', '01'), 'gray1', root)
    own_by_other(root)
    plant(root, 'builds/gray1/01/lib', os.path.join(outside, 'etc'))
    before = pk.tree_state(outside)
    deploy(package(tmp_path / 'b', 'gray1', '02', versions={('gameserver', 'dev.2'): b'2'}), 'gray1', root, keep=1)
    assert os.listdir(os.path.join(root, 'builds', 'gray1')) == ['02'] and pk.tree_state(outside) == before


def test_an_install_root_reached_through_another_users_link_is_refused(tmp_path, outside):
    home = tmp_path / 'home'
    home.mkdir()
    os.symlink(outside, str(home / 'game'))
    os.lchown(str(home / 'game'), OTHER_UID, OTHER_UID)
    before = pk.tree_state(outside)
    with pytest.raises(DeployError) as err:
        deploy(package(tmp_path, 'gray1', '01'), 'gray1', str(home / 'game'))
    assert '%s is a symbolic link to %s owned by uid %d' % (home / 'game', outside, OTHER_UID) in str(err.value)
    assert pk.tree_state(outside) == before
    # a link root made is the operator's own: followed
    os.lchown(str(home / 'game'), 0, 0)
    assert deploy(package(tmp_path, 'gray1', '01'), 'gray1', str(home / 'game'))['action'] == 'unpacked'
    assert os.path.isdir(os.path.join(outside, 'builds', 'gray1', '01'))


def test_the_unpack_directory_moved_away_mid_deploy_writes_nothing_outside(root, tmp_path, outside, monkeypatch):
    deploy(package(tmp_path / 'a', 'gray1', '01'), 'gray1', root)
    own_by_other(root)
    before = pk.tree_state(outside)
    real = _deploy.unpack

    def swap_then_unpack(path, dest_fd, limits=None, label=None):
        # the other user renames the hidden directory and puts a link to /outside in its place
        builds = os.path.join(root, 'builds', 'gray1')
        staging = [n for n in os.listdir(builds) if n.startswith('.unpack-')][0]
        os.rename(os.path.join(builds, staging), os.path.join(builds, 'moved'))
        os.symlink(os.path.join(outside, 'etc'), os.path.join(builds, staging))
        return real(path, dest_fd, limits, label)
    monkeypatch.setattr(_deploy, 'unpack', swap_then_unpack)
    with pytest.raises(DeployError) as err:
        deploy(package(tmp_path / 'b', 'gray1', '02'), 'gray1', root)
    assert 'was moved away while deploy wrote it' in str(err.value)
    assert pk.tree_state(outside) == before
    # what was unpacked went into the directory deploy made, wherever it was moved
    assert os.path.isfile(os.path.join(root, 'builds', 'gray1', 'moved', 'lib', 'a.so'))


def test_the_same_package_deployed_meanwhile_is_decided_under_the_lock(root, tmp_path, monkeypatch):
    """An AWX job launched twice: the other deploy finishes right after this one looked at the
    root, without the lock. Before, this one failed with "exists but no deploy record names it"."""
    path = package(tmp_path, 'gray1', '01')
    real = _deploy.InstallRoot.read_records
    looked = []

    def then_the_other_deploy(self):
        out = real(self)
        if not looked:
            looked.append(True)
            assert deploy(path, 'gray1', root)['action'] == 'unpacked'   # the other job, complete
        return out
    monkeypatch.setattr(_deploy.InstallRoot, 'read_records', then_the_other_deploy)
    result = deploy(path, 'gray1', root)
    assert result['changed'] is False and result['action'] == 'present', result
    assert os.listdir(os.path.join(root, 'builds', 'gray1')) == ['01']


def test_rmtree_removes_links_inside_without_following_them(tmp_path):
    """The descriptor walk that removes an old build (shutil.rmtree takes dir_fd only from 3.11)."""
    from ansible_collections.gameops.elastic_release.plugins.module_utils._host.rootfs import RootFs
    outside = tmp_path / 'outside'
    (outside / 'keep').mkdir(parents=True)
    (outside / 'keep' / 'file').write_text('kept')
    root = tmp_path / 'root'
    deep = root / 'builds' / 'gray1' / '01' / 'version' / 'gameserver'
    deep.mkdir(parents=True)
    (deep / 'dev.1').write_text('#!/bin/sh\n')
    os.symlink(str(outside), str(deep / 'to-outside'))
    os.symlink(str(outside / 'keep'), str(root / 'builds' / 'gray1' / '01' / 'dir-link'))
    with RootFs(str(root)) as fs:
        fs.rmtree('builds/gray1/01')
        fs.rmtree('builds/gray1/absent')
    assert os.listdir(str(root / 'builds' / 'gray1')) == []
    assert (outside / 'keep' / 'file').read_text() == 'kept'


def test_the_package_copy_never_follows_a_link_planted_at_packages(root, tmp_path, outside):
    """The copy kept in {install_root}/packages is written by deploy through a descriptor it opened
    link-safely first; a link the install root's owner put there is refused before anything is written."""
    cache = os.path.join(root, 'packages')
    one = package(tmp_path / 'stage', 'gray1', '01')
    first = deploy(one, 'gray1', root, package_dir=cache, stage_dir=str(tmp_path / 'stage'))
    assert first['package_copy'] == 'copied' and sha(os.path.join(cache, os.path.basename(one))) == sha(one)
    again = deploy(one, 'gray1', root, package_dir=cache)
    assert again['package_copy'] == 'present' and again['changed'] is False
    own_by_other(root)
    plant(root, 'packages', os.path.join(outside, 'etc'))
    before, inside = pk.tree_state(outside), pk.tree_state(root)
    two = package(tmp_path / 'stage', 'gray1', '02', versions={('gameserver', 'dev.2'): b'2'})
    with pytest.raises(DeployError) as err:
        deploy(two, 'gray1', root, package_dir=cache, stage_dir=str(tmp_path / 'stage'), keep=1)
    assert '%s is a symbolic link to %s/etc, which deploy did not make' % (cache, outside) in str(err.value)
    assert pk.tree_state(outside) == before and pk.tree_state(root) == inside
    # the stage keeps the kept builds' packages only
    os.unlink(cache)
    os.rename(os.path.join(outside, 'etc'), os.path.join(outside, 'etc.kept'))
    assert deploy(two, 'gray1', root, package_dir=cache, stage_dir=str(tmp_path / 'stage'), keep=1)['package_copy'] == 'copied'
    assert sorted(os.listdir(str(tmp_path / 'stage'))) == ['mygame-gray1-02.tar.gz'] == sorted(os.listdir(cache))
