# -*- coding: utf-8 -*-
"""Every file of module_utils: one idea each, imports one way only.

Each file may import only the module_utils listed for it (the layers below it), nothing from
Ansible (but `_options.py`, the one adapter), and stays under ~500 lines. A new file must be listed
here; a new import that breaks the layering, or makes a cycle, fails here, naming the file and the
import.
"""

import ast
import os

import pytest

import helpers

MODULE_UTILS = os.path.join(helpers.ROOT, 'plugins', 'module_utils')
HEADER = '# This module_utils is PRIVATE to gameops.elastic_release; its API may change without notice.'
# file -> the module_utils it may import (at any depth of the file, lazy imports included)
ALLOWED = {
    # names, config.zoo, the session
    '_names.py': set(),
    '_config.py': {'_names'},
    '_zkproto.py': set(),
    '_zkbase.py': set(),
    '_zkread.py': {'_zkbase', '_zkproto'},
    '_zklock.py': {'_zkbase'},
    '_zk.py': {'_zkbase', '_zklock', '_zkproto', '_zkread'},
    '_options.py': {'_names', '_zk'},
    # the release model
    '_state.py': {'_config', '_names'},
    '_snapshot.py': {'_config', '_names', '_state'},
    '_releasemap.py': {'_names', '_snapshot', '_zk'},
    '_guard.py': {'_names', '_zk'},
    '_plan.py': {'_names', '_state', '_zk'},
    '_revisions.py': {'_names', '_snapshot', '_state', '_zk'},
    '_change.py': {'_config', '_names', '_plan', '_releasemap', '_revisions', '_snapshot', '_state', '_zk'},
    '_write.py': {'_change', '_config', '_names', '_revisions', '_snapshot', '_zk'},
    '_impact.py': {'_names', '_releasemap', '_state'},
    '_publish.py': {'_change', '_config', '_guard', '_impact', '_names', '_plan', '_releasemap', '_server_package',
                    '_snapshot', '_state', '_write', '_zk'},
    '_move.py': {'_change', '_names', '_state', '_zk'},
    '_rollback.py': {'_move', '_names', '_publish', '_revisions'},
    '_start_version.py': {'_names'},
    '_lookup.py': {'_names', '_releasemap', '_snapshot', '_state'},
    '_audit.py': {'_config', '_names', '_releasemap', '_snapshot', '_start_version'},
    '_mapdoc.py': {'_config', '_names'},
    '_render_model.py': set(),
    '_render_html.py': {'_render_model'},
    '_render.py': {'_render_html', '_render_model'},
    '_flowcheck.py': {'_cmdb', '_names'},
    # packages, services, the CMDB
    '_pkgname.py': {'_names'},
    '_archive.py': {'_pkgname'},
    '_archive_writer.py': {'_archive', '_pkgname'},
    '_server_package.py': {'_archive', '_archive_writer', '_config', '_names', '_pkgname'},
    '_upgrade.py': {'_archive', '_archive_writer', '_pkgname'},
    '_deploy_plan.py': {'_archive', '_pkgname'},
    '_deploy.py': {'_archive', '_archive_writer', '_deploy_plan', '_names', '_pkgname', '_server_package'},
    '_service.py': {'_config', '_lookup', '_names', '_start_version'},
    '_process.py': {'_service'},
    '_cmdb.py': {'_names'},
}
# The one file that adapts to Ansible (module params or plugin options) and may import it.
ADAPTERS = ('_options.py',)
LIMIT = 530  # lines; "~500": _render_html.py is mostly its stylesheet


def imports(path):
    with open(path) as f:
        tree = ast.parse(f.read(), path)
    local, other = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level and node.module is None:    # from . import _x
                local.update(alias.name for alias in node.names)
            elif node.level:
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
    if name not in ADAPTERS:
        assert not [m for m in other if m.split('.')[0] in ('ansible', 'ansible_collections')], (name, other)
    with open(path) as f:
        lines = f.read().splitlines()
    assert HEADER in lines[:6], name
    assert len(lines) <= LIMIT, '%s has %d lines' % (name, len(lines))


def test_every_file_is_listed():
    files = sorted(f for f in os.listdir(MODULE_UTILS) if f.endswith('.py') and f != '__init__.py')
    assert files == sorted(ALLOWED), set(files) ^ set(ALLOWED)


def test_no_cycles():
    graph = dict((name[:-3], set(deps)) for name, deps in ALLOWED.items())
    state = {}

    def visit(node, path):
        if state.get(node) == 'done':
            return
        assert state.get(node) != 'open', 'import cycle: %s' % ' -> '.join(path + [node])
        state[node] = 'open'
        for dep in sorted(graph[node]):
            visit(dep, path + [node])
        state[node] = 'done'
    for node in sorted(graph):
        visit(node, [])
