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

In-process runs. A module task sent to the controller itself costs Ansible about 0.6 s before the
module does anything: the AnsiballZ payload is built (every module_utils file the module imports,
Ansible's included, parsed to find its imports: about half of it), written out, and a new Python
starts, imports and compiles it all again. The module's own work in a flow is tens of
milliseconds. With the variable `elastic_release_in_process` true (the flows' publish step sets
it), a task that would run on the controller under the controller's own Python - local
connection, the interpreter is the one running Ansible, no become, no `environment`, not async -
runs the module's `main()` in a fork of the task's worker process instead (no new Python, nothing
imported again), with the arguments Ansible would have sent (check and diff mode, no_log,
module_defaults) and its output parsed as Ansible parses a module's: the same argument checks, the
same code, the same result. A module process that dies before it reports fails the task with
`result_lost` while the worker and the play go on (the flows then read the tree:
`zk_release_readback`). Any other task, and every
task on ansible-core older than 2.19, runs the module the usual way.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import importlib
import io
import json
import os
import sys
import traceback

from ansible.module_utils import basic
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase

try:  # ansible-core 2.19+: modules read their arguments with a serialization profile
    from ansible.module_utils.common.json import Direction, get_module_encoder
    from ansible.vars.clean import remove_internal_keys
    HAS_PROFILES = hasattr(basic, '_ANSIBLE_PROFILE')
except ImportError:  # pragma: no cover - older ansible-core: the usual module run
    HAS_PROFILES = False

from ansible_collections.gameops.elastic_release.plugins.module_utils._zk.options import CONNECTION_OPTIONS
from ansible_collections.gameops.elastic_release.plugins.plugin_utils._zk_hint import with_hosts_hint

IN_PROCESS_VAR = 'elastic_release_in_process'
COLLECTION = 'gameops.elastic_release'
# Modules that only talk to ZooKeeper. server_start starts and signals processes on its host: it
# always runs as a process of its own.
IN_PROCESS_MODULES = ('zk_release_node', 'zk_release_move', 'zk_release_revision', 'release_lookup', 'release_audit',
                      'zk_release_readback')
# Modules declare no serialization profile: Ansible sends them their arguments in this one.
PROFILE = 'legacy'


def connection_args(args, task_vars, template):
    """args with the unset connection options filled from the variables (templated); '' means unset."""
    out = dict(args)
    for opt in CONNECTION_OPTIONS:
        option = opt.name
        if out.get(option) not in (None, ''):
            continue
        name = opt.var
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
        module = self._in_process_module(task_vars)
        if module:
            result.update(self._run_in_process(module, args, task_vars))
            return with_hosts_hint(result, self._task.args, task_vars)
        result.update(self._execute_module(module_name=self._task.action, module_args=args, task_vars=task_vars,
                                           wrap_async=wrap_async))
        if not wrap_async:
            self._remove_tmp_path(self._connection._shell.tmpdir)
        return with_hosts_hint(result, self._task.args, task_vars)

    def _in_process_module(self, task_vars):
        """The module's short name when this task may run in-process (see the module docstring), else None."""
        if not HAS_PROFILES or not boolean(self._templar.template(task_vars.get(IN_PROCESS_VAR, False)), strict=False):
            return None
        fqcn = getattr(self._task, 'resolved_action', None) or self._task.action
        namespace, dot, name = fqcn.rpartition('.')
        if namespace != COLLECTION or name not in IN_PROCESS_MODULES:
            return None
        if self._connection.transport != 'local' or self._play_context.become or self._task.async_val:
            return None
        environment = {}
        self._compute_environment_string(environment)
        if environment:
            return None
        interpreter = task_vars.get('ansible_python_interpreter')
        if not interpreter:
            return None  # interpreter discovery: the module may run under another Python
        interpreter = self._templar.template(interpreter)
        if os.path.realpath(str(interpreter)) != os.path.realpath(sys.executable):
            return None
        return name

    def _run_in_process(self, name, args, task_vars):
        """Run the module's main() in a fork of this worker, as its AnsiballZ wrapper would, and parse
        what it prints. The fork needs no new Python; it keeps the worker alive when the module's
        process dies (the OOM killer, a kill -9): the task then fails saying its result was lost."""
        args = dict(args)
        self._update_module_args('%s.%s' % (COLLECTION, name), args, task_vars)
        encoder = get_module_encoder(PROFILE, Direction.CONTROLLER_TO_MODULE)
        payload = json.dumps({'ANSIBLE_MODULE_ARGS': args}, cls=encoder).encode('utf-8')
        reader, writer = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child reports through the pipe, and never returns
            os.close(reader)
            _child(name, payload, writer)
        os.close(writer)
        with os.fdopen(reader, 'rb') as pipe:
            raw = pipe.read()
        status = os.waitpid(pid, 0)[1]
        try:
            report = json.loads(raw.decode('utf-8')) if raw else None
        except ValueError:
            report = None
        if report is None:
            how = ('was killed by signal %d' % os.WTERMSIG(status)) if os.WIFSIGNALED(status) else \
                ('exited with status %d' % os.WEXITSTATUS(status))
            return {'failed': True, 'result_lost': True, 'module_pid': pid,
                    'msg': 'module %s.%s: its process (pid %d) %s before it reported: its result is lost, and what it '
                           'wrote is known only from the tree' % (COLLECTION, name, pid, how)}
        if 'exception' in report:
            return {'failed': True, 'msg': 'module %s.%s failed: %s' % (COLLECTION, name, report['error']),
                    'exception': report['exception']}
        data = self._parse_returned_data({'rc': report['rc'], 'stdout': report['stdout'], 'stderr': ''}, PROFILE)
        remove_internal_keys(data)
        return data


def _child(name, payload, writer):  # pragma: no cover - runs in the forked process
    """Run the module and send {rc, stdout} (or the exception) through the pipe, then end the process
    without the worker's exit handlers."""
    basic._ANSIBLE_ARGS, basic._ANSIBLE_PROFILE = payload, PROFILE
    out = io.StringIO()
    report = {'rc': 0}
    try:
        try:
            with contextlib.redirect_stdout(out):
                importlib.import_module('ansible_collections.gameops.elastic_release.plugins.modules.%s' % name).main()
            report['rc'] = 1  # a module that returns instead of exiting printed no result
        except SystemExit as exc:
            report['rc'] = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        except Exception as exc:  # pylint: disable=broad-except
            # What the AnsiballZ wrapper reports for an exception a module did not handle.
            report = {'error': str(exc), 'exception': traceback.format_exc()}
        report['stdout'] = out.getvalue()
        data = json.dumps(report).encode('utf-8')
        while data:
            data = data[os.write(writer, data):]
    finally:
        os._exit(0)
