# -*- coding: utf-8 -*-
"""module_utils in seven folders, imports one way only.

Each folder is a private subpackage with an empty __init__.py. A file may import its own folder's
files and the folders listed for its folder (the layers below it), nothing from Ansible (but
`_zk/options.py`, the one adapter), and stays under ~500 lines. A new folder must be listed here;
an import that breaks the layering, or a cycle between files, fails here, naming the file and the
import. The picture in docs/design.md draws the same rule.
"""

import ast
import os

import pytest

import helpers

MODULE_UTILS = os.path.join(helpers.ROOT, 'plugins', 'module_utils')
HEADER = '# This module_utils is PRIVATE to gameops.elastic_release; its API may change without notice.'
# folder -> the folders its files may import (besides their own), lowest layer first
ALLOWED = {
    '_zk': set(),                                                   # the session
    '_release': {'_zk'},                                            # the model and its rules
    '_package': {'_release'},                                       # packages
    '_write': {'_zk', '_release', '_package'},                      # the locked write
    '_report': {'_zk', '_release'},                                 # lookup, audit, the map
    '_host': {'_zk', '_release', '_package', '_report'},            # deploy, services, status
    '_flow': {'_zk', '_release', '_package', '_write', '_report', '_host'},   # the first step
}
# The one file that adapts to Ansible (module params or plugin options) and may import it.
ADAPTERS = ('_zk/options.py',)
LIMIT = 530  # lines; "~500": _report/render_html.py is mostly its stylesheet


def files():
    out = []
    for folder in sorted(os.listdir(MODULE_UTILS)):
        path = os.path.join(MODULE_UTILS, folder)
        if os.path.isdir(path) and folder != '__pycache__':
            out.extend('%s/%s' % (folder, f) for f in sorted(os.listdir(path)) if f.endswith('.py'))
    return out


def imports(relpath):
    """(module_utils modules imported as 'folder/name', other top-level imports)"""
    folder = relpath.split('/')[0]
    with open(os.path.join(MODULE_UTILS, relpath)) as f:
        tree = ast.parse(f.read(), relpath)
    local, other = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level == 1 and node.module is None:        # from . import x
                local.update('%s/%s' % (folder, a.name) for a in node.names)
            elif node.level == 1:                               # from .x import y
                local.add('%s/%s' % (folder, node.module))
            elif node.level == 2 and node.module:               # from .._other.x import y / from .._other import x
                parts = node.module.split('.')
                if len(parts) == 1:
                    local.update('%s/%s' % (parts[0], a.name) for a in node.names)
                else:
                    local.add('%s/%s' % (parts[0], parts[1]))
            elif node.level:
                local.add('?' * node.level + (node.module or ''))
            else:
                other.add(node.module)
        elif isinstance(node, ast.Import):
            other.update(alias.name for alias in node.names)
    return local, other


def test_folders_are_private_packages_and_nothing_is_loose():
    loose = [f for f in os.listdir(MODULE_UTILS) if f.endswith('.py') and f != '__init__.py']
    assert not loose, 'module_utils files outside a folder: %s' % loose
    folders = sorted(f for f in os.listdir(MODULE_UTILS)
                     if os.path.isdir(os.path.join(MODULE_UTILS, f)) and f != '__pycache__')
    assert folders == sorted(ALLOWED)
    for folder in folders:
        init = os.path.join(MODULE_UTILS, folder, '__init__.py')
        assert os.path.isfile(init), init
        # no re-exports: a module's AnsiballZ payload carries only the files it imports
        assert os.path.getsize(init) == 0, '%s must stay empty' % init


@pytest.mark.parametrize('relpath', [f for f in files() if not f.endswith('__init__.py')])
def test_layers(relpath):
    folder = relpath.split('/')[0]
    local, other = imports(relpath)
    allowed = ALLOWED[folder] | {folder}
    bad = sorted(m for m in local if m.split('/')[0] not in allowed)
    assert not bad, '%s imports %s (folder %s may import %s)' % (relpath, ', '.join(bad), folder,
                                                                 ', '.join(sorted(allowed)))
    for mod in local:
        assert os.path.isfile(os.path.join(MODULE_UTILS, mod + '.py')), '%s imports %s: no such file' % (relpath, mod)
    if relpath not in ADAPTERS:
        assert not [m for m in other if m.split('.')[0] in ('ansible', 'ansible_collections')], (relpath, other)
    with open(os.path.join(MODULE_UTILS, relpath)) as f:
        lines = f.read().splitlines()
    assert HEADER in lines[:6], relpath
    assert len(lines) <= LIMIT, '%s has %d lines' % (relpath, len(lines))


def test_folder_rules_have_no_cycle():
    state = {}

    def visit(node, path):
        if state.get(node) == 'done':
            return
        assert state.get(node) != 'open', 'folder cycle: %s' % ' -> '.join(path + [node])
        state[node] = 'open'
        for dep in sorted(ALLOWED[node]):
            visit(dep, path + [node])
        state[node] = 'done'
    for node in sorted(ALLOWED):
        visit(node, [])


def test_no_file_cycles():
    graph = {}
    for relpath in files():
        if relpath.endswith('__init__.py'):
            continue
        graph[relpath[:-3]] = imports(relpath)[0]
    state = {}

    def visit(node, path):
        if state.get(node) == 'done':
            return
        assert state.get(node) != 'open', 'import cycle: %s' % ' -> '.join(path + [node])
        state[node] = 'open'
        for dep in sorted(graph.get(node, ())):
            visit(dep, path + [node])
        state[node] = 'done'
    for node in sorted(graph):
        visit(node, [])
