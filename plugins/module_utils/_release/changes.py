# -*- coding: utf-8 -*-
# Copyright: (c) 2026, GameOps release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# This module_utils is PRIVATE to gameops.elastic_release; its API may change without notice.
"""Changes: the unit of history, and what undoing one means.

Every write is one **change** with an id (the first 12 hex digits of its transaction's id), recorded
in one revision of every release it touched. A revision (format 3) keeps, for its release, the
**delta** of the change - each field the change altered, with its value before and after - and the
release node's exact bytes before and after (so `package`, `services`, `appended` and `moved`
travel with the state), and /default_release's when the change wrote it.

Undoing a change (`revert`) is a three-way merge per field: a field still holding the change's
*after* value returns to its *before* value; a field already at *before* is left alone (an undo is
idempotent); any other value means a later change touched it, and the undo is refused naming it.
When nothing else wrote the release since, the release node's bytes are restored exactly, so the
tree is byte-identical to what it was before the change.

Each release's history folder node keeps an **index** of its kept revisions (change, action, the
build before and after of every release the change touched), so listing changes and choosing what
to keep never reads the revisions themselves. No Ansible imports here.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import zlib

from .config import decode_item, encode
from .names import KINDS
from .snapshot import moved_items, parse_meta
from .state import copy_state, empty_state, same_data

FORMAT = 3
ABSENT = False          # a node that does not exist, in a delta (None is a node with NULL data)
INDEX_FORMAT = 1
CHANGE_ID_LENGTH = 12


def change_id(txn):
    return txn[:CHANGE_ID_LENGTH] if txn else None


def _text(data):
    if data is None or data is ABSENT:
        return data
    return data.decode('utf-8', 'surrogateescape')


def _bytes(text):
    if text is None or text is ABSENT:
        return text
    return text.encode('utf-8', 'surrogateescape')


def _same(one, other):
    if one is ABSENT or other is ABSENT:
        return one is other
    return same_data(one, other)


def _field(state, key):
    """A state's value of one field: ('exists',), ('global_url',), ('services',) or (kind, name)."""
    if key[0] == 'exists':
        return state['exists']
    if key[0] in ('global_url', 'services'):
        value = state.get(key[0]) if state['exists'] else None
        return ABSENT if value is None else value
    if not state['exists']:
        return ABSENT
    return state[key[0]].get(key[1], ABSENT)


def _fields(delta):
    """[(key, before, after)] of a delta, values as bytes / None / ABSENT."""
    out = []
    for key in ('exists', 'global_url', 'services'):
        if key in delta:
            before, after = delta[key]
            if key == 'exists':
                out.append(((key,), before, after))
            else:   # None: no global_url node / no services
                out.append(((key,), ABSENT if before is None else _bytes(before),
                            ABSENT if after is None else _bytes(after)))
    for kind in KINDS:
        for name, (before, after) in sorted((delta.get(kind) or {}).items()):
            out.append(((kind, name), _bytes(before), _bytes(after)))
    return out


def state_delta(before, after):
    """The fields a change alters in one release, each [before, after] (JSON-ready)."""
    delta = {}
    if before['exists'] != after['exists']:
        delta['exists'] = [before['exists'], after['exists']]
    for key in ('global_url', 'services'):
        b, a = _field(before, (key,)), _field(after, (key,))
        # global_url is text, written as given; services is JSON, compared as a value
        if (b != a) if key == 'global_url' else not _same(b, a):
            delta[key] = [_text(b) if b is not ABSENT else None, _text(a) if a is not ABSENT else None]
    for kind in KINDS:
        names = set(before[kind] if before['exists'] else ()) | set(after[kind] if after['exists'] else ())
        changed = {}
        for name in sorted(names):
            b, a = _field(before, (kind, name)), _field(after, (kind, name))
            if not _same(b, a):
                changed[name] = [_text(b), _text(a)]
        if changed:
            delta[kind] = changed
    return delta


def delta_touches(delta, meta_pair, key):
    """Whether a revision's change altered one field (key as in _field, or ('meta', name))."""
    if key[0] == 'meta':
        before, after = (_meta_of(m) for m in (meta_pair or [ABSENT, ABSENT]))
        return _meta_value(before, key[1:]) != _meta_value(after, key[1:])
    if key[0] in ('exists', 'global_url', 'services'):
        return key[0] in delta or 'exists' in delta
    return key[1] in (delta.get(key[0]) or {}) or 'exists' in delta


def label(release, key):
    """A field for people: 'section 1003 of gray1'."""
    words = {'versions': 'version', 'sections': 'section', 'servers': 'server'}
    if key[0] == 'exists':
        return 'the existence of release %s' % release
    if key[0] == 'meta':
        return '%s of release %s' % ('the build (package)' if key[1] == 'package' else
                                     'the record of %s %s %s' % (key[1], words.get(key[2], key[2]), key[3]), release)
    if key[0] in ('global_url', 'services'):
        return 'the %s of %s' % (key[0], release)
    return '%s %s of %s' % (words[key[0]], key[1], release)


# ---- undo: the three-way merge -------------------------------------------------------------------

class Reverted(object):
    """What undoing one release's part of a change gives."""

    def __init__(self):
        self.state = None           # the target state
        self.meta_raw = None        # exact bytes for the release node (the tree byte-identical), or None
        self.meta_fields = {}       # else: bookkeeping to set (package, moved, appended); None removes
        self.conflicts = []         # [key] of fields a later change altered
        self.changes = 0            # fields that return to their value before the change


def _meta_of(raw):
    return parse_meta(_bytes(raw)) if raw not in (None, ABSENT) else {}


def _meta_value(meta, key):
    if key[0] == 'package':
        return meta.get('package')
    if key[0] == 'appended':
        return key[1] in (meta.get('appended') or [])
    return moved_items(meta).get(key[1], {}).get(key[2])


def _meta_keys(*metas):
    keys = [('package',)]
    for meta in metas:
        keys.extend(('appended', v) for v in meta.get('appended') or [])
        for kind, items in moved_items(meta).items():
            keys.extend(('moved', kind, name) for name in items)
    return sorted(set(keys))


def revert(current, current_meta_raw, delta, meta_pair):
    """Undo one release's part of a change. current: its state now; current_meta_raw: its node's bytes."""
    out = Reverted()
    fields = _fields(delta)
    exists = [f for f in fields if f[0] == ('exists',)]
    if exists and not exists[0][1] and current['exists']:
        # The change created the release: it goes, unless a later change gave it other items.
        extra = [(kind, name) for kind in KINDS for name in current[kind] if name not in (delta.get(kind) or {})]
        out.conflicts.extend(extra)
    target = copy_state(current) if current['exists'] else empty_state(False)
    for key, before, after in fields:
        now = _field(current, key)
        if key == ('exists',):
            continue
        if _same(now, after) and not _same(now, before):
            _set(target, key, before)
            out.changes += 1
        elif not _same(now, before):
            out.conflicts.append(key)
    if exists:
        before, after = exists[0][1], exists[0][2]
        if current['exists'] == after:
            target['exists'] = before
            out.changes += 1
            if not before:
                target = empty_state(False)
    before_meta, after_meta = meta_pair if meta_pair else (ABSENT, ABSENT)
    now_meta = _text(current_meta_raw) if current_meta_raw is not None else ABSENT
    if not out.conflicts and now_meta == after_meta and target['exists']:
        out.meta_raw = _bytes(before_meta) if before_meta is not ABSENT else None
    elif target['exists']:
        _merge_meta(out, _meta_of(before_meta), _meta_of(after_meta), _meta_of(now_meta))
    out.state = target
    return out


def _set(state, key, value):
    if key[0] in ('global_url', 'services'):
        state[key[0]] = None if value is ABSENT else value
    elif value is ABSENT:
        state[key[0]].pop(key[1], None)
    else:
        state[key[0]][key[1]] = value


def _merge_meta(out, before, after, now):
    moved = moved_items(now)
    appended = set(now.get('appended') or [])
    package = now.get('package')
    for key in _meta_keys(before, after, now):
        b, a, n = (_meta_value(m, key) for m in (before, after, now))
        if b == a or n == b:
            continue
        if n != a:
            out.conflicts.append(('meta',) + key)
            continue
        out.changes += 1
        if key[0] == 'package':
            package = b
        elif key[0] == 'appended':
            (appended.add if b else appended.discard)(key[1])
        elif b is None:
            moved[key[1]].pop(key[2], None)
        else:
            moved[key[1]][key[2]] = b
    out.meta_fields = {'package': package, 'moved': moved, 'appended': sorted(appended)}


def adopted(delta, meta_pair, current_meta_raw):
    """Versions the change appended to this (default) release that are no longer kept for another
    release (a later publish lists them itself): an undo leaves their nodes."""
    before, after = (_meta_of(m) for m in (meta_pair or [ABSENT, ABSENT]))
    now = parse_meta(current_meta_raw) if current_meta_raw is not None else {}
    appended = set(after.get('appended') or []) - set(before.get('appended') or [])
    return sorted(v for v in appended if v in (delta.get('versions') or {}) and v not in (now.get('appended') or []))


# ---- the history index ---------------------------------------------------------------------------

def parse_index(data):
    """{revision: entry} of a history folder node's data ({} when empty or not an index)."""
    try:
        doc = json.loads(zlib.decompress(data).decode('utf-8')) if data else {}
    except (zlib.error, UnicodeDecodeError, ValueError):
        return {}
    entries = doc.get('revisions') if isinstance(doc, dict) else None
    return dict((k, v) for k, v in entries.items() if isinstance(v, dict)) if isinstance(entries, dict) else {}


def encode_index(entries):
    # Compressed like the revisions: it travels in every change's transaction, once per release.
    return zlib.compress(encode({'format': INDEX_FORMAT, 'revisions': entries}), 6)


def index_entry(record):
    """What the index keeps of a revision record: enough to list the change and to choose what to keep."""
    entry = dict((key, record.get(key)) for key in ('change', 'action', 'time', 'operator', 'origin', 'undoes',
                                                    'releases', 'given_up', 'package', 'request')
                 if record.get(key) not in (None, {}, []))
    if record.get('change_action'):
        entry['action'] = record['change_action']
    return entry


def builds_of(entry, release):
    """(build before, build after) of `release` in an index entry or a revision record."""
    mine = (entry.get('releases') or {}).get(release) or {}
    return mine.get('package_before'), mine.get('package_after')


def retained(history, index, keep, keep_builds, release):
    """The revisions of `history` (names, oldest first) kept once one more is added.

    The newest keep - 1 stay; so do the newest keep_builds revisions whose change replaced the
    release's build (undoing one brings that build back), however many moves came after.
    Revisions written before changes were indexed count as changes and are never kept as builds.
    """
    keep_set = set(history[-(keep - 1):]) if keep > 1 else set()
    builds = []
    for name in reversed(history):
        before, after = builds_of(index.get(name) or {}, release)
        if name in index and before != after and before is not None:
            builds.append(name)
    keep_set.update(builds[:max(0, keep_builds)])
    return [name for name in history if name in keep_set]


# ---- listing -------------------------------------------------------------------------------------

def change_rows(release, history, index, legacy):
    """One row per kept revision of `release`, oldest first. legacy: {revision: row} of revisions
    written before changes were indexed (read from their nodes)."""
    rows = []
    for name in history:
        entry = index.get(name)
        if entry is None:
            if name in legacy:
                rows.append(legacy[name])
            continue
        touched = entry.get('releases') or {}
        before, after = builds_of(entry, release)
        rows.append({
            'change': entry.get('change'), 'revision': name, 'time': entry.get('time'),
            'operator': entry.get('operator'), 'action': entry.get('action'), 'origin': entry.get('origin'),
            'releases': sorted(touched), 'undoes': entry.get('undoes'), 'given_up': entry.get('given_up') or {},
            'builds': dict((r, {'before': v.get('package_before'), 'after': v.get('package_after')})
                           for r, v in sorted(touched.items())),
            'package': entry.get('package'), 'holds_package': before, 'package_after': after,
            'release_existed_before': bool(touched.get(release, {}).get('existed')),
        })
    undone = {}
    for row in rows:
        if row.get('undoes'):
            undone[row['undoes']] = row['change']
    for row in rows:
        row['undone_by'] = undone.get(row.get('change'))
        if row['undone_by'] and undone.get(row['undone_by']):
            row['undone_by'] = None    # undone, then redone
    return rows


def meta_bookkeeping(meta_raw):
    """The bookkeeping of a release node (package, services, moved, appended), for comparisons."""
    meta = parse_meta(meta_raw) if meta_raw is not None else {}
    return dict((k, meta.get(k)) for k in ('package', 'services', 'moved', 'appended') if meta.get(k))


def services_text(state):
    return decode_item(state['services']) if state.get('services') is not None else None


def changed_keys(delta, meta_pair):
    """The fields a change altered in one release (keys as delta_touches takes them)."""
    keys = [key for key, dummy, dummy2 in _fields(delta)]
    before, after = (_meta_of(m) for m in (meta_pair or [ABSENT, ABSENT]))
    keys.extend(('meta',) + key for key in _meta_keys(before, after)
                if _meta_value(before, key) != _meta_value(after, key))
    return keys
