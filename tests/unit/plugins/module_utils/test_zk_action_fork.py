# -*- coding: utf-8 -*-
"""An in-process module runs in a fork of the worker: when that process dies before it reports (the
OOM killer, a kill -9) the task fails with `result_lost` and the worker goes on - a dead worker
would stop the whole play without a summary. A module that raises is reported as the AnsiballZ
wrapper reports it. The module's main() is replaced here (pure, no Ansible run)."""

import importlib
import os
import signal
import types

from ansible_collections.gameops.elastic_release.plugins.plugin_utils import _zk_action


def run_with_main(monkeypatch, main):
    real = importlib.import_module

    def import_module(name, *args):
        return types.SimpleNamespace(main=main) if name.endswith('.modules.zk_release_move') else real(name, *args)
    monkeypatch.setattr(importlib, 'import_module', import_module)
    action = _zk_action.ZkModuleAction.__new__(_zk_action.ZkModuleAction)
    monkeypatch.setattr(action, '_update_module_args', lambda *args: None, raising=False)
    return action._run_in_process('zk_release_move', {'destination': 'gray1'}, {})


def test_a_module_process_killed_before_it_reports_fails_the_task_saying_its_result_is_lost(monkeypatch):
    result = run_with_main(monkeypatch, lambda: os.kill(os.getpid(), signal.SIGKILL))
    assert result['failed'] is True and result['result_lost'] is True, result
    assert result['module_pid'] != os.getpid()
    assert 'killed by signal 9' in result['msg'] and 'known only from the tree' in result['msg'], result
    assert 'write_outcome' not in result     # the flow reads the tree back for it


def test_a_module_that_raises_is_reported_with_its_traceback(monkeypatch):
    def main():
        raise RuntimeError('boom')
    result = run_with_main(monkeypatch, main)
    assert result['failed'] is True and 'boom' in result['msg'] and 'RuntimeError' in result['exception'], result
    assert 'result_lost' not in result
