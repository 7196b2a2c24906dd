# -*- coding: utf-8 -*-
# Copyright: (c) 2026, GameOps release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# This module_utils is PRIVATE to gameops.elastic_release; its API may change without notice.
"""The ZooKeeper connection options, declared once for every module and plugin.

Modules build their argument spec as ``connection_spec() + own options``; plugins read the same
names through `plugin.get_option` (documented in doc_fragments/zookeeper.py, PLUGINS part).
`OptionAdapter` hides which of the two is asking.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible.module_utils.basic import env_fallback

from .base import CONNECTION_DEFAULTS

CONNECTION_KEYS = tuple(CONNECTION_DEFAULTS)
ENV_PREFIX = 'ELASTIC_RELEASE_ZK_'
VAR_PREFIX = 'elastic_release_zk_'
INI_SECTION = 'elastic_release'


class Option(object):
    """One connection option and every place it can come from."""

    def __init__(self, name, type, ini=False, no_log=False, choices=None):
        self.name = name
        self.type = type
        self.default = CONNECTION_DEFAULTS[name]
        self.env = ENV_PREFIX + name.upper()           # ELASTIC_RELEASE_ZK_TIMEOUT
        self.var = VAR_PREFIX + name                     # elastic_release_zk_timeout
        self.ini = ('zk_' + name) if ini else None       # [elastic_release] zk_timeout (plugins)
        self.no_log = no_log
        self.choices = choices


# The one table of the connection options. Modules (argument spec, environment fallbacks), the
# action plugins (inventory variables), and the lookup and inventory plugins (doc fragment
# gameops.elastic_release.zookeeper, PLUGINS part: env, ini, vars) all take them from here; a unit
# test holds the doc fragment to this table.
CONNECTION_OPTIONS = (
    Option('hosts', 'str', ini=True),
    Option('timeout', 'float', ini=True),
    Option('auth_scheme', 'str', choices=['digest']),
    Option('auth_credential', 'str', no_log=True),
    Option('use_tls', 'bool', ini=True),
    Option('ca_cert', 'path', ini=True),
    Option('client_cert', 'path'),
    Option('client_key', 'path'),
    Option('validate_certs', 'bool'),
)
ENV_AUTH_CREDENTIAL = ENV_PREFIX + 'AUTH_CREDENTIAL'


def connection_spec():
    """The connection options as a module's argument spec; each falls back to its environment variable."""
    spec = {}
    for opt in CONNECTION_OPTIONS:
        entry = dict(type=opt.type, fallback=(env_fallback, [opt.env]), no_log=opt.no_log)
        if opt.default is not None:
            entry['default'] = opt.default
        if opt.choices:
            entry['choices'] = list(opt.choices)
        spec[opt.name] = entry
    return spec


def argument_spec(**own):
    """connection options + the module's own."""
    spec = connection_spec()
    spec.update(own)
    return spec


# Plugin options that are files. They are declared as strings to plugins: Ansible's config `path`
# type turns an empty string into the current directory.
PATH_OPTIONS = ('ca_cert', 'client_cert', 'client_key')


class OptionAdapter(object):
    """Reads options from module.params or from a plugin's get_option."""

    def __init__(self, getter):
        self._get = getter

    @classmethod
    def from_module(cls, module):
        return cls(module.params.get)

    @classmethod
    def from_plugin(cls, plugin):
        def get(name):
            try:
                value = plugin.get_option(name)
            except KeyError:
                return None
            # Inventories set every connection variable, unused ones as "": that means unset.
            if value == '':
                return None
            if name in PATH_OPTIONS and isinstance(value, str):
                value = os.path.expanduser(value)
            return value
        return cls(get)

    def get(self, name, default=None):
        value = self._get(name)
        return default if value is None else value

    def session(self):
        # Imported here: a module that never connects (server_start on a fleet's hosts, resolved by
        # the controller) would compile the whole session code on every host for nothing.
        from .session import ZkSession
        kwargs = dict((key, self.get(key, CONNECTION_DEFAULTS[key])) for key in CONNECTION_KEYS)
        return ZkSession(**kwargs)
