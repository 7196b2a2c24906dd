# -*- coding: utf-8 -*-
"""module_utils/_pkgname.py: server and upgrade package file names."""

import os
import subprocess
import sys

import pytest

import helpers
from ansible_collections.gameops.elastic_release.plugins.module_utils._package.pkgname import (
    PackageError, package_file_name, parse_package_name, parse_upgrade_name, upgrade_file_name)


@pytest.mark.parametrize('name, project, release, build', [
    ('mygame-production-190122.01.tar.gz', 'mygame', 'production', '190122.01'),
    ('my-game-gray1-190122.01.tar.gz', 'my-game', 'gray1', '190122.01'),
    ('/data/packages/a-b-c-appstore_review-7.tar.gz', 'a-b-c', 'appstore_review', '7'),
])
def test_default_name_pattern(name, project, release, build):
    parsed = parse_package_name(name)
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
    with pytest.raises(PackageError) as err:
        parse_package_name(name)
    for word in words:
        assert word in str(err.value)


def test_custom_name_pattern():
    pattern = r'(?P<release>[a-z][a-z0-9_]*)\.(?P<build>[0-9-]+)\.tgz'
    parsed = parse_package_name('review_a.2019-01-22.tgz', pattern)
    assert (parsed.project, parsed.release, parsed.build) == (None, 'review_a', '2019-01-22')
    with pytest.raises(PackageError) as err:
        parse_package_name('x.tgz', r'(?P<release>.+)\.tgz')
    assert 'named groups' in str(err.value) and 'build' in str(err.value)
    with pytest.raises(PackageError) as err:
        parse_package_name('x.tgz', r'(?P<release>.+')
    assert 'invalid package name pattern' in str(err.value)


def test_built_names_parse_back_and_bad_parts_are_refused():
    assert package_file_name('my-game', 'gray1', '190122.01') == 'my-game-gray1-190122.01.tar.gz'
    for project, release, build, word in [
            ('mygame', 'gray1', '1-2', 'build'), ('-x', 'gray1', '1', 'project'),
            ('mygame', 'Gray', '1', 'release'), ('my/game', 'gray1', '1', 'project')]:
        with pytest.raises(PackageError) as err:
            package_file_name(project, release, build)
        assert word in str(err.value)


@pytest.mark.parametrize('version', ['c_1', 'a/b', '..', '.hidden', '', 'c 1', '-c1'])
def test_upgrade_versions_are_validated(version):
    with pytest.raises(PackageError) as err:
        upgrade_file_name(version, 'c-2')
    assert 'from_version' in str(err.value)


def test_upgrade_names():
    assert upgrade_file_name('c-1', 'c-2') == 'c-1_c-2.tar.gz'
    assert parse_upgrade_name('/x/c-1_c-2.tar.gz') == ('c-1', 'c-2')
    with pytest.raises(PackageError):
        upgrade_file_name('c-1', 'c-1')


def test_the_filters_load_only_the_names_module():
    # The package_release and package_build filters run on every flow's first task: parsing a
    # file name must not load the archive reader, the writer or the package layers.
    code = ('import sys; sys.path.insert(0, %r)\n'
            'import ansible_collections.gameops.elastic_release.plugins.filter.package_release as f\n'
            'assert f.package_release("mygame-gray1-190122.01.tar.gz") == "gray1"\n'
            'p = "ansible_collections.gameops.elastic_release.plugins.module_utils."\n'
            'print(" ".join(sorted(m[len(p):] for m in sys.modules if m.startswith(p))))'
            % helpers.COLLECTIONS)
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ['_package', '_package.pkgname', '_release', '_release.names']
