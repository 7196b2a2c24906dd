#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, GameOps release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: release_lookup
short_description: Find the release that owns a section, an inner IP or a client version
version_added: 0.1.0
description:
  - Walks the children of C(/releases) and answers which release owns a game section, a server's
    inner IP, or where a client version routes (as VMS does).
  - A section or an IP owned by two releases is an error naming both.
  - A version listed by a non-default release routes there; otherwise it routes to the default
    release named by C(/default_release). A version listed by two non-default releases is an error.
    A version no release lists routes to the default release too, with RV(found=false); it fails
    the task unless O(fail_on_missing=false).
  - Reads are pipelined, about three round trips whatever the number of releases. Never writes.
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
  section_id:
    description:
      - Game section (zone) id to look up.
    type: str
  inner_ip:
    description:
      - Inner IP of a game server to look up.
    type: str
  version:
    description:
      - Client version to route.
    type: str
  fail_on_missing:
    description:
      - Fail when no release owns the section or IP, or when the version is listed by no release.
      - When false, RV(release) is null (or the default release, for a version) and RV(found) is false.
      - The P(gameops.elastic_release.release#lookup) lookup answers every question the same way, with the same default.
    type: bool
    default: true
notes:
  - Exactly one of O(section_id), O(inner_ip) and O(version) is required.
seealso:
  - module: gameops.elastic_release.zk_release_node
  - plugin: gameops.elastic_release.release
    plugin_type: lookup
'''

EXAMPLES = r'''
- name: Which release serves section 1001?
  gameops.elastic_release.release_lookup:
    hosts: 10.0.0.1:2181/mygame
    section_id: "1001"
  register: owner

- name: Which release owns this host?
  gameops.elastic_release.release_lookup:
    inner_ip: "{{ inner_ip }}"

- name: Where does client version 1.2.1 route?
  gameops.elastic_release.release_lookup:
    version: 1.2.1
    fail_on_missing: false

# Ad hoc:
# ansible all -m gameops.elastic_release.release_lookup -a section_id=1001
'''

RETURN = r'''
release:
  description: The owning release (for a version, the release it routes to), or null.
  returned: always
  type: str
  sample: gray1
found:
  description: Whether the item's node exists in RV(release).
  returned: always
  type: bool
is_default:
  description: Whether RV(release) is the default release.
  returned: always
  type: bool
default_release:
  description: The release named by C(/default_release), or null.
  returned: always
  type: str
  sample: production
global_url:
  description: The owning release's global URL, or null.
  returned: always
  type: str
  sample: http://10.0.0.5:9000
data:
  description: The item node's data (a JSON object; empty when the node holds none).
  returned: always
  type: dict
  sample: {"services": {"gameserver": "dev.190122.01"}}
path:
  description: ZooKeeper path of the item in the owning release.
  returned: always
  type: str
  sample: /releases/gray1/servers/10.1.2.3
zk_seconds:
  description:
    - Seconds spent in the lookup's ZooKeeper reads inside the module, once connected. Connecting
      is not included, as in the C(zk_seconds) of M(gameops.elastic_release.zk_release_node).
  returned: always
  type: float
  sample: 0.0042
'''

import time

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.gameops.elastic_release.plugins.module_utils._zk.options import OptionAdapter, argument_spec
from ansible_collections.gameops.elastic_release.plugins.module_utils._report.lookup import LookupFailed, answer_all, question
from ansible_collections.gameops.elastic_release.plugins.module_utils._zk.session import ZkError


def main():
    module = AnsibleModule(
        argument_spec=argument_spec(
            section_id=dict(type='str'),
            inner_ip=dict(type='str'),
            version=dict(type='str'),
            fail_on_missing=dict(type='bool', default=True),
        ),
        required_one_of=[('section_id', 'inner_ip', 'version')],
        mutually_exclusive=[('section_id', 'inner_ip', 'version')],
        supports_check_mode=True,
    )
    p = module.params
    asked = [(key, p[key]) for key in ('section_id', 'inner_ip', 'version') if p[key] not in (None, '')]
    try:
        question(**dict(asked))   # an invalid name is refused before connecting
        with OptionAdapter.from_module(module).session() as session:
            started = time.time()
            # The lookup plugin's code path: one question, the same rule and the same answer.
            answer = answer_all(session, asked, fail_on_missing=p['fail_on_missing'])[0]
            zk_seconds = time.time() - started
    except (LookupFailed, ZkError) as exc:
        module.fail_json(msg=str(exc))
    for key in ('question', 'service_version', 'error'):
        answer.pop(key, None)
    module.exit_json(changed=False, zk_seconds=round(zk_seconds, 4), **answer)


if __name__ == '__main__':
    main()
