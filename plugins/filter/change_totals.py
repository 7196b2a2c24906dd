# -*- coding: utf-8 -*-
# Copyright: (c) 2026, GameOps release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The totals of a run of writes (the steps of a widen or narrow, and an undo), for the flows' summary.

The documentation of the filter is in the YAML file of the same name beside this one.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError
from ansible_collections.gameops.elastic_release.plugins.module_utils._write.impact import totals


def change_totals(results, net=False):
    """Totals of write results (a list of zk_release_move, zk_release_node or zk_release_revision results)."""
    if not isinstance(results, (list, tuple)) or not all(isinstance(r, dict) for r in results):
        raise AnsibleFilterError('change_totals: expected a list of module results, got %r' % (results,))
    return totals(results, with_net=bool(net))


class FilterModule(object):
    def filters(self):
        return {'change_totals': change_totals}
