# -*- coding: utf-8 -*-
"""The example game service (tests/fixtures/gameservice) laid out as a server package would be.

`install(root, version)` puts the program at {root}/version/gameserver/{version}/bin/gameserver
(its #! line pointing at this Python, which has no dependency to import) and its port in
{root}/version/gameserver/{version}/etc/gameserver.json. `stop_all(roots)` is the finalizer:
it stops every service whose pid file is under one of the roots.
"""

import json
import os
import signal
import socket
import sys
import time

FIXTURE = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'fixtures', 'gameservice', 'bin', 'gameserver')


def install(install_root, version, port=None, service='gameserver', python=None):
    vdir = os.path.join(install_root, 'version', service, version)
    os.makedirs(os.path.join(vdir, 'bin'), exist_ok=True)
    os.makedirs(os.path.join(vdir, 'etc'), exist_ok=True)
    with open(FIXTURE) as f:
        lines = f.read().splitlines(True)
    lines[0] = '#!%s\n' % (python or sys.executable)
    program = os.path.join(vdir, 'bin', service)
    with open(program, 'w') as f:
        f.writelines(lines)
    os.chmod(program, 0o755)
    if port is not None:
        with open(os.path.join(vdir, 'etc', 'gameserver.json'), 'w') as f:
            json.dump({'port': port}, f)
    return program


def query(port, timeout=3.0):
    """The JSON line the service answers with on 127.0.0.1:port."""
    with socket.create_connection(('127.0.0.1', port), timeout=timeout) as conn:
        data = b''
        while not data.endswith(b'\n'):
            chunk = conn.recv(4096)
            if not chunk:
                break
            data += chunk
    return json.loads(data.decode('utf-8'))


def cmdline(pid):
    try:
        with open('/proc/%d/cmdline' % pid, 'rb') as f:
            raw = f.read()
    except OSError:
        return None
    return [p.decode() for p in raw.rstrip(b'\0').split(b'\0')] if raw else None


def alive(pid):
    try:
        with open('/proc/%d/stat' % pid) as f:
            state = f.read().rsplit(')', 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ('Z', 'X')


def pid_files(root):
    out = []
    for dirpath, _dirs, files in os.walk(root):
        out.extend(os.path.join(dirpath, f) for f in files if f.endswith('.pid'))
    return out


def read_pid(path):
    try:
        with open(path) as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return None


def stop_all(roots, timeout=10.0):
    """Kill (TERM, then KILL) every process named by a pid file under the roots. Returns the pids."""
    pids = []
    for root in roots:
        for path in pid_files(root):
            pid = read_pid(path)
            if pid and pid > 1 and alive(pid):
                pids.append(pid)
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in pids:
            try:
                os.killpg(pid, sig) if os.getpgid(pid) == pid else os.kill(pid, sig)
            except OSError:
                pass
        deadline = time.time() + timeout
        while time.time() < deadline and any(alive(p) for p in pids):
            time.sleep(0.05)
    return pids
