# -*- coding: utf-8 -*-
"""Real ZooKeeper servers for the tests and benchmarks: standalone and 3-node ensembles on 127.0.0.1.

Uses Debian's `zookeeper` package (jars under /usr/share/java). A missing ZooKeeper is an error,
never a reason to skip: CI installs it (scripts/setup.sh).

No JVM outlives the Python process that started it (unless started with detach=True, as
`scripts/demo.sh --keep` does): each one gets PR_SET_PDEATHSIG (the kernel
kills it when its parent dies, even by SIGKILL), and the JVMs still running are stopped at exit
and on SIGTERM. The kernel's rule is per thread: start servers from a thread that lives as long
as they should (the main thread, as pytest fixtures do).
"""

import atexit
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

JAVA_DIR = os.environ.get('ELASTIC_RELEASE_ZK_JARS', '/usr/share/java')
CLASSPATH = ':'.join(os.path.join(JAVA_DIR, jar)
                     for jar in ('zookeeper.jar', 'zookeeper-jute.jar', 'slf4j-api.jar', 'slf4j-simple.jar'))
MAIN = 'org.apache.zookeeper.server.quorum.QuorumPeerMain'


class ZooKeeperMissing(RuntimeError):
    pass


PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
try:
    _PRCTL = ctypes.CDLL(None, use_errno=True).prctl  # resolved here, not in the forked child
except (OSError, AttributeError):  # not Linux: the exit and SIGTERM cleanup still apply
    _PRCTL = None

# Every JVM started here and not yet stopped (see _stop_all).
_LIVE = set()
_LIVE_LOCK = threading.RLock()  # re-entered by the SIGTERM handler
_HANDLER = {}


def _die_with_parent(parent):
    """preexec_fn for the JVM: the kernel sends SIGKILL to it when `parent` (this thread) dies."""
    def preexec():
        if _PRCTL is not None:
            _PRCTL(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent:  # the parent died before prctl: nobody would tell us
            os._exit(1)
    return preexec


def _stop_all():
    """SIGKILL every JVM still running, without waiting: this runs at exit or inside a signal
    handler, maybe while the interrupted code holds a Popen's lock."""
    with _LIVE_LOCK:
        nodes = list(_LIVE)
    for node in nodes:
        if node.proc.returncode is not None:
            continue  # reaped already: its pid may belong to someone else now
        try:
            os.kill(node.proc.pid, signal.SIGKILL)
        except OSError:  # already gone
            pass


def _on_sigterm(signum, frame):
    _stop_all()
    previous = _HANDLER.get('previous')
    if callable(previous):
        previous(signum, frame)
        return
    # Die of SIGTERM as if we had no handler (exit status 143 for the shell).
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGTERM)


def _install_cleanup():
    """Once per process: stop live JVMs at exit and on SIGTERM (chaining any earlier handler;
    a process that ignores SIGTERM keeps ignoring it)."""
    if _HANDLER:
        return
    _HANDLER['installed'] = True
    atexit.register(_stop_all)
    if threading.current_thread() is not threading.main_thread():
        return  # signal handlers can only be set from the main thread
    previous = signal.getsignal(signal.SIGTERM)
    if previous == signal.SIG_IGN:
        return
    _HANDLER['previous'] = previous
    signal.signal(signal.SIGTERM, _on_sigterm)


def check_installed():
    jar = os.path.join(JAVA_DIR, 'zookeeper.jar')
    if not os.path.exists(jar):
        raise ZooKeeperMissing('ZooKeeper is not installed (%s is missing): run scripts/setup.sh '
                               '(apt-get install zookeeper)' % jar)
    if not shutil.which('java'):
        raise ZooKeeperMissing('java is not on PATH: run scripts/setup.sh')


def free_ports(count):
    socks, ports = [], []
    try:
        for dummy in range(count):
            s = socket.socket()
            s.bind(('127.0.0.1', 0))
            socks.append(s)
            ports.append(s.getsockname()[1])
    finally:
        for s in socks:
            s.close()
    return ports


def four_letter(port, word='ruok', timeout=1.0):
    try:
        with socket.create_connection(('127.0.0.1', port), timeout=timeout) as s:
            s.sendall(word.encode())
            chunks = []
            while True:
                data = s.recv(4096)
                if not data:
                    break
                chunks.append(data)
            return b''.join(chunks).decode('utf-8', 'replace')
    except OSError:
        return ''


class ZkNode(object):
    """One ZooKeeper JVM: standalone, or one member of an ensemble."""

    def __init__(self, workdir, client_port, myid=None, servers=None, extra=None, tick=2000,
                 extra_classpath=()):
        self.workdir = workdir
        # Jars added after ZooKeeper's own (e.g. Netty for secureClientPort/TLS).
        self.extra_classpath = list(extra_classpath)
        self.client_port = client_port
        self.myid = myid
        self.data_dir = os.path.join(workdir, 'data')
        self.cfg = os.path.join(workdir, 'zoo.cfg')
        self.log = os.path.join(workdir, 'zk.log')
        self.proc = None
        os.makedirs(self.data_dir, exist_ok=True)
        lines = [
            'tickTime=%d' % tick,
            'initLimit=20',
            'syncLimit=5',
            'dataDir=%s' % self.data_dir,
            'clientPort=%d' % client_port,
            'clientPortAddress=127.0.0.1',
            '4lw.commands.whitelist=ruok,srvr,stat,mntr',
            'admin.enableServer=false',
            'preAllocSize=1024',
            'snapCount=100000',
            'maxClientCnxns=0',
        ]
        for key, value in (extra or {}).items():
            lines.append('%s=%s' % (key, value))
        if servers:
            for sid, (quorum, election) in sorted(servers.items()):
                lines.append('server.%d=127.0.0.1:%d:%d' % (sid, quorum, election))
            with open(os.path.join(self.data_dir, 'myid'), 'w') as f:
                f.write('%d\n' % myid)
        with open(self.cfg, 'w') as f:
            f.write('\n'.join(lines) + '\n')

    def start(self, jvm_args=(), detach=False):
        """detach: the JVM outlives this process (scripts/demo.sh --keep; `demo.sh stop` ends it)."""
        check_installed()
        cmd = ['java', '-Xmx128m', '-XX:+UseSerialGC', '-Dzookeeper.admin.enableServer=false']
        cmd += list(jvm_args)
        cmd += ['-cp', ':'.join([CLASSPATH] + self.extra_classpath), MAIN, self.cfg]
        if not detach:
            _install_cleanup()
        self.logf = open(self.log, 'ab')
        self.proc = subprocess.Popen(cmd, stdout=self.logf, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True,
                                     preexec_fn=None if detach else _die_with_parent(os.getpid()))
        if not detach:
            with _LIVE_LOCK:
                _LIVE.add(self)
        return self

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def ok(self):
        return four_letter(self.client_port, 'ruok') == 'imok'

    def mode(self):
        for line in four_letter(self.client_port, 'srvr').splitlines():
            if line.startswith('Mode:'):
                return line.split(':', 1)[1].strip()
        return None

    def kill(self, sig=signal.SIGKILL):
        if self.alive():
            os.kill(self.proc.pid, sig)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:  # a JVM stuck in its shutdown hooks
                self.proc.kill()
                self.proc.wait(timeout=30)
        with _LIVE_LOCK:
            _LIVE.discard(self)
        if getattr(self, 'logf', None):
            self.logf.close()
            self.logf = None

    stop = kill

    def tail(self, lines=40):
        try:
            with open(self.log, 'rb') as f:
                return b''.join(f.readlines()[-lines:]).decode('utf-8', 'replace')
        except OSError:
            return ''


def _wait(cond, timeout, what, nodes):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if cond():
            return
        for node in nodes:
            if node.proc is not None and not node.alive():
                raise RuntimeError('ZooKeeper on port %d exited:\n%s' % (node.client_port, node.tail()))
        time.sleep(0.1)
    raise RuntimeError('%s not ready in %ss:\n%s' % (what, timeout, '\n'.join(n.tail() for n in nodes)))


class Standalone(object):
    """A standalone server: `with Standalone() as zk: zk.hosts`."""

    def __init__(self, workdir=None, extra=None, jvm_args=(), extra_classpath=(), detach=False):
        self.detach = detach
        self.own_dir = workdir is None
        self.workdir = workdir or tempfile.mkdtemp(prefix='zk-')
        self.port = free_ports(1)[0]
        self.extra = extra
        self.jvm_args = jvm_args
        self.node = ZkNode(self.workdir, self.port, extra=extra, extra_classpath=extra_classpath)

    @property
    def hosts(self):
        return '127.0.0.1:%d' % self.port

    def start(self, timeout=60):
        self.node.start(self.jvm_args, detach=self.detach)
        _wait(self.node.ok, timeout, 'ZooKeeper', [self.node])
        return self

    def stop(self):
        self.node.kill(signal.SIGTERM)
        if self.own_dir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


class Ensemble(object):
    """A 3-node (or n-node) ensemble on 127.0.0.1, each node with its own ports and data dir."""

    def __init__(self, size=3, workdir=None, extra=None):
        self.own_dir = workdir is None
        self.workdir = workdir or tempfile.mkdtemp(prefix='zk-ensemble-')
        ports = free_ports(size * 3)
        servers = {}
        for i in range(size):
            servers[i + 1] = (ports[size + 2 * i], ports[size + 2 * i + 1])
        self.nodes = []
        for i in range(size):
            d = os.path.join(self.workdir, 'node%d' % (i + 1))
            os.makedirs(d, exist_ok=True)
            self.nodes.append(ZkNode(d, ports[i], myid=i + 1, servers=servers, extra=extra, tick=500))

    @property
    def hosts(self):
        return ','.join('127.0.0.1:%d' % n.client_port for n in self.nodes)

    def start(self, timeout=90):
        for node in self.nodes:
            node.start()
        self.wait_quorum(timeout)
        return self

    def wait_quorum(self, timeout=60):
        live = [n for n in self.nodes if n.alive()]
        _wait(lambda: any(n.mode() == 'leader' for n in live) and
              all(n.mode() in ('leader', 'follower') for n in live), timeout, 'ensemble quorum', live)

    def leader(self):
        for node in self.nodes:
            if node.alive() and node.mode() == 'leader':
                return node
        return None

    def stop(self):
        for node in self.nodes:
            node.kill(signal.SIGKILL)
        if self.own_dir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


if __name__ == '__main__':
    # Manual use: python tests/zkserver.py [standalone|ensemble] -> prints hosts, runs until Ctrl-C.
    import sys
    kind = sys.argv[1] if len(sys.argv) > 1 else 'standalone'
    server = Ensemble() if kind == 'ensemble' else Standalone()
    server.start()
    print(server.hosts, flush=True)
    try:
        signal.pause()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
