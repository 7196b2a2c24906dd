# -*- coding: utf-8 -*-
# Copyright: (c) 2026, GameOps release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# This module_utils is PRIVATE to gameops.elastic_release; its API may change without notice.
"""The CMDB export: deploy locations and hosts, validated as a whole before any host is used.

Inner IPs and section ids follow the release tree's own rules (`_names.validate_item`), so a host
the inventory accepts is one the release model accepts too: an IPv6 zone id (``fe80::1%eth0``)
or an IPv4-mapped address (``::ffff:10.0.0.1``) is refused here, naming the host and the value,
instead of failing later in a start; IPv6 addresses come out canonical (``2001:DB8::1`` ->
``2001:db8::1``), as the tree names them. The inventory plugin fetches the document (file or
URL) and builds groups from what `parse_export` returns.

No Ansible imports here.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from .._release.names import SERVICE_RE, InvalidName, validate_item

try:
    import yaml
    _LOADER = getattr(yaml, 'CSafeLoader', yaml.SafeLoader)
except ImportError:  # pragma: no cover - ansible-core requires PyYAML
    yaml = None

MAX_EXPORT_BYTES = 64 * 1024 * 1024
HOST_RE = re.compile(r'^[A-Za-z0-9][A-Za-z0-9_.-]{0,252}\Z')
NAME_RE = SERVICE_RE   # service and deploy-location names follow one rule
TOP_KEYS = ('deploy_locations', 'hosts', 'project', 'exported_at', 'format')
LOCATION_KEYS = ('name', 'description')
HOST_KEYS = ('name', 'inner_ip', 'deploy_location', 'section_ids', 'services')
HOSTVARS = ('inner_ip', 'section_ids', 'deploy_location', 'services')


class CmdbError(ValueError):
    """A CMDB export that cannot be used; the message names the source, the host and the key."""


def _show(value):
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + '...'


def group_suffix(name):
    """The part of a group name made from a location or service name."""
    return re.sub(r'[^A-Za-z0-9_]', '_', name)


def _unknown(where, mapping, allowed, allow_unknown):
    if allow_unknown:
        return
    extra = sorted(str(k) for k in mapping if k not in allowed)
    if extra:
        raise CmdbError('%s: unknown key %s (allowed: %s)' % (where, _show(extra[0]), ', '.join(allowed)))


def _name(where, key, value, regex, what):
    if not isinstance(value, str) or not regex.match(value):
        raise CmdbError('%s: key %s: invalid %s %s: must be 1-64 letters, digits, "_", "." or "-", '
                        'starting with a letter or digit' % (where, key, what, _show(value)))
    return value


def _item(where, key, kind, value):
    """A section id or an inner IP by the release tree's rule, in its canonical form."""
    try:
        return validate_item(kind, value)
    except InvalidName as exc:
        raise CmdbError('%s: key %s: %s' % (where, key, exc))


def _name_list(where, key, value, what, check):
    if value is None:
        return []
    if not isinstance(value, list):
        raise CmdbError('%s: key %s: must be a list of %ss, got %s' % (where, key, what, type(value).__name__))
    out = []
    for index, item in enumerate(value):
        item = check(where, '%s[%d]' % (key, index), item)
        if item in out:
            raise CmdbError('%s: key %s[%d]: %s %s listed twice' % (where, key, index, what, item))
        out.append(item)
    return out


def _section(where, key, value):
    return _item(where, key, 'sections', value)


def _service(where, key, value):
    return _name(where, key, value, NAME_RE, 'service name')


def _locations(doc, source, allow_unknown):
    locations = {}
    groups = {}
    for index, entry in enumerate(doc['deploy_locations']):
        where = '%s: deploy_locations[%d]' % (source, index)
        if isinstance(entry, dict):
            _unknown(where, entry, LOCATION_KEYS, allow_unknown)
            name = _name(where, 'name', entry.get('name'), NAME_RE, 'deploy location name')
            description = entry.get('description')
            if description is not None and not isinstance(description, str):
                raise CmdbError('%s (%s): key description: must be a string' % (where, name))
        else:
            name = _name(where, 'name', entry, NAME_RE, 'deploy location name')
            description = None
        if name in locations:
            raise CmdbError('%s: deploy location %s is declared twice' % (where, name))
        other = groups.setdefault(group_suffix(name), name)
        if other != name:
            raise CmdbError('%s: deploy locations %s and %s would both be group location_%s'
                            % (where, other, name, group_suffix(name)))
        locations[name] = description
    return locations


def parse_cmdb(doc, source='CMDB export', allow_unknown=False):
    """Validate a loaded CMDB export -> (locations {name: description}, hosts [dict]) or raise CmdbError."""
    if not isinstance(doc, dict):
        raise CmdbError('%s: the document must be a mapping with keys deploy_locations and hosts, got %s'
                        % (source, type(doc).__name__))
    _unknown(source, doc, TOP_KEYS, allow_unknown)
    if doc.get('format', 1) != 1:
        raise CmdbError('%s: key format: this plugin reads format 1, got %s' % (source, _show(doc.get('format'))))
    for key in ('deploy_locations', 'hosts'):
        if not isinstance(doc.get(key), list):
            got = type(doc.get(key)).__name__ if key in doc else 'nothing (the key is missing)'
            raise CmdbError('%s: key %s: must be a list, got %s' % (source, key, got))
    locations = _locations(doc, source, allow_unknown)
    hosts = []
    names = {}
    ips = {}
    services = {}
    for index, entry in enumerate(doc['hosts']):
        where = '%s: hosts[%d]' % (source, index)
        if not isinstance(entry, dict):
            raise CmdbError('%s: must be a mapping with keys %s, got %s' % (where, ', '.join(HOST_KEYS), type(entry).__name__))
        name = entry.get('name')
        if not isinstance(name, str) or not HOST_RE.match(name):
            raise CmdbError('%s: key name: invalid host name %s: must be letters, digits, "_", "." or "-", '
                            'starting with a letter or digit' % (where, _show(name)))
        where = '%s (%s)' % (where, name)
        _unknown(where, entry, HOST_KEYS, allow_unknown)
        if name in names:
            raise CmdbError('%s: host name %s is also hosts[%d]' % (where, name, names[name]))
        names[name] = index
        inner_ip = _item(where, 'inner_ip', 'servers', entry.get('inner_ip'))
        if inner_ip in ips:
            raise CmdbError('%s: key inner_ip: %s is also the inner IP of host %s' % (where, inner_ip, ips[inner_ip]))
        ips[inner_ip] = name
        location = entry.get('deploy_location')
        if not isinstance(location, str) or location not in locations:
            raise CmdbError('%s: key deploy_location: %s is not one of the deploy_locations (%s)'
                            % (where, _show(location), ', '.join(sorted(locations)) or 'none declared'))
        section_ids = _name_list(where, 'section_ids', entry.get('section_ids'), 'section id', _section)
        host_services = _name_list(where, 'services', entry.get('services'), 'service', _service)
        for service in host_services:
            other = services.setdefault(group_suffix(service), service)
            if other != service:
                raise CmdbError('%s: key services: services %s and %s would both be group service_%s'
                                % (where, other, service, group_suffix(service)))
        hosts.append({'name': name, 'inner_ip': inner_ip, 'deploy_location': location,
                      'section_ids': section_ids, 'services': host_services})
    return locations, hosts


def load_text(text, source):
    """YAML or JSON text -> data (JSON is YAML); errors name the source and the position."""
    if yaml is None:  # pragma: no cover
        raise CmdbError('%s: PyYAML is required to read a CMDB export' % source)
    try:
        return yaml.load(text, Loader=_LOADER)  # nosec B506 - a safe loader
    except yaml.YAMLError as exc:
        mark = getattr(exc, 'problem_mark', None)
        where = ' at line %d column %d' % (mark.line + 1, mark.column + 1) if mark is not None else ''
        raise CmdbError('%s: not valid YAML or JSON%s: %s' % (source, where, getattr(exc, 'problem', None) or exc))


def parse_export(data, source, label=None, allow_unknown=False):
    """The bytes of an export (read at most MAX_EXPORT_BYTES + 1 of them) -> (locations, hosts).

    Errors about the bytes name `source` (the path or URL); errors about the content name `label`
    (by default the same), with the host and the key."""
    if len(data) > MAX_EXPORT_BYTES:
        raise CmdbError('%s: larger than %d bytes' % (source, MAX_EXPORT_BYTES))
    try:
        text = data.decode('utf-8')
    except UnicodeDecodeError as exc:
        raise CmdbError('%s: not UTF-8 text (byte %d)' % (source, exc.start))
    return parse_cmdb(load_text(text, source), label or source, allow_unknown)
