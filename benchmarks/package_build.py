#!/usr/bin/env python
# -*- coding: utf-8 -*-
"""Timing of server package and upgrade package building (not a test).

    python benchmarks/package_build.py [--files 2000] [--size-mb 200] [--workdir DIR] [--keep]

Makes a build output of FILES files totalling SIZE_MB (half random bytes, half compressible
text, in nested directories under lib/ and version/), then times, with the same code the modules
run:
  - building the server package (first build, identical rebuild, check mode),
  - reading it back safely (what server_package_info does),
  - building the upgrade package between two such client trees (c-2: 10% of the files changed,
    5% removed, 5% moved, 7.5% added) and verifying it (apply to a copy of c-1, compare with c-2).
"""

from __future__ import print_function

import argparse
import os
import random
import shutil
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, 'tests'))
import helpers  # noqa: E402

sys.path.insert(0, helpers.install_collection())
from ansible_collections.gameops.elastic_release.plugins.module_utils._package.server_package import (  # noqa: E402
                                                                                                      build_server_package, read_server_package)
from ansible_collections.gameops.elastic_release.plugins.module_utils._package.upgrade import (  # noqa: E402
                                                                                               build_upgrade_package, verify_upgrade_package)
from ansible_collections.gameops.elastic_release.plugins.module_utils._release.config import parse_config  # noqa: E402


def sizes(count, total, rng):
    weights = [rng.paretovariate(1.5) for _index in range(count)]
    scale = total / sum(weights)
    out = [max(0, int(w * scale)) for w in weights]
    out[0] += total - sum(out)
    return out


def content(size, index, rng):
    if index % 2:
        return rng.randbytes(size)
    line = ('%08d the quick brown fox %d jumps over the lazy dog\n' % (index, rng.randint(0, 10 ** 6))).encode()
    return (line * (size // len(line) + 1))[:size]


def write(path, data, mode=0o644):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'wb') as out:
        out.write(data)
    os.chmod(path, mode)


def make_tree(root, files, total, seed, prefix_dirs):
    rng = random.Random(seed)
    names = []
    for i, size in enumerate(sizes(files, total, rng)):
        top = prefix_dirs[i % len(prefix_dirs)]
        parts = [top] + ['d%d' % rng.randint(0, 9) for _depth in range(rng.randint(0, 3))]
        rel = '/'.join(parts + ['f%05d.bin' % i])
        write(os.path.join(root, rel), content(size, i, rng), 0o755 if i % 50 == 0 else 0o644)
        names.append(rel)
    return names


def derive(c1, c2, names, seed):
    """c-2 from c-1: unchanged files hard-linked (cheap to make; read like any file)."""
    rng = random.Random(seed)
    shuffled = list(names)
    rng.shuffle(shuffled)
    n = len(names)
    changed = set(shuffled[:n // 10])
    removed = set(shuffled[n // 10:n // 10 + n // 20])
    moved = set(shuffled[n // 10 + n // 20:n // 10 + n // 10])
    for rel in names:
        src = os.path.join(c1, rel)
        if rel in removed:
            continue
        dst = os.path.join(c2, ('moved/' + rel.replace('/', '_')) if rel in moved else rel)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        if rel in changed:
            with open(src, 'rb') as f:
                data = bytearray(f.read())
            data[:64] = rng.randbytes(min(64, len(data))) if data else b''
            write(dst, bytes(data) + b'changed')
        else:
            os.link(src, dst)
    for i in range(n * 3 // 40):
        write(os.path.join(c2, 'added/a%d/n%05d.bin' % (i % 9, i)), rng.randbytes(rng.randint(0, 200000)))


def timed(label, func, *args, **kw):
    start = time.perf_counter()
    result = func(*args, **kw)
    seconds = time.perf_counter() - start
    print('%-52s %8.2f s' % (label, seconds))
    return result, seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--files', type=int, default=2000)
    parser.add_argument('--size-mb', type=int, default=200)
    parser.add_argument('--workdir', help='where to make the trees (default: a new temporary directory)')
    parser.add_argument('--keep', action='store_true', help='keep the trees and packages')
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix='package_bench.', dir=args.workdir)
    total = args.size_mb * 1024 * 1024
    try:
        print('files=%d size=%d MB workdir=%s python=%s cores=%d'
              % (args.files, args.size_mb, work, sys.version.split()[0], os.cpu_count()))
        src = os.path.join(work, 'src')
        _names, _s = timed('make the build output (not part of the product)', make_tree,
                           src, args.files, total, 1, ['lib/dk-server', 'lib/global', 'version/gameserver/dev.1',
                                                       'version/vms/dev.1', 'version/dataconfig/Numeric#Dev#1'])
        config = parse_config({'global_url': 'http://10.0.0.5:9000', 'versions': ['1.2.0'], 'sections': ['1001']})
        dest = os.path.join(work, 'packages')
        built, _s = timed('server package: build', build_server_package,
                          src, dest, 'production', 'mygame', '190122.01', config)
        print('  %s: %.1f MB, %d members, sha256 %s'
              % (built['package'], built['size'] / 1048576.0, len(built['members']), built['sha256'][:16]))
        again, _s = timed('server package: identical rebuild (changed=false)', build_server_package,
                          src, dest, 'production', 'mygame', '190122.01', config)
        assert not again['changed'] and again['sha256'] == built['sha256']
        timed('server package: check mode (built to nowhere)', build_server_package,
              src, dest, 'production', 'mygame', '190122.01', config, check=True)
        timed('server package: safe read (server_package_info)', read_server_package, built['path'])

        c1 = os.path.join(work, 'c-1')
        c2 = os.path.join(work, 'c-2')
        names, _s = timed('make client trees c-1 and c-2 (not part of the product)', make_tree,
                          c1, args.files, total, 2, ['bin', 'res/ui', 'res/sound', 'scripts'])
        derive(c1, c2, names, 3)
        upgrade, _s = timed('upgrade package c-1_c-2: build', build_upgrade_package,
                            'c-1', 'c-2', c1, c2, dest)
        print('  %s: %.1f MB, counts %s' % (upgrade['package'], upgrade['size'] / 1048576.0, upgrade['counts']))
        verified, _s = timed('upgrade package c-1_c-2: verify (apply to a copy, compare)', verify_upgrade_package,
                             upgrade['path'], 'c-1', 'c-2', c1, c2)
        assert verified['differences'] == [], verified['differences'][:5]
    finally:
        if args.keep:
            print('kept', work)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == '__main__':
    main()
