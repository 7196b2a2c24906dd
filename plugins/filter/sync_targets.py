# -*- coding: utf-8 -*-
# Copyright: (c) 2026, GameOps release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The hosts and sections a flow with -e sync=true syncs after a write.

The documentation of the filter is in the YAML file of the same name beside this one.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError
from ansible_collections.gameops.elastic_release.plugins.module_utils._flow.syncplan import sync_targets as _sync_targets


def sync_targets(impact, hosts, whole=False):
    """{'hosts', 'sections', 'left'} of a write's impact over the flow's CMDB hosts."""
    if not isinstance(impact, dict) or not isinstance(hosts, (list, tuple)):
        raise AnsibleFilterError('sync_targets: expected an impact (a mapping) and a list of CMDB hosts, got %r and %r'
                                 % (impact, hosts))
    return _sync_targets(impact, hosts, whole=bool(whole))


class FilterModule(object):
    def filters(self):
        return {'sync_targets': sync_targets}
