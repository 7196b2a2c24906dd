# -*- coding: utf-8 -*-
"""Fixtures of the flow tests (see tests/flowkit.py): the packages are built once per session."""

import pytest

import flowkit
import helpers


@pytest.fixture(scope='session')
def packages(tmp_path_factory):
    """{key: path} of server packages built with the server_package module, plus bad ones."""
    return flowkit.build_packages(tmp_path_factory)


@pytest.fixture
def inventory(zk, tmp_path):
    """A copy of inventory/ whose ZooKeeper is the test's own chroot."""
    return helpers.copy_inventory(tmp_path, zk.hosts)
