#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, GameOps release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: flow_summary
short_description: Make the summary of a flow run, publish it as a custom stat and write it to a file
version_added: 0.3.0
description:
  - Runs on the controller (an action plugin; no module is sent to a host). The last step of every flow
    (the C(summary) role) and of its rescue.
  - Builds the summary dictionary (every field is in C(docs/flows.md)), with C(next), the commands to run
    next with the values of this run filled in, C(revisions), the revision written per release, and
    C(write_outcome) (V(not_written) when a flow failed before writing).
  - Publishes it as the custom stat C(elastic_release_summary) (what M(ansible.builtin.set_stats) does),
    sets the fact C(summary_data) and, with O(file), writes it as JSON on the controller, whole or not at
    all (a temporary file renamed over the path), in check mode too.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
  - gameops.elastic_release.controller
attributes:
  diff_mode:
    support: none
  check_mode:
    support: full
    details:
      - The summary file is written in check mode too; it is a controller file, not a ZooKeeper change.
options:
  flow:
    description: The flow (production, gray, widen, start, audit, ...).
    type: str
    required: true
  release:
    description: The release parameter of the flow.
    type: str
    default: ""
  package:
    description: The package parameter (only its file name is reported).
    type: str
    default: ""
  result:
    description: The result of the flow's writing module; its C(impact), C(revision) and C(revisions_written) are reported.
    type: dict
    default: {}
  failed_result:
    description: The result of the task that failed, when the flow failed.
    type: dict
    default: {}
  started:
    description: Start time of the flow (seconds since the epoch); 0 when unknown.
    type: float
    default: 0
  status:
    description: V(ok) or V(failed).
    type: str
    choices: [ok, failed]
    default: ok
  error:
    description: The error of a failed flow.
    type: str
    default: ""
  failed_task:
    description: The name of the task that failed.
    type: str
    default: ""
  extra:
    description: More fields of the flow (steps, findings, hosts...).
    type: dict
    default: {}
  file:
    description: Path of the JSON summary file on the controller; empty for none.
    type: str
    default: ""
author:
  - GameOps release engineering (@gameops)
'''

EXAMPLES = r'''
- name: Summarise the flow
  gameops.elastic_release.flow_summary:
    flow: gray
    release: gray1
    package: /data/dist/mygame-gray1-190122.01.tar.gz
    result: "{{ flow_write }}"
    file: /tmp/gray-summary.json
  register: summary_made

- name: Show the result and the next step
  ansible.builtin.debug:
    msg: "{{ summary_made.lines }}"
'''

RETURN = r'''
lines:
  description: The result and the next step, for a person (what the C(summary) role shows).
  returned: success
  type: list
  elements: str
summary_file:
  description: The absolute path of the summary file written, or null.
  returned: success
  type: str
ansible_facts:
  description: The summary as the fact C(summary_data).
  returned: success
  type: dict
  contains:
    summary_data:
      description: The summary (fields in C(docs/flows.md)).
      type: dict
      returned: success
'''
