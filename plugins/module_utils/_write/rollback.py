# -*- coding: utf-8 -*-
# Copyright: (c) 2026, GameOps release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# This module_utils is PRIVATE to gameops.elastic_release; its API may change without notice.
"""Restoring a kept revision, as an ordinary write.

Revision N holds the state before write N, so restoring it undoes write N (and what came after).
The restore is planned and written by `_write.apply`: atomic, locked, recorded as a revision of its
own (action ``rollback``), guarded like a publish (it never gives an item a second owner), and it
keeps the items the release holds by a move. A revision made by a move is undone by the inverse
move, which touches both releases. No Ansible imports here.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from .move import inverse
from .._release.names import validate_admin_root, validate_release
from .publish import PublishIntent
from .._release.revisions import read_revision, rows


def restore_intent(session, release, admin_root, revision=None):
    """(intent, the revision's row, kind) for `_write.apply`; kind is 'state' or 'move'.

    revision: a revision id (``rev-0000000003`` or ``3``); None means the newest revision, i.e. the
    state before the last write.
    """
    validate_release(release)
    validate_admin_root(admin_root)
    name, doc, state = read_revision(session, release, admin_root, revision)
    known = dict((r['revision'], r) for r in rows(session, release, admin_root))
    row = known.get(name) or {'revision': name, 'time': doc.get('time'), 'operator': doc.get('operator'),
                              'action': doc.get('action'), 'package': doc.get('package'), 'holds_package': None,
                              'release_existed_before': bool(state['exists'])}
    if doc.get('moves'):
        return inverse(doc['moves'], origin=row.get('holds_package')), row, 'move'
    intent = PublishIntent(release, state, mode='replace', action='rollback', package=row.get('holds_package'),
                           verify='full')
    return intent, row, 'state'
