# -*- coding: utf-8 -*-
"""tests/zkserver.py leaks no ZooKeeper JVM: a Python process that started a server is killed
(SIGTERM, as CI or a user stopping pytest does, and SIGKILL), and its JVM must be gone too."""

import os
import signal
import subprocess
import sys
import time

import pytest

# Kills processes on purpose (its own ZooKeeper servers' parents): the full tier.
pytestmark = pytest.mark.full

TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Starts a server, prints the JVM's pid and waits to be killed.
CHILD = r'''
import sys, time
sys.path.insert(0, sys.argv[1])
import zkserver
server = zkserver.Standalone(workdir=sys.argv[2]).start()
print(server.node.pid, flush=True)
time.sleep(600)
'''


def _running_jvm(pid):
    """True while pid is a live (not zombie) ZooKeeper JVM."""
    try:
        with open('/proc/%d/stat' % pid) as f:
            state = f.read().rsplit(')', 1)[1].split()[0]
        with open('/proc/%d/cmdline' % pid, 'rb') as f:
            cmdline = f.read()
    except OSError:
        return False
    return state != 'Z' and b'QuorumPeerMain' in cmdline


@pytest.mark.parametrize('sig', [signal.SIGTERM, signal.SIGKILL], ids=['SIGTERM', 'SIGKILL'])
def test_killed_parent_takes_its_zookeeper_along(tmp_path, sig):
    parent = subprocess.Popen([sys.executable, '-c', CHILD, TESTS, str(tmp_path)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = parent.stdout.readline()
        assert line.strip().isdigit(), 'the server did not start: %s' % parent.stderr.read()
        jvm = int(line)
        assert _running_jvm(jvm)
        parent.send_signal(sig)
        assert parent.wait(timeout=60) == -sig
        # The JVM gets SIGKILL from the kernel or the handler; give it time to go (no timing claim).
        deadline = time.time() + 60
        while _running_jvm(jvm) and time.time() < deadline:
            time.sleep(0.1)
        leaked = _running_jvm(jvm)
        if leaked:
            os.kill(jvm, signal.SIGKILL)
        assert not leaked, 'ZooKeeper JVM %d outlived the process that started it (%s)' % (jvm, sig.name)
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
