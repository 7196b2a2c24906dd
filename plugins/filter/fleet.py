# -*- coding: utf-8 -*-
# Copyright: (c) 2026, GameOps release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet's status document from the controller's plan and every host's release_status result.

The documentation of the filter is in the YAML file of the same name beside this one.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError
from ansible_collections.gameops.elastic_release.plugins.module_utils._host.fleet_report import report


def fleet_report(plan, results, package_dir=None):
    """Every instance, the counts per state, the table of drift and what sync does per host."""
    if not isinstance(plan, dict) or not isinstance(results, dict):
        raise AnsibleFilterError('fleet_report takes the plan of lookup gameops.elastic_release.fleet and a mapping of '
                                 'host to its release_status result')
    return report(plan, results, package_dir or None)


class FilterModule(object):
    def filters(self):
        return {'fleet_report': fleet_report}
