# -*- coding: utf-8 -*-
"""server_deploy under hostile hosts, as real `ansible` processes run it as root: an install root
the game's user owns, with links planted where deploy writes, and two deploys of one package at
once (an AWX job launched twice). What is on disk is judged with os, never with the code under
test. Trial counts are in docs/guarantees.md."""

import os

import pytest

import faultkit
import packagekit as pk

OTHER_UID = 65534   # nobody: the game's user, who owns the install root
RACE_TRIALS = 10


def package(where, release, build, files=1):
    """mygame-{release}-{build}.tar.gz with `files` files under lib/ and one version directory."""
    members = [m for m in pk.valid_members(release) if not m[0].name.startswith(('lib/', 'version/'))]
    for i in range(files):
        data = ('%s %s %d\n' % (release, build, i)).encode()
        members.append((pk.tinfo('lib/part%05d.lua' % i, data=data), data))
    script = b'#!/bin/sh\necho dev.1\n'
    members.append((pk.tinfo('version/gameserver/dev.1/bin/gameserver', data=script, mode=0o755), script))
    os.makedirs(str(where), exist_ok=True)
    return pk.write_tgz(os.path.join(str(where), 'mygame-%s-%s.tar.gz' % (release, build)), members)


def deploy_args(path, root, **extra):
    return dict(extra, package=path, release='gray1', install_root=root)


def test_three_planted_links_as_root_write_nothing_outside(tmp_path):
    root, outside = str(tmp_path / 'home' / 'game'), tmp_path / 'outside'
    (outside / 'etc').mkdir(parents=True)
    (outside / 'etc' / 'passwd').write_text('root:x:0:0\n')
    res, task, _seconds = faultkit.adhoc('server_deploy', deploy_args(package(tmp_path / 'a', 'gray1', '01'), root))
    assert res.rc == 0 and task['changed'] is True, res
    for base, dirs, files in os.walk(root):
        for name in [base] + [os.path.join(base, n) for n in dirs + files]:
            os.lchown(name, OTHER_UID, OTHER_UID)
    for rel in ('builds/gray1', 'current', '.deploy'):
        path = os.path.join(root, rel)
        os.rename(path, path + '.moved')
        os.symlink(str(outside / 'etc'), path)
        os.lchown(path, OTHER_UID, OTHER_UID)
    before, inside = pk.tree_state(outside), pk.tree_state(root)
    res, task, _seconds = faultkit.adhoc('server_deploy', deploy_args(package(tmp_path / 'b', 'gray1', '02'), root))
    assert res.rc == 2 and task and 'msg' in task, res
    assert 'is a symbolic link to %s, which deploy did not make' % (outside / 'etc') in task['msg'], task['msg']
    assert 'Errno' not in task['msg']
    faultkit.assert_clean_output(res)
    assert pk.tree_state(outside) == before and pk.tree_state(root) == inside


@pytest.mark.full
def test_two_deploys_of_one_package_at_once_both_succeed(tmp_path):
    # 3,000 files: unpacking takes long enough for the second deploy to look at the root meanwhile
    path = package(tmp_path / 'dist', 'gray1', '01', files=3000)
    rows = []
    for trial in range(RACE_TRIALS):
        root = str(tmp_path / ('root%02d' % trial))
        first = faultkit.Background('server_deploy', deploy_args(path, root))
        second = faultkit.Background('server_deploy', deploy_args(path, root))
        results = [first.wait(), second.wait()]
        outcomes = [(res.rc, task.get('action') if task else None, task.get('msg') if task else res.stderr[-300:])
                    for res, task in results]
        rows.append({'trial': trial, 'outcomes': [o[:2] for o in outcomes]})
        assert all(rc == 0 for rc, _a, _m in outcomes), outcomes
        assert sorted(a for _rc, a, _m in outcomes) == ['present', 'unpacked'], outcomes
        assert os.listdir(os.path.join(root, 'builds', 'gray1')) == ['01']
        assert os.readlink(os.path.join(root, 'current', 'gray1')) == '../builds/gray1/01'
        assert len(os.listdir(os.path.join(root, 'builds', 'gray1', '01', 'lib'))) == 3000
    faultkit.record_rows('two deploys of one package at once', rows)
