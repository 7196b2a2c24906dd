# -*- coding: utf-8 -*-
"""plugins/modules/server_deploy.py: main() run in-process (tests/modrun.py), its arguments, its
result and its refusals as JSON."""

import os

import modrun
import packagekit as pk
from ansible_collections.gameops.elastic_release.plugins.modules import server_deploy


def write_package(where, release='gray1', build='01', extra=()):
    os.makedirs(str(where), exist_ok=True)
    return pk.write_tgz(os.path.join(str(where), 'mygame-%s-%s.tar.gz' % (release, build)),
                        pk.valid_members(release) + list(extra))


def test_check_real_and_idempotent_runs(tmp_path):
    root = str(tmp_path / 'game')
    path = write_package(tmp_path)
    args = {'package': path, 'release': 'gray1', 'install_root': root}
    out = modrun.run(server_deploy, args, check=True, diff=True)
    assert out['changed'] is True and out['action'] == 'unpacked' and not os.path.exists(root)
    assert 'version/gameserver/dev.1 -> ../../builds/gray1/01/version/gameserver/dev.1' in out['diff']['after']
    out = modrun.run(server_deploy, args)
    assert out['changed'] is True and out['unpacked']['members'] == 7 and 'diff' not in out
    assert os.path.isfile(os.path.join(root, 'version', 'gameserver', 'dev.1', 'bin', 'gs'))
    out = modrun.run(server_deploy, args, diff=True)
    assert out['changed'] is False and out['action'] == 'present' and out['diff']['before'] == out['diff']['after']


def test_refusals_name_the_package_and_the_member(tmp_path):
    root = str(tmp_path / 'game')
    hostile = write_package(tmp_path, extra=[(pk.tinfo('lib/passwd', 'symlink', linkname='../../etc/passwd'), None)])
    out = modrun.run(server_deploy, {'package': hostile, 'release': 'gray1', 'install_root': root})
    assert out['failed'] is True
    assert out['msg'].startswith('cannot deploy to %s: mygame-gray1-01.tar.gz: ' % root)
    assert "'lib/passwd'" in out['msg'] and 'leaves the package tree' in out['msg']
    other = write_package(tmp_path, release='production')
    out = modrun.run(server_deploy, {'package': other, 'release': 'gray1', 'install_root': root})
    assert out['failed'] is True and "is release 'production', not the expected release 'gray1'" in out['msg']
    out = modrun.run(server_deploy, {'package': other, 'release': 'production', 'install_root': root, 'keep': 0})
    assert out['failed'] is True and 'keep must be at least 1' in out['msg']
    assert not os.path.exists(root)


def test_layout_problems_are_warnings(tmp_path):
    root = str(tmp_path / 'game')
    odd = write_package(tmp_path, extra=[(pk.tinfo('README', data=b'hi'), b'hi')])
    out = modrun.run(server_deploy, {'package': odd, 'release': 'gray1', 'install_root': root})
    assert out['changed'] is True
    assert out['problems'] == ["unexpected top-level member 'README' (a server package holds only filecache, lib, version)"]
    # ansible-core 2.19 returns warnings as structures, older versions as strings
    assert "'README'" in str(out['warnings'])
    assert 'uid' not in out     # no file attributes added: the build directory is build_dir, not path
