# -*- coding: utf-8 -*-
"""_flow/gate.py: masking, escaping and the bounds of one try and of the whole gate, with real
processes and a real HTTP server on 127.0.0.1 (no ZooKeeper)."""

import sys
import time

import pytest

import httpkit
from ansible_collections.gameops.elastic_release.plugins.module_utils._flow import gate as G

SECRET_URL = 'https://bot:S3cret-pw@mon.example:8443/health/gray1?token=T0ken-abc&env=prod#frag-x'


def test_mask_url_keeps_scheme_host_and_path_only():
    assert G.mask_url(SECRET_URL) == 'https://***@mon.example:8443/health/gray1?token=***&env=***#***'
    assert G.mask_url('http://mon/health') == 'http://mon/health'
    assert G.mask_url('http://mon/h?flag') == 'http://mon/h?***'
    assert set(G.secrets(SECRET_URL)) >= {'S3cret-pw', 'T0ken-abc', 'prod', 'frag-x'}
    text = G.scrub('GET %s failed; token T0ken-abc' % SECRET_URL, SECRET_URL)
    assert 'S3cret-pw' not in text and 'T0ken-abc' not in text and 'mon.example:8443/health/gray1' in text


def test_escape_shows_control_and_bidi_characters_and_cuts():
    assert G.escape(b'a\nb\x1b[31m\xe2\x80\xaec') == 'a\\x0ab\\x1b[31m\\u202ec'
    text = G.escape('x' * 600)
    assert text.startswith('x' * 500) and text.endswith('(100 more characters)')


def test_a_command_that_never_exits_is_killed_with_its_group_at_the_gate_timeout(tmp_path):
    pidfile = tmp_path / 'child.pid'
    # the child of the shell is in the same process group: killing the group kills it too
    script = 'echo started; sleep 1000 & echo $! > %s; wait' % pidfile
    t0 = time.monotonic()
    out = G.ask(command=['sh', '-c', script], timeout=1, interval=1)
    assert time.monotonic() - t0 < 3.5
    assert out['passed'] is False and out['timed_out'] is True and out['rc'] is None and out['tries'] == 1
    assert 'was killed with its process group' in out['answer'] and 'started' in out['answer']
    child = int(pidfile.read_text())
    deadline = time.time() + 5
    while _alive(child) and time.time() < deadline:
        time.sleep(0.05)
    assert not _alive(child), 'the sleeping child outlived the gate'


def _alive(pid):
    # a killed orphan stays a zombie until init reaps it: dead all the same
    try:
        with open('/proc/%d/stat' % pid) as handle:
            return handle.read().rsplit(')', 1)[1].split()[0] not in ('Z', 'X')
    except OSError:
        return False


def test_try_timeout_bounds_each_try_and_the_gate_keeps_asking(tmp_path):
    count = tmp_path / 'count'
    script = 'echo x >> %s; [ $(wc -l < %s) -ge 3 ] && exit 0; sleep 100' % (count, count)
    out = G.ask(command=['sh', '-c', script], timeout=20, interval=0.1, try_timeout=0.3)
    assert out['passed'] is True and out['tries'] == 3 and out['seconds'] < 5


def test_a_failing_command_is_asked_until_the_timeout_and_named_with_its_output():
    out = G.ask(command=[sys.executable, '-c', 'import sys; sys.stdout.write("error_rate 7%\\x1b[0m"); sys.exit(3)'],
                timeout=1, interval=0.5)
    assert out['passed'] is False and out['rc'] == 3 and out['tries'] == 2
    assert 'exited 3: error_rate 7%\\x1b[0m' in out['answer'] and '2 tries' in out['answer']


def test_a_flood_of_output_is_cut_not_kept():
    out = G.ask(command=[sys.executable, '-c', 'import sys; sys.stdout.write("y" * 30000000); sys.exit(1)'], timeout=0)
    assert out['output_bytes'] == 30000000 and len(out['output']) < 4200 and len(out['answer']) < 800


def test_a_missing_command_fails_the_gate_naming_it():
    out = G.ask(command=['/nonexistent/check'], timeout=0)
    assert out['passed'] is False and "/nonexistent/check could not be started" in out['answer']


class _Handler(httpkit.Handler):
    def do_GET(self):
        if self.path.startswith('/redirect'):
            self.answer(302, headers=[('Location', '/login?next=%2Fhealth&session=Sess-1234')])
        elif self.path.startswith('/login') or self.path.startswith('/ok'):
            self.answer(200, b'ok')
        elif self.path.startswith('/hang'):
            time.sleep(5)
        else:
            self.answer(503, b'down\n\x1b[31m' + self.headers.get('Authorization', '').encode() + b' ' * 600)


@pytest.fixture
def server():
    with httpkit.serve(_Handler) as port:
        yield 'http://bot:S3cret-pw@127.0.0.1:%d' % port


def test_a_redirect_fails_the_gate_naming_the_masked_location(server):
    out = G.ask(url=server + '/redirect?token=T0ken-abc', timeout=0)
    assert out['passed'] is False and out['status'] == 302
    assert out['location'].endswith('/login?next=***&session=***')
    assert 'gate_follow_redirects=true' in out['answer']
    followed = G.ask(url=server + '/redirect?token=T0ken-abc', timeout=0, follow_redirects=True)
    assert followed['passed'] is True and followed['status'] == 200


def test_a_failing_url_shows_its_body_escaped_and_never_the_secrets(server):
    out = G.ask(url=server + '/down?token=T0ken-abc', timeout=0)
    assert out['passed'] is False and out['status'] == 503
    assert 'answered 503: down\\x0a\\x1b[31mBasic ***' in out['answer'] and '(more characters)' not in out['answer']
    assert all(secret not in repr(out) for secret in ('S3cret-pw', 'T0ken-abc', 'Ym90OlMzY3JldC1wdw=='))
    assert out['target'] == 'http://***@127.0.0.1:%s/down?token=***' % server.rsplit(':', 1)[1]


def test_a_url_that_hangs_is_abandoned_at_its_bound(server):
    t0 = time.monotonic()
    out = G.ask(url=server + '/hang', timeout=0, try_timeout=0.5)
    assert time.monotonic() - t0 < 2 and out['timed_out'] is True and 'no answer within' in out['answer'], out
