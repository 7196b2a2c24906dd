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

from ansible_collections.gameops.elastic_release.plugins.module_utils._flow import startable
from ansible_collections.gameops.elastic_release.plugins.module_utils._release.names import KINDS, item_path
from ansible_collections.gameops.elastic_release.plugins.module_utils._release.snapshot import read_release
from ansible_collections.gameops.elastic_release.plugins.module_utils._release.state import empty_state, state_from_config
from ansible_collections.gameops.elastic_release.plugins.module_utils._write import front
from ansible_collections.gameops.elastic_release.plugins.module_utils._write import move as _move
from ansible_collections.gameops.elastic_release.plugins.module_utils._release.names import DEFAULT_ADMIN_ROOT
from ansible_collections.gameops.elastic_release.plugins.module_utils._write import publish as _publish
from ansible_collections.gameops.elastic_release.plugins.module_utils._write.change import Options
from ansible_collections.gameops.elastic_release.plugins.module_utils._write.front import release_items
from ansible_collections.gameops.elastic_release.plugins.module_utils._write.undo import UndoIntent
from ansible_collections.gameops.elastic_release.plugins.module_utils._zk.options import OptionAdapter
from ansible_collections.gameops.elastic_release.plugins.module_utils._zk.session import ZkError, ZkRequestTooLarge, request_size

# What the flows say a publish in parts gives up (docs/flows.md, "Large releases").
CHUNKED = ('readers may see the release half-written while it runs (its metadata is marked pending); a run that '
           'fails midway leaves it so until a rerun completes it, or the rollback flow restores the revision kept '
           'before the first part')


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


def plan_problems(params, info, connection, serving=None):
    """([problem], planned) after planning the flow's write in check mode. serving: the CMDB hosts with
    the services each runs per section (`per_section`), for the startability of the moved sections."""
    intent = intent_for(params, info)
    if intent is None:
        return [], None
    adapter = OptionAdapter(connection.get)
    try:
        given_up = release_items(params.release_items)
    except ValueError as exc:
        return ['release_items: %s' % exc], None
    opts = Options(allow_chunked=params.allow_chunked, release_items=given_up)
    route = False
    try:
        with adapter.session() as session:
            try:
                outcome = front.run(session, intent, opts, True, info.get('hosts'))
            except ZkRequestTooLarge as exc:
                if params.flow != 'promote' or not params.allow_chunked:
                    return [too_large(params, exc)], None
                # The promote in two writes: the package in parts, gray's items left with it; then the
                # promote itself, which then moves only gray's items.
                first = _publish.PublishIntent(intent.release, intent.desired, indicator=intent.indicator,
                                               package=intent.package, leave=[params.release])
                outcome = front.run(session, first, opts, True, info.get('hosts'))
                absorb = _absorb_bytes(session, params.release, intent.release, opts)
                if absorb > opts.max_request_bytes:
                    return ['the promote of %s is too large for one transaction even after the production package is '
                            'published in parts: moving %s\'s own items into %s takes a %d-byte request, over the '
                            '%d-byte limit; nothing was written. Narrow %s in steps first (playbooks/narrow.yml)'
                            % (params.release, params.release, intent.release, absorb, opts.max_request_bytes,
                               params.release)], None
                route = True
    except (ZkError, ValueError) as exc:
        return [str(exc)], None
    if params.flow in ('widen', 'narrow', 'promote') and not route and serving:
        refused = startable.problems(outcome.impact['owners'], outcome.before, outcome.after, serving, params.flow)
        if refused:
            return refused, None
    planned = {'changed': outcome.changed, 'operations_count': len(outcome.report), 'request_bytes': outcome.size,
               'impact': outcome.impact, 'notes': dict((k, v) for k, v in outcome.notes.items() if v),
               'chunked_route': route}
    return [], planned


def too_large(params, exc):
    """The size refusal in the words of the flows: the -e option that fixes it, and what it costs."""
    text = str(exc)
    end = text.find('nothing was written.')
    text = text[:end + len('nothing was written.')] if end >= 0 else text
    if params.flow == 'promote':
        gray = params.release
        return ('%s A promote is one transaction (it removes %s in it) and is never split: run the promote flow again '
                'with -e allow_chunked=true, which first publishes the production package in parts, leaving %s\'s '
                'items where they are (%s), then promotes in one transaction' % (text, gray, gray, CHUNKED))
    return '%s Run the %s flow again with -e allow_chunked=true to write it in several transactions: %s' % (
        text, params.flow, CHUNKED)


def _absorb_bytes(session, gray, production, opts):
    """The request that moves gray's items into production and removes gray (revisions travel apart)."""
    snap = read_release(session, gray, opts.admin_root)
    ops = []
    for kind in KINDS:
        for name, data in snap.state[kind].items():
            ops.append(('create', item_path(production, kind, name), data or b''))
            ops.append(('delete', item_path(gray, kind, name), -1))
    return request_size(ops, session.acl)
