# -*- coding: utf-8 -*-
# Copyright: (c) 2026, GameOps release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# This module_utils is PRIVATE to gameops.elastic_release; its API may change without notice.
"""A release's kept revisions: list them for people, restore one as a new write.

Every write of a release (publish, retire, rollback) keeps the state it replaced as a revision
(see _release.py). A revision therefore holds "the state before write N"; the package whose content
that state is comes from the previous revision (when nothing else wrote in between), which is what
`holds_package` reports. Restoring is an ordinary write through `_release.apply`, so it is atomic,
locked, recorded as a revision itself (action ``rollback``) and refused for the default release
when it would remove it.
No Ansible imports here.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ._names import validate_admin_root, validate_release
from ._release import Request, apply, list_revisions, read_revision

ROW_KEYS = ('revision', 'time', 'operator', 'action', 'package', 'holds_package', 'release_existed_before')


def rows(session, release, admin_root):
    """The kept revisions of a release, oldest first, as dicts with ROW_KEYS.

    ``package`` is the package of the write that made the revision (the write it can undo);
    ``holds_package`` is the package whose content the revision holds, when the previous revision
    shows that nothing else wrote in between, else None.
    """
    found = list_revisions(session, release, admin_root)
    out = []
    previous = None
    for row in found:
        holds = None
        if previous is not None and row.get('digest_before') is not None \
                and previous.get('digest_after') == row.get('digest_before'):
            holds = previous.get('package')
        item = dict((key, row.get(key)) for key in ROW_KEYS if key != 'holds_package')
        item['holds_package'] = holds
        out.append(item)
        previous = row
    return out


def describe(row):
    """One line for people: `rev-0000000003 2026-01-22T08:00:00Z publish mygame-gray1-2.tar.gz by ops@ci`."""
    return '%s %s %s %s by %s%s' % (
        row['revision'], row.get('time') or '-', row.get('action') or '-', row.get('package') or '-',
        row.get('operator') or '-',
        '' if row.get('release_existed_before') else ' (the release did not exist before it)')


def restore_request(session, release, admin_root, revision=None, **options):
    """(Request restoring a kept revision, the revision's row) for `_release.apply`.

    revision: a revision id (``rev-0000000003`` or ``3``); None means the newest revision, i.e. the
    state before the last write. options: keep, lock_timeout, max_request_bytes, allow_chunked.
    """
    validate_release(release)
    validate_admin_root(admin_root)
    name, doc, state = read_revision(session, release, admin_root, revision)
    known = dict((r['revision'], r) for r in rows(session, release, admin_root))
    row = known.get(name) or {'revision': name, 'time': doc.get('time'), 'operator': doc.get('operator'),
                              'action': doc.get('action'), 'package': doc.get('package'), 'holds_package': None,
                              'release_existed_before': bool(state['exists'])}
    request = Request(release, desired=state, mode='replace', admin_root=admin_root, action='rollback',
                      package=row.get('holds_package'), verify='full', **options)
    return request, row


def restore(session, request, check_mode=False):
    """Write the restore (or, in check mode, plan it). Returns the _release.Outcome."""
    return apply(session, request, check_mode=check_mode)
