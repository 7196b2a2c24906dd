# -*- coding: utf-8 -*-
# Copyright: (c) 2026, GameOps release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
name: run_context
short_description: The extra variables and working directory this ansible-playbook run was started with
version_added: 0.1.0
description:
  - Returns the C(-e) arguments of the running C(ansible-playbook), as given (C(@file), C(key=value), JSON or
    YAML text, not templated), and the controller's working directory.
  - The flows with C(-e sync=true) start C(playbooks/sync.yml) as a run of its own with the same extra
    variables (C(-e @start-vars.yml), C(-e package_dir=), what AWX passes), so that it sees what the flow
    sees, and in the same directory (relative C(@file) paths).
  - Takes no terms. Returns one mapping (use C(lookup)).
author:
  - GameOps release engineering (@gameops)
'''

EXAMPLES = r'''
- name: The extra variables of this run
  ansible.builtin.debug:
    msg: "{{ lookup('gameops.elastic_release.run_context').extra_vars }}"
'''

RETURN = r'''
_raw:
  description: One mapping, with the run's extra variables and the controller's working directory.
  type: list
  elements: dict
  contains:
    extra_vars:
      description: The C(-e) arguments, in order, as given on the command line.
      type: list
      elements: str
    cwd:
      description: The controller's working directory.
      type: str
'''

import os

from ansible import context
from ansible.plugins.lookup import LookupBase


class LookupModule(LookupBase):

    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        extra = context.CLIARGS.get('extra_vars') or ()
        return [{'extra_vars': [str(value) for value in extra], 'cwd': os.getcwd()}]
