# -*- coding: utf-8 -*-
# Copyright: (c) 2026, GameOps release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# This module_utils is PRIVATE to gameops.elastic_release; its API may change without notice.
"""Process supervision of a game service: pid files, /proc, signals, start, stop, and the whole task.

`execute` brings a service to the requested state: resolve (`_service`) -> compare with what runs
(pid file + /proc/<pid>/cmdline, `_pidfile`) -> start, stop, or leave alone. A pid file naming a
process that is not this service is refused: that process is never signalled.

No Ansible imports here.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import json
import os
import signal
import socket
import subprocess
import time

from .._package.files import atomic_write
from .pidfile import exited, argv_matches, inspect, read_cmdline, refuse_foreign
from .service import ServiceError, expected_argv, resolve

# Never hand the collection's own settings (ZooKeeper credentials among them) to a game service.
ENV_DROP_PREFIXES = ('ANSIBLE_', '_ANSIBLE', 'ELASTIC_RELEASE_ZK_')
LOG_TAIL_LINES = 20


def port_open(port, host='127.0.0.1', timeout=0.5):
    try:
        sock = socket.create_connection((host, port), timeout=timeout)
    except (socket.error, OSError):
        return False
    sock.close()
    return True


def child_env():
    return dict((k, v) for k, v in os.environ.items() if not k.startswith(ENV_DROP_PREFIXES))


def _write_atomic(path, data):
    atomic_write(path, data, prefix='.%s.' % os.path.basename(path))


def _remove(*paths):
    for path in paths:
        try:
            os.unlink(path)
        except OSError as exc:
            if exc.errno != errno.ENOENT:
                raise ServiceError('cannot remove %s: %s' % (path, exc.strerror or exc))


def log_tail(path, offset=0, lines=LOG_TAIL_LINES):
    try:
        with open(path, 'rb') as f:
            f.seek(offset)
            data = f.read()[-65536:]
    except (IOError, OSError):
        return ''
    return b'\n'.join(data.splitlines()[-lines:]).decode('utf-8', 'replace')


def start(req, argv, meta):
    """Start argv as a daemon (own session, stdin /dev/null, output to the log file), record it,
    and wait until it is alive (ready_delay) or accepts connections on ready_port. Returns the pid."""
    # Game servers find their data relative to their version directory: run them from there.
    workdir = os.path.join(req.install_root, 'version', req.service, meta.get('version') or '')
    if not os.path.isdir(workdir):
        workdir = req.install_root
    for path in (argv[0], workdir):
        if not os.path.exists(path):
            raise ServiceError('cannot start %s: %s does not exist (is version %s unpacked under %s?)'
                               % (req.service, path, meta.get('version'), req.install_root))
    if req.ready_port and port_open(req.ready_port):
        raise ServiceError('cannot start %s: port %d already accepts connections on 127.0.0.1, but not from a '
                           'process this module started (pid file %s): stop whatever listens there first'
                           % (req.service, req.ready_port, req.pid_file))
    try:
        os.makedirs(req.run_dir, 0o755)
    except OSError as exc:
        if exc.errno != errno.EEXIST:
            raise ServiceError('cannot create run_dir %s: %s' % (req.run_dir, exc.strerror or exc))
    try:
        log = open(req.log_file, 'ab')
    except (IOError, OSError) as exc:
        raise ServiceError('cannot open log file %s: %s' % (req.log_file, exc.strerror or exc))
    try:
        offset = log.tell()
        log.write(('--- %s starting: %s\n' % (time.strftime('%Y-%m-%dT%H:%M:%S%z'), json.dumps(argv))).encode('utf-8'))
        log.flush()
        try:
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                    cwd=workdir, env=child_env(), close_fds=True, start_new_session=True)
        except (IOError, OSError) as exc:
            raise ServiceError('cannot run %s: %s' % (argv[0], exc.strerror or exc))
    finally:
        log.close()
    record = dict(meta, argv=argv, pid=proc.pid, started=time.time())
    try:
        _write_atomic(req.state_file, json.dumps(record, sort_keys=True).encode('utf-8'))
        _write_atomic(req.pid_file, ('%d\n' % proc.pid).encode('ascii'))
    except (IOError, OSError) as exc:
        # Without a pid file nobody could find the process again: do not leave it running.
        _terminate(proc.pid, req.stop_timeout, proc)
        raise ServiceError('cannot write pid file %s: %s; stopped %s again' % (req.pid_file, exc.strerror or exc, req.service))

    started = time.time()
    deadline = started + (req.ready_timeout if req.ready_port else req.ready_delay)
    while True:
        code = proc.poll()
        if code is not None:
            _remove(req.pid_file, req.state_file)
            raise ServiceError('%s exited with code %s right after starting (%s); last lines of %s:\n%s'
                               % (req.service, code, ' '.join(argv), req.log_file, log_tail(req.log_file, offset)))
        if req.ready_port and port_open(req.ready_port, timeout=0.2):
            break
        if time.time() >= deadline:
            if not req.ready_port:
                break
            _terminate(proc.pid, req.stop_timeout, proc)
            _remove(req.pid_file, req.state_file)
            raise ServiceError('%s (pid %d) did not accept connections on 127.0.0.1:%d within %ss; stopped it '
                               'again. Last lines of %s:\n%s' % (req.service, proc.pid, req.ready_port, req.ready_timeout,
                                                                 req.log_file, log_tail(req.log_file, offset)))
        time.sleep(0.05)
    return proc.pid


def _signal(pid, sig):
    """Signal the process group the daemon leads (its children too), else the process alone."""
    try:
        if os.getpgid(pid) == pid:
            os.killpg(pid, sig)
        else:
            os.kill(pid, sig)
    except OSError as exc:
        if exc.errno != errno.ESRCH:
            raise ServiceError('cannot signal pid %d: %s' % (pid, exc.strerror or exc))


def _gone(pid, proc=None):
    if proc is not None:
        return proc.poll() is not None
    return exited(pid)


def _terminate(pid, timeout, proc=None):
    """SIGTERM, wait up to timeout, then SIGKILL. Returns the signal that ended it."""
    _signal(pid, signal.SIGTERM)
    deadline = time.time() + timeout
    while time.time() < deadline:
        if _gone(pid, proc):
            return 'SIGTERM'
        time.sleep(0.05)
    _signal(pid, signal.SIGKILL)
    deadline = time.time() + 10
    while time.time() < deadline:
        if _gone(pid, proc):
            return 'SIGKILL'
        time.sleep(0.05)
    raise ServiceError('pid %d survived SIGKILL for 10s (uninterruptible sleep?)' % pid)


def stop(req, status):
    how = _terminate(status.pid, req.stop_timeout)
    _remove(req.pid_file, req.state_file)
    return how


# ---- the whole task -----------------------------------------------------------------------------

SUMMARY_KEYS = ('service', 'action', 'pid', 'release', 'version', 'section_id', 'inner_ip')


def execute(req, open_session, check_mode=False):
    """Bring the service to req.state. Returns the module result (changed, pid, cmd, ...) and warnings."""
    result = _execute(req, open_session, check_mode)
    # What a fleet report shows per host (the role's set_stats), without the command lines.
    result['summary'] = dict((key, result.get(key)) for key in SUMMARY_KEYS)
    return result


def _execute(req, open_session, check_mode):
    result = dict(changed=False, action='none', service=req.service, section_id=req.section_id,
                  inner_ip=req.inner_ip, pid=None, cmd=None, release=None, version=None, global_url=None,
                  log_file=req.log_file, pid_file=req.pid_file, running_cmd=None, warnings=[])
    if req.state == 'stopped':
        return _stopped(req, result, check_mode)

    target = resolve(req, open_session)
    argv = expected_argv(req, target)
    meta = dict(release=target['release'], version=target['version'], service=req.service,
                section_id=req.section_id, inner_ip=req.inner_ip)
    result.update(release=target['release'], version=target['version'], global_url=target['global_url'],
                  cmd=argv, source=target['source'])
    status = inspect(req, argv)
    if status.state == 'foreign':
        refuse_foreign(req, status)

    if status.running:
        result.update(pid=status.pid, running_cmd=status.cmdline)
        same = argv_matches(status.cmdline, argv)
        if same and req.state == 'started':
            return result
        if not same and req.state == 'started' and not req.restart_on_change:
            was = status.record
            result['warnings'].append(
                '%s (pid %d) runs %s (release %s, version %s) but the expected command is %s (release %s, version %s): '
                'left running; use state=restarted or restart_on_change=true to restart it'
                % (req.service, status.pid, ' '.join(was.get('argv') or status.cmdline), was.get('release', '?'), was.get('version', '?'),
                   ' '.join(argv), target['release'], target['version']))
            result['action'] = 'drift'
            return result
        result.update(changed=True, action='restarted')
        if check_mode:
            return result
        stop(req, status)
        result['pid'] = None
    else:
        result.update(changed=True, action='started')
        if check_mode:
            if not os.path.exists(argv[0]):
                result['warnings'].append('%s does not exist yet: the start would fail unless an earlier task '
                                          'unpacks version %s' % (argv[0], target['version']))
            return result
        if status.state == 'stale':
            _remove(req.pid_file, req.state_file)
    try:
        pid = start(req, argv, meta)
    except ServiceError as exc:
        # A restart that stopped the old process changed the host even though the start failed.
        exc.changed = result['action'] == 'restarted'
        raise
    result.update(pid=pid, running_cmd=read_cmdline(pid) or argv)
    return result


def _stopped(req, result, check_mode):
    status = inspect(req)
    if status.state == 'foreign':
        refuse_foreign(req, status)
    record = status.record
    result.update(release=record.get('release'), version=record.get('version'), cmd=record.get('argv'))
    if not status.running:
        if status.state == 'stale' and not check_mode:
            # A leftover pid file names no process of ours: tidy it; nothing ran, nothing changed.
            _remove(req.pid_file, req.state_file)
        return result
    result.update(changed=True, action='stopped', pid=status.pid, running_cmd=status.cmdline)
    if not check_mode:
        result['signal'] = stop(req, status)
    return result
