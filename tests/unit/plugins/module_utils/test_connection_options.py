# -*- coding: utf-8 -*-
"""The connection options are one table (_zk/options.py): the modules' argument spec, the action
plugins' inventory variables and the plugins' doc fragment (env, ini, vars) all agree with it."""

import json
import subprocess
import sys

import yaml

import helpers
from ansible_collections.gameops.elastic_release.plugins.doc_fragments.zookeeper import ModuleDocFragment
from ansible_collections.gameops.elastic_release.plugins.module_utils._zk import options

TABLE = dict((opt.name, opt) for opt in options.CONNECTION_OPTIONS)


def test_module_documentation_matches_the_table():
    doc = yaml.safe_load(ModuleDocFragment.DOCUMENTATION)['options']
    assert sorted(doc) == sorted(TABLE)
    for name, opt in TABLE.items():
        assert doc[name]['type'] == opt.type, name
        assert doc[name].get('default') == opt.default, name
        assert doc[name].get('choices') == opt.choices, name


def test_plugin_sources_match_the_table():
    doc = yaml.safe_load(ModuleDocFragment.PLUGINS)['options']
    assert sorted(doc) == sorted(TABLE)
    for name, opt in TABLE.items():
        assert doc[name]['env'] == [{'name': opt.env}], name
        assert doc[name]['vars'] == [{'name': opt.var}], name
        want_ini = [{'section': options.INI_SECTION, 'key': opt.ini}] if opt.ini else None
        assert doc[name].get('ini') == want_ini, name
        # file options are strings to plugins: the config type `path` turns '' into the cwd
        assert doc[name].get('type') == ('str' if opt.type == 'path' else None), name


def test_modules_honour_every_environment_variable():
    spec = options.connection_spec()
    assert sorted(spec) == sorted(TABLE)
    for name, entry in spec.items():
        assert entry['fallback'][1] == [TABLE[name].env], name
        assert entry['no_log'] is TABLE[name].no_log, name
    assert 'ELASTIC_RELEASE_ZK_TIMEOUT' in [e['fallback'][1][0] for e in spec.values()]


def test_action_plugins_read_the_inventory_variables_of_the_table():
    # In a fresh interpreter: importing the controller's action machinery here would send the
    # warnings of modules run in-process by later tests to the controller's display.
    code = ('import json, sys; sys.path.insert(0, %r)\n'
            'from ansible_collections.gameops.elastic_release.plugins.plugin_utils import _zk_action\n'
            'print(json.dumps(sorted(_zk_action.connection_args({}, json.loads(sys.argv[1]), lambda v: v))))'
            % helpers.COLLECTIONS)
    variables = dict((opt.var, 'x') for opt in TABLE.values())
    out = subprocess.run([sys.executable, '-c', code, json.dumps(variables)], capture_output=True, text=True,
                         check=False)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == sorted(TABLE)
