# -*- coding: utf-8 -*-
"""The health gate of widen and narrow under hostile gates, through real ansible-playbook runs
against real ZooKeeper: a command that never exits, a URL that redirects to a login page that
answers 200, a URL carrying a password and a token. Raw kazoo judges the tree; /proc judges what
is left running. Trial counts are in docs/guarantees.md."""

import json
import os
import sys
import time
import uuid

import pytest

import faultkit
import flowkit
import helpers
import httpkit
import modrun

from ansible_collections.gameops.elastic_release.plugins.modules import zk_release_node

HANG_TRIALS = 10
GATE_TIMEOUT = 5
SECRETS = ('S3cret-pw-41', 'T0ken-9f2e', 'Ym90OlMzY3JldC1wdy00MQ==')


def publish_basics(zk, packages):
    """production and gray1 published in this process (what the production and gray flows write)."""
    for key, extra in (('production-190122.01', {'set_default': True}),
                       ('gray1-190122.01', {'append_versions_to_default': True})):
        res = modrun.run(zk_release_node, dict(extra, hosts=zk.hosts, release=key.split('-', 1)[0], package=packages[key]))
        assert res.get('changed') is True, res


def widen(inventory, tmp_path, verbose=False, **extra):
    """The widen flow of section 1003, with its summary file and the custom stats AWX stores printed."""
    summary = tmp_path / ('summary-%s.json' % uuid.uuid4().hex[:6])
    cmd = ['ansible-playbook', '-i', inventory, 'playbooks/widen.yml', '-e', 'release=gray1', '-e', 'sections=1003',
           '-e', 'summary_file=%s' % summary] + (['-v'] if verbose else [])
    cmd += ['-e', json.dumps(extra)]    # as data: a command's arguments hold spaces and quotes
    t0 = time.monotonic()
    res = helpers.run(cmd, env={'ANSIBLE_SHOW_CUSTOM_STATS': 'true'})
    return res, (json.loads(summary.read_text()) if summary.exists() else None), time.monotonic() - t0


def processes_with(marker):
    out = []
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        try:
            with open('/proc/%s/cmdline' % entry, 'rb') as handle:
                argv = handle.read()
            with open('/proc/%s/stat' % entry) as handle:
                state = handle.read().rsplit(')', 1)[1].split()[0]
        except OSError:
            continue
        if marker.encode() in argv and state not in ('Z', 'X'):
            out.append(int(entry))
    return out


def owner_of(client, section):
    return sorted(r for r in client.get_children('/releases') if client.exists('/releases/%s/sections/%s' % (r, section)))


# ---- a gate command that never exits ----------------------------------------------------------------

@pytest.mark.full
def test_a_gate_command_that_sleeps_forever_ends_the_flow_within_its_timeout(zk, inventory, packages, tmp_path):
    publish_basics(zk, packages)
    fail = [sys.executable, '-c', 'import sys; sys.exit(4)']
    rows = []
    for trial in range(HANG_TRIALS):
        marker = 'gate-hang-%s' % uuid.uuid4().hex
        # the gate's child sleeps too: the whole process group goes, not only the command
        script = 'import subprocess, time; subprocess.Popen(["sleep", "100000", "%s"]); print("checking"); ' \
                 'import sys; sys.stdout.flush(); time.sleep(10 ** 6)' % marker
        hang = [sys.executable, '-c', script, marker]
        # the same flow with a gate that fails at once, in the same trial: what the flow costs besides the gate
        res, summary, base = widen(inventory, tmp_path, gate_command=fail, gate_timeout=0, gate_interval=1)
        assert res.rc == 2 and summary['undone'] is True, res
        res, summary, seconds = widen(inventory, tmp_path, gate_command=hang, gate_timeout=GATE_TIMEOUT, gate_interval=1)
        assert res.rc == 2, res
        left = processes_with(marker)
        rows.append({'trial': trial, 'flow_seconds': round(seconds, 1), 'same_flow_failing_at_once': round(base, 1),
                     'gate_seconds': summary['gate']['seconds'], 'left_running': len(left)})
        assert summary['undone'] is True and summary['status'] == 'failed', summary
        assert 'was killed with its process group' in summary['error'] and 'checking' in summary['error'], summary
        assert summary['gate']['timed_out'] is True and summary['gate']['seconds'] < GATE_TIMEOUT + 1.5, summary
        assert seconds < base + GATE_TIMEOUT + 10, rows[-1]
        assert not left, 'the gate left processes running: %s' % left
        assert owner_of(zk.client, '1003') == ['production']
    faultkit.record_rows('gate command that never exits (widen, gate_timeout %d)' % GATE_TIMEOUT, rows)
    assert flowkit.children(zk.client, '/releases/gray1/sections') == ['1901']


# ---- a URL gate: redirects and secrets -----------------------------------------------------------

class _Monitor(httpkit.Handler):
    """/health redirects to /login, which answers 200 (a single sign-on in front of the monitor)."""

    def do_GET(self):
        if self.path.startswith('/health'):
            self.answer(302, headers=[('Location', '/login?next=%2Fhealth&sso=' + SECRETS[1])])
        else:
            self.answer(200, b'<html>please log in</html>')


@pytest.fixture
def monitor():
    with httpkit.serve(_Monitor) as port:
        yield 'http://bot:%s@127.0.0.1:%d' % (SECRETS[0], port)


def test_a_redirect_fails_the_gate_and_the_secrets_are_masked_everywhere(zk, inventory, packages, tmp_path, monitor):
    publish_basics(zk, packages)
    url = monitor + '/health/gray1?token=%s&env=prod' % SECRETS[1]
    res, summary, _seconds = widen(inventory, tmp_path, verbose=True, gate_url=url, gate_timeout=0, gate_interval=1)
    assert res.rc == 2, res
    assert owner_of(zk.client, '1003') == ['production'], 'the widen stayed after a redirect'
    masked = 'http://***@127.0.0.1:%s/health/gray1?token=***&env=***' % monitor.rsplit(':', 1)[1]
    assert summary['undone'] is True and masked in summary['error'], summary
    assert 'answered 302, a redirect to http://***@127.0.0.1:%s/login?next=***&sso=***' % monitor.rsplit(':', 1)[1] \
        in summary['error'], summary['error']
    assert summary['gate']['location'].endswith('/login?next=***&sso=***')
    stats = res.stdout[res.stdout.index('CUSTOM STATS'):]
    assert masked in stats, stats[:3000]
    everything = res.stdout + res.stderr + json.dumps(summary)
    for secret in SECRETS:
        assert secret not in everything, 'secret %s shown' % secret


@pytest.mark.full
def test_gate_follow_redirects_judges_where_the_redirect_leads(zk, inventory, packages, tmp_path, monitor):
    publish_basics(zk, packages)
    res, summary, _seconds = widen(inventory, tmp_path, gate_url=monitor + '/health', gate_timeout=0,
                                   gate_interval=1, gate_follow_redirects='true')
    assert res.rc == 0 and summary['undone'] is False, res
    assert owner_of(zk.client, '1003') == ['gray1']
