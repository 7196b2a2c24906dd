# -*- coding: utf-8 -*-
# Copyright: (c) 2026, GameOps release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# This plugin_utils is PRIVATE to gameops.elastic_release; its API may change without notice.
"""The action plugin of every module that talks to ZooKeeper: the connection options a task does
not set come from the inventory's `elastic_release_zk_*` variables.

So a flow, a role and an ad-hoc command (`ansible -i inventory localhost -m
gameops.elastic_release.release_lookup -a section_id=1001`) all reach the game project's
ZooKeeper from the inventory alone, and no playbook repeats the variables-to-options mapping.
Precedence: task arguments (and module_defaults), then these variables, then the modules' own
environment fallbacks (ELASTIC_RELEASE_ZK_HOSTS, ELASTIC_RELEASE_ZK_AUTH_CREDENTIAL).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.plugins.action import ActionBase

VAR_PREFIX = 'elastic_release_zk_'
CONNECTION_OPTIONS = ('hosts', 'timeout', 'auth_scheme', 'auth_credential', 'use_tls', 'ca_cert', 'client_cert',
                      'client_key', 'validate_certs')


def connection_args(args, task_vars, template):
    """args with the unset connection options filled from the variables (templated); '' means unset."""
    out = dict(args)
    for option in CONNECTION_OPTIONS:
        if out.get(option) not in (None, ''):
            continue
        name = VAR_PREFIX + option
        if name not in task_vars:
            continue
        value = template(task_vars[name])
        if value is None or value == '':
            out.pop(option, None)
            continue
        out[option] = value
    return out


class ZkModuleAction(ActionBase):

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super(ZkModuleAction, self).run(tmp, task_vars)
        del tmp  # tmp no longer has any effect
        args = connection_args(self._task.args, task_vars, self._templar.template)
        wrap_async = self._task.async_val and not self._connection.has_native_async
        result.update(self._execute_module(module_name=self._task.action, module_args=args, task_vars=task_vars,
                                           wrap_async=wrap_async))
        if not wrap_async:
            self._remove_tmp_path(self._connection._shell.tmpdir)
        return result
