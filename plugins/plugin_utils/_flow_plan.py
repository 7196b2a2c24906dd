# -*- coding: utf-8 -*-
# Copyright: (c) 2026, GameOps release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# This plugin_utils is PRIVATE to gameops.elastic_release; its API may change without notice.
"""The checks of a flow's first step that need ZooKeeper: the flow's write, planned in check mode.

The ownership guard, the owners of the items a widen or narrow moves, and the size of the
transaction are decided here, before the flow writes anything, with the same code the write
modules use (they check again when they write).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.gameops.elastic_release.plugins.module_utils._release.state import empty_state, state_from_config
from ansible_collections.gameops.elastic_release.plugins.module_utils._write import front
from ansible_collections.gameops.elastic_release.plugins.module_utils._write import move as _move
from ansible_collections.gameops.elastic_release.plugins.module_utils._release.names import DEFAULT_ADMIN_ROOT
from ansible_collections.gameops.elastic_release.plugins.module_utils._write import publish as _publish
from ansible_collections.gameops.elastic_release.plugins.module_utils._write.change import Options
from ansible_collections.gameops.elastic_release.plugins.module_utils._write.front import release_items
from ansible_collections.gameops.elastic_release.plugins.module_utils._write.undo import UndoIntent
from ansible_collections.gameops.elastic_release.plugins.module_utils._zk.options import OptionAdapter
from ansible_collections.gameops.elastic_release.plugins.module_utils._zk.session import ZkError


def intent_for(params, info):
    """The write a flow will make, or None for flows checked without ZooKeeper."""
    flow = params.flow
    if flow in ('production', 'review', 'gray'):
        desired = state_from_config(info['config'])
        return _publish.PublishIntent(params.release, desired, indicator=info['indicator'] if flow == 'production' else None,
                                      append_to_default=flow != 'production', package=info['package'])
    if flow == 'promote':
        desired = state_from_config(info['config'])
        return _publish.PublishIntent(info['package_release'], desired, indicator=info['indicator'],
                                      package=info['package'], absorb=[params.release], name_pattern=params.name_pattern,
                                      allow_other_build=params.allow_other_build)
    if flow == 'retire':
        return _publish.PublishIntent(params.release, empty_state(False), action='retire')
    if flow == 'rollback':
        if params.list_revisions:
            return None
        return UndoIntent(params.release, DEFAULT_ADMIN_ROOT, change=params.change or None,
                          revision=params.revision or None)
    if flow in ('widen', 'narrow'):
        items = {}
        for step in info['steps']:
            for kind in ('sections', 'servers'):
                items.setdefault(kind, []).extend(step[kind])
        items = dict((k, v) for k, v in items.items() if v)
        if flow == 'widen':
            return _move.MoveIntent(destination=params.release, items=items)
        return _move.MoveIntent(source=params.release, items=items, lent=params.all_items)
    return None


def plan_problems(params, info, connection):
    """([problem], planned) after planning the flow's write in check mode."""
    intent = intent_for(params, info)
    if intent is None:
        return [], None
    adapter = OptionAdapter(connection.get)
    try:
        with adapter.session() as session:
            outcome = front.run(session, intent, Options(release_items=release_items(params.release_items)), True,
                                info.get('hosts'))
    except (ZkError, ValueError) as exc:
        return [str(exc)], None
    planned = {'changed': outcome.changed, 'operations_count': len(outcome.report), 'request_bytes': outcome.size,
               'impact': outcome.impact, 'notes': dict((k, v) for k, v in outcome.notes.items() if v)}
    return [], planned
