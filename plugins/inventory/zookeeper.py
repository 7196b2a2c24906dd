# -*- coding: utf-8 -*-
# Copyright: (c) 2026, GameOps release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
name: zookeeper
short_description: Game servers from the releases' C(servers) nodes in ZooKeeper
version_added: 0.1.0
description:
  - Reads C(/releases/*/servers) once (all requests pipelined) and adds one host per inner IP, named
    by the IP, with the server node's data as host variables, in a group C({group_prefix}{release})
    per release; the servers of the default release (named by C(/default_release)) are also in
    O(default_group).
  - Every host gets C(inner_ip), C(elastic_release), C(elastic_release_is_default),
    C(elastic_release_global_url) and, unless O(set_ansible_host=false), C(ansible_host) (the IP).
    The keys of the node data (for example C(services)) become variables too, unless they clash
    with those or are not valid variable names.
  - An IP listed by two releases is a configuration error; the host is put in both release groups
    and in C(release_conflicts), with C(elastic_release) null, and a warning names the releases.
  - The configuration file must be named C(*.zookeeper.yml) or C(*.zookeeper.yaml).
author:
  - GameOps release engineering (@gameops)
extends_documentation_fragment:
  - gameops.elastic_release.zookeeper.plugins
  - gameops.elastic_release.zookeeper
  - ansible.builtin.constructed
  - ansible.builtin.inventory_cache
options:
  plugin:
    description: The name of this plugin; it makes the file an inventory source for it.
    type: str
    required: true
    choices: [gameops.elastic_release.zookeeper]
  group_prefix:
    description: Prefix of the per-release groups.
    type: str
    default: release_
  default_group:
    description: Group of the default release's servers. An empty string creates no such group.
    type: str
    default: default_release
  set_ansible_host:
    description:
      - Set C(ansible_host) to the inner IP. Turn it off (or override it with O(compose)) when the
        controller reaches the servers by another address or name.
    type: bool
    default: true
notes:
  - The connection options come from the file, then from the C(elastic_release_zk_*) extra variables,
    C(ELASTIC_RELEASE_ZK_*) environment variables and the C([elastic_release]) section of C(ansible.cfg).
  - With O(cache=true) the servers are read from the cache until it expires; C(--flush-cache) reads ZooKeeper again.
seealso:
  - plugin: gameops.elastic_release.release
    plugin_type: lookup
'''

EXAMPLES = r'''
# game.zookeeper.yml
plugin: gameops.elastic_release.zookeeper
hosts: 10.0.0.1:2181,10.0.0.2:2181/mygame
keyed_groups:
  # one group per running gameserver version: gameserver_dev_190122_01
  - key: services.gameserver | default(omit)
    prefix: gameserver
compose:
  # reach the servers through their management address instead of the inner IP
  ansible_host: "'mgmt-' + inner_ip | replace('.', '-') + '.example.net'"
cache: true
cache_plugin: ansible.builtin.jsonfile
cache_connection: /tmp/elastic_release_inventory

# ansible-inventory -i game.zookeeper.yml --graph
# ansible-playbook -i game.zookeeper.yml playbooks/start.yml -e target=release_gray1
'''

import re

from ansible.errors import AnsibleParserError
from ansible.module_utils.common.text.converters import to_native
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable

from ansible_collections.gameops.elastic_release.plugins.module_utils._report.lookup import ReleaseIndex
from ansible_collections.gameops.elastic_release.plugins.module_utils._release.ownership import OwnershipError, route
from ansible_collections.gameops.elastic_release.plugins.module_utils._zk.options import OptionAdapter
from ansible_collections.gameops.elastic_release.plugins.module_utils._zk.session import ZkError

OWN_VARS = ('inner_ip', 'elastic_release', 'elastic_release_is_default', 'elastic_release_global_url', 'ansible_host')
VAR_RE = re.compile(r'^[A-Za-z_][A-Za-z0-9_]*\Z')
CONFLICT_GROUP = 'release_conflicts'


def read_servers(session):
    """The JSON-serialisable inventory data (also what the cache holds): one read of the tree."""
    index = ReleaseIndex.load(session, with_data=('servers',))
    servers = {}
    for release, ip, data in index.servers():
        servers.setdefault(ip, []).append([release, data if not isinstance(data, bytes) else {}])
    return {'default_release': index.default_release, 'global_urls': index.global_urls, 'servers': servers}


class InventoryModule(BaseInventoryPlugin, Constructable, Cacheable):

    NAME = 'gameops.elastic_release.zookeeper'

    def verify_file(self, path):
        return super(InventoryModule, self).verify_file(path) and path.endswith(('.zookeeper.yml', '.zookeeper.yaml'))

    def parse(self, inventory, loader, path, cache=True):
        super(InventoryModule, self).parse(inventory, loader, path, cache)
        self._read_config_data(path)
        key = self.get_cache_key(path)
        use_cache = self.get_option('cache') and cache
        update_cache = self.get_option('cache') and not cache
        data = None
        if use_cache:
            try:
                data = self._cache[key]
            except KeyError:
                update_cache = True
        if data is None:
            try:
                with OptionAdapter.from_plugin(self).session() as session:
                    data = read_servers(session)
            except ZkError as exc:
                raise AnsibleParserError('cannot read the servers of /releases: %s' % to_native(exc))
        if update_cache:
            self._cache[key] = data
        self.populate(data)

    def populate(self, data):
        prefix = self.get_option('group_prefix')
        default_group = self.get_option('default_group')
        default_release = data.get('default_release')
        strict = self.get_option('strict')
        for ip, owners in sorted(data['servers'].items()):
            releases = sorted(owner[0] for owner in owners)
            try:
                # The lookups' rule: a server has exactly one owner.
                release = route('servers', ip, releases, default_release)[0]
            except OwnershipError:
                release = None
            host = self.inventory.add_host(ip)
            for name in releases:
                self.inventory.add_child(self.inventory.add_group(prefix + name), host)
            if release is None:
                self.display.warning('inner IP %s is listed by more than one release: %s (a configuration error); '
                                     'elastic_release is left unset' % (ip, ' and '.join(releases)))
                self.inventory.add_child(self.inventory.add_group(CONFLICT_GROUP), host)
            elif default_group and release == default_release:
                self.inventory.add_child(self.inventory.add_group(default_group), host)

            node = dict(owners)[release] if release else {}
            if isinstance(node, dict):
                for name, value in sorted(node.items()):
                    if name in OWN_VARS or not VAR_RE.match(name):
                        self.display.warning('inner IP %s: ignoring key %r of its server node data (reserved or '
                                             'not a valid variable name)' % (ip, name))
                        continue
                    self.inventory.set_variable(host, name, value)
            self.inventory.set_variable(host, 'inner_ip', ip)
            self.inventory.set_variable(host, 'elastic_release', release)
            self.inventory.set_variable(host, 'elastic_release_is_default', release is not None and release == default_release)
            self.inventory.set_variable(host, 'elastic_release_global_url', data['global_urls'].get(release) if release else None)
            if self.get_option('set_ansible_host'):
                self.inventory.set_variable(host, 'ansible_host', ip)

            hostvars = self.inventory.get_host(host).get_vars()
            self._set_composite_vars(self.get_option('compose'), hostvars, host, strict=strict)
            self._add_host_to_composed_groups(self.get_option('groups'), hostvars, host, strict=strict)
            self._add_host_to_keyed_groups(self.get_option('keyed_groups'), hostvars, host, strict=strict)
