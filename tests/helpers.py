# -*- coding: utf-8 -*-
"""Shared test helpers: the collection installed from this checkout, real ansible runs, the example
inventory pointed at a test's ZooKeeper, tree dumps and copies."""

import json
import os
import re
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, '.build')
COLLECTIONS = os.path.join(BUILD, 'collections')
PYTHON = sys.executable
# The Ansible tools that belong to this interpreter: the bin/ folder of its virtual environment
# (.venv/bin after scripts/setup.sh, or .build/matrix/core-*/bin in `scripts/test.sh matrix`).
# They come first on the PATH of every command the tests run, so `ansible-playbook` is the one
# whose ansible-core the test process imports, whether or not the environment is activated.
TOOLS = os.path.dirname(PYTHON)


def install_collection():
    """Expose this checkout as gameops.elastic_release through a collections/ link (no Galaxy)."""
    ns = os.path.join(COLLECTIONS, 'ansible_collections', 'gameops')
    os.makedirs(ns, exist_ok=True)
    link = os.path.join(ns, 'elastic_release')
    if os.path.islink(link) and os.readlink(link) == ROOT:
        return COLLECTIONS
    if os.path.lexists(link):
        os.unlink(link)
    try:
        os.symlink(ROOT, link)
    except FileExistsError:  # another test process made it meanwhile
        pass
    return COLLECTIONS


def ansible_env(extra=None):
    env = dict(os.environ)
    path = env.get('PATH', os.defpath).split(os.pathsep)
    env.update({
        'PATH': os.pathsep.join([TOOLS] + [p for p in path if p != TOOLS]),
        'ANSIBLE_COLLECTIONS_PATH': install_collection(),
        'ANSIBLE_ROLES_PATH': os.path.join(ROOT, 'roles'),
        'ANSIBLE_HOST_KEY_CHECKING': 'False',
        'ANSIBLE_RETRY_FILES_ENABLED': 'False',
        'ANSIBLE_NOCOLOR': '1',
        'ANSIBLE_FORCE_COLOR': '0',
        'ANSIBLE_DEPRECATION_WARNINGS': 'False',
        'ANSIBLE_LOCALHOST_WARNING': 'False',
        'ANSIBLE_INVENTORY_UNPARSED_WARNING': 'False',
        'PYTHONDONTWRITEBYTECODE': '1',
    })
    env.pop('ELASTIC_RELEASE_ZK_HOSTS', None)
    env.pop('ELASTIC_RELEASE_ZK_AUTH_CREDENTIAL', None)
    if extra:
        env.update(extra)
    return env


class Result(object):
    def __init__(self, proc, cmd):
        self.rc = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr
        self.cmd = cmd

    @property
    def output(self):
        return self.stdout + self.stderr

    def json(self):
        return json.loads(self.stdout)

    def __repr__(self):
        return 'rc=%s\nSTDOUT:\n%s\nSTDERR:\n%s' % (self.rc, self.stdout[-6000:], self.stderr[-4000:])


def run(cmd, env=None, timeout=600, cwd=None, input=None):
    proc = subprocess.run(cmd, env=ansible_env(env), capture_output=True, text=True, check=False,
                          timeout=timeout, cwd=cwd or ROOT, input=input)
    return Result(proc, cmd)


def adhoc(module, args, env=None, check=False, diff=False, timeout=300):
    """Run one module with `ansible localhost -m` and return (Result, module JSON result)."""
    cmd = ['ansible', 'localhost', '-c', 'local', '-i', 'localhost,',
           '-e', 'ansible_python_interpreter=%s' % PYTHON,
           '-m', module, '-a', json.dumps(args)]
    if check:
        cmd.append('--check')
    if diff:
        cmd.append('--diff')
    # ansible-core has no json callback: parse the default one's `localhost | STATUS => {json}`.
    extra = {'ANSIBLE_STDOUT_CALLBACK': 'ansible.builtin.default', 'ANSIBLE_CALLBACK_RESULT_FORMAT': 'json'}
    extra.update(env or {})
    res = run(cmd, env=extra, timeout=timeout)
    task = None
    marker = res.stdout.find(' => {')
    if marker >= 0:
        try:
            task = json.loads(res.stdout[marker + 4:])
        except ValueError:
            task = None
    return res, task


def playbook(path, extra_vars=None, inventory='localhost,', check=False, diff=False, env=None,
             args=(), timeout=600):
    cmd = ['ansible-playbook', '-i', inventory, path]
    if inventory == 'localhost,':
        cmd += ['-c', 'local']
    cmd += ['-e', 'ansible_python_interpreter=%s' % PYTHON]
    if extra_vars:
        cmd += ['-e', json.dumps(extra_vars)]
    if check:
        cmd.append('--check')
    if diff:
        cmd.append('--diff')
    cmd += list(args)
    return run(cmd, env=env, timeout=timeout)


def dump_tree(client, path='/'):
    """Every znode under path (the chroot's root by default) with its data and data version:
    two dumps compare equal only if nothing was created, deleted or written."""
    out = {}

    def walk(p):
        data, stat = client.get(p)
        out[p] = (data, stat.version, stat.cversion)
        for child in sorted(client.get_children(p)):
            if p == '/' and child == 'zookeeper':
                continue
            walk(p.rstrip('/') + '/' + child)
    walk(path)
    return out


def copy_inventory(dest, zk_hosts=None):
    """A copy of the example inventory/ as dest/inventory (its path, a str), with its
    elastic_release_zk_hosts set to zk_hosts (a test's chroot) when given."""
    inv = os.path.join(str(dest), 'inventory')
    shutil.copytree(os.path.join(ROOT, 'inventory'), inv)
    if zk_hosts is not None:
        path = os.path.join(inv, 'group_vars', 'all.yml')
        with open(path) as handle:
            text, count = re.subn(r'(?m)^elastic_release_zk_hosts: .*$', 'elastic_release_zk_hosts: %s' % zk_hosts,
                                  handle.read())
        assert count == 1, 'inventory/group_vars/all.yml has no elastic_release_zk_hosts line'
        with open(path, 'w') as handle:
            handle.write(text)
    return inv


def copy_tree(source, target, batch=500):
    """Copy every node of source's chroot (a started kazoo client) into target's, which must be
    empty: data and ACLs, parents first, a few hundred creates per transaction. The copy's stats
    are its own (versions start again at 0), which no reader of the tree depends on.

    Ephemeral nodes (the writers' locks) belong to the session that made them and cannot be
    copied: one found means a writer was still at work, and is an error."""
    ops = []

    def walk(path):
        for child in sorted(source.get_children(path)):
            if path == '/' and child == 'zookeeper':
                continue
            full = path.rstrip('/') + '/' + child
            data, stat = source.get(full)
            if stat.ephemeralOwner:
                raise ValueError('cannot copy %s: an ephemeral node (a lock held by a running writer)' % full)
            ops.append((full, data, source.get_acls(full)[0]))
            walk(full)
    walk('/')
    for start in range(0, len(ops), batch):
        txn = target.transaction()
        for path, data, acl in ops[start:start + batch]:
            txn.create(path, data, acl=acl)
        failed = [(op[0], r) for op, r in zip(ops[start:start + batch], txn.commit()) if isinstance(r, Exception)]
        assert not failed, 'cannot copy the tree: %r' % failed[:3]
    return len(ops)
