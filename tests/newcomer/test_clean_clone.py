# -*- coding: utf-8 -*-
"""The README's first command, as a newcomer runs it: a clean clone, a clean HOME, a new .venv.

The clone gets the files of this checkout as they are now (committed or not, as git lists them),
HOME is an empty directory, PATH is a fresh Debian login's (no pyenv, no virtual environment) and
no ANSIBLE_*, PYTHON* or VIRTUAL_ENV variable is passed: the only Python packages setup can use are
Debian's and those it installs from PyPI into the clone's own .venv (pip settings of the machine
in /etc and PIP_* variables still apply, like the certificate bundle). The first shell block of
README.md runs verbatim. Slow (pip downloads every package): scripts/test.sh runs it in its own
step, `bash scripts/test.sh newcomer`.
"""

import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import readme  # noqa: E402

ROOT = readme.ROOT
STOCK_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
# Network and certificate settings of the machine, which a newcomer's shell has too.
PASSED = re.compile(r'^(PIP_[A-Z_]+|SSL_CERT_(FILE|DIR)|REQUESTS_CA_BUNDLE|CURL_CA_BUNDLE|(https?|no|all)_proxy|(HTTPS?|NO|ALL)_PROXY)$')


def newcomer_env(home):
    env = {'HOME': str(home), 'PATH': STOCK_PATH, 'LANG': 'C.UTF-8', 'TERM': 'dumb',
           'USER': os.environ.get('USER', 'root')}
    env.update((key, value) for key, value in os.environ.items() if PASSED.match(key))
    return env


def git_files(path):
    out = subprocess.run(['git', '-C', path, 'ls-files', '-z', '--cached', '--others', '--exclude-standard'],
                         check=True, capture_output=True).stdout
    return sorted({name for name in out.decode('utf-8').split('\0') if name})


def clone_as_it_is(dest):
    """git clone, then the working tree's files on top (changed, new, deleted), as git lists them."""
    subprocess.run(['git', 'clone', '-q', ROOT, dest], check=True, capture_output=True)
    mine = git_files(ROOT)
    for name in git_files(dest):
        if name not in mine:
            os.unlink(os.path.join(dest, name))
    for name in mine:
        src = os.path.join(ROOT, name)
        if not os.path.lexists(src):
            continue  # deleted in the working tree but not in the index
        target = os.path.join(dest, name)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        if os.path.lexists(target):
            os.unlink(target)
        shutil.copy2(src, target, follow_symlinks=False)


def venv_fingerprint():
    """What setup writes in the developer's own .venv: it must not change."""
    out = {}
    for name in ('pyvenv.cfg', '.setup-requirements.sha256', 'bin/python'):
        path = os.path.join(ROOT, '.venv', name)
        if os.path.lexists(path):
            st = os.lstat(path)
            out[name] = (st.st_ino, st.st_mtime_ns, st.st_size)
    return out


def test_first_command_in_a_clean_clone(tmp_path):
    first = readme.shell_blocks()[0]
    clone = str(tmp_path / 'checkout')
    home = tmp_path / 'home'
    home.mkdir()
    clone_as_it_is(clone)
    assert not os.path.exists(os.path.join(clone, '.venv')) and not os.path.exists(os.path.join(clone, '.build'))
    before = venv_fingerprint()

    env = newcomer_env(home)
    proc = subprocess.run(['bash', '-c', first], cwd=clone, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=2400, check=False)
    out = proc.stdout
    log = os.path.join(ROOT, '.build', 'newcomer-clean-clone.log')
    os.makedirs(os.path.dirname(log), exist_ok=True)
    with open(log, 'w', encoding='utf-8') as handle:
        handle.write(out)
    assert proc.returncode == 0, 'see %s\n%s' % (log, out[-10000:])

    # setup made the clone's .venv with Debian's python3 and showed pip at work
    with open(os.path.join(clone, '.venv', 'pyvenv.cfg')) as handle:
        assert re.search(r'^home = /usr/bin$', handle.read(), re.M)
    assert re.search(r'^\[setup\] +\d+s  Collecting ansible-core', out, re.M), out[:6000]
    assert re.search(r'^\[setup\] +\d+s  Successfully installed .*ansible-core-', out, re.M), out[-6000:]
    where = subprocess.run([os.path.join(clone, '.venv', 'bin', 'python'), '-c',
                            'import ansible, kazoo, sys; print(ansible.__file__); print(kazoo.__file__); print(sys.prefix)'],
                           env=env, capture_output=True, text=True, check=True).stdout.split()
    assert all(path.startswith(os.path.join(clone, '.venv') + os.sep) or path == os.path.join(clone, '.venv')
               for path in where), where
    # the demo: every step checked, and no kazoo noise while ZooKeeper starts
    assert 'Demo finished in' in out and 'every step checked' in out, out[-6000:]
    assert 'Connection dropped' not in out

    # setup again: quick and idempotent, pip is not run
    again = subprocess.run(['bash', 'scripts/setup.sh'], cwd=clone, env=env, capture_output=True, text=True,
                           timeout=300, check=False)
    assert again.returncode == 0, again.stdout + again.stderr
    assert 'Python requirements in .venv unchanged since the last install' in again.stdout, again.stdout
    assert 'pip install' not in again.stdout

    # the developer's own .venv was not touched
    assert venv_fingerprint() == before
