# -*- coding: utf-8 -*-
# Copyright: (c) 2026, GameOps release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
name: flow_record
type: notification
short_description: Record each committed ZooKeeper write of a flow, and leave a summary when the run is cancelled
version_added: 0.3.0
description:
  - Records, as results arrive, every write a flow commits (the change id and the revision per release
    of each C(zk_release_node), C(zk_release_move) and C(zk_release_revision) result), and which write
    task is running.
  - When ansible-playbook gets SIGTERM (AWX and ansible-runner cancel a job so), writes the summary
    file the run was given (C(-e summary_file)) with C(status=cancelled), the writes applied
    (C(applied), C(revisions), C(changes)), C(write_outcome) (C(written), C(not_written), or C(unknown)
    when a write task was running) and C(next); sets the custom stat C(elastic_release_summary) to the
    same and sends the stats to the callbacks (the recap and the job's artifacts); then lets the signal
    end the run as it would have.
  - A notification callback, enabled by the checkout's C(ansible.cfg) (C(callbacks_enabled)); it leaves
    the stdout callback the user chose alone.
requirements:
  - enable it with C(callbacks_enabled = gameops.elastic_release.flow_record) in C(ansible.cfg) or
    C(ANSIBLE_CALLBACKS_ENABLED)
author:
  - GameOps release engineering (@gameops)
'''

import os
import signal
import sys

from ansible.plugins.callback import CallbackBase

from ansible_collections.gameops.elastic_release.plugins.module_utils._flow import summary as _summary
from ansible_collections.gameops.elastic_release.plugins.module_utils._write.impact import totals

WRITERS = ('zk_release_node', 'zk_release_move', 'zk_release_revision')


def _short(action):
    return (action or '').rsplit('.', 1)[-1]


class CallbackModule(CallbackBase):
    """The writes of a run as their results arrive; the summary of a cancelled run."""
    CALLBACK_NAME = 'gameops.elastic_release.flow_record'
    CALLBACK_TYPE = 'notification'
    CALLBACK_NEEDS_ENABLED = True
    CALLBACK_VERSION = 2.0

    def __init__(self):
        super(CallbackModule, self).__init__()
        self.applied = []   # {task, change, revisions, write_outcome} of each committed write
        self.running = None
        self.summarised = False
        self.extra = {}
        self.flow = None
        self.inventories = []
        self.playbook_dir = ''
        self.previous = None

    def v2_playbook_on_start(self, playbook):
        self.playbook_dir = os.path.dirname(os.path.abspath(playbook._file_name))
        # Installed after ansible's own handler, which ends the workers and re-raises: it runs after ours.
        self.previous = signal.getsignal(signal.SIGTERM)
        signal.signal(signal.SIGTERM, self._on_term)

    def v2_playbook_on_play_start(self, play):
        manager = play.get_variable_manager()
        self.extra = dict(manager.extra_vars) if manager is not None else {}
        self.flow = play.vars.get('elastic_release_flow') or self.extra.get('elastic_release_flow') or self.flow
        try:
            self.inventories = list(manager._inventory._sources)
        except AttributeError:
            self.inventories = []

    def v2_playbook_on_task_start(self, task, is_conditional):
        self.running = task.get_name() if _short(task.action) in WRITERS else None

    def v2_runner_on_ok(self, result):
        self._record(result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._record(result)

    def _record(self, result):
        action = _short(result._task.action)
        data = result._result
        if action == 'flow_summary':
            self.summarised = True
        if action not in WRITERS:
            return
        self.running = None
        if data.get('write_outcome') in ('written', 'unknown') and not data.get('_ansible_check_mode', False):
            self.applied.append({'task': result._task.get_name(), 'change': data.get('change'),
                                 'revisions': dict(data.get('revisions_written') or {}),
                                 'transactions': data.get('transactions') or 1,
                                 'write_outcome': data['write_outcome']})

    def cancelled_summary(self, signum):
        """The summary of a run stopped by signum: the writes applied so far, and the one running."""
        done = totals([dict(changed=True, change=w['change'], revisions_written=w['revisions'],
                            transactions=w['transactions']) for w in self.applied])
        outcome = 'unknown' if self.running or any(w['write_outcome'] == 'unknown' for w in self.applied) else (
            'written' if self.applied else 'not_written')
        stopped = 'cancelled (%s)%s' % (signal.Signals(signum).name,
                                        (' while %s ran' % self.running) if self.running else '')
        context = _summary.Context(inventories=self.inventories, playbook_dir=self.playbook_dir, cwd=os.getcwd(),
                                   argv=sys.argv)
        return _summary.build(self.flow or 'unknown', release=str(self.extra.get('release') or ''),
                              package=str(self.extra.get('package') or ''),
                              result={'changed': done['changed'], 'revisions_written': done['revisions_written'],
                                      'write_outcome': outcome, 'transactions': done['transactions']},
                              status='cancelled', error=stopped,
                              extra={'applied': self.applied, 'changes': done['changes']},
                              context=context)

    def _on_term(self, signum, frame):
        try:
            if not self.summarised:
                data = self.cancelled_summary(signum)
                path = self.extra.get('summary_file')
                if path:
                    _summary.write(os.path.realpath(os.path.expanduser(str(path))), data)
                self._publish(data, frame)
        except Exception as exc:  # the run must still end as the signal says
            self._display.warning('flow_record: cannot record the cancelled run: %s' % exc)
        finally:
            signal.signal(signum, self.previous if self.previous is not None else signal.SIG_DFL)
            if callable(self.previous):
                self.previous(signum, frame)
            else:
                os.kill(os.getpid(), signum)

    @staticmethod
    def _publish(data, frame):
        """The custom stat, and the stats sent to every callback (AWX's artifacts, the recap), through
        the task queue manager of the run this frame belongs to; skipped when a callback is being sent."""
        tqm = None
        while frame is not None and tqm is None:
            owner = frame.f_locals.get('self')
            tqm = owner if type(owner).__name__ == 'TaskQueueManager' else getattr(owner, '_tqm', None)
            frame = frame.f_back
        if tqm is None:
            return
        tqm._stats.set_custom_stats('elastic_release_summary', data)
        lock = getattr(tqm, '_callback_lock', None)
        if lock is not None and lock.acquire(False):
            lock.release()
            tqm.send_callback('v2_playbook_on_stats', tqm._stats)
