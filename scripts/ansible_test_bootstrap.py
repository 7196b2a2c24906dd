#!/usr/bin/env python
# -*- coding: utf-8 -*-
"""Write an offline stand-in for the get-pip script that ansible-test downloads.

ansible-test bootstraps pip into every virtual environment it makes (the sanity tests get one
each) by running ~/.ansible/test/cache/get_pip_<version with dots as underscores>.py, which it
downloads from a host this network cannot reach. It only downloads when that file is missing,
so we put a stand-in there: it installs pip with the interpreter's own `ensurepip`, then upgrades
to the exact pip version ansible-test pinned, from the package index pip is configured with.

ansible-test runs the script with a stripped environment (HOME and PATH survive, PIP_* do not),
so any pip settings it needs must live in pip.conf files, as they do on these machines.

Usage: python scripts/ansible_test_bootstrap.py [--home DIR] [--force]
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import types

MARKER = 'gameops.elastic_release offline get-pip stand-in'

STAND_IN = '''\
# -*- coding: utf-8 -*-
"""{marker} for pip {version}.

Written by scripts/ansible_test_bootstrap.py. Called by ansible-test like get-pip.py:
`python get_pip.py [pip options] pip=={version} [--no-setuptools] [--no-wheel]`.
"""
import os
import subprocess
import sys


def main():
    args = sys.argv[1:]
    no_setuptools = '--no-setuptools' in args
    no_wheel = '--no-wheel' in args
    args = [arg for arg in args if arg not in ('--no-setuptools', '--no-wheel')]

    # ensurepip sets PIP_CONFIG_FILE=/dev/null (and drops other PIP_* variables) in os.environ
    # and leaves it so: restore the environment, or the pip.conf files that point at the package
    # index would be ignored by the install below.
    saved = dict(os.environ)
    try:
        import ensurepip
        ensurepip.bootstrap(upgrade=True, default_pip=True)
    finally:
        os.environ.clear()
        os.environ.update(saved)

    subprocess.check_call([sys.executable, '-m', 'pip', 'install', '--upgrade'] + args)

    # get-pip.py installs neither setuptools nor wheel when told so; ensurepip on Python < 3.12
    # always brings setuptools: take it out again so the environment matches what was asked for.
    extra = []
    if no_setuptools:
        extra.append('setuptools')
    if no_wheel:
        extra.append('wheel')
    if extra:
        subprocess.call([sys.executable, '-m', 'pip', 'uninstall', '--yes', '--quiet',
                         '--disable-pip-version-check'] + extra,
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


if __name__ == '__main__':
    main()
'''


def pinned_pip_version(python_version):
    """The pip version ansible-test pins for its virtual environments."""
    try:
        from ansible_test._internal.python_requirements import get_venv_packages
        return get_venv_packages(types.SimpleNamespace(version=python_version))['pip']
    except Exception:  # pylint: disable=broad-except
        # Private API: if it moves, read the default from the source instead.
        import ansible_test
        path = os.path.join(os.path.dirname(ansible_test.__file__), '_internal', 'python_requirements.py')
        with open(path, encoding='utf-8') as handle:
            match = re.search(r"default_packages\s*=\s*dict\(\s*pip='([^']+)'", handle.read())
        if not match:
            raise SystemExit('cannot find the pip version ansible-test pins in %s' % path)
        return match.group(1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--home', default=os.path.expanduser('~'),
                        help='the HOME ansible-test will run with (default: %(default)s)')
    parser.add_argument('--force', action='store_true', help='rewrite the stand-in even if present')
    opts = parser.parse_args()

    version = pinned_pip_version('%d.%d' % sys.version_info[:2])
    cache = os.path.join(opts.home, '.ansible', 'test', 'cache')
    path = os.path.join(cache, 'get_pip_%s.py' % version.replace('.', '_'))
    text = STAND_IN.format(marker=MARKER, version=version)

    if os.path.exists(path) and not opts.force:
        with open(path, encoding='utf-8') as handle:
            current = handle.read()
        if current == text:
            print('ansible-test pip bootstrap: %s is up to date' % path)
            return
        if MARKER not in current:
            # A real get-pip script someone downloaded by hand: it works too, leave it.
            print('ansible-test pip bootstrap: keeping the existing %s' % path)
            return

    os.makedirs(cache, exist_ok=True)
    tmp = path + '.tmp'
    with open(tmp, 'w', encoding='utf-8') as handle:
        handle.write(text)
    os.replace(tmp, path)
    print('ansible-test pip bootstrap: wrote %s (pip %s)' % (path, version))


if __name__ == '__main__':
    main()
