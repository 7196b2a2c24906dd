# -*- coding: utf-8 -*-
# Copyright: (c) 2026, GameOps release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# The summary of a flow, made, published and written on the controller in one task: see the
# flow_summary module's documentation.

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import sys

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from ansible_collections.gameops.elastic_release.plugins.module_utils._flow import summary as _summary

SPEC = dict(
    flow=dict(type='str', required=True),
    release=dict(type='str', default=''),
    package=dict(type='str', default=''),
    result=dict(type='dict', default={}),
    failed_result=dict(type='dict', default={}),
    started=dict(type='float', default=0),
    status=dict(type='str', default='ok', choices=['ok', 'failed']),
    error=dict(type='str', default=''),
    failed_task=dict(type='str', default=''),
    extra=dict(type='dict', default={}),
    file=dict(type='str', default=''),
)


class ActionModule(ActionBase):

    _supports_check_mode = True
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        task_vars = task_vars or {}
        try:
            dummy, args = self.validate_argument_spec(argument_spec=SPEC)
        except AnsibleActionFail as exc:
            result.update(failed=True, msg='flow_summary: %s' % exc)
            return result
        # The worker is a fork of ansible-playbook: its argv is the command this run was started with.
        context = _summary.Context(inventories=task_vars.get('ansible_inventory_sources') or (),
                                   playbook_dir=task_vars.get('playbook_dir') or '', cwd=os.getcwd(), argv=sys.argv,
                                   registry=sorted(task_vars.get('elastic_release_registry') or {}))
        data = _summary.build(args['flow'], release=args['release'], package=args['package'], result=args['result'],
                              started=args['started'], status=args['status'], error=args['error'],
                              failed_task=args['failed_task'], failed_result=args['failed_result'],
                              extra=args['extra'], check_mode=bool(self._play_context.check_mode),
                              context=context)
        path = os.path.realpath(os.path.expanduser(args['file'])) if args['file'] else ''
        if path:
            # Written in check mode too: a controller file, not a ZooKeeper change (check_mode says so).
            try:
                _summary.write(path, data)
            except OSError as exc:
                result.update(failed=True, msg='%s: give -e summary_file=<a path the controller can write>' % exc)
                return result
        result.update(changed=False, summary_file=path or None, lines=_summary.screen(data),
                      ansible_facts={'summary_data': data},
                      ansible_stats={'data': {'elastic_release_summary': data}, 'per_host': False, 'aggregate': False})
        return result
