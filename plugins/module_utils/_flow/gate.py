# -*- coding: utf-8 -*-
# Copyright: (c) 2026, GameOps release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# This module_utils is PRIVATE to gameops.elastic_release; its API may change without notice.
"""The health gate of a widen or narrow: a URL that must answer 2xx, or a command that must exit 0,
asked until it passes or its time is up.

Every wait is bounded: the whole gate by `timeout`, each try by `try_timeout` and by what is left
of the gate. A command runs as an argument list (never a shell) in a process group of its own, so
that a try that outlives its bound is killed with everything it started; its output so far is
kept. A URL is asked in a thread abandoned at its bound (a socket timeout alone bounds each read,
not a name lookup or a server that drips its answer). Redirects fail the gate unless followed on
purpose: a 302 to a login page that answers 200 says nothing about the game.

A gate URL may carry credentials (user:password@, ?token=...). Only `mask_url`'s form - scheme,
host, path, with every credential and query value replaced by *** - is ever put in a message or a
result; `secrets` lists the raw parts for a caller that scrubs further.
No Ansible imports here.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import os
import select
import shlex
import signal
import socket
import subprocess
import threading
import time
import unicodedata

from urllib import error as _urlerror
from urllib import parse as _urlparse
from urllib import request as _urlrequest

MASK = '***'
SHOWN = 500             # characters of a body or an output put in the message
KEPT = 4096             # bytes of a body or an output read and kept in the result
KILL_GRACE = 1.0        # seconds between SIGTERM and SIGKILL of a command's process group
DEFAULT_TRY_TIMEOUT = 30


# ---- what may be shown --------------------------------------------------------------------------

def mask_url(url):
    """url with its credentials, query values and fragment replaced by ***: scheme, host, path stay."""
    try:
        parts = _urlparse.urlsplit(url)
    except ValueError:
        return MASK
    userinfo, at, hostport = parts.netloc.rpartition('@')
    netloc = (MASK + '@' if at else '') + hostport
    query = '&'.join(_mask_pair(pair) for pair in parts.query.split('&')) if parts.query else ''
    return _urlparse.urlunsplit((parts.scheme, netloc, parts.path, query, MASK if parts.fragment else ''))


def _mask_pair(pair):
    key, eq, value = pair.partition('=')
    return key + '=' + MASK if eq else MASK


def secrets(url):
    """The raw parts of url that mask_url hides (user, password, query values, fragment)."""
    try:
        parts = _urlparse.urlsplit(url)
    except ValueError:
        return [url]
    out = []
    userinfo, at, hostport = parts.netloc.rpartition('@')
    if at:
        out.extend(p for p in userinfo.split(':', 1) if p)
        out.append(_basic(userinfo))    # as the Authorization header carries them (a server may echo it)
    for pair in parts.query.split('&') if parts.query else ():
        key, eq, value = pair.partition('=')
        out.append(value if eq else key)
        if eq:
            out.append(_urlparse.unquote_plus(value))
    if parts.fragment:
        out.append(parts.fragment)
    # the longest first: a value that contains another is replaced whole
    return sorted(set(s for s in out if len(s) >= 3), key=len, reverse=True)


def scrub(text, url):
    """text with url and each of its secret parts replaced by their masked form."""
    if not url or not text:
        return text
    text = text.replace(url, mask_url(url))
    for secret in secrets(url):
        text = text.replace(secret, MASK)
    return text


def escape(data, limit=SHOWN):
    """Bytes or text made safe to show on one line: control and format characters (escapes,
    newlines, bidi overrides) as \\x.. / \\u...., cut at `limit` characters."""
    if isinstance(data, bytes):
        data = data.decode('utf-8', 'replace')
    out = []
    for char in data:
        if unicodedata.category(char) in ('Cc', 'Cf', 'Zl', 'Zp', 'Cs'):
            code = ord(char)
            out.append('\\x%02x' % code if code < 0x100 else '\\u%04x' % code)
        else:
            out.append(char)
    text = ''.join(out)
    return text if len(text) <= limit else text[:limit] + '... (%d more characters)' % (len(text) - limit)


# ---- one try ------------------------------------------------------------------------------------

class Try(object):
    """One question to the gate and its answer."""

    def __init__(self):
        self.passed = False
        self.answer = ''        # one line: what the gate said, safe to show
        self.status = None      # HTTP status
        self.location = None    # masked Location of a redirect
        self.rc = None          # exit code of a command (None: killed at its bound, or not started)
        self.timed_out = False
        self.output = ''        # body or output, escaped, at most KEPT characters
        self.output_bytes = 0   # how much the gate wrote in all


def run_command(argv, bound):
    """Run argv (a list, no shell) for at most `bound` seconds; stdout and stderr together."""
    out = Try()
    label = shlex.join(argv)
    try:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                close_fds=True, start_new_session=True)
    except OSError as exc:
        out.answer = '%s could not be started: %s' % (label, exc.strerror or exc)
        return out
    head = bytearray()
    restore = _group_goes_on_term(proc)
    try:
        fd = proc.stdout.fileno()
        os.set_blocking(fd, False)
        deadline = time.monotonic() + bound
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                out.timed_out = True
                break
            ready = select.select([fd], [], [], min(left, 0.2))[0]
            if ready:
                chunk = _read(fd)
                if chunk is None:
                    continue
                if not chunk:   # every writer closed the pipe
                    break
                out.output_bytes += len(chunk)
                head.extend(chunk[:max(0, KEPT - len(head))])
            elif proc.poll() is not None:
                break   # exited; what it left running may hold the pipe open: not waited for
        if not out.timed_out:
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                out.timed_out = True
    finally:
        restore()
        if out.timed_out or proc.poll() is None:
            _kill_group(proc)
        proc.stdout.close()
    out.rc = None if out.timed_out else proc.returncode
    out.output = escape(bytes(head), KEPT)
    shown = escape(bytes(head))
    if out.timed_out:
        out.answer = '%s did not finish within %gs and was killed with its process group; its output so far: %s' % (
            label, bound, shown or '(none)')
    else:
        out.passed = proc.returncode == 0
        out.answer = '%s exited %d: %s' % (label, proc.returncode, shown or '(no output)')
    return out


def _read(fd):
    try:
        return os.read(fd, 65536)
    except BlockingIOError:
        return None


def _group_goes_on_term(proc):
    """While the command runs, SIGTERM (AWX cancelling the job: ansible ends its workers so) ends the
    command's process group first: it runs in a session of its own, which the worker's handler does
    not reach. Returns the function that puts the previous handler back."""
    try:
        previous = signal.getsignal(signal.SIGTERM)

        def handler(signum, frame):
            _kill_group(proc)
            signal.signal(signum, previous if previous is not None else signal.SIG_DFL)
            if callable(previous):
                previous(signum, frame)
            else:
                os.kill(os.getpid(), signum)
        signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread: no handler of ours, nothing to put back
        return lambda: None
    return lambda: signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)


def _kill_group(proc):
    """SIGTERM to the command's process group, SIGKILL to what is left after KILL_GRACE."""
    for sig, wait in ((signal.SIGTERM, KILL_GRACE), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(proc.pid, sig)
        except OSError:
            pass    # the group is gone
        try:
            proc.wait(wait)
        except subprocess.TimeoutExpired:
            continue
        if sig == signal.SIGTERM:
            try:
                os.killpg(proc.pid, signal.SIGKILL)   # what the leader left behind in its group
            except OSError:
                pass
        return


def _basic(userinfo):
    user, colon, password = userinfo.partition(':')
    token = '%s:%s' % (_urlparse.unquote(user), _urlparse.unquote(password))
    return base64.b64encode(token.encode('utf-8')).decode('ascii')


class _NoRedirect(_urlrequest.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None   # urllib then raises HTTPError with the 3xx status


def ask_url(url, bound, follow_redirects=False):
    """GET url for at most `bound` seconds; 2xx passes. Credentials in the URL go as basic auth,
    never to another host a redirect leads to."""
    out = Try()
    shown = mask_url(url)
    box = {}
    worker = threading.Thread(target=_fetch, args=(url, bound, follow_redirects, box))
    worker.daemon = True
    worker.start()
    worker.join(bound)
    if worker.is_alive() or box.get('timed_out'):
        out.timed_out = True
        out.answer = '%s gave no answer within %gs' % (shown, bound)
        return out
    if 'error' in box:
        out.answer = '%s could not be asked: %s' % (shown, scrub(box['error'], url))
        return out
    out.status = box['status']
    raw = box.get('body') or b''
    out.output_bytes = len(raw)
    body = scrub(raw.decode('utf-8', 'replace'), url)
    out.output = escape(body, KEPT)
    location = box.get('location')
    if 300 <= out.status < 400:
        out.location = mask_url(_urlparse.urljoin(url, location)) if location else None
        out.answer = '%s answered %d, a redirect to %s (not followed: gate_follow_redirects=true follows it)' % (
            shown, out.status, out.location or '(no Location)')
        return out
    out.passed = 200 <= out.status < 300
    out.answer = '%s answered %d: %s' % (shown, out.status, escape(body) or '(empty body)')
    return out


def _fetch(url, bound, follow_redirects, box):
    try:
        parts = _urlparse.urlsplit(url)
        userinfo, at, hostport = parts.netloc.rpartition('@')
        req = _urlrequest.Request(_urlparse.urlunsplit((parts.scheme, hostport, parts.path, parts.query, '')))
        if at:
            # unredirected: urllib copies other headers to wherever a redirect leads
            req.add_unredirected_header('Authorization', 'Basic ' + _basic(userinfo))
        handlers = [] if follow_redirects else [_NoRedirect()]
        opener = _urlrequest.build_opener(*handlers)
        try:
            with opener.open(req, timeout=bound) as resp:
                box['status'], box['body'] = resp.status, resp.read(KEPT)
        except _urlerror.HTTPError as exc:
            box['status'], box['location'] = exc.code, exc.headers.get('Location') if exc.headers else None
            try:
                box['body'] = exc.read(KEPT)
            except Exception:  # pylint: disable=broad-except
                box['body'] = b''
    except _urlerror.URLError as exc:
        box['error'] = str(exc.reason)
        box['timed_out'] = isinstance(exc.reason, socket.timeout)
    except socket.timeout:
        box['timed_out'] = True     # the socket's own timeout, at the same bound as the join
    except Exception as exc:  # pylint: disable=broad-except
        box['error'] = '%s: %s' % (type(exc).__name__, exc)


# ---- the gate ------------------------------------------------------------------------------------

def ask(url=None, command=None, timeout=60, interval=5, try_timeout=DEFAULT_TRY_TIMEOUT, follow_redirects=False,
        clock=time.monotonic, sleep=time.sleep):
    """Ask the gate until it passes or `timeout` seconds have passed; the result as a dict.

    A try starts only while the gate has time left; the next one `interval` seconds after the
    previous one ended. Each try ends within min(try_timeout, the time left, at least 1 s).
    """
    if bool(url) == bool(command):
        raise ValueError('give url or command, not both and not neither')
    start = clock()
    deadline = start + timeout
    tries = 0
    while True:
        bound = min(try_timeout, max(deadline - clock(), 1.0))
        last = ask_url(url, bound, follow_redirects) if url else run_command(list(command), bound)
        tries += 1
        if last.passed or clock() + interval >= deadline:
            break
        sleep(interval)
    seconds = clock() - start
    answer = last.answer
    if not last.passed:
        word = 'try' if tries == 1 else 'tries'
        answer = '%s (%d %s in %.1fs, gate_timeout %gs)' % (answer, tries, word, seconds, timeout)
    return {
        'passed': last.passed, 'kind': 'url' if url else 'command',
        'target': mask_url(url) if url else list(command),
        'tries': tries, 'seconds': round(seconds, 3), 'answer': answer, 'status': last.status,
        'location': last.location, 'rc': last.rc, 'timed_out': last.timed_out, 'output': last.output,
        'output_bytes': last.output_bytes,
    }
