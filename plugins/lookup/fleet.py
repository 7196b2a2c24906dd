# -*- coding: utf-8 -*-
# Copyright: (c) 2026, GameOps release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
name: fleet
short_description: Plan every game service instance of many hosts, with one read of the release map
version_added: 0.1.0
description:
  - For each host named in the terms, reads its inventory values through C(hostvars) - C(inner_ip) (or
    C(server_start_inner_ip)), the CMDB's C(section_ids) and C(services), and C(server_start_section_id) -
    and plans its instances - one per section for a service run per section, one per host otherwise,
    as O(services) (the inventory's C(elastic_release_services)) says.
  - With O(read_map), reads the release map once (one ZooKeeper session, a few requests for the whole
    fleet) and gives every instance its owner (the release that owns its section, or the host's inner
    IP), the build it should run (the start-version order) and the owner's global URL, or the reason
    it cannot start.
  - The C(server_start), C(status) and C(sync) roles call it once per play (or batch) on the controller
    and hand each host its part, so the game hosts never talk to ZooKeeper.
  - Returns one mapping (use C(lookup)); see RV(_raw).
author:
  - GameOps release engineering (@gameops)
extends_documentation_fragment:
  - gameops.elastic_release.zookeeper.plugins
  - gameops.elastic_release.zookeeper
options:
  _terms:
    description: Inventory host names (a list of them counts as its elements).
    type: list
    elements: str
    required: true
  services:
    description:
      - >-
        How each service runs, the inventory's C(elastic_release_services), for example
        C({"gameserver": {"per": "section"}, "gmtool": {"per": "host"}}). An entry may also give the
        service's C(command) (argument templates; a per-section service's command must hold C({section_id})).
      - A service it does not name runs per host.
    type: dict
    default: {}
  service_names:
    description: The services to plan. Empty for every service of O(services), or O(default_service) when O(services) is empty.
    type: list
    elements: str
    default: []
  default_service:
    description: The service planned when neither O(service_names) nor O(services) names one.
    type: str
    default: gameserver
  default_command:
    description:
      - The command template of a service whose entry has none, as one host sees it (the roles pass
        C(server_start_command)); empty for the default command. It is only checked here (a per-section
        service's command must hold C({section_id})) - each host's task applies its own, templated for it.
    type: list
    elements: str
    default: []
  sections:
    description:
      - Only the instances of these sections (a list, or ids separated by commas); then no per-host instance is planned.
      - A section that no host of the terms serves is an error, unless O(allow_empty).
    type: raw
  release:
    description:
      - Only the instances this release owns; a host with none of them is not selected.
      - When it owns no instance of the terms, an error names the owners found, unless O(allow_empty).
    type: str
  version:
    description: Run this build instead of the one the owner's nodes name.
    type: str
  read_map:
    description: Read the release map to resolve the owners. False leaves the owners to each host.
    type: bool
    default: true
  allow_empty:
    description:
      - Accept a selection (O(sections), O(release)) that matches nothing among the terms' hosts - an
        AWX job slice, or a C(--limit), may hold none of them.
    type: bool
    default: false
notes:
  - Runs on the controller, which needs the C(kazoo) Python library when O(read_map) is true.
seealso:
  - module: gameops.elastic_release.release_status
  - module: gameops.elastic_release.server_start
  - plugin: gameops.elastic_release.release
    plugin_type: lookup
'''

EXAMPLES = r'''
- name: Plan the instances of the play's hosts, one map read
  ansible.builtin.set_fact:
    status_plan: >-
      {{ lookup('gameops.elastic_release.fleet', ansible_play_hosts_all,
                services=elastic_release_services | default({}), sections=sections | default(omit)) }}
  run_once: true

- name: The instances of one host
  ansible.builtin.debug:
    msg: "{{ status_plan.hosts[inventory_hostname].instances }}"
'''

RETURN = r'''
_raw:
  description: One mapping.
  type: list
  elements: dict
  contains:
    hosts:
      description:
        - Per host - C(instances) (each with C(service), C(per), C(section_id), C(owner), C(build),
          C(global_url), C(command), C(error)), C(served) (per service run per section, the sections
          the CMDB gives the host), C(inner_ip), C(sections) (O(sections) as a list, or null),
          C(selected) (whether the selection keeps the host),
          C(error) (a refusal of this host, such as a pinned section the CMDB does not give it).
      type: dict
    owners:
      description: Every owner found for the planned instances (before O(release) selects).
      type: list
      elements: str
    active:
      description: The hosts that are selected and have instances, served sections or an error.
      type: list
      elements: str
'''

from ansible.errors import AnsibleLookupError
from ansible.module_utils.common.text.converters import to_native
from ansible.plugins.lookup import LookupBase
from ansible_collections.gameops.elastic_release.plugins.module_utils._host import instances as _instances
from ansible_collections.gameops.elastic_release.plugins.module_utils._host.service import ServiceError
from ansible_collections.gameops.elastic_release.plugins.module_utils._report.lookup import LookupFailed, ReleaseIndex
from ansible_collections.gameops.elastic_release.plugins.module_utils._zk.options import VAR_PREFIX, OptionAdapter
from ansible_collections.gameops.elastic_release.plugins.module_utils._zk.session import ZkError

FACTS = (('section_ids', 'section_ids'), ('services', 'services'), ('section_id', 'server_start_section_id'))


def _facts(hostvars, host):
    hv = hostvars[host]
    facts = dict((key, hv.get(name)) for key, name in FACTS)
    ip = hv.get('server_start_inner_ip') if 'server_start_inner_ip' in hv else hv.get('inner_ip')
    facts['inner_ip'] = str(ip) if ip not in (None, '') else None
    return facts


def _sections(value):
    if value in (None, '', []):
        return None
    values = value if isinstance(value, (list, tuple)) else str(value).split(',')
    return [str(v).strip() for v in values if str(v).strip()]


class LookupModule(LookupBase):

    def run(self, terms, variables=None, **kwargs):
        variables = variables or {}
        var_options = dict((name, self._templar.template(variables[name])) for name in variables if name.startswith(VAR_PREFIX))
        self.set_options(var_options=var_options, direct=kwargs)
        hosts = []
        for term in terms:
            hosts.extend(term if isinstance(term, (list, tuple)) else [term])
        try:
            return [self._plan(hosts, variables.get('hostvars') or {})]
        except (LookupFailed, ServiceError, ZkError) as exc:
            raise AnsibleLookupError(to_native(exc))

    def _plan(self, hosts, hostvars):
        opt = self.get_option
        services = opt('services') or {}
        names = opt('service_names') or sorted(services) or [opt('default_service')]
        specs = _instances.parse_specs(services, names, opt('default_command') or None)
        sections = _sections(opt('sections'))
        release = opt('release') or None
        out, planned = {}, {}
        for host in hosts:
            facts = _facts(hostvars, host)
            instances, served, error = _instances.plan_host(host, facts, specs, sections)
            out[host] = dict(instances=[], served=served, inner_ip=facts['inner_ip'], sections=sections,
                             selected=not release, error=error)
            planned[host] = (facts['inner_ip'], instances)
        if sections and not opt('allow_empty'):
            found = set(i['section_id'] for _ip, insts in planned.values() for i in insts)
            missing = [s for s in sections if s not in found]
            if missing:
                raise ServiceError('the CMDB gives none of the %d hosts of this play section %s (sections=%s): nothing would '
                                   'run there. Check the section ids, -e target and --limit'
                                   % (len(hosts), ', '.join(missing), ','.join(sections)))
        index = None
        if opt('read_map') and any(insts for _ip, insts in planned.values()):
            with OptionAdapter.from_plugin(self).session() as session:
                index = ReleaseIndex.load(session, with_data=('sections', 'servers'))
        owners = set()
        for host, (ip, instances) in planned.items():
            if index is not None:
                instances = _instances.resolve(index, host, ip, instances, specs, opt('version') or None)
            else:
                instances = [dict(i, owner=None, build=opt('version') or None, global_url=None, error=None,
                                  command=specs[i['service']].command) for i in instances]
            owners.update(i['owner'] for i in instances if i.get('owner'))
            if release:
                instances = [i for i in instances if i.get('owner') == release]
                out[host]['selected'] = bool(instances)
            out[host]['instances'] = instances
        if release and not opt('allow_empty') and not any(h['selected'] for h in out.values()):
            running = sum(1 for _ip, insts in planned.values() if insts)
            raise ServiceError('release %s owns none of the %d hosts of this play that run %s%s: nothing to start. Check the '
                               'release name, the target pattern and --limit.'
                               % (release, running, ', '.join(names),
                                  ' (their owners: %s)' % ', '.join(sorted(owners)) if owners else ''))
        # The hosts whose one task has something to do: a role's `when` asks this list once.
        active = [h for h in hosts if out[h]['selected'] and (out[h]['instances'] or out[h]['served'] or out[h]['error'])]
        return dict(hosts=out, owners=sorted(owners), active=active)
