# -*- coding: utf-8 -*-
"""Tools shared by the reliability tests: module runs in the background, raw kazoo reads.

Everything here reads ZooKeeper with raw kazoo, never with the collection's code: the tests judge
the collection from the outside.
"""

import contextlib
import fcntl
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import helpers  # noqa: E402

from kazoo.client import KazooClient  # noqa: E402

PYTHON = helpers.PYTHON
NS = 'gameops.elastic_release.'

# What a failing module may say when ZooKeeper itself is the problem; anything else is unclear.
ZK_TROUBLE = ('connection lost', 'no quorum', 'unreachable', 'session expired', 'did not answer',
              'cannot connect to ZooKeeper', 'may or may not have been applied')


@contextlib.contextmanager
def kazoo(hosts, timeout=10.0, **kwargs):
    """A raw kazoo client, started and always stopped."""
    client = KazooClient(hosts=hosts, timeout=timeout, **kwargs)
    client.start(timeout=30)
    try:
        yield client
    finally:
        client.stop()
        client.close()


def _pipelined(client, paths, window=100):
    """[(path, get result, children result)] of every path, at most `window` requests in flight.

    Waits for the client to be connected first: kazoo wakes its connection thread with one byte
    per request on a socketpair that nobody drains while it is disconnected, so thousands of
    requests queued during a reconnect (after a fault) block the caller forever."""
    deadline = time.time() + 60
    while not client.connected and time.time() < deadline:
        time.sleep(0.05)
    out = []
    for start in range(0, len(paths), window):
        batch = [(p, client.get_async(p), client.get_children_async(p)) for p in paths[start:start + window]]
        for dummy, got, kids in batch:
            got.wait(30)
            kids.wait(30)
        out.extend(batch)
    return out


def read_subtree(client, path, skip_zookeeper=True):
    """{path relative to `path`: data} of every node under path, read with pipelined requests.
    Missing (or vanished) paths are left out; an absent root gives {}."""
    out = {}
    level = [path]
    while level:
        gets = _pipelined(client, level)
        level = []
        for p, got, kids in gets:
            try:
                data, dummy = got.get(timeout=30)
                children = kids.get(timeout=30)
            except Exception as exc:  # NoNodeError: deleted between the two reads
                if type(exc).__name__ == 'NoNodeError':
                    continue
                raise
            out[p[len(path):] or '/'] = data
            for child in sorted(children):
                if skip_zookeeper and p == '/' and child == 'zookeeper':
                    continue
                level.append(p.rstrip('/') + '/' + child)
    return out


def dump_tree(client, path='/'):
    """Data, data version and child version of every node: equal dumps mean nothing was written."""
    out = {}
    level = [path]
    while level:
        gets = _pipelined(client, level)
        level = []
        for p, got, kids in gets:
            data, stat = got.get(timeout=30)
            out[p] = (data, stat.version, stat.cversion, stat.aversion)
            for child in sorted(kids.get(timeout=30)):
                if p == '/' and child == 'zookeeper':
                    continue
                level.append(p.rstrip('/') + '/' + child)
    return out


def release_view(subtree):
    """A release subtree as {relative path: data}, with the release node's metadata reduced to its
    content digest (the metadata also holds a timestamp)."""
    out = dict(subtree)
    if '/' in out:
        try:
            meta = json.loads(out['/'].decode('utf-8'))
            out['/'] = ('digest', meta.get('digest'))
        except ValueError:
            pass
    return out


def adhoc_cmd(module, args, check=False, diff=False, verbose=None):
    cmd = ['ansible', 'localhost', '-c', 'local', '-i', 'localhost,',
           '-e', 'ansible_python_interpreter=%s' % PYTHON,
           '-m', module if '.' in module else NS + module, '-a', json.dumps(args)]
    if check:
        cmd.append('--check')
    if diff:
        cmd.append('--diff')
    if verbose:
        cmd.append(verbose)
    return cmd


ADHOC_ENV = {'ANSIBLE_STDOUT_CALLBACK': 'ansible.builtin.default', 'ANSIBLE_CALLBACK_RESULT_FORMAT': 'json'}


def parse_adhoc(stdout):
    marker = stdout.find(' => {')
    if marker < 0:
        return None
    try:
        return json.loads(stdout[marker + 4:])
    except ValueError:
        # -vvv output follows the result; take the first JSON document only.
        try:
            return json.JSONDecoder().raw_decode(stdout[marker + 4:])[0]
        except ValueError:
            return None


class Background(object):
    """An `ansible` ad-hoc module run in its own process, so a test can break things meanwhile."""

    def __init__(self, module, args, env=None, **kwargs):
        self.cmd = adhoc_cmd(module, args, **kwargs)
        extra = dict(ADHOC_ENV)
        extra.update(env or {})
        self.started = time.time()
        self.proc = subprocess.Popen(self.cmd, env=helpers.ansible_env(extra), cwd=helpers.ROOT,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.result = None
        self.task = None
        self.elapsed = None

    def running(self):
        return self.proc.poll() is None

    def wait(self, timeout=300):
        try:
            stdout, stderr = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            stdout, stderr = self.proc.communicate()
            raise AssertionError('%s did not finish within %ss (a hang):\n%s\n%s'
                                 % (' '.join(self.cmd[-4:]), timeout, stdout[-3000:], stderr[-3000:]))
        self.elapsed = time.time() - self.started
        self.result = helpers.Result(subprocess.CompletedProcess(self.cmd, self.proc.returncode, stdout, stderr),
                                     self.cmd)
        self.task = parse_adhoc(stdout)
        return self.result, self.task


def adhoc(module, args, env=None, timeout=300, **kwargs):
    """A blocking ad-hoc run: (Result, module result or None, seconds)."""
    run = Background(module, args, env=env, **kwargs)
    res, task = run.wait(timeout)
    return res, task, run.elapsed


def assert_clean_output(res):
    """No traceback and no raw module crash in what ansible printed."""
    assert 'Traceback' not in res.output, res
    assert 'MODULE FAILURE' not in res.output, res


def sections_config(tag, count, version=None):
    """A config with `count` sections whose data carries `tag`: publishing another tag changes
    every section node in one transaction."""
    return {
        'global_url': 'http://10.0.0.5:9000/%s' % tag,
        'versions': [version or '1.%s.0' % tag],
        'sections': dict((str(10000 + i), {'name': 'S%d' % i, 'tag': tag}) for i in range(count)),
        'servers': {'10.1.2.3': {'services': {'gameserver': 'dev.%s' % tag}}},
    }


def expected_subtree(config):
    """{relative path: data} the collection writes for config (the release node excluded)."""
    def enc(value):
        return json.dumps(value, sort_keys=True, separators=(',', ':'), ensure_ascii=False).encode('utf-8')
    out = {'/versions': b'', '/sections': b'', '/servers': b''}
    for kind in ('versions', 'sections', 'servers'):
        items = config.get(kind) or {}
        if isinstance(items, list):
            items = dict((name, {}) for name in items)
        for name, value in items.items():
            out['/%s/%s' % (kind, name)] = b'' if kind == 'versions' and not value else enc(value)
    if config.get('global_url') is not None:
        out['/global_url'] = config['global_url'].encode('utf-8')
    return out


def revision_state(config):
    """A config as a revision's `before` records a release: {kind: {name: node data text}}."""
    def enc(value):
        return json.dumps(value, sort_keys=True, separators=(',', ':'), ensure_ascii=False)
    out = {'exists': True, 'global_url': config.get('global_url')}
    for kind in ('versions', 'sections', 'servers'):
        items = config.get(kind) or {}
        if isinstance(items, list):
            items = dict((name, {}) for name in items)
        out[kind] = dict((name, '' if kind == 'versions' and not value else enc(value)) for name, value in items.items())
    return out


def revisions(client, release, admin_root='/elastic_release'):
    """{revision name: decoded revision document}, read with raw kazoo."""
    import zlib
    path = '%s/history/%s' % (admin_root, release)
    return dict((name, json.loads(zlib.decompress(client.get('%s/%s' % (path, name))[0])))
                for name in history(client, release, admin_root))


def content_digest(config):
    """The digest the collection stores in the release node's metadata for config, recomputed here
    from the bytes the tree holds (format v2: SHA-256 over every item's name and exact data, and
    global_url, each field framed by its length, kinds in the order versions, sections, servers)."""
    import hashlib
    nodes = expected_subtree(config)
    url = nodes.get('/global_url')
    parts = [b'elastic_release state v2\n']
    if url is None:
        parts.append(b'global_url -1\n')
    else:
        parts.append(b'global_url %d\n%s' % (len(url), url))
    for kind in ('versions', 'sections', 'servers'):
        prefix = '/%s/' % kind
        items = dict((path[len(prefix):], data) for path, data in nodes.items() if path.startswith(prefix))
        parts.append(b'%s %d\n' % (kind.encode('ascii'), len(items)))
        for name in sorted(items):
            raw = name.encode('utf-8')
            parts.append(b'%d %d\n%s%s' % (len(raw), len(items[name]), raw, items[name]))
    return hashlib.sha256(b''.join(parts)).hexdigest()


def heal(ensemble, timeout=60):
    """Restart every killed node and wait until all of them serve again."""
    for node in ensemble.nodes:
        if not node.alive():
            node.start()
    deadline = time.time() + timeout
    while time.time() < deadline:
        modes = [node.mode() for node in ensemble.nodes]
        if modes.count('leader') == 1 and modes.count('follower') == len(modes) - 1:
            return
        time.sleep(0.1)
    raise RuntimeError('the ensemble did not heal within %ss: %s' % (timeout, [n.mode() for n in ensemble.nodes]))


TABLE = os.path.join(helpers.BUILD, 'reliability', 'faults.json')


def record_rows(fault, rows):
    """Keep what a fault test saw in .build/reliability/faults.json (docs/guarantees.md has the
    table of a full run)."""
    os.makedirs(os.path.dirname(TABLE), exist_ok=True)
    # pytest-xdist workers record at the same time: one read-modify-write at a time
    with open(TABLE + '.lock', 'w') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            with open(TABLE) as f:
                table = json.load(f)
        except (OSError, ValueError):
            table = {}
        table[fault] = rows
        with open(TABLE, 'w') as f:
            json.dump(table, f, indent=1, sort_keys=True)


def history(client, release, admin_root='/elastic_release'):
    path = '%s/history/%s' % (admin_root, release)
    if not client.exists(path):
        return []
    return sorted(client.get_children(path))


# ---- processes below an ansible run (kill trials) ----------------------------------------------

def descendants(pid):
    """Pids of every process below pid."""
    children = {}
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        try:
            with open('/proc/%s/stat' % entry) as handle:
                stat = handle.read()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(')') + 2:].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def module_pid(run, name):
    """The pid of the Python process running the module (AnsiballZ_<name>.py) below an ansible
    run, or None yet (not the /bin/sh that starts it: killing that leaves the module running)."""
    for pid in descendants(run.proc.pid):
        try:
            with open('/proc/%d/cmdline' % pid, 'rb') as handle:
                argv = handle.read().split(b'\0')
        except OSError:
            continue
        if b'python' in os.path.basename(argv[0]) and any(('AnsiballZ_%s' % name).encode() in a for a in argv[1:]):
            return pid
    return None


def playbook_workers(pid):
    """Pids of the processes ansible-playbook `pid` forked to run tasks (same command line), not
    the commands they start."""
    out = []
    for child in descendants(pid):
        try:
            with open('/proc/%d/cmdline' % child, 'rb') as handle:
                argv = handle.read()
        except OSError:
            continue
        if b'ansible-playbook' in argv:
            out.append(child)
    return out


def wait_gone(pids, timeout=60):
    """Wait for processes (orphans of a killed ansible-playbook) to end; SIGKILL what outlives timeout."""
    deadline = time.time() + timeout
    left = list(pids)
    while left and time.time() < deadline:
        left = [p for p in left if os.path.exists('/proc/%d' % p) and _state(p) not in ('Z', 'X', None)]
        time.sleep(0.1)
    for pid in left:
        try:
            os.kill(pid, 9)
        except OSError:
            pass
    return left


def _state(pid):
    try:
        with open('/proc/%d/stat' % pid) as handle:
            return handle.read().rsplit(')', 1)[1].split()[0]
    except OSError:
        return None
