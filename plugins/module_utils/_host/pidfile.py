# -*- coding: utf-8 -*-
# Copyright: (c) 2026, GameOps release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# This module_utils is PRIVATE to gameops.elastic_release; its API may change without notice.
"""Which process an instance's pid file names, and whether it is this service: pid files, /proc.

Reading only: `_process` starts and signals, and the status of a fleet (`_fleet`) reads through
this file alone, so a status run on each host compiles no start or signal code. A process counts
as ours only when its command line is the one recorded when we started it, the one expected now,
or the instance's command template with another release or build; any other live process named by
the pid file is foreign, and is never signalled. No Ansible imports here.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import json

from .service import ServiceError, known_values, parse_running, template_of


# ---- processes ----------------------------------------------------------------------------------

def exited(pid):
    """True when the process is gone or a zombie (its state in /proc, not its command line: a
    process that is still exiting has an empty cmdline already)."""
    try:
        with open('/proc/%d/stat' % pid, 'rb') as f:
            stat = f.read()
        # state is the field after the parenthesised command name, which may itself hold spaces
        return stat[stat.rindex(b')') + 2:stat.rindex(b')') + 3] in (b'Z', b'X')
    except (IOError, OSError, ValueError):
        return True


def read_cmdline(pid):
    """The live process's argument list, or None when it is gone (or a zombie)."""
    if exited(pid):
        return None
    try:
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
    """What the pid file says: running (our service), stale (no live process), foreign (a live
    process that is not this service: never signalled) or absent."""

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
    """Find our process through the pid file. A live pid counts as ours when its command line is
    the one recorded when we started it, the one expected now, or this instance's command template
    with another release or build (a service restarted by hand): a pid file naming any other
    program (left behind after a reboot, or written by another tool) is foreign, never signalled."""
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
    values = parse_running(template_of(req), known_values(req), cmdline)
    if values is not None:
        record = dict(release=values.get('release', '?'), version=values.get('version', '?'), argv=cmdline)
        return Status('running', pid, cmdline, record)
    return Status('foreign', pid=pid, cmdline=cmdline, record=record)


def refuse_foreign(req, status):
    running = ' '.join(status.cmdline)[:200]
    raise ServiceError('the pid file %s of %s names pid %d, which runs %s: not this service, so it was not started by '
                       'this collection and is left alone. Check what that process is; if the pid file is simply out of '
                       'date, remove it (rm %s) and run again' % (req.pid_file, req.service, status.pid, running, req.pid_file))
