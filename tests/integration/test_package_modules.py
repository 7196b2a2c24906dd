# -*- coding: utf-8 -*-
"""server_package, server_package_info, upgrade_package, the package filters and the
build_packages playbook, run through real `ansible` / `ansible-playbook` commands.

Results are checked independently of the module under test: archives are opened with tarfile,
directories are compared file by file. No ZooKeeper is needed.
"""

import hashlib
import json
import os
import tarfile

import pytest

import helpers
import packagekit as fx
from ansible_collections.gameops.elastic_release.plugins.module_utils._release.config import parse_config

SERVER_PACKAGE = 'gameops.elastic_release.server_package'
PACKAGE_INFO = 'gameops.elastic_release.server_package_info'
UPGRADE_PACKAGE = 'gameops.elastic_release.upgrade_package'
PLAYBOOK = os.path.join(helpers.ROOT, 'playbooks', 'build_packages.yml')


def build_args(src, dest, release='production', **kw):
    args = {'src': str(src), 'dest': str(dest), 'release': release, 'project': 'my-game',
            'build': '190122.01', 'config': fx.CONFIG}
    args.update(kw)
    return args


def test_server_package_check_run_rerun_and_read_back(tmp_path):
    src = fx.make_src(tmp_path / 'src')
    dest = tmp_path / 'out'
    res, check = helpers.adhoc(SERVER_PACKAGE, build_args(src, dest), check=True)
    assert res.rc == 0, res
    assert check['changed'] and not dest.exists()

    res, first = helpers.adhoc(SERVER_PACKAGE, build_args(src, dest))
    assert res.rc == 0, res
    assert first['changed'] and first['sha256'] == check['sha256']
    path = str(dest / 'my-game-production-190122.01.tar.gz')
    assert first['path'] == path and os.listdir(str(dest)) == [os.path.basename(path)]
    inode = os.stat(path).st_ino

    res, again = helpers.adhoc(SERVER_PACKAGE, build_args(src, dest))
    assert res.rc == 0, res
    assert not again['changed'] and again['sha256'] == first['sha256']
    assert os.stat(path).st_ino == inode

    # A second build elsewhere is byte-identical.
    res, other = helpers.adhoc(SERVER_PACKAGE, build_args(src, tmp_path / 'other'))
    with open(path, 'rb') as a, open(other['path'], 'rb') as b:
        assert a.read() == b.read()

    # Read back with tarfile, independently of the module.
    with tarfile.open(path) as tar:
        assert json.loads(tar.extractfile('filecache/release_indicator.json').read()) == {'name': 'production'}
        config = json.loads(tar.extractfile('filecache/production.config.zoo').read())
        assert tar.extractfile('version/gameserver/dev.190122.01/bin/gameserver').read() == b'#!/bin/sh\necho gs\n'
        assert len(tar.getmembers()) == first['members']
    assert config == parse_config(fx.CONFIG).to_dict()

    # And with server_package_info: exactly what was put in.
    res, info = helpers.adhoc(PACKAGE_INFO, {'path': path, 'release': 'production'}, check=True)
    assert res.rc == 0, res
    assert not info['changed']
    assert (info['release'], info['build'], info['project']) == ('production', '190122.01', 'my-game')
    assert info['indicator'] == {'name': 'production'}
    assert info['config'] == parse_config(fx.CONFIG).to_dict()
    assert info['components'] == {
        'dataconfig': ['Numeric#Development#17253'],
        'gameserver': ['dev.190122.01', 'dev.190122.02'],
        'global': ['dev.190122.01'],
        'vms': ['vms-notice.181230.11'],
    }
    assert info['problems'] == [] and info['sha256'] == first['sha256']


def test_server_package_diff_shows_the_changed_member(tmp_path):
    src = fx.make_src(tmp_path / 'src')
    dest = tmp_path / 'out'
    helpers.adhoc(SERVER_PACKAGE, build_args(src, dest))
    config = dict(fx.CONFIG, versions=['1.2.0', '1.2.1', '1.3.0'])
    # the same build from another config replaces the package only when forced (else it is refused)
    cmd_args = build_args(src, dest, config=config, force=True)
    res = helpers.run(['ansible', 'localhost', '-c', 'local', '-i', 'localhost,',
                       '-e', 'ansible_python_interpreter=%s' % helpers.PYTHON,
                       '-m', SERVER_PACKAGE, '-a', json.dumps(cmd_args), '--diff', '--check'])
    assert res.rc == 0, res
    diff = [line for line in res.stdout.splitlines() if line[:1] in '+-' and 'config.zoo' in line]
    assert len(diff) == 2 and diff[0].startswith('-file') and diff[1].startswith('+file'), res.stdout
    assert 'release_indicator' not in ''.join(line for line in res.stdout.splitlines() if line[:1] in '+-')


def test_server_package_config_file_and_refusals(tmp_path):
    src = fx.make_src(tmp_path / 'src')
    dest = tmp_path / 'out'
    good = tmp_path / 'gray1.config.zoo'
    good.write_text(json.dumps({'versions': ['1.2.1'], 'sections': [1003]}))
    args = build_args(src, dest, release='gray1')
    del args['config']
    res, task = helpers.adhoc(SERVER_PACKAGE, dict(args, config_file=str(good)))
    assert res.rc == 0, res
    assert task['package'] == 'my-game-gray1-190122.01.tar.gz'
    before = fx.tree_state(dest)

    bad = tmp_path / 'bad.config.zoo'
    bad.write_text('{"versions": ["1.2.1"], "sections": {"10/01": {}}}')
    res, task = helpers.adhoc(SERVER_PACKAGE, dict(args, config_file=str(bad)))
    assert res.rc != 0
    assert str(bad) in task['msg'] and 'sections.10/01' in task['msg']

    res, task = helpers.adhoc(SERVER_PACKAGE, dict(args, config_file=str(good), config={'versions': []}))
    assert res.rc != 0 and 'mutually exclusive' in task['msg']

    res, task = helpers.adhoc(SERVER_PACKAGE, dict(args, config_file=str(good), build='1-2'))
    assert res.rc != 0 and "invalid build '1-2'" in task['msg']

    res, task = helpers.adhoc(SERVER_PACKAGE, dict(args, config_file=str(good), release='Gray'))
    assert res.rc != 0 and "'Gray'" in task['msg']
    assert fx.tree_state(dest) == before


def test_server_package_info_release_mismatch_names_both(tmp_path):
    path = fx.write_tgz(tmp_path / 'mygame-production-1.tar.gz', fx.valid_members())
    res, task = helpers.adhoc(PACKAGE_INFO, {'path': path, 'release': 'gray1'})
    assert res.rc != 0
    assert "'production'" in task['msg'] and "'gray1'" in task['msg']


HOSTILE = ['traversal', 'absolute', 'symlink_escape', 'hardlink_escape', 'char_device', 'fifo',
           'other_release_config', 'missing_indicator', 'malformed_indicator', 'indicator_other_release']


@pytest.mark.parametrize('case', HOSTILE)
def test_server_package_info_refuses_hostile_archives(tmp_path, case):
    members, words = fx.hostile_cases()[case]
    path = fx.write_tgz(tmp_path / 'mygame-production-1.tar.gz', members)
    before = fx.tree_state(tmp_path)
    res, task = helpers.adhoc(PACKAGE_INFO, {'path': path, 'fail_on_problems': False})
    assert res.rc != 0, res
    assert 'mygame-production-1.tar.gz' in task['msg']
    for word in words:
        assert word in task['msg'], task['msg']
    assert fx.tree_state(tmp_path) == before


def test_server_package_info_refuses_bombs_and_damaged_files(tmp_path):
    bomb = fx.bomb_tgz(tmp_path / 'mygame-production-1.tar.gz')
    good = fx.write_tgz(tmp_path / 'good.tar.gz', fx.valid_members())
    with open(good, 'rb') as f:
        data = f.read()
    truncated = tmp_path / 'mygame-production-2.tar.gz'
    truncated.write_bytes(data[:len(data) // 2])
    big = fx.write_tgz(tmp_path / 'mygame-production-3.tar.gz',
                       fx.valid_members() + [(fx.tinfo('lib/big.bin', data=b'z' * 3000), b'z' * 3000)])
    before = fx.tree_state(tmp_path)
    for path, args, words in [
            (bomb, {}, ["'lib/zeros.bin'", 'zip bomb']),
            (str(truncated), {}, ['truncated']),
            (big, {'max_member_size': 2048}, ["'lib/big.bin'", 'max_member_size'])]:
        res, task = helpers.adhoc(PACKAGE_INFO, dict(args, path=path))
        assert res.rc != 0, res
        for word in words:
            assert word in task['msg'], task['msg']
    assert fx.tree_state(tmp_path) == before


def test_server_package_info_problems(tmp_path):
    members = fx.valid_members() + [(fx.tinfo('README', data=b'x'), b'x')]
    path = fx.write_tgz(tmp_path / 'mygame-production-1.tar.gz', members)
    res, task = helpers.adhoc(PACKAGE_INFO, {'path': path})
    assert res.rc != 0 and "1 problem(s): unexpected top-level member 'README'" in task['msg']
    assert task['config']['versions'] == {'1.2.0': {}, '1.2.1': {}}
    res, task = helpers.adhoc(PACKAGE_INFO, {'path': path, 'fail_on_problems': False, 'checksums': True})
    assert res.rc == 0, res
    assert len(task['problems']) == 1
    files = dict((f['name'], f) for f in task['files'])
    assert files['lib/a.so']['sha256'] == hashlib.sha256(b'x').hexdigest()


def test_server_package_info_custom_name_pattern(tmp_path):
    path = fx.write_tgz(tmp_path / 'gray1_190122.01.tgz', fx.valid_members('gray1'))
    res, task = helpers.adhoc(PACKAGE_INFO, {'path': path})
    assert res.rc != 0 and 'does not match the pattern' in task['msg']
    res, task = helpers.adhoc(PACKAGE_INFO, {'path': path, 'name_pattern': r'(?P<release>[a-z0-9]+)_(?P<build>[^_]+)\.tgz'})
    assert res.rc == 0, res
    assert (task['release'], task['build'], task['project']) == ('gray1', '190122.01', None)


def _package_lookup(path, **options):
    """`ansible localhost -m debug` printing the package_info lookup's answer as JSON."""
    args = ''.join(", %s=%s" % (key, json.dumps(value)) for key, value in sorted(options.items()))
    expr = "{{ lookup('gameops.elastic_release.package_info', %s%s) | to_json }}" % (json.dumps(path), args)
    return helpers.adhoc('ansible.builtin.debug', {'msg': expr})


def test_package_info_lookup_answers_as_the_module(tmp_path):
    good = fx.write_tgz(tmp_path / 'mygame-production-1.tar.gz', fx.valid_members())
    members, words = fx.hostile_cases()['traversal']
    bad = fx.write_tgz(tmp_path / 'mygame-production-2.tar.gz', members)
    odd = fx.write_tgz(tmp_path / 'mygame-production-3.tar.gz', fx.valid_members() + [(fx.tinfo('README', data=b'x'), b'x')])
    before = fx.tree_state(tmp_path)

    res, module = helpers.adhoc(PACKAGE_INFO, {'path': good, 'release': 'production'})
    assert res.rc == 0, res
    res, task = _package_lookup(good, release='production')
    assert res.rc == 0, res
    answer = json.loads(task['msg'])
    for key in ('package', 'release', 'build', 'project', 'indicator', 'config', 'components', 'problems', 'sha256'):
        assert answer[key] == module[key], key

    # fail (the default): the module's message, as a lookup error.
    res, module = helpers.adhoc(PACKAGE_INFO, {'path': bad})
    res, task = _package_lookup(bad)
    assert res.rc != 0
    assert module['msg'] in res.output.replace('\\"', '"'), res
    # report: the reason comes back as data, for a task that gathers every problem of a run.
    res, task = _package_lookup(bad, on_error='report')
    assert res.rc == 0, res
    answer = json.loads(task['msg'])
    assert answer['error'] == module['msg'] and 'mygame-production-2.tar.gz' in answer['error']
    for word in words:
        assert word in answer['error']
    res, task = _package_lookup(odd, on_error='report')
    answer = json.loads(task['msg'])
    assert "1 problem(s): unexpected top-level member 'README'" in answer['error']
    assert answer['config']['versions'] == {'1.2.0': {}, '1.2.1': {}}
    res, task = _package_lookup(good, release='gray1', on_error='report')
    assert "'production'" in json.loads(task['msg'])['error'] and "'gray1'" in json.loads(task['msg'])['error']
    res, task = _package_lookup(good, max_ratio=0)
    assert res.rc != 0 and 'invalid limit max_ratio=0' in res.output, res
    assert fx.tree_state(tmp_path) == before


@pytest.fixture(scope='module')
def client_trees(tmp_path_factory):
    return fx.make_client_trees(tmp_path_factory.mktemp('trees'))


def test_upgrade_package_check_build_rerun_verify(client_trees, tmp_path):
    c1, c2 = client_trees
    dest = tmp_path / 'upgrades'
    args = {'from_version': 'c-1', 'to_version': 'c-2', 'from_src': c1, 'to_src': c2, 'dest': str(dest)}
    res, check = helpers.adhoc(UPGRADE_PACKAGE, args, check=True)
    assert res.rc == 0, res
    assert check['changed'] and not dest.exists()

    res, built = helpers.adhoc(UPGRADE_PACKAGE, args)
    assert res.rc == 0, res
    assert built['changed'] and built['sha256'] == check['sha256']
    assert built['path'] == str(dest / 'c-1_c-2.tar.gz') and os.listdir(str(dest)) == ['c-1_c-2.tar.gz']
    assert built['counts']['added'] >= 250 and built['counts']['removed'] >= 200

    res, again = helpers.adhoc(UPGRADE_PACKAGE, args)
    assert res.rc == 0 and not again['changed'] and again['sha256'] == built['sha256']

    c1_before = fx.tree_state(c1)
    res, verified = helpers.adhoc(UPGRADE_PACKAGE, dict(args, state='verified'))
    assert res.rc == 0, res
    assert verified['differences'] == [] and not verified['changed']
    assert fx.tree_state(c1) == c1_before

    # Independently of the module: apply by hand (tarfile + manifest) onto a copy of c-1.
    tree = fx.clone(c1, tmp_path / 'by_hand')
    with tarfile.open(built['path']) as tar:
        manifest = json.loads(tar.extractfile('manifest.json').read())
        for item in manifest['removed']:
            os.unlink(os.path.join(tree, item['path']))
        for rel in sorted(manifest['removed_dirs'], key=lambda p: -p.count('/')):
            os.rmdir(os.path.join(tree, rel))
        for rel in manifest['added_dirs']:
            os.makedirs(os.path.join(tree, rel), exist_ok=True)
        for item in manifest['added'] + manifest['changed']:
            fx.write_file(tree, item['path'], tar.extractfile('files/' + item['path']).read(), int(item['mode'], 8))
    assert fx.tree_state(tree) == fx.tree_state(c2)


def test_upgrade_package_verify_fails_on_differences(client_trees, tmp_path):
    c1, c2 = client_trees
    dest = tmp_path / 'upgrades'
    args = {'from_version': 'c-1', 'to_version': 'c-2', 'from_src': c1, 'to_src': c2, 'dest': str(dest)}
    res, built = helpers.adhoc(UPGRADE_PACKAGE, args)
    assert res.rc == 0, res
    other = fx.clone(c2, tmp_path / 'c-2-rebuilt')
    fx.write_file(other, 'added/empty', b'rebuilt differently')
    res, task = helpers.adhoc(UPGRADE_PACKAGE, dict(args, to_src=other, state='verified'))
    assert res.rc != 0
    assert 'does not give' in task['msg'] and 'content of added/empty differs' in task['msg']
    assert task['differences'] == ['content of added/empty differs (0 bytes, expected 19)']

    res, task = helpers.adhoc(UPGRADE_PACKAGE, dict(args, state='verified', from_version='c-0'))
    assert res.rc != 0 and 'c-0_c-2.tar.gz' in task['msg']
    res, task = helpers.adhoc(UPGRADE_PACKAGE, dict(args, from_version='c_1'))
    assert res.rc != 0 and "invalid from_version 'c_1'" in task['msg']
    assert os.listdir(str(dest)) == ['c-1_c-2.tar.gz']


def test_upgrade_package_refuses_a_hostile_tree_archive(tmp_path):
    members, _words = fx.hostile_cases()['symlink_escape']
    hostile = fx.write_tgz(tmp_path / 'c-2.tar.gz', members)
    old = tmp_path / 'c-1'
    fx.write_file(old, 'a.txt', b'a')
    dest = tmp_path / 'upgrades'
    res, task = helpers.adhoc(UPGRADE_PACKAGE, {'from_version': 'c-1', 'to_version': 'c-2', 'from_src': str(old),
                                                'to_src': hostile, 'dest': str(dest)})
    assert res.rc != 0
    assert "'lib/passwd'" in task['msg']
    assert not dest.exists()


def test_filters(tmp_path):
    expr = ("{{ ['/data/my-game-gray1-190122.01.tar.gz' | gameops.elastic_release.package_release,"
            " 'my-game-gray1-190122.01.tar.gz' | gameops.elastic_release.package_build,"
            " 'review_a_7.tgz' | gameops.elastic_release.package_release('(?P<release>.+)_(?P<build>[^_]+)\\.tgz')] }}")
    res, task = helpers.adhoc('ansible.builtin.debug', {'msg': expr})
    assert res.rc == 0, res
    assert task['msg'] == ['gray1', '190122.01', 'review_a']
    res, task = helpers.adhoc('ansible.builtin.debug', {'msg': "{{ 'mygame-Gray-1.tar.gz' | gameops.elastic_release.package_release }}"})
    assert res.rc != 0
    assert "invalid release name 'Gray'" in res.output


# ------------------------------------------------------------------------------------------------
# The build_packages playbook (WallE's cross-packaging)
# ------------------------------------------------------------------------------------------------

def _playbook(extra_vars, check=False):
    """Run the playbook; return (Result, the run's custom stats as set by set_stats)."""
    res = helpers.playbook(PLAYBOOK, extra_vars, check=check,
                           env={'ANSIBLE_SHOW_CUSTOM_STATS': '1', 'ANSIBLE_CALLBACK_RESULT_FORMAT': 'json'})
    stats = None
    for line in res.stdout.splitlines():
        if line.strip().startswith('RUN: '):
            stats = json.loads(line.strip()[len('RUN: '):])
    return res, stats


@pytest.fixture
def walle(tmp_path):
    src = fx.make_src(tmp_path / 'src')
    configs = tmp_path / 'configs'
    configs.mkdir()
    for release, versions in (('production', ['1.2.0']), ('gray1', ['1.2.1']), ('gray2', ['1.2.2']),
                              ('review_a', ['1.3.0'])):
        (configs / ('%s.config.zoo' % release)).write_text(json.dumps({'versions': versions}))
    trees = tmp_path / 'trees'
    trees.mkdir()
    c1, c2 = fx.make_client_trees(trees, files=200, seed=5)
    return {
        'elastic_release_registry': {
            'production': {'type': 'production', 'location': 'tx-gz-1'},
            'gray1': {'type': 'gray', 'location': 'tx-gz-1'},
            'review_a': {'type': 'review', 'location': 'review_a'},
        },
        'elastic_release_location': 'tx-gz-1',
        'elastic_release_package_src': src,
        'elastic_release_package_dest': str(tmp_path / 'packages'),
        'elastic_release_project': 'mygame',
        'elastic_release_build': '190122.01',
        'elastic_release_configs_dir': str(configs),
        'elastic_release_upgrades': [{'from': 'c-1', 'to': 'c-2', 'from_src': c1, 'to_src': c2}],
    }


def test_build_packages_one_package_per_registered_release(walle, tmp_path):
    dest = tmp_path / 'packages'
    res, stats = _playbook(walle)
    assert res.rc == 0, res
    names = sorted(os.listdir(str(dest)))
    assert names == ['c-1_c-2.tar.gz', 'mygame-gray1-190122.01.tar.gz', 'mygame-production-190122.01.tar.gz']
    summary = stats['elastic_release_build_packages']
    assert summary['location'] == 'tx-gz-1'
    assert summary['packages'] == {'gray1': str(dest / names[1]), 'production': str(dest / names[2])}
    assert sorted(summary['changed']) == ['gray1', 'production']
    with tarfile.open(str(dest / names[1])) as tar:
        assert json.loads(tar.extractfile('filecache/gray1.config.zoo').read())['versions'] == {'1.2.1': {}}
        assert json.loads(tar.extractfile('filecache/release_indicator.json').read()) == {'name': 'gray1'}
    state = fx.tree_state(dest)

    # A rerun changes nothing.
    res, stats = _playbook(walle)
    assert res.rc == 0, res
    assert stats['elastic_release_build_packages']['changed'] == []
    assert fx.tree_state(dest) == state

    # Registering a release is a change of inventory only: check mode shows it, writes nothing...
    walle['elastic_release_registry']['gray2'] = {'type': 'gray', 'location': 'tx-gz-1'}
    res, stats = _playbook(walle, check=True)
    assert res.rc == 0, res
    assert stats['elastic_release_build_packages']['changed'] == ['gray2']
    assert fx.tree_state(dest) == state
    # ...and the next run adds its package, leaving the others alone.
    res, stats = _playbook(walle)
    assert res.rc == 0, res
    assert stats['elastic_release_build_packages']['changed'] == ['gray2']
    after = fx.tree_state(dest)
    assert 'mygame-gray2-190122.01.tar.gz' in after
    del after['mygame-gray2-190122.01.tar.gz']
    assert after == state

    # The same build from another config is refused (test_server_package.py); -e force=true replaces it,
    # and the run names every file with what happened to it.
    (tmp_path / 'configs' / 'gray1.config.zoo').write_text(json.dumps({'versions': ['1.2.9']}))
    res, stats = _playbook(dict(walle, force=True, elastic_release_upgrades=[]))
    assert res.rc == 0, res
    gray1 = str(dest / 'mygame-gray1-190122.01.tar.gz')
    assert stats['elastic_release_build_packages']['actions'] == {
        'mygame-gray1-190122.01.tar.gz': 'replaced', 'mygame-gray2-190122.01.tar.gz': 'unchanged',
        'mygame-production-190122.01.tar.gz': 'unchanged'}
    sha = stats['elastic_release_build_packages']['sha256']['mygame-gray1-190122.01.tar.gz']
    assert 'replaced  %s  %s' % (sha, gray1) in res.stdout and 'unchanged  ' in res.stdout


@pytest.mark.parametrize('change, words', [
    ({'elastic_release_location': 'nowhere'}, ['deploy location nowhere', 'no release is registered']),
    ({'elastic_release_registry': {'production': {'type': 'production', 'location': 'tx-gz-1'},
                                   'prod2': {'type': 'production', 'location': 'tx-gz-1'}}},
     ['more than one production release (prod2, production)']),
    ({'elastic_release_registry': {'production': {'type': 'canary', 'location': 'tx-gz-1'}}},
     ['release registry entry production', 'production, review or gray']),
    ({'elastic_release_registry': {'production': {'type': 'production', 'location': 'tx-gz-1'},
                                   'gray9': {'type': 'gray', 'location': 'tx-gz-1'}}},
     ['release gray9: no config file']),
])
def test_build_packages_refuses_bad_registries_before_writing(walle, tmp_path, change, words):
    walle.update(change)
    res = helpers.playbook(PLAYBOOK, walle)
    assert res.rc != 0, res
    for word in words:
        assert word in res.output, res.output
    assert not (tmp_path / 'packages').exists()
