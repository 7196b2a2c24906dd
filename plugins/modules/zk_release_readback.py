#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, GameOps release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: zk_release_readback
short_description: Find out whether a write whose result was lost happened (read-only)
version_added: 0.1.0
description:
  - A write module (M(gameops.elastic_release.zk_release_node), M(gameops.elastic_release.zk_release_move),
    M(gameops.elastic_release.zk_release_revision)) records its O(request_id) in every revision of its change
    and on the lock nodes it holds. When its result is lost - its process killed after the commit, as the OOM
    killer would, or the connection to it lost - this module reads the tree to say what it did.
  - V(written) when a kept change records the request (RV(changes) names it and its revisions);
    V(not_written) when none does and no lock node names the request any more (the writer's session has
    ended, so nothing it sent can still commit, since every change is fenced by its lock nodes); V(unknown) when a
    lock node still names the request after O(wait) seconds, or ZooKeeper cannot be read, with how to converge.
  - The flows call it from their failure path with their run's id; a request id matches the changes of that
    id and of the id followed by C(.) and a step (C(3f2a.1), C(3f2a.2), ...).
  - Never writes.
extends_documentation_fragment:
  - gameops.elastic_release.zookeeper
  - ansible.builtin.action_common_attributes
options:
  request_id:
    description:
      - The request id the lost write was given (its O(gameops.elastic_release.zk_release_move#module:request_id)).
    type: str
    required: true
  wait:
    description:
      - Seconds to wait for a lock node that still names the request to go (the dead writer's ZooKeeper session
        ends at its timeout, 10 s by default) before answering V(unknown).
    type: float
    default: 30
  admin_root:
    description:
      - Root of the collection's bookkeeping (locks and the changes' history).
    type: str
    default: /elastic_release
attributes:
  check_mode:
    support: full
    details: It only reads, so a check run answers as a real run does.
  diff_mode:
    support: none
  platform:
    platforms: posix
seealso:
  - module: gameops.elastic_release.zk_release_revision
author:
  - GameOps release engineering (@gameops)
'''

EXAMPLES = r'''
- name: Move a section, naming the write
  gameops.elastic_release.zk_release_move:
    destination: gray1
    sections: ["1003"]
    request_id: "{{ run_id }}.1"
  register: moved
  ignore_errors: true

- name: Read the tree when the write's result was lost (it has no write_outcome)
  gameops.elastic_release.zk_release_readback:
    request_id: "{{ run_id }}.1"
  register: readback
  when: moved is failed and moved.write_outcome is not defined
'''

RETURN = r'''
write_outcome:
  description: What the lost write did - V(written), V(not_written) or V(unknown).
  returned: always
  type: str
  sample: written
write_changed:
  description: Whether the lost write changed the tree; null when its outcome is unknown.
  returned: always
  type: bool
changes:
  description: The kept changes that record the request, one row per release they touched.
  returned: always
  type: list
  elements: dict
  sample: [{"change": "3f2a1c9e0b7d", "release": "gray1", "revision": "rev-0000000004", "action": "widen",
            "request": "9c1e5b2d0a7f4e31.1", "time": "2026-01-22T09:10:04Z"}]
change:
  description: The newest change id found, or null.
  returned: always
  type: str
revisions_written:
  description: The revision each touched release got.
  returned: always
  type: dict
transactions:
  description: The number of changes found (each one transaction).
  returned: always
  type: int
held:
  description: Lock nodes that still name the request (an V(unknown) outcome).
  returned: always
  type: list
  elements: str
waited:
  description: Seconds spent.
  returned: always
  type: float
msg:
  description: The outcome in words, with how to converge when it is V(unknown).
  returned: always
  type: str
'''

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.gameops.elastic_release.plugins.module_utils._release.names import (DEFAULT_ADMIN_ROOT, InvalidName,
                                                                                             validate_admin_root)
from ansible_collections.gameops.elastic_release.plugins.module_utils._write import front
from ansible_collections.gameops.elastic_release.plugins.module_utils._write.readback import readback
from ansible_collections.gameops.elastic_release.plugins.module_utils._zk.options import OptionAdapter, argument_spec
from ansible_collections.gameops.elastic_release.plugins.module_utils._zk.session import ZkError


def main():
    module = AnsibleModule(
        argument_spec=argument_spec(
            request_id=dict(type='str', required=True),
            wait=dict(type='float', default=30.0),
            admin_root=dict(type='str', default=DEFAULT_ADMIN_ROOT),
        ),
        supports_check_mode=True,
    )
    p = module.params
    try:
        wanted = front.request_id(p['request_id'])
        admin_root = validate_admin_root(p['admin_root'])
        with OptionAdapter.from_module(module).session() as session:
            out = readback(session, wanted, admin_root, wait=max(0.0, p['wait']))
    except (ValueError, InvalidName) as exc:
        module.fail_json(msg='zk_release_readback: %s' % exc)
    except ZkError as exc:
        # Not knowing is an answer: the flow reports it, with how to converge.
        out = dict(write_outcome='unknown', changed=None, changes=[], revisions_written={}, transactions=0, change=None,
                   held=[], waited=0.0, msg='the outcome of the write of request %s is unknown: the tree cannot be read '
                   '(%s). Run the flow again once ZooKeeper answers (a rerun writes only what is missing)'
                   % (p['request_id'], exc))
    out['write_changed'] = out.pop('changed')
    out.pop('request_id', None)
    module.exit_json(changed=False, **out)


if __name__ == '__main__':
    main()
