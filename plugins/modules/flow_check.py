#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, GameOps release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: flow_check
short_description: The first step of a release flow - refuse, writing nothing, anything the flow cannot do
version_added: 0.1.0
description:
  - Runs on the controller (an action plugin; no module is sent to a host). Every release flow
    starts with it, and it names every problem it finds in one message.
  - Parameters - the release name, the package, the items of a widen or narrow (C(sections),
    C(servers) or C(steps)); relative paths are resolved once, against the directory
    C(ansible-playbook) runs in, and the absolute path is returned.
  - The release registry (C(elastic_release_registry)) - the release is registered with the flow's
    release type, a review release is named after its deploy location, one production release, the
    deploy location is a group (C(location_<name>)) of the CMDB inventory.
  - The package - its file name carries the release, and it is read with the checks of
    M(gameops.elastic_release.server_package_info) (unsafe or malformed archives, an indicator or
    config.zoo of another release).
  - The release map, in ZooKeeper - the flow's write is planned in check mode, so an item that would
    get a second owner or be left with no owner, an item a widen or narrow would take from a release
    that does not own it, a promote of another build, an undo that a later change blocks, and a
    transaction too large for ZooKeeper are refused here (RV(flow_info.planned) has the plan's
    size and impact). The ZooKeeper connection comes from the inventory's C(elastic_release_zk_*) variables.
author:
  - GameOps release engineering (@gameops)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
  - gameops.elastic_release.controller
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
options:
  flow:
    description:
      - The flow.
    type: str
    required: true
    choices: [production, review, gray, promote, rollback, retire, widen, narrow, deploy]
  release:
    description:
      - The release parameter of the flow (C(-e release=...)). For C(promote), the gray release to promote.
        For C(deploy), when not given, the release in the package name.
    type: str
  package:
    description:
      - Path of the server package (C(-e package=...)) of the publishing flows, C(promote) and C(deploy).
    type: str
  name_pattern:
    description:
      - Regular expression with the named groups C(release) and C(build) that parses package file names.
    type: str
  sections:
    description:
      - Section ids a widen or narrow moves (a list, or a string of ids separated by commas or spaces).
    type: raw
  servers:
    description:
      - Server inner IPs a widen or narrow moves.
    type: raw
  steps:
    description:
      - The moves of a widen or narrow, one step at a time - a list of steps, each a list of section ids
        or a mapping with C(sections) and C(servers).
    type: raw
  all:
    description:
      - Narrow everything the release holds by a move.
    type: bool
    default: false
  gate_url:
    description:
      - A widen or narrow's health gate - an http(s) URL that must answer 2xx after each step.
      - Returned masked in RV(flow_info.gate) (credentials, query values and fragment as C(***)); nothing
        of the raw value is in the result.
    type: str
  gate_command:
    description:
      - A widen or narrow's health gate - a command (a list of arguments, or that list as JSON text)
        that must exit 0 after each step. Never run through a shell.
    type: raw
  gate_timeout:
    description:
      - Seconds to keep asking the gate after a step before it counts as failed.
    type: int
  gate_interval:
    description:
      - Seconds between two questions to the gate.
    type: int
  gate_try_timeout:
    description:
      - Seconds one question to the gate may take (a command is killed with its process group, a URL
        abandoned), never more than what is left of O(gate_timeout). Defaults to 30.
    type: int
  gate_follow_redirects:
    description:
      - Follow redirects of O(gate_url). By default a 3xx answer fails the gate, naming where it leads.
    type: bool
    default: false
  pause_seconds:
    description:
      - Seconds a widen or narrow waits after each step before asking the gate.
    type: int
  allow_chunked:
    description:
      - The publishing flows (C(production), C(review), C(gray), C(promote)) - let a change too large for
        one ZooKeeper transaction be written in several, giving up atomicity for readers (they may see the
        release half-written while it runs, its metadata marked C(pending)). For C(promote), the production
        package is then published in parts first, the gray release's items left with it, and the promote
        itself stays one transaction (C(chunked_route) in RV(flow_info.planned)). Without it such a change is
        refused here, naming this option.
    type: bool
    default: false
  release_items:
    description:
      - Sections and servers (ids or inner IPs; a list, or text separated by commas) the flow may leave with
        no owner, or V(all) (C(-e release_items=...)). Otherwise a write that would leave one with no owner
        is refused here, naming each.
    type: raw
  allow_other_build:
    description:
      - C(promote) - promote a production package of another build than the gray release's (C(-e allow_other_build=true)).
    type: bool
    default: false
  change:
    description:
      - C(rollback) - the change to undo (C(-e change=<id>)); by default the release's newest change.
    type: str
  revision:
    description:
      - C(rollback) - the change to undo, by the revision that records it in the release (C(-e revision=...)).
    type: str
  list_revisions:
    description:
      - C(rollback) - only list the changes (nothing to plan).
    type: bool
    default: false
  registry:
    description:
      - The release registry; defaults to the C(elastic_release_registry) variable.
    type: dict
  check_zookeeper:
    description:
      - Also plan the flow's write in check mode against ZooKeeper.
    type: bool
    default: true
  zookeeper:
    description:
      - ZooKeeper connection options (as the modules take them) that override the
        C(elastic_release_zk_*) variables.
    type: dict
notes:
  - The ZooKeeper checks need the C(kazoo) Python library on the controller.
seealso:
  - module: gameops.elastic_release.zk_release_node
  - module: gameops.elastic_release.zk_release_move
'''

EXAMPLES = r'''
- name: Check the parameters, the registry, the package and the release map
  gameops.elastic_release.flow_check:
    flow: gray
    release: "{{ release | default('') }}"
    package: "{{ package | default('') }}"
  register: checked
'''

RETURN = r'''
flow_info:
  description: What the later steps and the summary need.
  returned: on success; on failure only with -v (the failure shows its msg alone)
  type: dict
  contains:
    flow:
      description: The flow.
      type: str
    release:
      description: The release parameter.
      type: str
    package:
      description: The package's file name.
      type: str
    package_path:
      description: The package's absolute path.
      type: str
    build:
      description: The build in the package name.
      type: str
    package_release:
      description: The release the package is published as (for C(promote), the production release).
      type: str
    registry_entry:
      description: The release's registry entry.
      type: dict
    location_group:
      description: The CMDB inventory group of the release's deploy location (C(location_<name>)), or null.
      type: str
    steps:
      description: The moves of a widen or narrow, one mapping (C(sections), C(servers)) per step.
      type: list
      elements: dict
    gate:
      description: The pause and health gate of a widen or narrow (C(url), masked, C(command), C(timeout), C(interval),
        C(try_timeout), C(follow_redirects), C(pause)).
      type: dict
    hosts:
      description: The CMDB hosts of the inventory (C(name), C(inner_ip), C(section_ids), C(deploy_location), C(services)).
      type: list
      elements: dict
    planned:
      description: The planned write (C(changed), C(operations_count), C(request_bytes), C(impact), C(chunked_route)
        - true when a promote publishes the package in parts first), or null.
      type: dict
    allow_chunked:
      description: Whether the flow may write its change in several transactions (C(-e allow_chunked=true)).
      type: bool
    started:
      description: When the flow started (seconds since the epoch).
      type: float
problems:
  description: Every problem found (when the task fails; C(msg) names them all).
  returned: on failure, with -v
  type: list
  elements: str
'''
