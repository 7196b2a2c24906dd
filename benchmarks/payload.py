# -*- coding: utf-8 -*-
"""The AnsiballZ payload of every module: its size and the collection files it carries.

Built with ansible-core's own `modify_module` (what Ansible sends to a host), for this checkout and,
with `--base REV`, for another revision checked out in a temporary git worktree, side by side. The
module_utils folders' `__init__.py` files are empty, so a module carries only the files it imports:
this shows it.

    .venv/bin/python benchmarks/payload.py
    .venv/bin/python benchmarks/payload.py --base de86b6a
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def payloads(root, scratch):
    """{module: (payload bytes, collection files, bytes of collection code)} for the checkout at root."""
    code = r'''
import base64, io, json, os, re, sys, zipfile
root, coll = sys.argv[1], sys.argv[2]
sys.path.insert(0, coll)
from ansible.executor.module_common import modify_module
from ansible.plugins.loader import init_plugin_loader
from ansible.template import Templar
init_plugin_loader([coll])
out = {}
for mod in sorted(f[:-3] for f in os.listdir(os.path.join(root, 'plugins', 'modules')) if f.endswith('.py')):
    path = os.path.join(root, 'plugins', 'modules', mod + '.py')
    data = modify_module(module_name='gameops.elastic_release.' + mod, module_path=path, module_args={},
                         templar=Templar(loader=None),
                         task_vars={'ansible_python_interpreter': sys.executable}).b_module_data
    blobs = re.findall(rb"zip_data='([A-Za-z0-9+/=]+)'", data)
    if not blobs:   # an action-only module (flow_check) is never sent to a host
        continue
    zf = zipfile.ZipFile(io.BytesIO(base64.b64decode(blobs[0])))
    names = [n for n in zf.namelist() if '/gameops/' in n and not n.endswith('__init__.py')]
    out[mod] = [len(data), len(names), sum(zf.getinfo(n).file_size for n in names)]
print(json.dumps(out))
'''
    coll = os.path.join(scratch, 'collections-%d' % len(os.listdir(scratch)))
    ns = os.path.join(coll, 'ansible_collections', 'gameops')
    os.makedirs(ns)
    os.symlink(root, os.path.join(ns, 'elastic_release'))
    # a fresh interpreter per tree: Ansible's plugin loader keeps what it loaded
    out = subprocess.run([sys.executable, '-c', code, root, coll], capture_output=True, text=True, check=True,
                         cwd=scratch)
    import json
    return json.loads(out.stdout)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n', 1)[0])
    parser.add_argument('--base', help='a git revision to compare with (checked out in a temporary worktree)')
    args = parser.parse_args()
    scratch = tempfile.mkdtemp(prefix='payload-')
    try:
        now = payloads(ROOT, scratch)
        base = None
        if args.base:
            tree = os.path.join(scratch, 'base')
            subprocess.run(['git', '-C', ROOT, 'worktree', 'add', '-q', '--detach', tree, args.base], check=True)
            try:
                base = payloads(tree, scratch)
            finally:
                subprocess.run(['git', '-C', ROOT, 'worktree', 'remove', '--force', tree], check=False)
        head = '| module | payload (B) | files | collection code (B) |'
        if base:
            head = ('| module | payload at %s (B) | payload now (B) | change | files then -> now | collection code '
                    'then -> now (B) |' % args.base)
        print(head)
        print('|' + ' --- |' * (head.count('|') - 1))
        for mod, (size, files, code) in sorted(now.items()):
            if base and mod in base:
                b = base[mod]
                print('| %s | %d | %d | %+.1f%% | %d -> %d | %d -> %d |'
                      % (mod, b[0], size, 100.0 * (size - b[0]) / b[0], b[1], files, b[2], code))
            else:
                print('| %s | %d | %d | %d |' % (mod, size, files, code))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == '__main__':
    main()
