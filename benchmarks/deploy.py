#!/usr/bin/env python
# -*- coding: utf-8 -*-
"""Timing of deploying server packages on a host (not a test).

    python benchmarks/deploy.py [--files 2000] [--size-mb 200] [--workdir DIR] [--keep]

Makes a build output as benchmarks/package_build.py does, packs it as production and as gray1
(the same content), then times, with the code the server_deploy module runs: a first deploy (the
check read, then the unpack), an identical rerun (changed=false: the package is only hashed),
check mode, the same content as a second release into the same install root (its versions are
shared), and a deploy that removes a build (keep=1).
"""

from __future__ import print_function

import argparse
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from package_build import make_tree, timed  # noqa: E402  pylint: disable=wrong-import-position
from ansible_collections.gameops.elastic_release.plugins.module_utils._release.config import parse_config  # noqa: E402
from ansible_collections.gameops.elastic_release.plugins.module_utils._host.deploy import deploy  # noqa: E402
from ansible_collections.gameops.elastic_release.plugins.module_utils._package.server_package import (  # noqa: E402
                                                                                                      build_server_package)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--files', type=int, default=2000)
    parser.add_argument('--size-mb', type=int, default=200)
    parser.add_argument('--workdir', help='where to work (default: a new temporary directory)')
    parser.add_argument('--keep', action='store_true', help='keep the files')
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix='deploy_bench.', dir=args.workdir)
    try:
        print('files=%d size=%d MB workdir=%s python=%s cores=%d'
              % (args.files, args.size_mb, work, sys.version.split()[0], os.cpu_count()))
        src = os.path.join(work, 'src')
        tops = ['lib/dk-server', 'lib/global', 'version/gameserver/dev.1', 'version/vms/dev.1']
        make_tree(src, args.files, args.size_mb * 1024 * 1024, 1, tops)
        config = parse_config({'versions': ['1.2.0']})
        dist = os.path.join(work, 'dist')
        packages = {}
        for release, build in (('production', '01'), ('gray1', '01'), ('gray1', '02')):
            packages[release, build] = build_server_package(src, dist, release, 'mygame', build, config)['path']
        root = os.path.join(work, 'root')
        first, _s = timed('deploy: first (check read + unpack)', deploy, packages['production', '01'], 'production', root)
        print('  %d members, %.1f MB unpacked' % (first['unpacked']['members'], first['unpacked']['size'] / 1048576.0))
        again, _s = timed('deploy: identical rerun (changed=false)', deploy, packages['production', '01'], 'production', root)
        assert again['changed'] is False
        timed('deploy: check mode of a new build (reads it all)', deploy, packages['gray1', '01'], 'gray1', root,
              check=True)
        timed('deploy: a second release, same versions (shared)', deploy, packages['gray1', '01'], 'gray1', root)
        timed('deploy: a new build removing the old (keep=1)', deploy, packages['gray1', '02'], 'gray1', root, keep=1)
    finally:
        if args.keep:
            print('kept %s' % work)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == '__main__':
    main()
