# -*- coding: utf-8 -*-
# Copyright: (c) 2026, GameOps release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# This module_utils is PRIVATE to gameops.elastic_release; its API may change without notice.
"""Start and stop a game service with the release that owns its host or section.

resolve (ZooKeeper, or values resolved earlier by the controller) -> build the argument list ->
compare with what runs (pid file + /proc/<pid>/cmdline) -> start, stop, or leave alone.

Commands are argument lists and never go through a shell: a placeholder fills exactly one
argument, whatever the value holds. No Ansible imports here.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import json
import os
import re
import signal
import socket
import string
import subprocess
import time

from ._config import URL_RE
from ._lookup import LookupFailed, find, question
from ._names import NameError_, validate_item, validate_release

SERVICE_RE = re.compile(r'^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}\Z')
PLACEHOLDERS = ('release', 'section_id', 'inner_ip', 'version', 'global_url', 'install_root', 'service')
DEFAULT_COMMAND = ['{install_root}/version/{service}/{version}/bin/{service}', '--release', '{release}']
SECTION_ARGS = ['--section', '{section_id}']
STATES = ('started', 'stopped', 'restarted')
# Never hand the collection's own settings (ZooKeeper credentials among them) to a game service.
ENV_DROP_PREFIXES = ('ANSIBLE_', '_ANSIBLE', 'ELASTIC_RELEASE_ZK_')
LOG_TAIL_LINES = 20


class ServiceError(Exception):
    """Anything that stops a start or a stop; the message names the service, the file or the release."""


# ---- names and values ---------------------------------------------------------------------------

def validate_service(name):
    if not isinstance(name, str) or not SERVICE_RE.match(name) or name in ('.', '..'):
        raise ServiceError('invalid service name %r: must be 1-64 letters, digits, _ . - (starting '
                           'with a letter or digit; no "/", spaces or shell characters)' % (name,))
    return name


def _absolute(path, what):
    if not isinstance(path, str) or not path or '\x00' in path or not os.path.isabs(path):
        raise ServiceError('invalid %s %r: must be an absolute path' % (what, path))
    return os.path.normpath(path)


def _item(kind, value, what):
    try:
        return validate_item(kind, value)
    except NameError_ as exc:
        raise ServiceError('%s: %s' % (what, exc))


def version_from_data(data, service, where):
    """The service's version in a server or section node's data: {"services": {service: version}}."""
    services = data.get('services') if isinstance(data, dict) else None
    if not isinstance(services, dict):
        raise ServiceError('%s names no services (its data must look like {"services": {"%s": "<version>"}}, '
                           'got %s)' % (where, service, _short(data)))
    version = services.get(service)
    if version in (None, ''):
        raise ServiceError('%s has no version for service %s (services listed: %s)'
                           % (where, service, ', '.join(sorted(services)) or 'none'))
    return _item('versions', version, 'version of %s in %s' % (service, where))


def _short(value):
    text = json.dumps(value, sort_keys=True, default=str) if not isinstance(value, bytes) else repr(value)
    return text if len(text) <= 120 else text[:117] + '...'


def answer_version(answer, service):
    """The service's version from a `_lookup` answer (a server's or a section's node data)."""
    where = answer.get('path') or 'the owning node'
    return version_from_data(answer.get('data'), service, where)


# ---- commands -----------------------------------------------------------------------------------

def render_command(template, values):
    """Fill placeholders argument by argument: each template element gives exactly one argument.

    Only bare names from PLACEHOLDERS are allowed (no attribute or index access, no conversions or
    format specs), so a template cannot reach into objects and a value cannot split or add arguments.
    """
    if not isinstance(template, (list, tuple)) or not template:
        raise ServiceError('command must be a non-empty list of arguments')
    formatter = string.Formatter()
    argv = []
    for pos, arg in enumerate(template):
        if not isinstance(arg, str):
            raise ServiceError('command argument %d (%r) must be a string' % (pos, arg))
        try:
            parts = list(formatter.parse(arg))
        except ValueError as exc:
            raise ServiceError('command argument %d (%r): %s (write a literal brace as {{ or }})' % (pos, arg, exc))
        out = []
        for literal, field, spec, conversion in parts:
            out.append(literal)
            if field is None:
                continue
            if field not in PLACEHOLDERS:
                raise ServiceError('command argument %d (%r): unknown placeholder {%s} (known: %s)'
                                   % (pos, arg, field, ', '.join('{%s}' % p for p in PLACEHOLDERS)))
            if spec or conversion:
                raise ServiceError('command argument %d (%r): placeholder {%s} takes no conversion or format spec'
                                   % (pos, arg, field))
            value = values.get(field)
            if value in (None, ''):
                raise ServiceError('command argument %d (%r) uses {%s}, which has no value here' % (pos, arg, field))
            out.append(str(value))
        text = ''.join(out)
        if '\x00' in text:
            raise ServiceError('command argument %d (%r) holds a NUL byte' % (pos, arg))
        argv.append(text)
    if not os.path.isabs(argv[0]):
        raise ServiceError('the command must start with an absolute path, got %r (no PATH search)' % argv[0])
    return argv


def default_template(section_id):
    return list(DEFAULT_COMMAND) + (list(SECTION_ARGS) if section_id else [])


# ---- the request ---------------------------------------------------------------------------------

class Request(object):
    """Validated module parameters; built before connecting, so bad input starts and reads nothing."""

    def __init__(self, params):
        p = params
        self.service = validate_service(p['service'])
        self.install_root = _absolute(p['install_root'], 'install_root')
        self.run_dir = _absolute(p.get('run_dir') or os.path.join(self.install_root, 'run'), 'run_dir')
        self.state = p.get('state') or 'started'
        if self.state not in STATES:
            raise ServiceError('invalid state %r: choose %s' % (self.state, ', '.join(STATES)))
        section = p.get('section_id')
        self.section_id = _item('sections', section, 'section_id') if section not in (None, '') else None
        ip = p.get('inner_ip')
        self.inner_ip = _item('servers', ip, 'inner_ip') if ip not in (None, '') else None
        version = p.get('version')
        self.version = _item('versions', version, 'version') if version not in (None, '') else None
        release = p.get('release')
        try:
            self.release = validate_release(release) if release not in (None, '') else None
        except NameError_ as exc:
            raise ServiceError(str(exc))
        url = p.get('global_url')
        if url not in (None, '') and not URL_RE.match(url):
            raise ServiceError('invalid global_url %r: must be a URL such as http://10.0.0.5:9000' % (url,))
        self.global_url = url or None
        if self.release and not self.version:
            raise ServiceError('release %s was given without version: give both (resolved by the controller) '
                               'or neither (looked up in ZooKeeper)' % self.release)
        if self.state != 'stopped' and not self.release and not (self.section_id or self.inner_ip):
            raise ServiceError('give section_id or inner_ip so the owning release can be looked up '
                               '(or release and version resolved beforehand)')
        self.command = list(p['command']) if p.get('command') else None
        if self.command is not None:
            # Validate placeholders now, with dummy values, so a bad template fails before any lookup.
            render_command(self.command, dict((k, '/x') for k in PLACEHOLDERS))
        self.restart_on_change = bool(p.get('restart_on_change'))
        self.ready_port = p.get('ready_port')
        if self.ready_port is not None and not 0 < self.ready_port < 65536:
            raise ServiceError('ready_port must be between 1 and 65535, got %s' % self.ready_port)
        self.ready_timeout = float(p.get('ready_timeout') if p.get('ready_timeout') is not None else 30)
        self.ready_delay = float(p.get('ready_delay') if p.get('ready_delay') is not None else 0.5)
        self.stop_timeout = float(p.get('stop_timeout') if p.get('stop_timeout') is not None else 30)
        for name in ('ready_timeout', 'ready_delay', 'stop_timeout'):
            if getattr(self, name) < 0:
                raise ServiceError('%s must not be negative' % name)
        # One pid file per service, or per service and section when a host runs several sections.
        base = self.service + ('-' + self.section_id if self.section_id else '')
        self.pid_file = os.path.join(self.run_dir, base + '.pid')
        self.state_file = os.path.join(self.run_dir, base + '.state.json')
        self.log_file = os.path.join(self.run_dir, base + '.log')


# ---- who owns this host -------------------------------------------------------------------------

def resolve(req, open_session):
    """{release, version, global_url, is_default, source} for the request.

    With release and version given (resolved by the controller) nothing is read. Otherwise the
    section (when given) or the inner IP is looked up with `_lookup.find`, as release_lookup does.
    """
    if req.release:
        return dict(release=req.release, version=req.version, global_url=req.global_url,
                    is_default=None, source='given')
    if req.section_id:
        kind, name = question(section_id=req.section_id)
    else:
        kind, name = question(inner_ip=req.inner_ip)
    try:
        with open_session() as session:
            answer = find(session, kind, name)
    except LookupFailed as exc:
        raise ServiceError('cannot start %s: %s' % (req.service, exc))
    version = req.version or answer_version(answer, req.service)
    return dict(release=answer['release'], version=version, global_url=answer['global_url'],
                is_default=answer['is_default'], source=answer['path'])


def expected_argv(req, target):
    values = dict(release=target['release'], version=target['version'], global_url=target['global_url'],
                  section_id=req.section_id, inner_ip=req.inner_ip, install_root=req.install_root,
                  service=req.service)
    template = req.command or default_template(req.section_id)
    return render_command(template, values)


# ---- processes ----------------------------------------------------------------------------------

def read_cmdline(pid):
    """The live process's argument list, or None when it is gone (or a zombie)."""
    try:
        with open('/proc/%d/stat' % pid, 'rb') as f:
            stat = f.read()
        # state is the field after the parenthesised command name, which may itself hold spaces
        if stat[stat.rindex(b')') + 2:stat.rindex(b')') + 3] in (b'Z', b'X'):
            return None
        with open('/proc/%d/cmdline' % pid, 'rb') as f:
            raw = f.read()
    except (IOError, OSError, ValueError):
        return None
    if not raw:
        return None
    return [part.decode('utf-8', 'surrogateescape') for part in raw.rstrip(b'\x00').split(b'\x00')]


def argv_matches(cmdline, argv):
    """/proc/<pid>/cmdline against the argv we exec'd: equal, or equal after the interpreter a
    script's #! line adds in front (`/usr/bin/python3 /path/bin/gameserver --release ...`)."""
    if not cmdline or not argv:
        return False
    if cmdline == argv:
        return True
    extra = len(cmdline) - len(argv)
    return 0 < extra <= 2 and cmdline[extra:] == list(argv)


class Status(object):
    """What the pid file says: state is running, stale (no live process of ours) or absent."""

    def __init__(self, state, pid=None, cmdline=None, record=None):
        self.state = state
        self.pid = pid
        self.cmdline = cmdline
        self.record = record or {}

    @property
    def running(self):
        return self.state == 'running'


def _read_json(path):
    try:
        with open(path, 'rb') as f:
            doc = json.loads(f.read(65536).decode('utf-8'))
        return doc if isinstance(doc, dict) else None
    except (IOError, OSError, ValueError):
        return None


def inspect(req, expected=None):
    """Find our process through the pid file. A live pid counts as ours only when its command line
    is the one recorded when we started it (or the one expected now): a pid file left behind after
    a reboot may name an unrelated process, which we never signal."""
    try:
        with open(req.pid_file, 'rb') as f:
            text = f.read(64).decode('ascii', 'replace').strip()
    except (IOError, OSError) as exc:
        if exc.errno == errno.ENOENT:
            return Status('absent')
        raise ServiceError('cannot read pid file %s: %s' % (req.pid_file, exc.strerror or exc))
    record = _read_json(req.state_file)
    if not text.isdigit() or int(text) <= 1:
        return Status('stale', record=record)
    pid = int(text)
    cmdline = read_cmdline(pid)
    if cmdline is None:
        return Status('stale', pid=pid, record=record)
    recorded = record.get('argv') if record else None
    if (recorded and argv_matches(cmdline, recorded)) or (expected and argv_matches(cmdline, expected)):
        return Status('running', pid, cmdline, record)
    return Status('stale', pid=pid, cmdline=cmdline, record=record)


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
    tmp = '%s.tmp.%d' % (path, os.getpid())
    with open(tmp, 'wb') as f:
        f.write(data)
    os.rename(tmp, path)


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
    return read_cmdline(pid) is None


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
