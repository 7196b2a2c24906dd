# -*- coding: utf-8 -*-
# Copyright: (c) 2026, GameOps release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # The options of every module that writes release nodes (zk_release_node, zk_release_move,
    # zk_release_revision). Their argument spec is module_utils/_write/front.py's write_spec(); the defaults are the
    # constants of _names.py.
    DOCUMENTATION = r'''
options:
  admin_root:
    description:
      - Root of the collection's own bookkeeping (locks, history, revision parts, the map epoch).
        Never under C(/releases).
    type: str
    default: /elastic_release
  keep_revisions:
    description:
      - How many revisions to keep per release; older ones are deleted in the same transaction.
    type: int
    default: 20
  lock_timeout:
    description:
      - Seconds to wait for another writer of the same release to finish. V(0) does not wait.
    type: float
    default: 30
  max_request_bytes:
    description:
      - Largest transaction to send. ZooKeeper servers refuse requests over C(jute.maxbuffer)
        (1 MiB minus one byte by default) by dropping the connection.
    type: int
    default: 1000000
  allow_chunked:
    description:
      - When a change of one release does not fit in one transaction, write it in several (readers
        may then see part of it until the last one). Without this the module fails and writes nothing.
      - The release's previous state is kept as a revision before the first part is written.
      - A change of several releases (a move, a takeover, a promote) is never split.
    type: bool
    default: false
  impact_hosts:
    description:
      - The CMDB hosts to judge the impact against, each a mapping with C(name), C(inner_ip) and
        C(section_ids) (what the C(gameops.elastic_release.cmdb) inventory gives each host). The hosts
        whose service must restart because of the change are listed in the C(hosts) of RV(impact).
      - The flows pass every host of the inventory.
    type: list
    elements: dict
    default: []
  acl:
    description:
      - ACL of the nodes the collection creates.
      - V(auto) with O(auth_credential) gives the writer all permissions and everyone read access,
        so game services and VMS keep reading without credentials; without a credential the nodes
        are open, as ZooKeeper's default.
      - V(open) leaves nodes world-writable. V(private) gives the writer's identity all permissions
        and nobody else any.
    type: str
    choices: [auto, open, private]
    default: auto
'''
