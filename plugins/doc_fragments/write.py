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
  keep_changes:
    description:
      - How many changes to keep per release (one revision each); older ones are deleted in the same
        transaction, except those O(keep_builds) keeps.
      - A change that touched several releases can only be undone while every one of them keeps it.
    type: int
    default: 20
    aliases: [keep_revisions]
  keep_builds:
    description:
      - Per release, the changes that replaced its last N builds are kept however many other changes
        (widen and narrow steps) came after, so a bad build can always be rolled back.
    type: int
    default: 5
  release_items:
    description:
      - Sections and servers (section ids or inner IPs) this write may leave with no owner, or V(all).
      - A write that takes a section or server from its owner without giving it to another release (a
        publish whose config drops it, a promote, a retire, an undo) is refused, naming each item and
        its owner, unless it is named here. Items given up are recorded with the change (the audit
        tells them from items lost by accident).
    type: list
    elements: str
    default: []
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
  request_id:
    description:
      - The caller's name for this write (letters, digits, C(.), C(_), C(:), C(-); at most 100 characters),
        recorded with the change in every revision it writes and on the lock nodes it holds.
      - A flow that loses the module's result (its process killed after the commit) asks
        M(gameops.elastic_release.zk_release_readback) with it whether the write happened. The flows pass
        their run's id.
    type: str
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
