# -*- coding: utf-8 -*-
# Copyright: (c) 2026, GameOps release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# This module_utils is PRIVATE to gameops.elastic_release; its API may change without notice.
"""Which release owns a section, an inner IP or a client version: the questions and their answers.

One function answers for the release_lookup module and the release lookup plugin (`answer_all`):
- one question: a few request rounds (`find`);
- several: the release map read once, every answer from memory (`ReleaseIndex`).
Both decide with `_decide`, over the routing rule of `_release/ownership.py`: a version no release
lists routes to the default release with `found: false`, and fails the question unless
`fail_on_missing` is false (the default is true for the module and the plugin alike).
No Ansible imports here.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress

from .._release.names import (DEFAULT_RELEASE_PATH, KIND_LABEL, RELEASES_ROOT, global_url_path, item_path, kind_path,
                              release_path, stored_item, valid_release_name, validate_item)
from .._release.ownership import OwnershipError, route
from .._release.releasemap import ReleaseMap
from .._release.snapshot import parse_default, parse_meta
from .._release.state import display_value

QUESTIONS = {'section_id': 'sections', 'inner_ip': 'servers', 'version': 'versions'}
KEYS = ('section_id', 'inner_ip', 'version')
LookupFailed = OwnershipError


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


def questions_from(terms, options):
    """[(key, value)] from lookup terms and keyword options, in that order.

    A term is `section_id=1001` (several separated by spaces) or a mapping with one key; a list of
    terms counts as its elements. Mappings keep a value with spaces whole, so that it is refused (or
    answered with an error) as one value. Options hold a value or a list of values per key.
    """
    asked = []
    flat = []
    for term in terms or []:
        flat.extend(term if isinstance(term, (list, tuple)) else [term])
    for term in flat:
        if isinstance(term, dict):
            if set(term) == set(['section_id', 'inner_ip']):
                # A section served by a host: the host's server node is the second place its
                # service's version is looked for (see _start_version).
                asked.append(('section_id', _text(term['section_id']), _text(term['inner_ip'])))
                continue
            if len(term) != 1 or list(term)[0] not in KEYS:
                raise LookupFailed('invalid term %r: a mapping term has one key, section_id, inner_ip or version '
                                   '(or section_id with the inner_ip of the host serving it)' % (dict(term),))
            key, value = list(term.items())[0]
            asked.append((key, _text(value)))
            continue
        for word in str(term).split():
            key, sep, value = word.partition('=')
            if not sep or key not in KEYS:
                raise LookupFailed('invalid term %r: write section_id=ID, inner_ip=IP or version=VERSION' % word)
            asked.append((key, value))
    for key in KEYS:
        value = options.get(key)
        values = [] if value is None else value if isinstance(value, (list, tuple)) else [value]
        asked.extend((key, str(v)) for v in values)
    if not asked:
        raise LookupFailed('nothing to look up: give section_id, inner_ip or version (as keywords or terms)')
    return asked


def _text(value):
    return str(value) if value is not None else None


def _decide(kind, name, owners, default_release, releases, fail_on_missing):
    """(release, found) of one question; release None when it has no answer and that is allowed."""
    release, found = route(kind, name, owners, default_release)
    if release is not None and (found or not fail_on_missing):
        return release, found
    if fail_on_missing:
        raise _missing(kind, name, default_release, releases)
    return None, False


def _missing(kind, name, default_release, releases):
    label = KIND_LABEL[kind]
    if kind == 'versions':
        return LookupFailed('%s %s is listed by no release (default release: %s, where it routes unlisted; '
                            'fail_on_missing=false answers that)' % (label, name, default_release))
    hint = '' if releases else ' (no release at all: is the ZooKeeper hosts string missing the project\'s chroot?)'
    return LookupFailed('%s %s is owned by no release (looked in %d releases under %s: %s)%s'
                        % (label, name, len(releases), RELEASES_ROOT, ', '.join(sorted(releases)) or 'none', hint))


def _answer(kind, name, release, found, default_release, data, url, meta, server=None):
    """server: (inner IP, its node data or None) in the owning release, for a section served by a host."""
    services = meta.get('services') if isinstance(meta, dict) else None
    value = display_value(data) if data is not None else {}
    if kind == 'servers' and release:
        server = (name, data)
    server_path = item_path(release, 'servers', server[0]) if release and server else None
    return {
        'release': release,
        'found': found,
        'is_default': release is not None and release == default_release,
        'default_release': default_release,
        'global_url': url,
        'data': value if value is not None else {},
        'path': item_path(release, kind, name) if release else None,
        'release_services': services if isinstance(services, dict) else {},
        'server_path': server_path,
        'server_data': display_value(server[1]) if server and server[1] is not None else None,
        'kind': kind,
        'name': name,
    }


def _ipv6(kind, name):
    if kind != 'servers':
        return False
    try:
        return ipaddress.ip_address(name).version == 6
    except ValueError:
        return False


def find(session, kind, name, fail_on_missing=True, host_ip=None):
    """One lookup in three request rounds: the releases and /default_release; the item in every
    release (for IPv6, every release's server names, compared canonically); the owner's metadata,
    global_url and item (and, for a section served by host_ip, that server's node)."""
    default_raw, names = session.batch([('get', DEFAULT_RELEASE_PATH), ('children', RELEASES_ROOT)])
    default_release = parse_default(default_raw[0]) if default_raw else None
    releases = sorted(r for r in (names or []) if valid_release_name(r))
    stored = {}
    if _ipv6(kind, name):
        lists = session.batch([('children', kind_path(r, kind)) for r in releases])
        for release, children in zip(releases, lists):
            for child in children or []:
                if stored_item(kind, child) == name:
                    stored[release] = child
    else:
        got = session.exists_many([item_path(r, kind, name) for r in releases])
        stored = dict((r, name) for r in releases if got[item_path(r, kind, name)] is not None)
    release, found = _decide(kind, name, list(stored), default_release, releases, fail_on_missing)
    if release is None:
        return _answer(kind, name, None, False, default_release, None, None, {})
    requests = [('get', release_path(release)), ('get', global_url_path(release))]
    if found:
        requests.append(('get', item_path(release, kind, stored.get(release, name))))
    host_ip = _host(kind, host_ip)
    if host_ip:
        requests.append(('get', item_path(release, 'servers', host_ip)))
    got = session.batch(requests)
    meta = parse_meta(got[0][0]) if got[0] else {}
    url = got[1][0].decode('utf-8', 'replace') if got[1] and got[1][0] is not None else None
    data = got[2][0] if found and got[2] else None
    server = (host_ip, got[-1][0] if got[-1] else None) if host_ip else None
    return _answer(kind, name, release, found, default_release, data, url, meta, server)


def _host(kind, host_ip):
    """The canonical inner IP of the host serving a section, or None."""
    if kind != 'sections' or not host_ip:
        return None
    return stored_item('servers', str(host_ip))


class ReleaseIndex(object):
    """Answers from one read of the release map (with the node data of the kinds asked about)."""

    def __init__(self, rmap):
        self.map = rmap

    @classmethod
    def load(cls, session, with_data=('servers',)):
        return cls(ReleaseMap.load(session, with_data=with_data))

    @property
    def default_release(self):
        return self.map.default_release

    @property
    def releases(self):
        return self.map.releases

    @property
    def global_urls(self):
        return self.map.global_urls

    def find(self, kind, name, fail_on_missing=True, host_ip=None):
        rmap = self.map
        release, found = _decide(kind, name, rmap.owners(kind, name), rmap.default_release, rmap.releases,
                                 fail_on_missing)
        if release is None:
            return _answer(kind, name, None, False, rmap.default_release, None, None, {})
        host_ip = _host(kind, host_ip)
        server = (host_ip, rmap.node_data(release, 'servers', host_ip)) if host_ip else None
        return _answer(kind, name, release, found, rmap.default_release, rmap.node_data(release, kind, name),
                       rmap.global_urls.get(release), rmap.meta.get(release, {}), server)

    def servers(self):
        """[(release, inner_ip, data)] for every server node of every release (canonical IPs)."""
        out = []
        for (kind, name), owners in sorted(self.map.members.items()):
            if kind != 'servers':
                continue
            for release in owners:
                out.append((release, name, display_value(self.map.node_data(release, kind, name) or b'')))
        return out


def _unanswered(key, value, error, default_release=None):
    return {'question': {key: value}, 'release': None, 'found': False, 'is_default': False,
            'default_release': default_release, 'global_url': None, 'data': {}, 'path': None,
            'release_services': {}, 'server_path': None, 'server_data': None, 'service_version': None,
            'error': error}


def answer_all(session, asked, service=None, fail_on_missing=True, version_of=None):
    """Answer every (key, value) question: one `find` for a single one, else one map read.

    service: also give each section or server answer the service's version (`service_version`),
    found by version_of(answer, service) (server_start's start-version order).
    With fail_on_missing=False, a question without an answer gets release None and its `error`.
    """
    parsed = []
    for entry in asked:
        key, value, host_ip = (tuple(entry) + (None,))[:3]
        try:
            parsed.append((key, value) + question(**{key: value}) + (host_ip,))
        except LookupFailed as exc:
            if fail_on_missing:
                raise
            parsed.append((key, value, None, str(exc), None))
    index = None
    if len(parsed) > 1:
        kinds = tuple(sorted(set(p[2] for p in parsed if p[2] in ('servers', 'sections'))))
        if service and 'sections' in kinds:
            kinds = ('sections', 'servers')
        index = ReleaseIndex.load(session, with_data=kinds)
    default_release = index.default_release if index is not None else None
    out = []
    for key, value, kind, name, host_ip in parsed:
        if kind is None:
            out.append(_unanswered(key, value, name, default_release))
            continue
        # An unlisted version still routes to the default release: only sections and IPs go unanswered.
        strict = fail_on_missing or kind != 'versions'
        try:
            answer = (index.find(kind, name, strict, host_ip) if index is not None
                      else find(session, kind, name, strict, host_ip))
            answer['service_version'] = None
            if service and kind != 'versions' and version_of is not None:
                answer['service_version'] = version_of(answer, service)
        except (LookupFailed, ValueError) as exc:
            if fail_on_missing:
                raise
            out.append(_unanswered(key, value, str(exc), default_release))
            continue
        answer.pop('kind')
        answer.pop('name')
        answer.update(question=dict({key: name}, **({'inner_ip': host_ip} if host_ip else {})), error=None)
        out.append(answer)
    return out
