# -*- coding: utf-8 -*-
# Copyright: (c) 2026, GameOps release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # The instances of one host as the controller plans them (lookup gameops.elastic_release.fleet),
    # and where their ports come from: the options server_start and release_status share.
    DOCUMENTATION = r'''
options:
  plan:
    description:
      - This host's part of the plan of the C(gameops.elastic_release.fleet) lookup - its C(instances),
        C(served), C(inner_ip), C(sections) and C(error) - in one option; the same as giving O(instances),
        O(served), O(inner_ip) and O(sections) (which win when given too). A plan with an C(error) fails the task with it, and
        nothing is read, started or stopped.
      - The roles pass it so that each host's task reads the controller's plan once, as one argument.
    type: dict
  instances:
    description:
      - The instances of the host, planned and resolved on the controller (lookup C(gameops.elastic_release.fleet))
        - an instance per section the CMDB gives the host for a service run per section, one per host otherwise.
    type: list
    elements: dict
    suboptions:
      service:
        description: The service.
        type: str
        required: true
      per:
        description: V(section) or V(host).
        type: str
        choices: [section, host]
      section_id:
        description: The section of a per-section instance.
        type: str
      owner:
        description: The release that owns the section (or the host's inner IP), or null.
        type: str
      build:
        description: The build the owner says to run (the start-version order), or null.
        type: str
      global_url:
        description: The owner's global URL.
        type: str
      package:
        description: The package file the owner was published from (what sync deploys), or null.
        type: str
      error:
        description: Why the controller could not resolve the instance (no owner, no build for the service), or null.
        type: str
      command:
        description: The command template of the service; empty for the default.
        type: list
        elements: str
  served:
    description:
      - Per service run per section, every section the CMDB gives this host. A pid file of another
        section, whose instance the host no longer serves, is a leftover.
    type: dict
    default: {}
  sections:
    description: Only the leftovers of these sections are looked at (C(-e sections=)); null for all.
    type: list
    elements: str
  ready_port:
    description:
      - The port a per-host instance must accept connections on (C(127.0.0.1)), and the C({port}) placeholder.
    type: int
  ports:
    description: The port of each per-section instance, by section id (as O(ready_port) for a per-host instance).
    type: dict
    default: {}
'''
