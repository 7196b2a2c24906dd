# -*- coding: utf-8 -*-
"""The package, service and CMDB files of module_utils: one idea each, imports one way only.

Each file may import only the module_utils listed for it (the layers below it), nothing from
Ansible, and stays under ~500 lines. A new import that breaks the layering fails here, naming the
file and the import.
"""

import ast
import os

import pytest

import helpers

MODULE_UTILS = os.path.join(helpers.ROOT, 'plugins', 'module_utils')
HEADER = '# This module_utils is PRIVATE to gameops.elastic_release; its API may change without notice.'
# file -> the module_utils it may import (at any depth of the file, lazy imports included)
ALLOWED = {
    '_pkgname.py': {'_names'},
    '_archive.py': {'_pkgname'},
    '_archive_writer.py': {'_archive', '_pkgname'},
    '_server_package.py': {'_archive', '_archive_writer', '_config', '_names', '_pkgname'},
    '_upgrade.py': {'_archive', '_archive_writer', '_pkgname'},
    '_service.py': {'_config', '_lookup', '_names'},
    '_process.py': {'_service'},
    '_cmdb.py': {'_names'},
}


def imports(path):
    with open(path) as f:
        tree = ast.parse(f.read(), path)
    local, other = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                local.add(node.module)
            else:
                other.add(node.module)
        elif isinstance(node, ast.Import):
            other.update(alias.name for alias in node.names)
    return local, other


@pytest.mark.parametrize('name', sorted(ALLOWED))
def test_layers(name):
    path = os.path.join(MODULE_UTILS, name)
    local, other = imports(path)
    assert local <= ALLOWED[name], '%s imports %s' % (name, ', '.join(sorted(local - ALLOWED[name])))
    assert not [m for m in other if m.split('.')[0] in ('ansible', 'ansible_collections')], (name, other)
    with open(path) as f:
        lines = f.read().splitlines()
    assert HEADER in lines[:6], name
    assert len(lines) <= 500, '%s has %d lines' % (name, len(lines))
