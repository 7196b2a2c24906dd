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

import errno
import hashlib
import json
import math
import os
import stat

from .names import KINDS, InvalidName, RELEASE_RE, is_url, validate_item, validate_release, validate_service_name

MAX_CONFIG_BYTES = 4 * 1024 * 1024
MAX_DEPTH = 32
# Python refuses to convert longer integer literals (sys.int_info.default_max_str_digits).
MAX_INT_DIGITS = 4300
# `release` names the release a config is for (needed when the file name does not say it);
# `services` gives release-wide service versions (the last step of the start-version order).
TOP_KEYS = ('release', 'global_url') + KINDS + ('services',)
CONFIG_SUFFIX = '.config.zoo'


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

    __slots__ = ('global_url', 'versions', 'sections', 'servers', 'release', 'services')

    def __init__(self, global_url=None, versions=None, sections=None, servers=None, release=None, services=None):
        self.global_url = global_url
        self.versions = versions or {}
        self.sections = sections or {}
        self.servers = servers or {}
        self.release = release
        self.services = services

    def items(self, kind):
        return getattr(self, kind)

    def digest(self):
        """SHA-256 of the config as canonical JSON (recorded by the package builder)."""
        return hashlib.sha256(encode(self.to_dict())).hexdigest()

    def to_dict(self):
        out = dict((kind, dict(self.items(kind))) for kind in KINDS)
        out['global_url'] = self.global_url
        if self.release is not None:
            out['release'] = self.release
        if self.services is not None:
            out['services'] = dict(self.services)
        return out


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
                         parse_constant=_not_json_constant(source), parse_int=_bounded_int(source))
    except ConfigError:
        raise
    except RecursionError:
        raise ConfigError('%s: JSON nested too deeply' % source)
    except ValueError as exc:
        if not hasattr(exc, 'lineno'):
            raise ConfigError('%s: not valid JSON: %s' % (source, exc))
        raise ConfigError('%s: not valid JSON: %s at line %d column %d' % (source, exc.msg, exc.lineno, exc.colno))
    return parse_config(doc, source)


def _bounded_int(source):
    def hook(text):
        digits = len(text.lstrip('-'))
        if digits > MAX_INT_DIGITS:
            raise ConfigError('%s: an integer of %d digits (at most %d: write such a value as a string)'
                              % (source, digits, MAX_INT_DIGITS))
        return int(text)
    return hook


def _unencodable(value, where='(top level)'):
    """The key path of the first string that UTF-8 cannot encode (a lone surrogate), or None."""
    if isinstance(value, str):
        try:
            value.encode('utf-8')
        except UnicodeEncodeError:
            return where
        return None
    found = None
    if isinstance(value, dict):
        for key, item in value.items():
            path = str(key) if where == '(top level)' else '%s.%s' % (where, key)
            found = _unencodable(key, path + ' (the key itself)')
            if found is None:
                found = _unencodable(item, path)
            if found is not None:
                break
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = _unencodable(item, '%s[%d]' % (where, index))
            if found is not None:
                break
    return found


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
    bad = _unencodable(doc)
    if bad is not None:
        raise ConfigError('%s: key %s: a string holds a lone surrogate (not a Unicode character; UTF-8 '
                          'cannot encode it)' % (source, bad.encode('ascii', 'backslashreplace').decode('ascii')))
    url = doc.get('global_url')
    if url is not None:
        if not is_url(url):
            raise ConfigError('%s: key global_url: must be a URL such as "http://10.0.0.5:9000" '
                              '(printable ASCII: no spaces, control characters or invisible Unicode; '
                              'percent-encode other characters), got %s' % (source, _short(url)))
    release = doc.get('release')
    if release is not None:
        try:
            validate_release(release)
        except InvalidName as exc:
            raise ConfigError('%s: key release: %s' % (source, exc))
    kinds = {}
    for kind in KINDS:
        kinds[kind] = _parse_items(source, kind, doc.get(kind))
    return ReleaseConfig(url, kinds['versions'], kinds['sections'], kinds['servers'], release,
                         _parse_services(source, doc.get('services')))


def _parse_services(source, raw):
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise ConfigError('%s: key services: must be an object of service name -> version, got %s'
                          % (source, _short(raw)))
    for name, version in raw.items():
        try:
            validate_service_name(name)
            validate_item('versions', version)
        except InvalidName as exc:
            raise ConfigError('%s: key services.%s: %s' % (source, name, exc))
    return dict(raw)


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
        except InvalidName as exc:
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


def release_of_file_name(path):
    """The release a file name such as `gray1.config.zoo` carries, or None when it carries none."""
    name = os.path.basename(path)
    if not name.endswith(CONFIG_SUFFIX):
        return None
    prefix = name[:-len(CONFIG_SUFFIX)]
    return prefix if RELEASE_RE.match(prefix) else None


def check_config_release(cfg, release, source, file_release=None):
    """Refuse a config that says it is for another release, or that does not say which it is for.

    Several packages unpacked in one directory leave several `{release}.config.zoo` side by side:
    publishing `gray1.config.zoo` as production would hand gray1's sections to production. A file's
    name or its `release` key must name the release it is published as.
    """
    if file_release is not None and file_release != release:
        raise ConfigError('%s is the config of release %s (its name says so), not of release %s: '
                          'publish %s.config.zoo, or pass release=%s' % (source, file_release, release, release, file_release))
    if cfg.release is not None and cfg.release != release:
        raise ConfigError('%s: key release says the config is for release %s, not for release %s'
                          % (source, cfg.release, release))


def read_config_file(path, release):
    """Parse a config.zoo file for `release`, refusing files that are not regular files, files
    too large, and files that belong to (or do not name) another release."""
    file_release = release_of_file_name(path)
    cfg = parse_config_file(path)
    if file_release is None and cfg.release is None:
        raise ConfigError('%s does not say which release it is for: name it %s.config.zoo, or add '
                          '"release": "%s" to it' % (path, release, release))
    check_config_release(cfg, release, path, file_release)
    return cfg


def parse_config_file(path):
    """Parse a config.zoo file, refusing anything that is not a regular file (a FIFO would block
    the read forever) and files over the size limit, before reading it."""
    try:
        # O_NONBLOCK: opening a FIFO for reading must not wait for a writer; it is refused below.
        fd = os.open(path, os.O_RDONLY | getattr(os, 'O_NONBLOCK', 0) | getattr(os, 'O_NOCTTY', 0))
    except OSError as exc:
        if exc.errno == errno.ENOENT:
            raise ConfigError('cannot read config file %s: no such file (relative paths are resolved '
                              'against %s)' % (path, os.getcwd()))
        raise ConfigError('cannot read config file %s: %s' % (path, exc.strerror or exc))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ConfigError('config file %s is not a regular file (a %s): refusing to read it'
                              % (path, _file_kind(info.st_mode)))
        if info.st_size > MAX_CONFIG_BYTES:
            raise ConfigError('%s: %d bytes is larger than the %d-byte limit for a config.zoo'
                              % (path, info.st_size, MAX_CONFIG_BYTES))
        with os.fdopen(fd, 'rb') as f:
            fd = None
            data = f.read(MAX_CONFIG_BYTES + 1)
    except (IOError, OSError) as exc:
        raise ConfigError('cannot read config file %s: %s' % (path, exc.strerror or exc))
    finally:
        if fd is not None:
            os.close(fd)
    return parse_config_text(data, source=path)


def _file_kind(mode):
    for test, name in ((stat.S_ISDIR, 'directory'), (stat.S_ISFIFO, 'FIFO'), (stat.S_ISCHR, 'character device'),
                       (stat.S_ISBLK, 'block device'), (stat.S_ISSOCK, 'socket')):
        if test(mode):
            return name
    return 'special file'
