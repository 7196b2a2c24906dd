# -*- coding: utf-8 -*-
"""Run a module's main() in this process, as Ansible would run it, and return its JSON result.

Much cheaper than an `ansible` process (no fork, no AnsiballZ), so argument refusals and result
shapes are tested this way; the real `ansible`/`ansible-playbook` runs stay for end-to-end tests.
"""

import contextlib
import io
import json
import sys
from unittest import mock

from ansible.module_utils import basic


@contextlib.contextmanager
def module_args(args):
    """Expose args to AnsibleModule (ansible-core 2.16 to 2.19)."""
    try:
        from ansible.module_utils.testing import patch_module_args
    except ImportError:  # ansible-core < 2.18
        payload = json.dumps({'ANSIBLE_MODULE_ARGS': args}).encode('utf-8')
        with mock.patch.object(basic, '_ANSIBLE_ARGS', payload):
            yield
        return
    with patch_module_args(args):
        yield


def run(module, args, check=False, diff=False):
    """module: the imported module (plugins.modules.x). Returns its result dict (failed=True on fail_json)."""
    args = dict(args)
    args['_ansible_check_mode'] = check
    args['_ansible_diff'] = diff
    out = io.StringIO()
    with module_args(args), mock.patch.object(sys, 'stdout', out), mock.patch.object(sys, 'argv', ['module']):
        try:
            module.main()
        except SystemExit:
            pass
    text = out.getvalue()
    try:
        return json.loads(text[text.index('{'):])
    except ValueError:
        raise AssertionError('module printed no JSON result: %r' % text[-2000:])
