# -*- coding: utf-8 -*-
# Benchmark aid (not part of the collection): the wall time of every task of a playbook run,
# written as JSON to the file named by ELASTIC_RELEASE_TASK_TIMES. ansible-core 2.19 no longer
# ships profile_tasks (it moved to ansible.posix), so benchmarks/run.py brings its own.

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = '''
    name: task_times
    type: aggregate
    short_description: wall time of every task, as JSON, for the benchmarks
    description:
      - Writes [[task name, action, seconds], ...] and the time from the first task to the end to the
        file named by the environment variable ELASTIC_RELEASE_TASK_TIMES.
'''

import json
import os
import time

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'aggregate'
    CALLBACK_NAME = 'task_times'
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super(CallbackModule, self).__init__()
        self.created = time.time()
        self.start = None
        self.current = None
        self.tasks = []

    def _close(self):
        if self.current is not None:
            name, action, t0 = self.current
            self.tasks.append([name, action, time.time() - t0])
            self.current = None

    def _open(self, task):
        self._close()
        now = time.time()
        if self.start is None:
            self.start = now
        self.current = (task.get_name(), task.action, now)

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._open(task)

    def v2_playbook_on_handler_task_start(self, task):
        self._open(task)

    def v2_playbook_on_stats(self, stats):
        self._close()
        path = os.environ.get('ELASTIC_RELEASE_TASK_TIMES')
        if path:
            end = time.time()
            with open(path, 'w') as f:
                json.dump({'tasks': self.tasks, 'first_task_to_end': end - (self.start or end),
                           'callback_loaded_to_end': end - self.created}, f)
