# -*- coding: utf-8 -*-
# Copyright: (c) 2026, GameOps release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# The health gate of a widen or narrow, asked on the controller: see the health_gate module's documentation.

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.parameters import remove_values
from ansible.plugins.action import ActionBase

from ansible_collections.gameops.elastic_release.plugins.module_utils._flow import gate as _gate

SPEC = dict(
    url=dict(type='str', no_log=True),
    command=dict(type='raw'),
    timeout=dict(type='int', default=60),
    interval=dict(type='int', default=5),
    try_timeout=dict(type='int', default=_gate.DEFAULT_TRY_TIMEOUT),
    follow_redirects=dict(type='bool', default=False),
)


class ActionModule(ActionBase):

    _supports_check_mode = True
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        try:
            checked, args = self.validate_argument_spec(argument_spec=SPEC, mutually_exclusive=[('url', 'command')],
                                                        required_one_of=[('url', 'command')])
        except AnsibleActionFail as exc:
            result.update(failed=True, msg='health_gate: %s' % exc)
            return result
        url = args.get('url') or None
        hidden = set(checked._no_log_values) | set(_gate.secrets(url) if url else ())
        try:
            command = _command(args.get('command'))
            for name in ('timeout', 'try_timeout', 'interval'):
                low = 1 if name != 'timeout' else 0
                if args[name] < low:
                    raise ValueError('%s must be at least %d seconds, got %d' % (name, low, args[name]))
            if url and not url.startswith(('http://', 'https://')):
                raise ValueError('url must be an http:// or https:// URL, got %s' % _gate.mask_url(url))
        except ValueError as exc:
            result.update(failed=True, msg='health_gate: %s' % exc)
            return remove_values(result, hidden)
        if self._task.check_mode:
            result.update(changed=False, passed=None, skipped=True, msg='check mode: the health gate was not asked')
            return result
        answer = _gate.ask(url=url, command=command, timeout=args['timeout'], interval=args['interval'],
                           try_timeout=args['try_timeout'], follow_redirects=args['follow_redirects'])
        result.update(answer)
        result['changed'] = False
        result['msg'] = ('health gate passed: %s' if answer['passed'] else 'health gate failed: %s') % answer['answer']
        if not answer['passed']:
            result['failed'] = True
        return remove_values(result, hidden)


def _command(value):
    """The command as a list of strings (JSON text of such a list is taken too), or None."""
    if value in (None, '', []):
        return None
    if isinstance(value, str) and value.strip().startswith('['):
        try:
            value = json.loads(value)
        except ValueError as exc:
            raise ValueError('command is not valid JSON: %s' % exc)
    if not isinstance(value, (list, tuple)) or not value or not all(isinstance(a, str) for a in value):
        raise ValueError('command must be a list of arguments (no shell), for example ["/usr/local/bin/check", '
                         '"gray1"], got %r' % (value,))
    return list(value)
