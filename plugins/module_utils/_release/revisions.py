# -*- coding: utf-8 -*-
# Copyright: (c) 2026, GameOps release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# This module_utils is PRIVATE to gameops.elastic_release; its API may change without notice.
"""Revision storage: every change keeps, per release it touches, what it altered.

A revision is the node {admin_root}/history/{release}/rev-NNNNNNNNNN holding zlib-compressed JSON:
who wrote, when, which package and action, the change's id, the digests before and after, and
(format 3, see _release/changes.py) the change's `delta` and the release node's bytes before and
after. Revisions written by earlier versions (formats 1 and 2) hold `before`, the release's whole
state before the write; they are still listed and restored. Revision N is created in the same
transaction as change N, so it exists exactly when the change happened (it doubles as the write's
commit marker: `txn`).

A record too large to travel in the write's own transaction (a release of a few MB, written with
allow_chunked) keeps its bulk (`delta` or `before`) in parts under {admin_root}/parts/{release}/,
written before the change; the revision node then names its parts. Parts of a write that never
happened are removed by the next write of the release. No Ansible imports here.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import getpass
import hashlib
import json
import socket
import time
import zlib

from .changes import ABSENT, FORMAT, change_id, change_rows, parse_index, state_delta
from .names import DEFAULT_MAX_REQUEST_BYTES, history_path, parts_path
from .snapshot import REVISION_PREFIX
from .state import state_digest, state_from_json
from .._zk.base import ZkError


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


def build_record(snap, target, meta_after, revision, txn, operator, delta=None):
    """The revision of one release in a change (format 3). target: the Target (see _write/change.py);
    meta_after: the release node's bytes after the change (None when the change removes it);
    delta: for a change that does not rewrite the whole release (versions appended to it)."""
    state = target.state
    record = {
        'format': FORMAT, 'release': snap.release, 'revision': revision, 'txn': txn, 'change': change_id(txn),
        'time': time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime()),
        'operator': operator, 'package': target.package, 'action': target.action,
        # A partial record (delta given: the snapshot holds no items) has no digests.
        'digest_before': state_digest(snap.state) if snap.exists and delta is None else None,
        'digest_after': state_digest(state) if delta is None and state['exists'] else None,
        'default_release_before': snap.default_release,
        'delta': delta if delta is not None else state_delta(snap.state, state),
        'meta': [_text(snap.meta_raw) if snap.exists else ABSENT, _text(meta_after) if meta_after is not None else ABSENT],
    }
    foreign = dict((kind, snap.foreign(kind)) for kind in snap.nodes if snap.foreign(kind))
    if foreign:
        # Names only: nodes another tool wrote under names this collection does not write are not
        # restored, but the revision says they were there.
        record['foreign'] = foreign
    record.update(target.extra or {})
    return record


def _text(data):
    return data.decode('utf-8', 'surrogateescape') if data is not None else None


class StoredRevision(object):
    """The nodes one revision needs: the revision node, and parts written before the change."""

    def __init__(self, path, head, parts):
        self.path = path
        self.head = head        # bytes of the revision node
        self.parts = parts      # [(path, bytes)], empty when the state travels in the revision node

    def part_ops(self):
        return [('create', path, data) for path, data in self.parts]


BULK = ('before', 'delta')


def store_revision(record, admin_root, inline_limit, part_limit):
    """Encode a record; move its bulk (`delta`, or a legacy `before`) into parts when the whole
    would pass inline_limit."""
    release, revision = record['release'], record['revision']
    path = '%s/%s' % (history_path(admin_root, release), revision)
    head = encode_revision(record)
    if len(head) <= inline_limit:
        return StoredRevision(path, head, [])
    blob = encode_revision(dict((k, record[k]) for k in BULK if k in record))
    size = max(1024, part_limit)
    chunks = [blob[i:i + size] for i in range(0, len(blob), size)]
    names = ['%s.%s.%04d' % (revision, record['txn'][:12], i + 1) for i in range(len(chunks))]
    small = dict((k, v) for k, v in record.items() if k not in BULK)
    small.update(parts=names, parts_sha256=hashlib.sha256(blob).hexdigest())
    base = parts_path(admin_root, release)
    return StoredRevision(path, encode_revision(small), [('%s/%s' % (base, n), c) for n, c in zip(names, chunks)])


def orphan_parts(part_names, history):
    """Parts that belong to no kept revision (a write that never committed, or a trimmed one)."""
    kept = set(history)
    return sorted(n for n in part_names if n.split('.', 1)[0] not in kept)


# ---- reading -------------------------------------------------------------------------------

def _load_bulk(session, doc, release, admin_root, where):
    """The record with its bulk read back from its parts, when it has them."""
    names = doc.get('parts') or []
    if not names:
        return doc
    base = parts_path(admin_root, release)
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
    bulk = decode_revision(blob, where)
    if doc.get('format', 1) == 2:     # written before changes: the parts hold the state alone
        return dict(doc, before=bulk)
    return dict(doc, **bulk)


def _legacy_row(name, doc):
    row = dict((k, doc.get(k)) for k in ('time', 'operator', 'package', 'action', 'digest_before', 'digest_after',
                                         'moves', 'txn', 'linked'))
    row['revision'] = name
    row['change'] = change_id(doc.get('txn'))
    before = doc.get('before') or {}
    row['release_existed_before'] = bool(before.get('exists')) if doc.get('format', 1) < 2 \
        else doc.get('digest_before') is not None
    return row


def read_history(session, release, admin_root):
    """(revision names oldest first, {revision: index entry}) in one request round."""
    hpath = history_path(admin_root, release)
    node, names = session.batch([('get', hpath), ('children', hpath)])
    history = sorted(c for c in (names or []) if c.startswith(REVISION_PREFIX))
    return history, parse_index(node[0] if node else None)


def read_records(session, release, admin_root, names, bulk=False):
    """{revision: record} of the named revisions of a release (missing ones left out)."""
    hpath = history_path(admin_root, release)
    got = session.get_many(['%s/%s' % (hpath, n) for n in names], node_bytes=DEFAULT_MAX_REQUEST_BYTES)
    out = {}
    for name in names:
        entry = got['%s/%s' % (hpath, name)]
        if entry is not None:
            where = '%s/%s' % (hpath, name)
            doc = decode_revision(entry[0], where)
            out[name] = _load_bulk(session, doc, release, admin_root, where) if bulk else doc
    return out


def list_changes(session, release, admin_root):
    """The kept changes of a release, oldest first: one row per revision (see changes.change_rows).
    Revisions written before changes were indexed are read from their nodes."""
    history, index = read_history(session, release, admin_root)
    legacy_names = [n for n in history if n not in index]
    legacy = {}
    if legacy_names:
        previous = None
        docs = read_records(session, release, admin_root, legacy_names)
        for name in legacy_names:
            if name not in docs:
                continue
            row = _legacy_row(name, docs[name])
            holds = None
            if previous is not None and row.get('digest_before') is not None \
                    and previous.get('digest_after') == row.get('digest_before'):
                holds = previous.get('package')
            row['holds_package'] = holds
            row.update(releases=sorted(set([release] + list(row.get('linked') or []))), builds={}, undoes=None,
                       given_up={}, origin=None, package_after=None)
            legacy[name] = row
            previous = row
    return change_rows(release, history, index, legacy)


def read_revision(session, release, admin_root, revision=None):
    """(name, record with its bulk) of a kept revision (default: the newest)."""
    history, dummy = read_history(session, release, admin_root)
    hpath = history_path(admin_root, release)
    if not history:
        raise ZkError('release %s has no kept revisions under %s' % (release, hpath))
    name = revision_name(history, release, revision)
    docs = read_records(session, release, admin_root, [name], bulk=True)
    if name not in docs:
        raise ZkError('revision %s/%s disappeared while reading' % (hpath, name))
    return name, docs[name]


def revision_name(history, release, revision):
    if revision is None:
        return history[-1]
    if revision in history:
        return revision
    if str(revision).isdigit() and '%s%010d' % (REVISION_PREFIX, int(revision)) in history:
        return '%s%010d' % (REVISION_PREFIX, int(revision))
    raise ZkError('release %s has no revision %s (kept: %s)' % (release, revision, ', '.join(history)))


def legacy_state(doc):
    """The whole state a revision written before changes keeps (None for format 3)."""
    if doc.get('format', 1) >= FORMAT:
        return None
    return state_from_json(doc.get('before') or {})
