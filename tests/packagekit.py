# -*- coding: utf-8 -*-
"""Archives and trees for the package tests: well-formed and hostile server packages written with
tarfile as an attacker would, zip bombs, build outputs and client trees.

Shared by tests/unit/plugins/module_utils/test_{archive,server_package,upgrade}.py and
tests/integration/test_package_modules.py (tests/ is on sys.path through tests/conftest.py).
"""

import gzip
import hashlib
import io
import json
import os
import random
import shutil
import tarfile

CONFIG = {
    'global_url': 'http://10.0.0.5:9000',
    'versions': ['1.2.0', '1.2.1'],
    'sections': {'1001': {'name': 'S1'}, '1002': {}},
    'servers': {'10.1.2.3': {'services': {'gameserver': 'dev.190122.01'}}},
}


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
    """A hard-linked copy of a tree (fast); write into it only through write_file, which unlinks first."""
    shutil.copytree(str(src), str(dst), copy_function=os.link)
    return str(dst)


def write_file(root, rel, data, mode=0o644):
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
            write_file(root, rel, data, mode)
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
