# -*- coding: utf-8 -*-
"""Fixtures: one real standalone ZooKeeper for the session, a fresh chroot per test.

ZooKeeper is required. If it is missing the session errors out (it never skips): run
scripts/setup.sh first.
"""

import os
import re
import sys
import uuid

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import helpers  # noqa: E402
import zkserver  # noqa: E402

sys.path.insert(0, os.path.join(helpers.BUILD, 'collections'))
helpers.install_collection()


def pytest_configure(config):
    config.addinivalue_line('markers', 'full: a test of the full tier (CI: `scripts/test.sh full`), not of the '
                            'everyday quick tier')


@pytest.fixture(scope='session')
def zk_server(tmp_path_factory):
    zkserver.check_installed()
    server = zkserver.Standalone(workdir=str(tmp_path_factory.mktemp('zk')))
    server.start()
    yield server
    server.stop()


class Zk(object):
    """A test's view of ZooKeeper: `hosts` ends in the test's own chroot, `client` is raw kazoo."""

    def __init__(self, server, chroot, client):
        self.server = server
        self.chroot = chroot
        self.client = client
        self.hosts = server.hosts + chroot

    def tree(self):
        return helpers.dump_tree(self.client)


@pytest.fixture
def zk(zk_server, request):
    from kazoo.client import KazooClient
    name = re.sub(r'[^a-z0-9_]', '_', request.node.name.lower())[:40]
    chroot = '/t_%s_%s' % (name, uuid.uuid4().hex[:8])
    root = KazooClient(hosts=zk_server.hosts, timeout=10)
    root.start(timeout=15)
    root.ensure_path(chroot)
    root.stop()
    root.close()
    client = KazooClient(hosts=zk_server.hosts + chroot, timeout=10)
    client.start(timeout=15)
    yield Zk(zk_server, chroot, client)
    client.stop()
    client.close()
