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
    "cmdb.yml: hosts[2] (gs-prod-02): key inner_ip: invalid server inner IP ''10.1.0.300'': not an IPv4 or IPv6 address".'
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

import os

from ansible.errors import AnsibleParserError
from ansible.module_utils.common.text.converters import to_native
from ansible.module_utils.urls import open_url
from ansible.plugins.inventory import BaseInventoryPlugin, Constructable

from ansible_collections.gameops.elastic_release.plugins.module_utils._host.cmdb import (
    HOSTVARS, MAX_EXPORT_BYTES, CmdbError, group_suffix, parse_export)


class InventoryModule(BaseInventoryPlugin, Constructable):

    NAME = 'gameops.elastic_release.cmdb'

    def verify_file(self, path):
        return super(InventoryModule, self).verify_file(path) and path.endswith(('.cmdb.yml', '.cmdb.yaml'))

    def _fetch(self, source, config_path):
        """(the export's bytes, where they came from): a file beside the configuration, or a URL."""
        if source.startswith(('http://', 'https://')):
            try:
                response = open_url(source, timeout=self.get_option('timeout'), headers=self.get_option('headers') or {},
                                    validate_certs=self.get_option('validate_certs'),
                                    http_agent='gameops.elastic_release.cmdb')
                return response.read(MAX_EXPORT_BYTES + 1), source
            except Exception as exc:  # open_url raises HTTPError, URLError, SSL and socket errors
                raise CmdbError('cannot read the CMDB export from %s: %s' % (source, to_native(exc)))
        path = os.path.join(os.path.dirname(config_path), os.path.expanduser(source))
        try:
            with open(path, 'rb') as handle:
                return handle.read(MAX_EXPORT_BYTES + 1), path
        except (IOError, OSError) as exc:
            raise CmdbError('cannot read the CMDB export %s: %s' % (path, exc.strerror or exc))

    def parse(self, inventory, loader, path, cache=True):
        super(InventoryModule, self).parse(inventory, loader, path, cache)
        self._read_config_data(path)
        try:
            data, source = self._fetch(self.get_option('source'), path)
            locations, hosts = parse_export(data, source, os.path.basename(source) if '://' not in source else source,
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
