# -*- coding: utf-8 -*-
# Copyright: (c) 2026, GameOps release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# This module_utils is PRIVATE to gameops.elastic_release; its API may change without notice.
"""Which release, which version, which command: a game service's start resolved, nothing run.

The request (validated before anything is read) -> the owning release and the service's version
(ZooKeeper through `_lookup`, or values resolved earlier by the controller) -> the argument list.
Running it, recognising it and stopping it is `_process`'s business; this file imports no
subprocess or signal handling, so the lookup plugin can use `answer_version` without them.

Commands are argument lists and never go through a shell: a placeholder fills exactly one
argument, whatever the value holds. No Ansible imports here.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import re
import string

from .._release.names import SERVICE_RE, InvalidName, is_url, validate_item, validate_release
from .._release.start_version import NoStartVersion, version_for

PLACEHOLDERS = ('release', 'section_id', 'inner_ip', 'version', 'global_url', 'install_root', 'service', 'port')
# What an unknown placeholder may be when a running command line is read back (parse_running):
# names never hold "/", a port is digits, a URL anything.
_READ_BACK = {'release': r'[^/\s]+', 'version': r'[^/\s]+', 'port': r'[0-9]+', 'global_url': r'.+'}
DEFAULT_COMMAND = ['{install_root}/version/{service}/{version}/bin/{service}', '--release', '{release}']
SECTION_ARGS = ['--section', '{section_id}']
STATES = ('started', 'stopped', 'restarted')


class ServiceError(Exception):
    """Anything that stops a start or a stop; the message names the service, the file or the release."""


# ---- names and values ---------------------------------------------------------------------------

def validate_service(name):
    if not isinstance(name, str) or not SERVICE_RE.match(name):
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
    except InvalidName as exc:
        raise ServiceError('%s: %s' % (what, exc))


def _short(value):
    text = json.dumps(value, sort_keys=True, default=str) if not isinstance(value, bytes) else repr(value)
    return text if len(text) <= 120 else text[:117] + '...'


def answer_version(answer, service):
    """The service's version for a `_lookup` answer, by the start-version order (_start_version):
    the section node, the host's server node in the owning release, the release's services."""
    steps = []
    path = answer.get('path') or ''
    if '/sections/' in path:
        steps.append((path, answer.get('data')))
    if answer.get('server_path'):
        steps.append((answer['server_path'], answer.get('server_data')))
    if answer.get('release'):
        steps.append(('the release-wide services of %s (config.zoo "services")' % answer['release'],
                      {'services': answer.get('release_services') or {}}))
    try:
        return version_for(service, steps)[0]
    except NoStartVersion as exc:
        raise ServiceError(str(exc))


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


def parse_running(template, known, cmdline):
    """Read a running command line back through its template: {placeholder: value}, or None when
    cmdline is not this service's command (another program, or another instance's).

    known: values the command line must hold (install_root, service, section_id, inner_ip); the
    others (release, version, global_url, port) are read from it. A script's interpreter in front
    (its #! line: one or two arguments) is allowed, as argv_matches allows it.
    """
    if not cmdline or not template:
        return None
    formatter = string.Formatter()
    patterns = []
    for arg in template:
        regex, seen = [], set()
        for literal, field, _spec, _conv in formatter.parse(arg):
            regex.append(re.escape(literal))
            if field is None:
                continue
            if known.get(field) not in (None, ''):
                regex.append(re.escape(str(known[field])))
            elif field in seen:
                regex.append('(?P=%s)' % field)
            else:
                seen.add(field)
                regex.append('(?P<%s>%s)' % (field, _READ_BACK.get(field, r'[^/\s]+')))
        patterns.append(re.compile(''.join(regex) + r'\Z', re.S))
    for extra in (0, 1, 2):
        if len(cmdline) != len(template) + extra:
            continue
        values = {}
        for pattern, arg in zip(patterns, cmdline[extra:]):
            match = pattern.match(arg)
            if not match:
                break
            for key, value in match.groupdict().items():
                if values.setdefault(key, value) != value:
                    break
            else:
                continue
            break
        else:
            return values
    return None


def default_template(section_id):
    return list(DEFAULT_COMMAND) + (list(SECTION_ARGS) if section_id else [])


# ---- the request ---------------------------------------------------------------------------------

class Request(object):
    """Validated module parameters; built before connecting, so bad input starts and reads nothing."""

    def __init__(self, params):
        p = params
        if p.get('owner_error'):
            # The controller already knows this host cannot start (no owner, an invalid name): say
            # why, before anything else is checked or read.
            raise ServiceError(p['owner_error'])
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
        except InvalidName as exc:
            raise ServiceError(str(exc))
        url = p.get('global_url')
        if url not in (None, '') and not is_url(url):
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
    # Imported here, not at the top: a start resolved by the controller (the fleet path) never
    # looks anything up, and each of its hosts would pay for importing the lookup and release code.
    from .._report.lookup import LookupFailed, find, question
    if req.section_id:
        kind, name = question(section_id=req.section_id)
    else:
        kind, name = question(inner_ip=req.inner_ip)
    try:
        with open_session() as session:
            answer = find(session, kind, name, host_ip=req.inner_ip)
    except LookupFailed as exc:
        raise ServiceError('cannot start %s: %s' % (req.service, exc))
    version = req.version or answer_version(answer, req.service)
    return dict(release=answer['release'], version=version, global_url=answer['global_url'],
                is_default=answer['is_default'], source=answer['path'])


def expected_argv(req, target):
    values = dict(release=target['release'], version=target['version'], global_url=target['global_url'],
                  section_id=req.section_id, inner_ip=req.inner_ip, install_root=req.install_root,
                  service=req.service, port=req.ready_port)
    return render_command(template_of(req), values)


def template_of(req):
    return req.command or default_template(req.section_id)


def known_values(req):
    """What a command line of this request's instance holds whatever its release and build."""
    return dict(install_root=req.install_root, service=req.service, section_id=req.section_id, inner_ip=req.inner_ip)
