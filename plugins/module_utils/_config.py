# -*- coding: utf-8 -*-
# Copyright: (c) 2026, GameOps release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# This module_utils is PRIVATE to gameops.elastic_release; its API may change without notice.
"""The {release}.config.zoo document: parsing, validation and the node data it maps to.

One parser serves the publish module, the package tools and the flows, so a config that builds
into a package is exactly a config that publishes.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import json
import math
import re

from ._names import KINDS, NameError_, validate_item

MAX_CONFIG_BYTES = 4 * 1024 * 1024
MAX_DEPTH = 32
TOP_KEYS = ('global_url',) + KINDS
URL_RE = re.compile(r'^[A-Za-z][A-Za-z0-9+.-]*://[^\s\x00-\x1f\x7f]+\Z')


class ConfigError(ValueError):
    """A config.zoo that cannot be published. The message names the source and the key."""


def _depth(value, limit, level=0):
    if level > limit:
        return True
    if isinstance(value, dict):
        return any(_depth(v, limit, level + 1) for v in value.values())
    if isinstance(value, list):
        return any(_depth(v, limit, level + 1) for v in value)
    return False


def _not_json_constant(source):
    def hook(name):
        raise ConfigError('%s: %s is not a JSON value (only finite numbers are; readers in Java or Go '
                          'would reject the node)' % (source, name))
    return hook


def _finite(value):
    """False when a float NaN or infinity hides anywhere in value (a config given as data)."""
    if isinstance(value, float):
        return not (math.isnan(value) or math.isinf(value))
    if isinstance(value, dict):
        return all(_finite(v) for v in value.values())
    if isinstance(value, list):
        return all(_finite(v) for v in value)
    return True


def _no_duplicates(source):
    def hook(pairs):
        seen = {}
        for key, value in pairs:
            if key in seen:
                raise ConfigError('%s: duplicate key %r in a JSON object' % (source, key))
            seen[key] = value
        return seen
    return hook


def encode(value):
    """Canonical bytes of a JSON value, as the collection writes node data."""
    return json.dumps(value, sort_keys=True, separators=(',', ':'), ensure_ascii=False,
                      allow_nan=False).encode('utf-8')


def item_bytes(kind, value):
    """Node data for one version, section or server. Versions without data stay empty nodes."""
    if kind == 'versions' and not value:
        return b''
    return encode(value)


def decode_item(data):
    """Node data as a JSON value for comparison: empty data is {}; data that is not JSON stays bytes."""
    if not data:
        return {}
    try:
        return json.loads(data.decode('utf-8'))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return data


class ReleaseConfig(object):
    """The desired content of /releases/{release}: global_url and three dicts name -> JSON object."""

    __slots__ = ('global_url', 'versions', 'sections', 'servers')

    def __init__(self, global_url=None, versions=None, sections=None, servers=None):
        self.global_url = global_url
        self.versions = versions or {}
        self.sections = sections or {}
        self.servers = servers or {}

    def items(self, kind):
        return getattr(self, kind)

    def to_dict(self):
        out = dict((kind, dict(self.items(kind))) for kind in KINDS)
        out['global_url'] = self.global_url
        return out

    def digest(self):
        return hashlib.sha256(encode(self.to_dict())).hexdigest()

    def node_count(self):
        return sum(len(self.items(kind)) for kind in KINDS) + (1 if self.global_url is not None else 0)


def parse_config_text(text, source='config.zoo', max_bytes=MAX_CONFIG_BYTES):
    """Parse config.zoo text (str or bytes) into a ReleaseConfig, or raise ConfigError."""
    if isinstance(text, bytes):
        if len(text) > max_bytes:
            raise ConfigError('%s: %d bytes is larger than the %d-byte limit for a config.zoo'
                              % (source, len(text), max_bytes))
        try:
            text = text.decode('utf-8')
        except UnicodeDecodeError as exc:
            raise ConfigError('%s: not UTF-8 text (byte %d)' % (source, exc.start))
    elif len(text) > max_bytes:
        raise ConfigError('%s: %d characters is larger than the %d-byte limit for a config.zoo'
                          % (source, len(text), max_bytes))
    if text.startswith(u'\ufeff'):
        text = text[1:]
    try:
        doc = json.loads(text, object_pairs_hook=_no_duplicates(source),
                         parse_constant=_not_json_constant(source))
    except ConfigError:
        raise
    except RecursionError:
        raise ConfigError('%s: JSON nested too deeply' % source)
    except ValueError as exc:
        raise ConfigError('%s: not valid JSON: %s at line %d column %d'
                          % (source, getattr(exc, 'msg', exc), getattr(exc, 'lineno', 0),
                             getattr(exc, 'colno', 0)))
    return parse_config(doc, source)


def parse_config(doc, source='config'):
    """Validate a config already loaded as Python data (a module's ``config`` option)."""
    if not isinstance(doc, dict):
        raise ConfigError('%s: the document must be a JSON object with keys %s, got %s'
                          % (source, ', '.join(TOP_KEYS), type(doc).__name__))
    unknown = sorted(k for k in doc if k not in TOP_KEYS)
    if unknown:
        raise ConfigError('%s: unknown key %r (allowed: %s)' % (source, unknown[0], ', '.join(TOP_KEYS)))
    if _depth(doc, MAX_DEPTH):
        raise ConfigError('%s: nested deeper than %d levels' % (source, MAX_DEPTH))
    if not _finite(doc):
        raise ConfigError('%s: NaN or Infinity is not a JSON value (only finite numbers are)' % source)
    url = doc.get('global_url')
    if url is not None:
        if not isinstance(url, str) or not URL_RE.match(url) or len(url) > 2048:
            raise ConfigError('%s: key global_url: must be a URL such as "http://10.0.0.5:9000" '
                              '(no spaces or control characters), got %s' % (source, _short(url)))
    kinds = {}
    for kind in KINDS:
        kinds[kind] = _parse_items(source, kind, doc.get(kind))
    return ReleaseConfig(url, kinds['versions'], kinds['sections'], kinds['servers'])


def _short(value):
    text = json.dumps(value, ensure_ascii=True) if not isinstance(value, bytes) else repr(value)
    return text if len(text) <= 60 else text[:57] + '...'


def _parse_items(source, kind, raw):
    if raw is None:
        return {}
    if isinstance(raw, list):
        pairs = [(name, {}) for name in raw]
    elif isinstance(raw, dict):
        pairs = list(raw.items())
    else:
        raise ConfigError('%s: key %s: must be a list of names or an object of name -> object, got %s'
                          % (source, kind, type(raw).__name__))
    out = {}
    for index, (name, value) in enumerate(pairs):
        where = '%s[%d]' % (kind, index) if isinstance(raw, list) else '%s.%s' % (kind, name)
        try:
            canonical = validate_item(kind, name)
        except NameError_ as exc:
            raise ConfigError('%s: key %s: %s' % (source, where, exc))
        if value is None:
            value = {}
        if not isinstance(value, dict):
            raise ConfigError('%s: key %s: node data must be a JSON object, got %s'
                              % (source, where, _short(value)))
        if canonical in out:
            raise ConfigError('%s: key %s: %s listed twice' % (source, where, canonical))
        out[canonical] = value
    return out
