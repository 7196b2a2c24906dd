# -*- coding: utf-8 -*-
# Copyright: (c) 2026, GameOps release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# This plugin_utils is PRIVATE to gameops.elastic_release; its API may change without notice.
"""What a failed ZooKeeper connection adds to its message: where its hosts came from (the inventory
file and line, -e, or the environment) and how to correct them. Used by the action plugins; it
imports nothing of Ansible's controller but, when asked, the origin a value was read from."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

# How _zk/session.py words a session that could not be opened (a unit test holds the two together).
CONNECT_FAILED = 'cannot connect to ZooKeeper at '
HOSTS_VAR = 'elastic_release_zk_hosts'


def _origin(value):
    """'/path/group_vars/all.yml line 21' where ansible-core 2.19+ says a variable was read from, else None."""
    try:
        from ansible._internal._datatag._tags import Origin
    except ImportError:  # pragma: no cover - older ansible-core keeps no origin
        return None
    origin = Origin.get_tag(value)
    if origin is None:
        return None
    if origin.path:
        return '%s%s' % (origin.path, ' line %d' % origin.line_num if origin.line_num else '')
    if (origin.description or '').startswith('<CLI option'):
        return 'the command line (-e)'
    return origin.description


def hosts_hint(task_args, task_vars):
    """For a connection that failed: where its hosts came from and how to correct them. '' when the
    task gave them itself (its own arguments name them)."""
    if task_args.get('hosts') not in (None, ''):
        return ''
    fix = 'pass -e %s=<host:port,...>/<chroot> to try others' % HOSTS_VAR
    if HOSTS_VAR in task_vars:
        where = _origin(task_vars[HOSTS_VAR])
        return ('. The ZooKeeper hosts are %s, set in %s: correct it there, or %s'
                % (HOSTS_VAR, where or 'the inventory (group_vars) or with -e', fix))
    if os.environ.get('ELASTIC_RELEASE_ZK_HOSTS'):
        return ('. The ZooKeeper hosts come from the environment variable ELASTIC_RELEASE_ZK_HOSTS (the inventory sets '
                'no %s): correct it, or %s' % (HOSTS_VAR, fix))
    return ''


def with_hosts_hint(result, task_args, task_vars):
    """A failed result whose session could not be opened, with where its hosts came from."""
    msg = result.get('msg')
    if result.get('failed') and isinstance(msg, str) and CONNECT_FAILED in msg:
        result['msg'] = msg + hosts_hint(task_args, task_vars)
    return result
