# -*- coding: utf-8 -*-
# Copyright: (c) 2026, GameOps release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# This module_utils is PRIVATE to gameops.elastic_release; its API may change without notice.
"""Names and ZooKeeper paths of the release tree (the wire format), with their validation.

No Ansible imports here: modules, plugins, tests and benchmarks share this code.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import functools
import ipaddress
import re

RELEASE_RE = re.compile(r'^[a-z][a-z0-9_]{0,63}\Z')
# Items (versions, section ids) are single znode names: printable ASCII without '/' or spaces.
ITEM_RE = re.compile(r'^[A-Za-z0-9_.:#@+=,~-]{1,200}\Z')
# A section id is a game zone's number, as the CMDB gives it to a host (section_ids: [1001, 1002]):
# decimal digits without a leading zero, so that `1001` in a config.zoo, in the CMDB and in a lookup is
# one name, and a typed `10O3` (letter O) is refused instead of being looked up as a zone nobody owns.
SECTION_RE = re.compile(r'^(?:0|[1-9][0-9]{0,17})\Z')
# Letters typed for digits: named in the refusal ("did you mean 1003?").
_DIGIT_LOOKALIKES = {'O': '0', 'o': '0', 'l': '1', 'I': '1'}
# Names the collection reserves in its own bookkeeping or that readers could confuse.
RESERVED_RELEASES = frozenset(['zookeeper', 'locks', 'history', 'releases', 'default_release'])

# Service names (keys of a node's "services" object, argument of server_start).
SERVICE_RE = re.compile(r'^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}\Z')
# A release's global_url. Printable ASCII only: URLs are ASCII (percent-encode the rest); this keeps
# out spaces, C0 and C1 controls and the invisible bidi overrides that would make a URL read
# differently than it routes.
URL_RE = re.compile(r'^[A-Za-z][A-Za-z0-9+.-]*://[\x21-\x7e]+\Z')
MAX_URL = 2048


def is_url(value):
    """True for a global_url the tree may hold (config.zoo's rule, and what a start accepts)."""
    return isinstance(value, str) and len(value) <= MAX_URL and URL_RE.match(value) is not None


RELEASES_ROOT = '/releases'
DEFAULT_RELEASE_PATH = '/default_release'
KINDS = ('versions', 'sections', 'servers')
# Sections and servers have exactly one owner; versions may also be appended to the default release.
OWNED_KINDS = ('sections', 'servers')
KIND_LABEL = {'versions': 'version', 'sections': 'section id', 'servers': 'server inner IP'}
# The children of /releases/{release} this collection writes; anything else is another tool's.
RELEASE_CHILDREN = KINDS + ('global_url',)

# Defaults of the write options, one constant each (module specs and docs use these values).
DEFAULT_ADMIN_ROOT = '/elastic_release'
DEFAULT_KEEP_REVISIONS = 20
# Per release, the changes that replaced its last N builds are kept however many moves came after.
DEFAULT_KEEP_BUILDS = 5
DEFAULT_MAX_REQUEST_BYTES = 1000000
DEFAULT_LOCK_TIMEOUT = 30.0


class InvalidName(ValueError):
    """An invalid release, version, section id or IP. The message names the value and the rule."""


def _show(value):
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + '...'


def validate_release(name, what='release'):
    if not isinstance(name, str):
        raise InvalidName('invalid %s name %s: must be a string' % (what, _show(name)))
    if not RELEASE_RE.match(name):
        raise InvalidName('invalid %s name %s: must match ^[a-z][a-z0-9_]{0,63}$ '
                          '(lower-case letter first, then lower-case letters, digits or _, '
                          'at most 64 characters)' % (what, _show(name)))
    if name in RESERVED_RELEASES:
        raise InvalidName('invalid %s name %s: the name is reserved' % (what, _show(name)))
    return name


def valid_release_name(name):
    """The release-name rule as a yes/no (validate_release says why not)."""
    return isinstance(name, str) and bool(RELEASE_RE.match(name)) and name not in RESERVED_RELEASES


def validate_service_name(name, what='service'):
    if not isinstance(name, str) or not SERVICE_RE.match(name):
        raise InvalidName('invalid %s name %s: must be 1-64 letters, digits, _ . - (starting with a letter '
                          'or digit; no "/", spaces or shell characters)' % (what, _show(name)))
    return name


def validate_item(kind, name):
    """Validate one child name of versions/sections/servers and return its canonical form."""
    label = KIND_LABEL[kind]
    if isinstance(name, int) and not isinstance(name, bool) and kind == 'sections':
        name = str(name)
    if not isinstance(name, str):
        raise InvalidName('invalid %s %s: must be a string' % (label, _show(name)))
    if kind == 'servers':
        if '%' in name:
            # A zone id ("fe80::1%eth0") names an interface of one host: meaningless as a key
            # other hosts look up, and free text (spaces, control characters) after the '%'.
            raise InvalidName('invalid %s %s: an IPv6 zone id (%%...) is not allowed in an inner IP'
                              % (label, _show(name)))
        try:
            address = ipaddress.ip_address(name)
        except ValueError:
            raise InvalidName('invalid %s %s: not an IPv4 or IPv6 address' % (label, _show(name)))
        if address.version == 6 and address.ipv4_mapped is not None:
            # Python versions print these differently (::ffff:a00:1 or ::ffff:10.0.0.1): one
            # host must have one node name, so the IPv4 form is the only accepted spelling.
            raise InvalidName('invalid %s %s: an IPv4-mapped IPv6 address; write the IPv4 address %s'
                              % (label, _show(name), address.ipv4_mapped))
        return str(address)
    if kind == 'sections' and not SECTION_RE.match(name):
        raise InvalidName(_section_refusal(name))
    if name in ('.', '..') or not ITEM_RE.match(name):
        raise InvalidName('invalid %s %s: must be 1-200 characters of letters, digits and '
                          '_ . : # @ + = , ~ - (no "/", spaces, control characters, '
                          'and not "." or "..")' % (label, _show(name)))
    return name


def _section_refusal(name):
    meant = u''.join(_DIGIT_LOOKALIKES.get(c, c) for c in name)
    hint = ''
    if meant != name and SECTION_RE.match(meant):
        letters = sorted(set(c for c in name if c in _DIGIT_LOOKALIKES))
        what = 'is a letter, not a digit' if len(letters) == 1 else 'are letters, not digits'
        hint = ' (did you mean %s? %s %s)' % (meant, ' and '.join(repr(c) for c in letters), what)
    elif name.isdigit() and name.isascii() and name.startswith('0'):
        hint = ' (write it without the leading zero, %s, as the CMDB does)' % (name.lstrip('0') or '0')
    return ('invalid section id %s: a section id is the game zone number the CMDB gives a host, 1 to 18 decimal '
            'digits without a leading zero%s' % (_show(name), hint))


@functools.lru_cache(maxsize=1 << 16)
def stored_item(kind, name):
    """The canonical form of a child name read from ZooKeeper, or None when no valid name has it.

    Other tools may have written names this collection would never write (upper-case IPv6,
    "2001:DB8:0::1"; names with spaces): readers compare canonical forms, so one host is one key
    everywhere, and treat names that are not valid at all as foreign nodes (the audit names them).
    """
    try:
        return validate_item(kind, name)
    except InvalidName:
        return None


def validate_admin_root(path):
    if not isinstance(path, str) or not path.startswith('/') or path == '/' or path.endswith('/'):
        raise InvalidName('invalid admin root %s: must be an absolute znode path such as '
                          '/elastic_release' % _show(path))
    for part in path.split('/')[1:]:
        if part in ('', '.', '..', 'zookeeper') or not ITEM_RE.match(part):
            raise InvalidName('invalid admin root %s: bad path component %s' % (_show(path), _show(part)))
    if path == RELEASES_ROOT or path.startswith(RELEASES_ROOT + '/'):
        raise InvalidName('invalid admin root %s: nothing but releases may live under /releases' % path)
    return path


def release_path(release):
    return '%s/%s' % (RELEASES_ROOT, release)


def kind_path(release, kind):
    return '%s/%s/%s' % (RELEASES_ROOT, release, kind)


def item_path(release, kind, name):
    return '%s/%s/%s/%s' % (RELEASES_ROOT, release, kind, name)


def global_url_path(release):
    return '%s/%s/global_url' % (RELEASES_ROOT, release)


def lock_path(admin_root, release):
    return '%s/locks/%s' % (admin_root, release)


# A lock node's data names its holder, and the request it writes for when it has one: a flow that
# lost a write's result finds out from it whether that writer still runs (_write/readback.py).
LOCK_REQUEST_MARK = ' request '


def lock_identifier(operator, request_id=None):
    return operator if not request_id else '%s%s%s' % (operator, LOCK_REQUEST_MARK, request_id)


def lock_request(identifier):
    """The request id a lock node's identifier names, or None."""
    return identifier.rsplit(LOCK_REQUEST_MARK, 1)[1] if LOCK_REQUEST_MARK in identifier else None


def history_path(admin_root, release):
    return '%s/history/%s' % (admin_root, release)


def parts_path(admin_root, release):
    """Where the parts of revisions too large for one node are kept (see _revisions.py)."""
    return '%s/parts/%s' % (admin_root, release)


def given_up_path(admin_root):
    """The record of sections and servers a change left with no owner on purpose (release_items):
    {kind: {name: {change, owner, time}}}, so that the audit tells them from items lost by accident."""
    return '%s/given_up' % admin_root


def epoch_path(admin_root):
    """A node every write that changes ownership sets with a version check: two writers of
    different releases that both claim one section cannot both commit (see _write.py)."""
    return '%s/map' % admin_root
