# -*- coding: utf-8 -*-
"""module_utils/_upgrade.py: client trees and upgrade packages. An upgrade package built from two
client trees of 2,000+ files, applied to the older one, gives the newer one exactly; hostile
manifests and payloads change nothing."""

import hashlib
import json
import os
import tarfile

import pytest

import packagekit as pk
from ansible_collections.gameops.elastic_release.plugins.module_utils._package.archive import UnsafeArchiveError
from ansible_collections.gameops.elastic_release.plugins.module_utils._package.pkgname import PackageError
from ansible_collections.gameops.elastic_release.plugins.module_utils._package.upgrade import (
    apply_upgrade, build_upgrade_package, compare_trees, safe_extract, snapshot_tree, verify_upgrade_package)


@pytest.fixture(scope='module')
def client_trees(tmp_path_factory):
    base = tmp_path_factory.mktemp('trees')
    return pk.make_client_trees(base)


def test_upgrade_package_applied_to_c1_gives_c2(client_trees, tmp_path):
    c1, c2 = client_trees
    assert sum(len(f) for _b, _d, f in os.walk(c1)) >= 2000
    result = build_upgrade_package('c-1', 'c-2', c1, c2, str(tmp_path / 'out'))
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

    c1_before = pk.tree_state(c1)
    tree = pk.clone(c1, tmp_path / 'applied')
    apply_upgrade(result['path'], str(tree), 'c-1', 'c-2')
    assert compare_trees(snapshot_tree(str(tree)), snapshot_tree(c2)) == []
    assert pk.tree_state(tree) == pk.tree_state(c2)
    assert pk.tree_state(c1) == c1_before  # applying never wrote through the shared inodes
    assert verify_upgrade_package(result['path'], 'c-1', 'c-2', c1, c2)['differences'] == []


def test_upgrade_package_is_reproducible(client_trees, tmp_path):
    c1, c2 = client_trees
    one = build_upgrade_package('c-1', 'c-2', c1, c2, str(tmp_path / 'one'))
    two = build_upgrade_package('c-1', 'c-2', c1, c2, str(tmp_path / 'two'))
    with open(one['path'], 'rb') as a, open(two['path'], 'rb') as b:
        assert a.read() == b.read()
    again = build_upgrade_package('c-1', 'c-2', c1, c2, str(tmp_path / 'one'))
    assert not again['changed']


def test_upgrade_package_from_archived_trees(tmp_path):
    # Smaller trees: extracting 2 x 2,000 files twice costs more than it proves.
    c1, c2 = pk.make_client_trees(tmp_path, files=300, seed=3)
    one = build_upgrade_package('c-1', 'c-2', c1, c2, str(tmp_path / 'one'))
    c1_tgz = pk.tar_dir(c1, tmp_path / 'c-1.tar.gz')
    c2_tgz = pk.tar_dir(c2, tmp_path / 'c-2.tar.gz')
    two = build_upgrade_package('c-1', 'c-2', c1_tgz, c2_tgz, str(tmp_path / 'two'))
    with open(one['path'], 'rb') as a, open(two['path'], 'rb') as b:
        assert a.read() == b.read()
    assert verify_upgrade_package(one['path'], 'c-1', 'c-2', c1_tgz, c2_tgz)['differences'] == []
    assert verify_upgrade_package(one['path'], 'c-1', 'c-2', c1, c2_tgz)['differences'] == []


def test_verify_reports_differences(client_trees, tmp_path):
    c1, c2 = client_trees
    other = pk.clone(c2, tmp_path / 'c-2b')
    pk.write_file(other, 'added/empty', b'not empty any more')
    os.unlink(os.path.join(other, 'swap_to_file'))
    result = build_upgrade_package('c-1', 'c-2', c1, c2, str(tmp_path / 'out'))
    differences = verify_upgrade_package(result['path'], 'c-1', 'c-2', c1, str(other))['differences']
    assert 'content of added/empty differs (0 bytes, expected 18)' in differences
    assert 'unexpected file swap_to_file' in differences


def test_apply_to_the_wrong_tree_changes_nothing(client_trees, tmp_path):
    c1, c2 = client_trees
    result = build_upgrade_package('c-1', 'c-2', c1, c2, str(tmp_path / 'out'))
    tree = pk.clone(c2, tmp_path / 'wrong')
    before = pk.tree_state(tree)
    with pytest.raises(PackageError) as err:
        apply_upgrade(result['path'], str(tree))
    assert 'cannot apply' in str(err.value) and 'c-1' in str(err.value)
    assert pk.tree_state(tree) == before


def _upgrade_tgz(path, manifest, payload):
    members = [(pk.tinfo('manifest.json', data=manifest), manifest)]
    for rel, data in payload.items():
        members.append((pk.tinfo('files/' + rel, data=data), data))
    return pk.write_tgz(path, members)


def _manifest(**kw):
    doc = {'format': 1, 'from_version': 'c-1', 'to_version': 'c-2', 'added': [], 'changed': [], 'removed': [],
           'added_dirs': [], 'removed_dirs': []}
    doc.update(kw)
    return json.dumps(doc).encode()


def test_hostile_upgrade_packages(tmp_path):
    tree = tmp_path / 'tree'
    pk.write_file(tree, 'keep.txt', b'keep')
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
    before = pk.tree_state(tmp_path)
    for case, (manifest, payload, word) in cases.items():
        path = _upgrade_tgz(tmp_path / 'c-1_c-2.tar.gz', manifest, payload)
        state = pk.tree_state(tmp_path)
        with pytest.raises(PackageError) as err:
            apply_upgrade(path, str(tree))
        assert word in str(err.value), (case, str(err.value))
        assert pk.tree_state(tmp_path) == state, case
        os.unlink(path)
    assert pk.tree_state(tmp_path) == before
    manifest = (pk.tinfo('manifest.json', data=_manifest()), _manifest())
    escape = pk.write_tgz(tmp_path / 'c-1_c-2.tar.gz', [manifest, (pk.tinfo('files/x', 'symlink', linkname='/etc'), None)])
    with pytest.raises(UnsafeArchiveError) as err:
        apply_upgrade(escape, str(tree))
    assert "'files/x'" in str(err.value)
    os.unlink(escape)
    extra = pk.write_tgz(tmp_path / 'c-1_c-2.tar.gz', [manifest, (pk.tinfo('install.sh', data=b'rm -rf /'), b'rm -rf /')])
    with pytest.raises(UnsafeArchiveError) as err:
        apply_upgrade(extra, str(tree))
    assert "'install.sh'" in str(err.value)
    assert (tmp_path / 'victim').read_bytes() == b'victim'


def test_trees_with_symlinks_are_refused(tmp_path):
    c1 = tmp_path / 'c1'
    c2 = tmp_path / 'c2'
    pk.write_file(c1, 'a', b'a')
    pk.write_file(c2, 'a', b'b')
    os.symlink('a', str(c2 / 'link'))
    with pytest.raises(PackageError) as err:
        build_upgrade_package('c-1', 'c-2', str(c1), str(c2), str(tmp_path / 'out'))
    assert 'link' in str(err.value) and 'symlink' in str(err.value)
    assert not (tmp_path / 'out').exists()


def test_safe_extract_writes_files_and_directories_only(tmp_path):
    members = [(pk.tinfo('d', 'dir'), None), (pk.tinfo('d/a', data=b'a', mode=0o755), b'a'),
               (pk.tinfo('d/b', 'hardlink', linkname='d/a'), None)]
    path = pk.write_tgz(tmp_path / 'tree.tar.gz', members)
    out = tmp_path / 'out'
    out.mkdir()
    scan = safe_extract(path, str(out))
    assert [m.name for m in scan.members] == ['d', 'd/a', 'd/b']
    assert (out / 'd' / 'a').read_bytes() == (out / 'd' / 'b').read_bytes() == b'a'
    assert os.stat(str(out / 'd' / 'a')).st_ino != os.stat(str(out / 'd' / 'b')).st_ino  # a copy, not a link
    assert os.stat(str(out / 'd' / 'a')).st_mode & 0o777 == 0o755
    # Files are created exclusively: extracting again over the same directory fails, naming the member.
    with pytest.raises(PackageError) as err:
        safe_extract(path, str(out))
    assert "cannot extract member 'd/a'" in str(err.value)

    link = pk.write_tgz(tmp_path / 'link.tar.gz', [(pk.tinfo('l', 'symlink', linkname='x'), None)])
    with pytest.raises(UnsafeArchiveError) as err:
        safe_extract(link, str(tmp_path / 'out'))
    assert "member 'l' is a symlink" in str(err.value)
