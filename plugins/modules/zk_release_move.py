#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, GameOps release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: zk_release_move
short_description: Move game sections and servers from one release to another, atomically
version_added: 0.1.0
description:
  - Moves sections and servers, with their node data, from O(source) to O(destination) in one
    ZooKeeper transaction, under both releases' locks. The move is one change, recorded in a
    revision of each release, so the rollback flow of either undoes it whole
    (M(gameops.elastic_release.zk_release_revision)).
  - This is how a gray release grows zone by zone and shrinks again - the widen and narrow flows
    (C(playbooks/widen.yml), C(playbooks/narrow.yml)) run this module step by step.
  - The receiving release remembers where each item came from. Publishing either release later
    leaves the moved items where they are (see M(gameops.elastic_release.zk_release_node)), and
    O(all_lent=true) gives every item a release holds by a move back to where it came from.
  - Every item must be owned by O(source) alone. Items O(destination) already owns are left as
    they are (a rerun changes nothing). An item owned by a third release, by two releases or by
    none is refused, naming it and its owners; invalid names are refused before connecting.
    Nothing is written when anything is refused.
author:
  - GameOps release engineering (@gameops)
extends_documentation_fragment:
  - gameops.elastic_release.zookeeper
  - gameops.elastic_release.write
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
  platform:
    platforms: posix
options:
  source:
    description:
      - The release the items leave. Defaults to the default release named by C(/default_release)
        (a widen).
    type: str
  destination:
    description:
      - The release the items join. Defaults to the default release (a narrow); with
        O(all_lent=true), to the release each item came from.
    type: str
  sections:
    description:
      - Section ids to move.
    type: list
    elements: str
    default: []
  servers:
    description:
      - Server inner IPs to move.
    type: list
    elements: str
    default: []
  all_lent:
    description:
      - Move every item O(source) holds by an earlier move back to the release it came from (with
        O(sections) or O(servers), only those of them). This is the abort of a gray rollout.
    type: bool
    default: false
  origin:
    description:
      - Free text recorded with the change (for example a Tianti job id); the releases keep their build (C(package)).
    type: str
notes:
  - Requires the C(kazoo) Python library on the host that runs the module.
  - Client versions are not moved; a gray release's versions route to it as soon as it is published.
seealso:
  - module: gameops.elastic_release.zk_release_node
  - module: gameops.elastic_release.zk_release_revision
'''

EXAMPLES = r'''
- name: Widen gray1 by sections 1003 and 1004 (taken from the default release)
  gameops.elastic_release.zk_release_move:
    hosts: 10.0.0.1:2181/mygame
    destination: gray1
    sections: ["1003", "1004"]

- name: Narrow gray1 by section 1004 (back to the default release)
  gameops.elastic_release.zk_release_move:
    source: gray1
    sections: ["1004"]

- name: Abort - give back everything gray1 holds by a move
  gameops.elastic_release.zk_release_move:
    source: gray1
    all_lent: true
'''

RETURN = r'''
source:
  description: The release the items left.
  returned: always
  type: str
  sample: production
destinations:
  description: The releases the items joined.
  returned: always
  type: list
  elements: str
  sample: [gray1]
moved:
  description: The items moved (or, in check mode, that would be moved).
  returned: always
  type: dict
  sample: {"sections": ["1003", "1004"], "servers": []}
already_there:
  description: Items the destination already owned, left as they are.
  returned: always
  type: dict
  sample: {"sections": [], "servers": []}
operations:
  description: The node operations made (or that would be made), in order.
  returned: always
  type: list
  elements: dict
  sample: [{"op": "create", "path": "/releases/gray1/sections/1003"}]
operations_count:
  description: Number of node operations.
  returned: always
  type: int
revision:
  description: The revision written for O(source), or null when nothing was written.
  returned: always
  type: str
change:
  description: The id of the change written (or planned in check mode), or null when nothing changes.
  returned: always
  type: str
  sample: 8e41d07a5c22
given_up:
  description: Sections and servers the move leaves with no owner (a move gives every item to a release, so none).
  returned: always
  type: dict
revisions_written:
  description: The revision written for every release the move touched.
  returned: always
  type: dict
  sample: {"gray1": "rev-0000000003", "production": "rev-0000000007"}
transactions:
  description: Number of ZooKeeper transactions committed (1, or 0 when nothing was written).
  returned: always
  type: int
write_outcome:
  description: V(unchanged), V(planned) (check mode) or V(written).
  returned: always
  type: str
default_release:
  description: The default release.
  returned: always
  type: str
zk_seconds:
  description: Seconds spent talking to ZooKeeper inside the module.
  returned: always
  type: float
impact:
  description:
    - What the change does to the release map (planned in check mode), computed against the map as read,
      with the keys described at RV(gameops.elastic_release.zk_release_node#module:impact).
  returned: always
  type: dict
  sample: {"owners": [{"kind": "sections", "name": "1003", "from": "production", "to": "gray1"}],
           "versions": [], "data": [], "global_urls": [], "default_release": null, "held_elsewhere": [], "given_up": [],
           "hosts": [{"host": "gs-prod-02", "inner_ip": "10.1.0.12", "reasons": ["section 1003: production -> gray1"]}],
           "restart": ["gs-prod-02"]}
impact_table:
  description: RV(impact) as lines of text for people.
  returned: always
  type: list
  elements: str
  sample: ["section  1003                   production -> gray1", "restart  gs-prod-02             section 1003: production -> gray1"]
diff:
  description: Both releases before and after.
  returned: when diff mode is on
  type: dict
'''

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.gameops.elastic_release.plugins.module_utils._write import front
from ansible_collections.gameops.elastic_release.plugins.module_utils._write import move as _move


def main():
    module = AnsibleModule(
        argument_spec=front.write_argument_spec(
            source=dict(type='str'),
            destination=dict(type='str'),
            sections=dict(type='list', elements='str', default=[]),
            servers=dict(type='list', elements='str', default=[]),
            all_lent=dict(type='bool', default=False),
            origin=dict(type='str'),
        ),
        supports_check_mode=True,
    )
    p = module.params

    def prepare(opts):
        items = _move.parse_items(p['sections'], p['servers'])
        return _move.MoveIntent(p['source'], p['destination'], items, lent=p['all_lent'], origin=p['origin'])

    def work(session, opts, intent):
        return front.run(session, intent, opts, module.check_mode, p['impact_hosts'])

    outcome = front.execute(module, work, prepare, unknown_prefix='cannot move: ')
    front.finish(module, outcome.main, outcome, drop=('release',))


if __name__ == '__main__':
    main()
