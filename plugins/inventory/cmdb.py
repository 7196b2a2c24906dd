# -*- coding: utf-8 -*-
# Copyright: (c) 2026, GameOps release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
name: cmdb
short_description: Game servers from a CMDB export, grouped by deploy location and service
version_added: 0.1.0
description:
  - Reads a CMDB export of deploy locations and hosts from a YAML or JSON file, or from an HTTP(S)
    URL answering the same document, and builds the inventory the release flows run over.
  - Every deploy location becomes a group C(location_<name>) (also when it has no host yet), and every
    service a group C(service_<name>). Characters other than letters, digits and C(_) become C(_)
    in group names; the host variables keep the names as exported.
  - Each host gets the host variables C(inner_ip), C(section_ids) (a list of strings),
    C(deploy_location) and C(services) (a list of strings).
  - 'The whole document is validated before anything is added to the inventory. A bad document fails
    with a message naming the source, the host and the key, for example
    "cmdb.yml: hosts[2] (gs-prod-02): key inner_ip: invalid inner IP ''10.1.0.300'' ...".'
  - Duplicate host names, an inner IP used by two hosts, or a host in an undeclared deploy location
    are errors.
  - The configuration file name must end in C(.cmdb.yml) or C(.cmdb.yaml).
  - 'The export format:'
  - C(deploy_locations) (list) - each entry a name, or a mapping with C(name) and an optional C(description).
  - C(hosts) (list) - each a mapping with C(name), C(inner_ip), C(deploy_location), and optional
    C(section_ids) (list of section ids, numbers or strings) and C(services) (list of service names).
  - Optional top-level keys C(project), C(exported_at) and C(format) (must be 1) are accepted and ignored.
  - A review release takes its name from its deploy location (see C(docs/registry.md)), so the release
    flows check that a release's deploy location is a group of this inventory.
author:
  - GameOps release engineering (@gameops)
extends_documentation_fragment:
  - ansible.builtin.constructed
options:
  plugin:
    description: Token that ensures this is a source file for the C(cmdb) plugin.
    type: str
    required: true
    choices: [gameops.elastic_release.cmdb]
  source:
    description:
      - Where the CMDB export is. A file path (relative paths are relative to the directory of this
        configuration file), or an C(http://) or C(https://) URL answering the same YAML or JSON document.
    type: str
    required: true
  timeout:
    description:
      - Seconds to wait for the CMDB server when O(source) is a URL.
    type: int
    default: 10
  validate_certs:
    description:
      - Verify the CMDB server's TLS certificate when O(source) is an C(https://) URL.
    type: bool
    default: true
  headers:
    description:
      - Extra HTTP headers sent with the request when O(source) is a URL (for example an
        C(Authorization) header).
    type: dict
    default: {}
  allow_unknown_keys:
    description:
      - By default a key the plugin does not know, at the top of the document, in a deploy location or
        in a host, is an error naming it (it is most often a typo).
      - Set to V(true) when the CMDB exports more fields than the plugin uses; they are then ignored.
    type: bool
    default: false
notes:
  - "The plugin does not connect to the hosts; set C(ansible_host) through O(compose) (for example
    C(ansible_host: inner_ip)) when Ansible should reach them over SSH."
seealso:
  - module: gameops.elastic_release.release_lookup
'''

EXAMPLES = r'''
# inventory/example.cmdb.yml: the export is a file beside this configuration
plugin: gameops.elastic_release.cmdb
source: cmdb.yml
compose:
  ansible_host: inner_ip

# The same export from the CMDB's HTTP API, with a group per game section
# plugin: gameops.elastic_release.cmdb
# source: https://cmdb.example.com/api/v1/projects/mygame/export?format=json
# headers:
#   Authorization: Bearer {{ lookup('ansible.builtin.env', 'CMDB_TOKEN') }}
# keyed_groups:
#   - key: section_ids
#     prefix: section

# An export (inventory/cmdb.yml):
# deploy_locations:
#   - name: cn_prod
#     description: China production, gray releases run here too
#   - appstore_review
# hosts:
#   - name: gs-prod-01
#     inner_ip: 10.1.0.11
#     deploy_location: cn_prod
#     section_ids: [1001, 1002]
#     services: [gameserver, global]
'''

import ipaddress
import os
import re

from ansible.errors import AnsibleParserError
from ansible.module_utils.common.text.converters import to_native, to_text
from ansible.module_utils.six import string_types
from ansible.module_utils.urls import open_url
from ansible.plugins.inventory import BaseInventoryPlugin, Constructable

try:
    import yaml
    _LOADER = getattr(yaml, 'CSafeLoader', yaml.SafeLoader)
except ImportError:  # pragma: no cover - ansible-core requires PyYAML
    yaml = None

MAX_EXPORT_BYTES = 64 * 1024 * 1024
HOST_RE = re.compile(r'^[A-Za-z0-9][A-Za-z0-9_.-]{0,252}\Z')
NAME_RE = re.compile(r'^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}\Z')
SECTION_RE = re.compile(r'^[A-Za-z0-9_.:#@+=,~-]{1,200}\Z')
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
    if not isinstance(value, string_types) or not regex.match(value):
        raise CmdbError('%s: key %s: invalid %s %s: must be 1-64 letters, digits, "_", "." or "-", '
                        'starting with a letter or digit' % (where, key, what, _show(value)))
    return to_text(value)


def _name_list(where, key, value, what, check):
    if value is None:
        return []
    if not isinstance(value, list):
        raise CmdbError('%s: key %s: must be a list of %ss, got %s' % (where, key, what, type(value).__name__))
    out = []
    for index, item in enumerate(value):
        item = check('%s' % where, '%s[%d]' % (key, index), item)
        if item in out:
            raise CmdbError('%s: key %s[%d]: %s %s listed twice' % (where, key, index, what, item))
        out.append(item)
    return out


def _section(where, key, value):
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, string_types) or value in ('.', '..') or not SECTION_RE.match(value):
        raise CmdbError('%s: key %s: invalid section id %s: must be a number or 1-200 characters of '
                        'letters, digits and _ . : # @ + = , ~ -' % (where, key, _show(value)))
    return to_text(value)


def _service(where, key, value):
    return _name(where, key, value, NAME_RE, 'service name')


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
    locations = {}
    groups = {}
    for index, entry in enumerate(doc['deploy_locations']):
        where = '%s: deploy_locations[%d]' % (source, index)
        if isinstance(entry, dict):
            _unknown(where, entry, LOCATION_KEYS, allow_unknown)
            name = _name(where, 'name', entry.get('name'), NAME_RE, 'deploy location name')
            description = entry.get('description')
            if description is not None and not isinstance(description, string_types):
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
        locations[name] = to_text(description) if description is not None else None
    hosts = []
    names = {}
    ips = {}
    services = {}
    for index, entry in enumerate(doc['hosts']):
        where = '%s: hosts[%d]' % (source, index)
        if not isinstance(entry, dict):
            raise CmdbError('%s: must be a mapping with keys %s, got %s' % (where, ', '.join(HOST_KEYS), type(entry).__name__))
        name = entry.get('name')
        if not isinstance(name, string_types) or not HOST_RE.match(name):
            raise CmdbError('%s: key name: invalid host name %s: must be letters, digits, "_", "." or "-", '
                            'starting with a letter or digit' % (where, _show(name)))
        where = '%s (%s)' % (where, name)
        _unknown(where, entry, HOST_KEYS, allow_unknown)
        if name in names:
            raise CmdbError('%s: host name %s is also hosts[%d]' % (where, name, names[name]))
        names[name] = index
        raw_ip = entry.get('inner_ip')
        try:
            if not isinstance(raw_ip, string_types):
                raise ValueError(raw_ip)
            inner_ip = str(ipaddress.ip_address(raw_ip))
        except ValueError:
            raise CmdbError('%s: key inner_ip: invalid inner IP %s: must be an IPv4 or IPv6 address'
                            % (where, _show(raw_ip)))
        if inner_ip in ips:
            raise CmdbError('%s: key inner_ip: %s is also the inner IP of host %s' % (where, inner_ip, ips[inner_ip]))
        ips[inner_ip] = name
        location = entry.get('deploy_location')
        if not isinstance(location, string_types) or location not in locations:
            raise CmdbError('%s: key deploy_location: %s is not one of the deploy_locations (%s)'
                            % (where, _show(location), ', '.join(sorted(locations)) or 'none declared'))
        section_ids = _name_list(where, 'section_ids', entry.get('section_ids'), 'section id', _section)
        host_services = _name_list(where, 'services', entry.get('services'), 'service', _service)
        for service in host_services:
            other = services.setdefault(group_suffix(service), service)
            if other != service:
                raise CmdbError('%s: key services: services %s and %s would both be group service_%s'
                                % (where, other, service, group_suffix(service)))
        hosts.append({'name': to_text(name), 'inner_ip': inner_ip, 'deploy_location': location,
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


class InventoryModule(BaseInventoryPlugin, Constructable):

    NAME = 'gameops.elastic_release.cmdb'

    def verify_file(self, path):
        return super(InventoryModule, self).verify_file(path) and path.endswith(('.cmdb.yml', '.cmdb.yaml'))

    def _fetch(self, source, config_path):
        if source.startswith(('http://', 'https://')):
            try:
                response = open_url(source, timeout=self.get_option('timeout'), headers=self.get_option('headers') or {},
                                    validate_certs=self.get_option('validate_certs'),
                                    http_agent='gameops.elastic_release.cmdb')
                data = response.read(MAX_EXPORT_BYTES + 1)
            except Exception as exc:  # open_url raises HTTPError, URLError, SSL and socket errors
                raise CmdbError('cannot read the CMDB export from %s: %s' % (source, to_native(exc)))
        else:
            path = os.path.join(os.path.dirname(config_path), os.path.expanduser(source))
            try:
                with open(path, 'rb') as handle:
                    data = handle.read(MAX_EXPORT_BYTES + 1)
            except (IOError, OSError) as exc:
                raise CmdbError('cannot read the CMDB export %s: %s' % (path, exc.strerror or exc))
            source = path
        if len(data) > MAX_EXPORT_BYTES:
            raise CmdbError('%s: larger than %d bytes' % (source, MAX_EXPORT_BYTES))
        try:
            text = data.decode('utf-8')
        except UnicodeDecodeError as exc:
            raise CmdbError('%s: not UTF-8 text (byte %d)' % (source, exc.start))
        return load_text(text, source), source

    def parse(self, inventory, loader, path, cache=True):
        super(InventoryModule, self).parse(inventory, loader, path, cache)
        self._read_config_data(path)
        try:
            doc, source = self._fetch(self.get_option('source'), path)
            locations, hosts = parse_cmdb(doc, os.path.basename(source) if '://' not in source else source,
                                          self.get_option('allow_unknown_keys'))
        except CmdbError as exc:
            raise AnsibleParserError(to_native(exc))
        self._populate(locations, hosts)

    def _populate(self, locations, hosts):
        strict = self.get_option('strict')
        for location in sorted(locations):
            self.inventory.add_group('location_%s' % group_suffix(location))
        for host in hosts:
            name = self.inventory.add_host(host['name'])
            self.inventory.add_child('location_%s' % group_suffix(host['deploy_location']), name)
            for service in host['services']:
                group = self.inventory.add_group('service_%s' % group_suffix(service))
                self.inventory.add_child(group, name)
            for key in HOSTVARS:
                self.inventory.set_variable(name, key, host[key])
            hostvars = self.inventory.get_host(name).get_vars()
            self._set_composite_vars(self.get_option('compose'), hostvars, name, strict=strict)
            self._add_host_to_composed_groups(self.get_option('groups'), hostvars, name, strict=strict)
            self._add_host_to_keyed_groups(self.get_option('keyed_groups'), hostvars, name, strict=strict)
