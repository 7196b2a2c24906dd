# -*- coding: utf-8 -*-
# Copyright: (c) 2026, GameOps release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# This module_utils is PRIVATE to gameops.elastic_release; its API may change without notice.
"""Which release owns a section, an inner IP or a client version.

Two ways to ask, one set of rules (`resolve`):
- `find()`: one question, a few pipelined round trips (modules, ad-hoc commands);
- `ReleaseIndex.load()`: the whole tree's membership read once, then any number of questions from
  memory (the lookup and inventory plugins, fleet starts).
No Ansible imports here.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ._config import decode_item
from ._names import (DEFAULT_RELEASE_PATH, KIND_LABEL, KINDS, RELEASE_RE, RELEASES_ROOT, global_url_path,
                     item_path, kind_path, validate_item)
from ._release import parse_default
from ._zk import ZkError

QUESTIONS = {'section_id': 'sections', 'inner_ip': 'servers', 'version': 'versions'}


class LookupFailed(ZkError):
    """A question with no answer, or with two: the message names the item and the releases."""


def question(section_id=None, inner_ip=None, version=None):
    """(kind, canonical name) for exactly one of the three questions."""
    given = [(k, v) for k, v in (('section_id', section_id), ('inner_ip', inner_ip), ('version', version))
             if v not in (None, '')]
    if len(given) != 1:
        raise LookupFailed('give exactly one of section_id, inner_ip or version (got %s)'
                           % (', '.join(pair[0] for pair in given) or 'none'))
    key, value = given[0]
    kind = QUESTIONS[key]
    try:
        return kind, validate_item(kind, value if not isinstance(value, int) else str(value))
    except ValueError as exc:
        raise LookupFailed(str(exc))


def resolve(kind, name, owners, default_release):
    """Apply the contract's ownership rules. owners: releases whose `kind` lists `name`.

    Sections and servers belong to exactly one release. A version listed by a non-default release
    routes there; otherwise it routes to the default release; two non-default owners is an error.
    Returns (release or None, found).
    """
    label = KIND_LABEL[kind]
    owners = sorted(owners)
    if kind == 'versions':
        special = [r for r in owners if r != default_release]
        if len(special) > 1:
            raise LookupFailed('%s %s is listed by more than one non-default release: %s (a '
                               'configuration error: a version routes to one release)'
                               % (label, name, ' and '.join(special)))
        if special:
            return special[0], True
        return default_release, default_release in owners
    if len(owners) > 1:
        raise LookupFailed('%s %s is owned by more than one release: %s (a configuration error)'
                           % (label, name, ' and '.join(owners)))
    return (owners[0], True) if owners else (None, False)


def _missing(kind, name, default_release, releases):
    label = KIND_LABEL[kind]
    if kind == 'versions':
        return LookupFailed('%s %s is listed by no release (default release: %s)' % (label, name, default_release))
    return LookupFailed('%s %s is owned by no release (looked in %d releases under %s: %s)'
                        % (label, name, len(releases), RELEASES_ROOT, ', '.join(sorted(releases)) or 'none'))


def _answer(kind, name, release, found, default_release, data, url):
    return {
        'release': release,
        'found': found,
        'is_default': release is not None and release == default_release,
        'default_release': default_release,
        'global_url': url.decode('utf-8', 'replace') if url is not None else None,
        'data': decode_item(data) if data is not None else {},
        'path': item_path(release, kind, name) if release else None,
        'kind': kind,
        'name': name,
    }


def find(session, kind, name, fail_on_missing=True):
    """One lookup, pipelined: releases and default (1 round trip), the item in every release
    (1 round trip, all in flight), the owner's global_url (1 round trip)."""
    default_raw, names = session.batch([('get', DEFAULT_RELEASE_PATH), ('children', RELEASES_ROOT)])
    default_release = parse_default(default_raw[0]) if default_raw else None
    releases = [r for r in (names or []) if RELEASE_RE.match(r)]
    got = session.get_many([item_path(r, kind, name) for r in releases])
    owners = [r for r in releases if got[item_path(r, kind, name)] is not None]
    release, found = resolve(kind, name, owners, default_release)
    if release is None or (kind == 'versions' and not found and fail_on_missing):
        if fail_on_missing:
            raise _missing(kind, name, default_release, releases)
        return _answer(kind, name, None, False, default_release, None, None)
    url = session.get(global_url_path(release))
    data = got.get(item_path(release, kind, name))
    return _answer(kind, name, release, found, default_release, data[0] if data else None,
                   url[0] if url else None)


class ReleaseIndex(object):
    """Every release's sections, servers and versions, read once (about 2 + 4 per release requests,
    all pipelined), with the servers' node data for inventories and fleet starts."""

    def __init__(self):
        self.default_release = None
        self.releases = []
        self.members = {}       # (kind, name) -> [releases]
        self.data = {}          # (release, kind, name) -> bytes (servers and sections only)
        self.global_urls = {}   # release -> str or None

    @classmethod
    def load(cls, session, with_data=('servers',)):
        index = cls()
        default_raw, names = session.batch([('get', DEFAULT_RELEASE_PATH), ('children', RELEASES_ROOT)])
        index.default_release = parse_default(default_raw[0]) if default_raw else None
        index.releases = sorted(r for r in (names or []) if RELEASE_RE.match(r))
        requests = []
        for release in index.releases:
            requests.append(('get', global_url_path(release)))
            requests.extend(('children', kind_path(release, kind)) for kind in KINDS)
        results = session.batch(requests)
        wanted = []
        pos = 0
        for release in index.releases:
            url = results[pos]
            index.global_urls[release] = url[0].decode('utf-8', 'replace') if url else None
            for i, kind in enumerate(KINDS):
                for name in results[pos + 1 + i] or []:
                    index.members.setdefault((kind, name), []).append(release)
                    if kind in with_data:
                        wanted.append((release, kind, name))
            pos += 1 + len(KINDS)
        if wanted:
            got = session.get_many([item_path(r, k, n) for r, k, n in wanted])
            for release, kind, name in wanted:
                entry = got[item_path(release, kind, name)]
                if entry is not None:
                    index.data[(release, kind, name)] = entry[0]
        return index

    def find(self, kind, name, fail_on_missing=True):
        owners = self.members.get((kind, name), [])
        release, found = resolve(kind, name, owners, self.default_release)
        if release is None or (kind == 'versions' and not found and fail_on_missing):
            if fail_on_missing:
                raise _missing(kind, name, self.default_release, self.releases)
            return _answer(kind, name, None, False, self.default_release, None, None)
        url = self.global_urls.get(release)
        return _answer(kind, name, release, found, self.default_release, self.data.get((release, kind, name)),
                       url.encode('utf-8') if url is not None else None)

    def servers(self):
        """[(release, inner_ip, data)] for every server node of every release."""
        out = []
        for (kind, name), owners in sorted(self.members.items()):
            if kind != 'servers':
                continue
            for release in owners:
                out.append((release, name, decode_item(self.data.get((release, kind, name), b''))))
        return out
