#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, GameOps release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: release_status
short_description: Compare every game service instance of a host with the release map, reading only
version_added: 0.1.0
description:
  - For each instance the controller planned for this host (an instance per section, or one per host),
    compares what should run - the owning release and the build of the start-version order, resolved
    on the controller with one ZooKeeper read for the whole play - with what runs - the pid file, the
    process's C(/proc/<pid>/cmdline) (its C(--release) and build read back through the command template)
    and the deployed C(version/{service}/{build}) link.
  - Gives each instance one state - V(in_sync), V(wrong_release), V(wrong_build), V(not_running),
    V(not_deployed), V(not_owned) or V(unknown_process) (a pid file naming another program, which is
    reported and never signalled).
  - Also reports instances still running for sections the host no longer serves (O(served)), as V(not_owned).
  - Reads the host only - never connects to ZooKeeper, never starts or signals anything. The C(status)
    role (C(playbooks/status.yml)) plans the instances and calls it.
author:
  - GameOps release engineering (@gameops)
extends_documentation_fragment:
  - gameops.elastic_release.instances
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: The module only reads; check mode changes nothing.
  diff_mode:
    support: none
  platform:
    platforms: posix
    details: Needs Linux's C(/proc) to read the running processes.
options:
  install_root:
    description: Absolute path where server packages are deployed (C(version/{service}/{build}/bin/{service}) below it).
    type: path
    required: true
  run_dir:
    description: Directory of the pid and state files. Defaults to C({install_root}/run).
    type: path
  inner_ip:
    description: The host's inner IP (for the C({inner_ip}) placeholder of a command template).
    type: str
  command:
    description:
      - The command template of an instance whose service has no command of its own (the roles pass the
        host's C(server_start_command)); empty for the default command.
    type: list
    elements: str
notes:
  - Needs no Python library beyond Ansible's own on the host.
seealso:
  - module: gameops.elastic_release.server_start
  - plugin: gameops.elastic_release.fleet
    plugin_type: lookup
'''

EXAMPLES = r'''
- name: What runs on this host compared with the tree (the status role plans the instances)
  gameops.elastic_release.release_status:
    install_root: /data/game
    inner_ip: 10.1.0.12
    instances:
      - {service: gameserver, per: section, section_id: "1003", owner: gray1, build: dev.190123.01}
      - {service: gameserver, per: section, section_id: "1004", owner: production, build: dev.190122.01}
    served:
      gameserver: ["1003", "1004"]
  register: status
'''

RETURN = r'''
instances:
  description: One entry per instance.
  returned: always
  type: list
  elements: dict
  contains:
    service:
      description: The service.
      type: str
    per:
      description: V(section) or V(host).
      type: str
    section_id:
      description: The section, or null for a per-host instance.
      type: str
    owner:
      description: The owning release in the tree, or null.
      type: str
    expected_build:
      description: The build the owner says to run, or null.
      type: str
    running_release:
      description: The C(--release) of the running process, or null.
      type: str
    running_build:
      description: The build the running process was started from, or null.
      type: str
    pid:
      description: The pid the pid file names when that process is alive, or null.
      type: int
    state:
      description: V(in_sync), V(wrong_release), V(wrong_build), V(not_running), V(not_deployed), V(not_owned) or V(unknown_process).
      type: str
      sample: wrong_release
    served:
      description: False for an instance of a section the host no longer serves.
      type: bool
    note:
      description: Why the instance is in its state, when that needs words (what to add, what to remove), or null.
      type: str
    expected_cmd:
      description: The command line the instance should run, or null.
      type: list
      elements: str
    running_cmd:
      description: The command line of the process the pid file names, or null.
      type: list
      elements: str
    deployed_from:
      description: The C(release/build) whose deploy provides the expected build's directory (a C(version/) link), or null.
      type: str
      sample: gray1/190123.01
counts:
  description: How many instances are in each state (every state is a key).
  returned: always
  type: dict
  sample: {"in_sync": 3, "wrong_release": 1, "wrong_build": 0, "not_running": 0, "not_deployed": 0, "not_owned": 0, "unknown_process": 0}
'''

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.gameops.elastic_release.plugins.module_utils._host import fleet as _fleet
from ansible_collections.gameops.elastic_release.plugins.module_utils._host.service import ServiceError


def main():
    module = AnsibleModule(
        argument_spec=dict(
            install_root=dict(type='path', required=True),
            run_dir=dict(type='path'),
            inner_ip=dict(type='str'),
            command=dict(type='list', elements='str'),
            **_fleet.INSTANCE_SPEC
        ),
        supports_check_mode=True,
    )
    error = _fleet.from_plan(module.params)
    if error:
        module.fail_json(msg=error)
    module.params['instances'] = module.params['instances'] or []
    try:
        instances, counts = _fleet.status(module.params)
    except ServiceError as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(changed=False, instances=instances, counts=counts)


if __name__ == '__main__':
    main()
