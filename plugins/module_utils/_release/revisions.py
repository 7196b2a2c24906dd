# -*- coding: utf-8 -*-
# Copyright: (c) 2026, GameOps release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# This module_utils is PRIVATE to gameops.elastic_release; its API may change without notice.
"""Revision storage: every write keeps the state it replaced, so any kept state can be restored.

A revision is the node {admin_root}/history/{release}/rev-NNNNNNNNNN holding zlib-compressed JSON:
who wrote, when, which package and action, the digests before and after, and `before`: the
release's exact state before write N. Revision N is created in the same transaction as write N,
so it exists exactly when the write happened (it doubles as the write's commit marker: `txn`).

A state too large to travel in the write's own transaction (a release of a few MB, written with
allow_chunked) is stored in parts under {admin_root}/parts/{release}/, written before the change;
the revision node then names its parts (`format: 2`). Parts of a write that never happened are
removed by the next write of the release. No Ansible imports here.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import getpass
import hashlib
import json
import socket
import time
import zlib

from .names import DEFAULT_MAX_REQUEST_BYTES, history_path, parts_path
from .snapshot import REVISION_PREFIX
from .state import state_digest, state_from_json, state_to_json
from .._zk.session import ZkError

ROW_KEYS = ('revision', 'time', 'operator', 'action', 'package', 'holds_package', 'release_existed_before')


def operator_name():
    try:
        user = getpass.getuser()
    except Exception:  # no passwd entry in some containers
        user = 'unknown'
    return '%s@%s' % (user, socket.gethostname())


def encode_revision(doc):
    # ASCII escapes keep undecodable node data (surrogate-escaped bytes) exact through JSON.
    return zlib.compress(json.dumps(doc, sort_keys=True, separators=(',', ':')).encode('ascii'), 6)


def decode_revision(data, where):
    try:
        return json.loads(zlib.decompress(data or b'').decode('utf-8'))
    except (zlib.error, ValueError, UnicodeDecodeError):
        raise ZkError('revision %s is not a revision this collection wrote (not zlib-compressed JSON)' % where)


def next_revision(history):
    last = 0
    for name in history:
        try:
            last = max(last, int(name[len(REVISION_PREFIX):]))
        except ValueError:
            continue
    return '%s%010d' % (REVISION_PREFIX, last + 1)


def revision_number(name):
    try:
        return int(name[len(REVISION_PREFIX):])
    except ValueError:
        return None


def build_record(snap, revision, txn, action, package, digest_after, operator, extra=None):
    record = {
        'format': 1, 'release': snap.release, 'revision': revision, 'txn': txn,
        'time': time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime()),
        'operator': operator, 'package': package, 'action': action,
        'digest_before': state_digest(snap.state) if snap.exists else None,
        'digest_after': digest_after, 'default_release_before': snap.default_release,
        'before': state_to_json(snap.state),
    }
    foreign = dict((kind, snap.foreign(kind)) for kind in snap.nodes if snap.foreign(kind))
    if foreign:
        # Names only: nodes another tool wrote under names this collection does not write are not
        # restored, but the revision says they were there.
        record['foreign'] = foreign
    record.update(extra or {})
    return record


class StoredRevision(object):
    """The nodes one revision needs: the revision node, and parts written before the change."""

    def __init__(self, path, head, parts):
        self.path = path
        self.head = head        # bytes of the revision node
        self.parts = parts      # [(path, bytes)], empty when the state travels in the revision node

    def part_ops(self):
        return [('create', path, data) for path, data in self.parts]


def store_revision(record, admin_root, inline_limit, part_limit):
    """Encode a record; split its `before` state into parts when the whole would pass inline_limit."""
    release, revision = record['release'], record['revision']
    path = '%s/%s' % (history_path(admin_root, release), revision)
    head = encode_revision(record)
    if len(head) <= inline_limit:
        return StoredRevision(path, head, [])
    blob = encode_revision(record['before'])
    size = max(1024, part_limit)
    chunks = [blob[i:i + size] for i in range(0, len(blob), size)]
    names = ['%s.%s.%04d' % (revision, record['txn'][:12], i + 1) for i in range(len(chunks))]
    small = dict(record, format=2, before=None, parts=names, parts_sha256=hashlib.sha256(blob).hexdigest())
    base = parts_path(admin_root, release)
    return StoredRevision(path, encode_revision(small), [('%s/%s' % (base, n), c) for n, c in zip(names, chunks)])


def orphan_parts(part_names, history):
    """Parts that belong to no kept revision (a write that never committed, or a trimmed one)."""
    kept = set(history)
    return sorted(n for n in part_names if n.split('.', 1)[0] not in kept)


def trimmed(history, keep):
    """Revisions that fall out of the kept window once one more is added."""
    excess = len(history) + 1 - max(1, keep)
    return history[:max(0, excess)]


# ---- reading -------------------------------------------------------------------------------

def _names(session, release, admin_root):
    hpath = history_path(admin_root, release)
    return hpath, sorted(c for c in (session.children(hpath) or []) if c.startswith(REVISION_PREFIX))


def _load_before(session, doc, release, admin_root, where):
    """The `before` state of a revision record, read from its parts when it has them."""
    if doc.get('format', 1) < 2:
        return doc.get('before') or {}
    base = parts_path(admin_root, release)
    names = doc.get('parts') or []
    got = session.get_many(['%s/%s' % (base, n) for n in names], node_bytes=DEFAULT_MAX_REQUEST_BYTES)
    chunks = []
    for name in names:
        entry = got['%s/%s' % (base, name)]
        if entry is None:
            raise ZkError('revision %s is incomplete: its part %s/%s is missing' % (where, base, name))
        chunks.append(entry[0] or b'')
    blob = b''.join(chunks)
    if hashlib.sha256(blob).hexdigest() != doc.get('parts_sha256'):
        raise ZkError('revision %s is damaged: its parts do not match the checksum it records' % where)
    return decode_revision(blob, where)


def list_revisions(session, release, admin_root, node_bytes=DEFAULT_MAX_REQUEST_BYTES):
    """Every kept revision's record (without its state), oldest first. node_bytes: how large one
    revision node may be (read in answers that stay within ZooKeeper's request limit)."""
    hpath, names = _names(session, release, admin_root)
    got = session.get_many(['%s/%s' % (hpath, n) for n in names], node_bytes=node_bytes)
    out = []
    for name in names:
        entry = got['%s/%s' % (hpath, name)]
        if entry is None:
            continue
        doc = decode_revision(entry[0], '%s/%s' % (hpath, name))
        row = dict((k, doc.get(k)) for k in ('time', 'operator', 'package', 'action', 'digest_before', 'digest_after',
                                             'moves', 'txn', 'linked'))
        row['revision'] = name
        before = doc.get('before') or {}
        row['release_existed_before'] = bool(before.get('exists')) if doc.get('format', 1) < 2 \
            else doc.get('digest_before') is not None
        out.append(row)
    return out


def read_revision(session, release, admin_root, revision=None):
    """(name, record, state) of a kept revision (default: the newest, the state before the last write)."""
    hpath, names = _names(session, release, admin_root)
    if not names:
        raise ZkError('release %s has no kept revisions under %s' % (release, hpath))
    if revision is None:
        revision = names[-1]
    elif revision not in names:
        if str(revision).isdigit() and '%s%010d' % (REVISION_PREFIX, int(revision)) in names:
            revision = '%s%010d' % (REVISION_PREFIX, int(revision))
        else:
            raise ZkError('release %s has no revision %s (kept: %s)' % (release, revision, ', '.join(names)))
    where = '%s/%s' % (hpath, revision)
    entry = session.get(where)
    if entry is None:
        raise ZkError('revision %s disappeared while reading' % where)
    doc = decode_revision(entry[0], where)
    return revision, doc, state_from_json(_load_before(session, doc, release, admin_root, where))


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
        if row.get('moves'):
            item['moves'] = row['moves']
        out.append(item)
        previous = row
    return out
