# -*- coding: utf-8 -*-
# Copyright: (c) 2026, GameOps release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# This module_utils is PRIVATE to gameops.elastic_release; its API may change without notice.
"""The state of one release: what /releases/{release} holds, as exact bytes.

A state is a dict::

    {'exists': bool, 'global_url': bytes or None, 'services': bytes or None,
     'versions': {name: bytes or None}, 'sections': {...}, 'servers': {...}}

Item names are canonical (see _names.stored_item); data is exactly as stored (None is a node
another tool created with NULL data). `services` is the release-wide service versions of the
config, kept in the release node's metadata. Comparison is semantic (JSON values); writes are
canonical JSON. No Ansible imports here.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib

from .config import decode_item, encode, item_bytes
from .names import KINDS

RAW_KEY = '__raw__'


def empty_state(exists=False):
    state = dict((kind, {}) for kind in KINDS)
    state['exists'] = exists
    state['global_url'] = None
    state['services'] = None
    return state


def state_from_config(cfg):
    """Desired state of a ReleaseConfig (see _config.py)."""
    state = empty_state(True)
    for kind in KINDS:
        state[kind] = dict((name, item_bytes(kind, value)) for name, value in cfg.items(kind).items())
    state['global_url'] = cfg.global_url.encode('utf-8') if cfg.global_url is not None else None
    state['services'] = encode(cfg.services) if cfg.services is not None else None
    return state


def copy_state(state):
    out = dict(state)
    for kind in KINDS:
        out[kind] = dict(state[kind])
    return out


def same_data(a, b):
    """Equal as JSON values (b'' and b'{}' are both an empty object); NULL equals only NULL."""
    if a == b:
        return True
    if a is None or b is None:
        return False
    return decode_item(a) == decode_item(b)


def display_value(data):
    """Node data for people and lookups: a JSON value, {} for empty, {'__raw__': text} otherwise."""
    if data is None:
        return None
    value = decode_item(data)
    if isinstance(value, bytes):
        return {RAW_KEY: value.decode('utf-8', 'replace')}
    return value


def state_display(state):
    """JSON-friendly view for diff output."""
    if not state['exists']:
        return {}
    out = dict((kind, dict((n, display_value(d)) for n, d in sorted(state[kind].items()))) for kind in KINDS)
    url = state['global_url']
    out['global_url'] = url.decode('utf-8', 'replace') if url is not None else None
    if state.get('services') is not None:
        out['services'] = display_value(state['services'])
    return out


def state_digest(state):
    """SHA-256 of a state's exact bytes: every item's name and data, global_url and services.

    Bytes, not JSON values: the item data of a desired state is canonical already, so hashing it
    as stored is exact and costs no decoding (a few ms for 6,050 items). Every field is framed by
    its length, so no two different states hash the same input. `services` is framed only when
    present, so the digest of a state without it is the one earlier versions stored.
    """
    url = state['global_url']
    parts = [b'elastic_release state v2\n',
             b'global_url -1\n' if url is None else b'global_url %d\n%s' % (len(url), url)]
    for kind in KINDS:
        items = state[kind]
        parts.append(b'%s %d\n' % (kind.encode('ascii'), len(items)))
        for name in sorted(items):
            raw = _bytes(name)
            data = items[name]
            if data is None:  # a node created with null data by another client
                parts.append(b'%d -1\n%s' % (len(raw), raw))
            else:
                parts.append(b'%d %d\n%s%s' % (len(raw), len(data), raw, data))
    services = state.get('services')
    if services is not None:
        parts.append(b'services %d\n%s' % (len(services), services))
    return hashlib.sha256(b''.join(parts)).hexdigest()


def _text(data):
    return data.decode('utf-8', 'surrogateescape') if data is not None else None


def _bytes(text):
    return text.encode('utf-8', 'surrogateescape') if text is not None else None


def state_to_json(state):
    """Exact (byte-preserving) form of a state for revisions; NULL data is JSON null."""
    out = {'exists': state['exists'], 'global_url': _text(state['global_url'])}
    for kind in KINDS:
        out[kind] = dict((n, _text(d)) for n, d in state[kind].items())
    if state.get('services') is not None:
        out['services'] = _text(state['services'])
    return out


def state_from_json(doc):
    state = empty_state(bool(doc.get('exists')))
    state['global_url'] = _bytes(doc.get('global_url'))
    state['services'] = _bytes(doc.get('services'))
    for kind in KINDS:
        state[kind] = dict((n, _bytes(d)) for n, d in (doc.get(kind) or {}).items())
    return state


def merge_states(current, desired):
    """merge mode: desired items are added or updated, nothing is removed."""
    out = empty_state(True)
    for kind in KINDS:
        out[kind] = dict(current[kind]) if current['exists'] else {}
        out[kind].update(desired[kind])
    for key in ('global_url', 'services'):
        if desired.get(key) is not None:
            out[key] = desired[key]
        elif current['exists']:
            out[key] = current.get(key)
    return out


def services_of(state):
    """The release-wide service versions of a state, as a dict (empty when none)."""
    value = decode_item(state['services']) if state.get('services') is not None else {}
    return value if isinstance(value, dict) else {}
