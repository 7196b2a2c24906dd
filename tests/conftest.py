# -*- coding: utf-8 -*-
"""Fixtures: one real standalone ZooKeeper per pytest process (per xdist worker), a fresh chroot
per test, a chroot per test module for set-up that tests start from a copy of; and the two tiers.

ZooKeeper is required. If it is missing the session errors out (it never skips): run
scripts/setup.sh first.

Tiers: a test marked `full` (or any test under tests/reliability or tests/newcomer) belongs to the
CI-only full tier; every other test gets the `quick` marker. `-m quick` and `-m full` select the two
halves; see docs/development.md for what goes where.
"""

import json
import os
import re
import resource
import sys
import uuid

import pytest
from ansible.plugins.loader import init_plugin_loader

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import helpers  # noqa: E402
import zkserver  # noqa: E402

# The collection is imported as Ansible imports it, through its collection loader (set up once,
# before any test module imports it): modules run in this process (tests/modrun.py), and the
# inventory and action plugins a flow's first step loads (flowkit.first_step), are the same modules.
helpers.install_collection()
init_plugin_loader([helpers.COLLECTIONS])

TESTS = os.path.dirname(os.path.abspath(__file__))
# Every test of these folders is in the full tier, marked or not.
FULL_FOLDERS = ('reliability', 'newcomer')
# Under pytest-xdist (scripts/test.sh runs `-n 2 --dist loadgroup`), the tests that use one of
# these fixtures run on one worker: its server or its set-up is made once, and the ensemble's
# fault tests never run two at once (they would fight for the two cores). A module-scoped
# fixture groups the tests of its module only.
SHARED_FIXTURES = ('ensemble', 'auth_server', 'tls_server', 'corpus', 'zk_module')


def pytest_configure(config):
    config.addinivalue_line('markers', 'full: a test of the full tier (CI: `scripts/test.sh full`), not of the '
                            'everyday quick tier')
    config.addinivalue_line('markers', 'quick: a test of the everyday quick tier (`scripts/test.sh`); set by '
                            'tests/conftest.py on every test that is not in the full tier, never by hand')
    # pytest-xdist registers it; without xdist (the matrix environments) the mark is inert
    config.addinivalue_line('markers', 'xdist_group(name): run on one pytest-xdist worker with the same group')


def pytest_addoption(parser):
    parser.addoption('--tier-report', metavar='FILE', default=None,
                     help='write {node id: {"tiers": [...], "group": ...}} of the collected tests to FILE as JSON')
    parser.addoption('--cpu-durations', metavar='N', type=int, default=None,
                     help='show the N tests that used the most CPU (this process and the commands it ran: '
                          'ansible, ansible-playbook, ...), and the total; unlike wall time, other work on the '
                          'machine hardly changes it (0: all)')


def _cpu_seconds():
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    if item.config.getoption('cpu_durations') is None:
        yield
        return
    item._cpu_started = _cpu_seconds()
    yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    started = getattr(item, '_cpu_started', None)
    if started is not None and call.when == 'teardown':
        # setup, call and teardown of this test; user_properties travel from xdist workers
        outcome.get_result().user_properties.append(('cpu_seconds', _cpu_seconds() - started))


def pytest_terminal_summary(terminalreporter, config):
    count = config.getoption('cpu_durations')
    if count is None:
        return
    rows = []
    for reports in terminalreporter.stats.values():
        for report in reports:
            for key, value in getattr(report, 'user_properties', ()):
                if key == 'cpu_seconds':
                    rows.append((value, report.nodeid))
    rows.sort(reverse=True)
    terminalreporter.write_sep('=', 'CPU seconds of each test (with the commands it ran): %.1f s in all, %d tests'
                               % (sum(r[0] for r in rows), len(rows)))
    for seconds, nodeid in rows[:count or len(rows)]:
        terminalreporter.write_line('%8.2f  %s' % (seconds, nodeid))


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Each test in exactly one tier, decided before `-m` selects (hence tryfirst)."""
    for item in items:
        parts = os.path.relpath(str(item.path), TESTS).split(os.sep)
        if parts[0] in FULL_FOLDERS and item.get_closest_marker('full') is None:
            item.add_marker(pytest.mark.full)
        if item.get_closest_marker('full') is None:
            item.add_marker(pytest.mark.quick)
        elif any(mark.name == 'quick' for mark in item.iter_markers()):
            raise pytest.UsageError('%s is marked both quick and full: a test is in one tier' % item.nodeid)
        shared = [name for name in SHARED_FIXTURES if name in getattr(item, 'fixturenames', ())]
        if shared and item.get_closest_marker('xdist_group') is None:
            defs = item._fixtureinfo.name2fixturedefs.get(shared[0]) or ()
            module_scoped = bool(defs) and defs[-1].scope == 'module'
            item.add_marker(pytest.mark.xdist_group(shared[0] + ('@' + item.module.__name__ if module_scoped else '')))


def pytest_collection_finish(session):
    # pytest-xdist names a test's group in its node id ("...@ensemble"); where it cannot (pytest 9.2
    # with pytest-xdist 3.8: requirements-dev.txt pins pytest below 9.2), the groups would be
    # silently spread over the workers: the fault tests at once, the corpus twice.
    if getattr(session.config.option, 'loadgroup', False):
        lost = [item.nodeid for item in session.items if item.get_closest_marker('xdist_group') and '@' not in item.nodeid]
        if lost:
            raise pytest.UsageError('pytest-xdist did not apply the xdist_group marks (e.g. %s): use pytest < 9.2 '
                                    '(bash scripts/setup.sh installs requirements-dev.txt), or PYTEST_WORKERS=0' % lost[0])
    path = session.config.getoption('tier_report')
    if path:
        report = {}
        for item in session.items:
            group = item.get_closest_marker('xdist_group')
            report[item.nodeid] = {'tiers': sorted(set(m.name for m in item.iter_markers() if m.name in ('quick', 'full'))),
                                   'group': group.args[0] if group else None}
        with open(path, 'w') as handle:
            json.dump(report, handle, indent=1, sort_keys=True)


@pytest.fixture(scope='session')
def zk_server(tmp_path_factory):
    zkserver.check_installed()
    server = zkserver.Standalone(workdir=str(tmp_path_factory.mktemp('zk')))
    server.start()
    yield server
    server.stop()


class Zk(object):
    """A test's view of ZooKeeper: `hosts` ends in the test's own chroot, `client` is raw kazoo."""

    def __init__(self, server, label):
        from kazoo.client import KazooClient
        name = re.sub(r'[^a-z0-9_]', '_', label.lower())[:40]
        self.server = server
        self.chroot = '/t_%s_%s' % (name, uuid.uuid4().hex[:8])
        root = KazooClient(hosts=server.hosts, timeout=10)
        root.start(timeout=15)
        root.ensure_path(self.chroot)
        root.stop()
        root.close()
        self.client = KazooClient(hosts=server.hosts + self.chroot, timeout=10)
        self.client.start(timeout=15)
        self.hosts = server.hosts + self.chroot

    def tree(self):
        return helpers.dump_tree(self.client)

    def copy_from(self, other):
        """Start from other's tree (a set-up made once per module): see helpers.copy_tree."""
        assert self.client.get_children('/') in ([], ['zookeeper']), 'copy_from needs an empty chroot'
        return helpers.copy_tree(other.client, self.client)

    def close(self):
        self.client.stop()
        self.client.close()


@pytest.fixture
def zk(zk_server, request):
    view = Zk(zk_server, request.node.name)
    yield view
    view.close()


@pytest.fixture(scope='module')
def zk_module(zk_server, request):
    """A chroot of the test module's own, for set-up flows run once; each test copies it into its
    fresh `zk` chroot with zk.copy_from(zk_module) and never writes here."""
    view = Zk(zk_server, 'module_' + request.module.__name__)
    yield view
    view.close()
