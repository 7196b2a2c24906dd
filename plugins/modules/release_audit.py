#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, GameOps release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: release_audit
short_description: Audit the release map of a game project (read-only)
version_added: 0.1.0
description:
  - Reads the whole chroot once and reports, as data, every way the release map breaks what game
    services, VMS and the flows rely on.
  - Errors - a section or server owned by two releases; a version listed by two non-default
    releases; C(/default_release) missing, malformed or naming a missing release; a CMDB host whose
    service has no version to start (by the start-version order of
    M(gameops.elastic_release.server_start)); a section a CMDB host serves that no release owns; a
    chunked publish left half-written; a change that an earlier version of the collection rolled
    back in one of its releases only.
  - Warnings - versions appended to the default release that no other release lists any more;
    releases not in the registry; servers not in the CMDB inventory, or in another deploy location
    than their release's; a CMDB host's inner IP no release owns (or a section of a host without
    services); nodes this collection does not manage (unknown children, NULL or non-JSON
    data written by other tools, names such as upper-case IPv6); items moved from a release that no
    longer exists; a release node whose package and services are not what its last change left.
  - Info - registered releases not published; revision parts of writes that never committed;
    CMDB sections and IPs no release owns because a change gave them up on purpose (naming the change).
  - Never writes. The audit flow (C(playbooks/audit.yml)) fails with exit code 2 when any finding is an error.
author:
  - GameOps release engineering (@gameops)
extends_documentation_fragment:
  - gameops.elastic_release.zookeeper
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  registry:
    description:
      - The release registry (C(elastic_release_registry)), release name to C(type) and C(location).
        When not given, registry findings are not checked.
    type: dict
  cmdb_hosts:
    description:
      - The CMDB hosts, each with C(name), C(inner_ip), C(section_ids), C(deploy_location) and C(services).
        When not given, host findings are not checked.
    type: list
    elements: dict
  admin_root:
    description:
      - Root of the collection's bookkeeping (revision parts, the changes' history, the given-up record).
    type: str
    default: /elastic_release
  with_map:
    description:
      - Also return RV(map), the release-map document the C(release_map_html) and
        C(release_map_markdown) filters draw (see docs/release-map.md).
    type: bool
    default: false
  title:
    description:
      - The game project's name in RV(map); defaults to the chroot of O(hosts).
    type: str
notes:
  - Requires the C(kazoo) Python library on the host that runs the module.
seealso:
  - module: gameops.elastic_release.zk_release_node
  - module: gameops.elastic_release.zk_release_move
'''

EXAMPLES = r'''
- name: Audit the release map
  gameops.elastic_release.release_audit:
    hosts: 10.0.0.1:2181/mygame
    registry: "{{ elastic_release_registry }}"
  register: audit

- name: Fail on errors
  ansible.builtin.assert:
    that: audit.counts.error == 0
    fail_msg: "{{ audit.findings | selectattr('severity', 'equalto', 'error') | map(attribute='message') | list }}"
'''

RETURN = r'''
findings:
  description: Every finding, errors first.
  returned: always
  type: list
  elements: dict
  contains:
    severity:
      description: V(error), V(warning) or V(info).
      type: str
    kind:
      description: What is wrong, as a stable key (for example V(section_two_owners), V(not_startable)).
      type: str
    items:
      description: The sections, servers, versions or node names the finding is about.
      type: list
      elements: str
    releases:
      description: The releases it is about.
      type: list
      elements: str
    message:
      description: A sentence saying what is wrong and what to do.
      type: str
  sample:
    - severity: error
      kind: section_two_owners
      items: ["1001"]
      releases: [gray1, production]
      message: "section id 1001 is owned by 2 releases: gray1, production; ..."
counts:
  description: Number of findings per severity.
  returned: always
  type: dict
  sample: {"error": 0, "warning": 1, "info": 0}
clean:
  description: Whether there is no finding at all.
  returned: always
  type: bool
releases:
  description: The releases under C(/releases).
  returned: always
  type: list
  elements: str
default_release:
  description: The release named by C(/default_release), or null.
  returned: always
  type: str
nodes:
  description: Item nodes read (versions, sections and servers of every release).
  returned: always
  type: int
map:
  description: With O(with_map), the release-map document (format 1, see docs/release-map.md).
  returned: when O(with_map=true)
  type: dict
zk_seconds:
  description: Seconds spent reading ZooKeeper.
  returned: always
  type: float
'''

import time

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.gameops.elastic_release.plugins.module_utils._zk.options import OptionAdapter, argument_spec
from ansible_collections.gameops.elastic_release.plugins.module_utils._report import audit as _audit
from ansible_collections.gameops.elastic_release.plugins.module_utils._report import mapdoc as _mapdoc
from ansible_collections.gameops.elastic_release.plugins.module_utils._release.names import (DEFAULT_ADMIN_ROOT, InvalidName,
                                                                                             validate_admin_root)
from ansible_collections.gameops.elastic_release.plugins.module_utils._zk.session import ZkError, hosts_without_chroot


def main():
    module = AnsibleModule(
        argument_spec=argument_spec(
            registry=dict(type='dict'),
            cmdb_hosts=dict(type='list', elements='dict'),
            admin_root=dict(type='str', default=DEFAULT_ADMIN_ROOT),
            with_map=dict(type='bool', default=False),
            title=dict(type='str'),
        ),
        supports_check_mode=True,
    )
    p = module.params
    try:
        admin_root = validate_admin_root(p['admin_root'])
        with OptionAdapter.from_module(module).session() as session:
            started = time.time()
            rmap, orphans = _audit.read(session, admin_root)
            history = _audit.read_history(session, admin_root)
            seconds = time.time() - started
    except (ZkError, InvalidName) as exc:
        module.fail_json(msg='cannot audit the release map: %s' % exc)
    findings = _audit.audit(rmap, p['registry'], p['cmdb_hosts'], orphans, history)
    result = dict(changed=False, findings=findings, counts=_audit.summary(findings), clean=not findings,
                  releases=rmap.releases, default_release=rmap.default_release, nodes=len(rmap.stored),
                  zk_seconds=round(seconds, 4))
    if p['with_map']:
        server, chroot = hosts_without_chroot(session.hosts)
        result['map'] = _mapdoc.build(rmap, p['registry'], p['cmdb_hosts'], findings,
                                      title=p['title'] or chroot.strip('/') or None, zookeeper=server + chroot)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
