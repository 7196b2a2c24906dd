# -*- coding: utf-8 -*-
"""scripts/setup.sh's apt step, with apt-get and dpkg-query replaced by stubs on the PATH (nothing is
installed): apt waits for another apt holding the dpkg lock, and setup says so; when apt still
fails, setup names what to do."""

import os
import subprocess

import helpers

STUB_DPKG = '''#!/bin/sh
# every package installed but zookeeper
for last; do :; done
[ "$last" = zookeeper ] && exit 1
echo "install ok installed"
'''
STUB_APT = '''#!/bin/sh
echo "$*" >> "%s"
exit %d
'''


def run_apt_step(tmp_path, apt_exit=0, env=None):
    if os.geteuid() != 0:
        raise AssertionError('setup.sh installs Debian packages as root only; run this test as root (as CI does)')
    stubs = tmp_path / 'bin'
    stubs.mkdir()
    calls = tmp_path / 'apt-calls'
    for name, text in (('dpkg-query', STUB_DPKG), ('apt-get', STUB_APT % (calls, apt_exit))):
        (stubs / name).write_text(text)
        os.chmod(str(stubs / name), 0o755)
    environ = dict(os.environ, PATH='%s:%s' % (stubs, os.environ['PATH']))
    environ.update(env or {})
    proc = subprocess.run(['bash', os.path.join(helpers.ROOT, 'scripts', 'setup.sh'), 'apt'], env=environ,
                          capture_output=True, text=True, timeout=60, check=False)
    return proc, calls.read_text().splitlines() if calls.exists() else []


def test_apt_waits_for_another_apt_holding_the_lock_and_says_so(tmp_path):
    proc, calls = run_apt_step(tmp_path, env={'SETUP_APT_LOCK_TIMEOUT': '42'})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert calls == ['-o DPkg::Lock::Timeout=42 update -q',
                     '-o DPkg::Lock::Timeout=42 install -y -q --no-install-recommends zookeeper']
    assert ('[setup] if another apt or dpkg holds the dpkg lock, apt waits for it up to 42s (SETUP_APT_LOCK_TIMEOUT)'
            in proc.stdout)
    assert '[setup] done: Debian packages (scripts/setup.sh apt)' in proc.stdout


def test_apt_still_failing_names_what_to_do(tmp_path):
    proc, calls = run_apt_step(tmp_path, apt_exit=100)
    assert proc.returncode == 1
    assert calls == ['-o DPkg::Lock::Timeout=600 update -q']
    assert ('apt-get update failed (exit 100): see above; another apt still holding the lock after 600s? wait for it, '
            'then run bash scripts/setup.sh again') in proc.stderr
