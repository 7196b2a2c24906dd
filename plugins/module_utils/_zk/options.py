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

from .session import CONNECTION_DEFAULTS, ENV_HOSTS, ZkSession

CONNECTION_KEYS = tuple(CONNECTION_DEFAULTS)
ENV_AUTH_CREDENTIAL = 'ELASTIC_RELEASE_ZK_AUTH_CREDENTIAL'


def connection_spec():
    return dict(
        hosts=dict(type='str', fallback=(env_fallback, [ENV_HOSTS])),
        timeout=dict(type='float', default=CONNECTION_DEFAULTS['timeout']),
        auth_scheme=dict(type='str', default='digest', choices=['digest']),
        auth_credential=dict(type='str', no_log=True, fallback=(env_fallback, [ENV_AUTH_CREDENTIAL])),
        use_tls=dict(type='bool', default=False),
        ca_cert=dict(type='path'),
        client_cert=dict(type='path'),
        client_key=dict(type='path', no_log=False),
        validate_certs=dict(type='bool', default=True),
    )


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
        kwargs = dict((key, self.get(key, CONNECTION_DEFAULTS[key])) for key in CONNECTION_KEYS)
        return ZkSession(**kwargs)
