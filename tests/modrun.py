# -*- coding: utf-8 -*-
"""Run a module's main() in this process, as Ansible would run it, and return its JSON result.

Much cheaper than an `ansible` process (no fork, no AnsiballZ: about 1.5 s less per run), so
argument refusals and result shapes are tested this way; the real `ansible`/`ansible-playbook` runs
stay for end-to-end tests and for the MATRIX_TESTS of scripts/test.sh, which keep the real path
(AnsiballZ, action plugins, module_defaults) covered on every supported ansible-core.
"""

import contextlib
import importlib
import io
import json
import os
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


@contextlib.contextmanager
def as_a_module_process():
    """ansible-core 2.19 switches module_utils to controller behaviour once any controller code is
    imported in the process (as the collection loader, the plugins and pytest's other tests do):
    warnings shown on the controller's Display instead of returned in the result, module arguments
    decoded with the controller's checks. A module process is never the controller: a module run
    here sees module_utils as a module process does (the stand-ins are module_utils' own defaults)."""
    try:
        from ansible.module_utils import _internal
        from ansible.module_utils._internal._json import _profiles
    except ImportError:  # ansible-core < 2.19
        yield
        return
    cached = getattr(_profiles, '_string_encoding_check_enabled', None)
    with contextlib.ExitStack() as stack:
        stack.enter_context(mock.patch.object(_internal, 'is_controller', False))
        stack.enter_context(mock.patch.object(_internal, 'import_controller_module', lambda name: None))
        stack.enter_context(mock.patch.object(_internal, 'get_controller_serialize_map', lambda: {}))
        if hasattr(cached, 'cache_clear'):
            cached.cache_clear()
            stack.callback(cached.cache_clear)
        yield


def run(module, args, check=False, diff=False):
    """module: the imported module (plugins.modules.x). Returns its result dict (failed=True on fail_json)."""
    args = dict(args)
    args['_ansible_check_mode'] = check
    args['_ansible_diff'] = diff
    out = io.StringIO()
    # As helpers.ansible_env does for a real run: the developer's own connection settings stay out.
    env = dict((k, v) for k, v in os.environ.items() if not k.startswith('ELASTIC_RELEASE_ZK_'))
    with as_a_module_process(), module_args(args), mock.patch.object(sys, 'stdout', out), \
            mock.patch.object(sys, 'argv', ['module']), mock.patch.dict(os.environ, env, clear=True):
        try:
            module.main()
        except SystemExit:
            pass
    text = out.getvalue()
    try:
        return json.loads(text[text.index('{'):])
    except ValueError:
        raise AssertionError('module printed no JSON result: %r' % text[-2000:])


class Result(object):
    """What helpers.Result says of a real `ansible localhost -m` run, for a module run here: rc 2 when
    the module failed (as `ansible` exits), stdout the diff as Ansible's callback prints it, then
    the result as JSON."""

    def __init__(self, task, diff):
        from ansible.plugins.callback import CallbackBase
        self.rc = 2 if task.get('failed') else 0
        shown = CallbackBase()._get_diff(task['diff']) if diff and task.get('diff') else ''
        self.stdout = shown + json.dumps(task, indent=4, sort_keys=True) + '\n'
        self.stderr = ''

    @property
    def output(self):
        return self.stdout + self.stderr

    def __repr__(self):
        return 'rc=%s (module run in process)\nSTDOUT:\n%s' % (self.rc, self.stdout[-6000:])


def adhoc(name, args, check=False, diff=False):
    """helpers.adhoc(name, args, ...) with the module's main() run in this process: (Result, result).
    name: the module's FQCN, e.g. gameops.elastic_release.zk_release_node."""
    namespace, collection, module = name.split('.')
    task = run(importlib.import_module('ansible_collections.%s.%s.plugins.modules.%s' % (namespace, collection, module)),
               args, check=check, diff=diff)
    return Result(task, diff), task
