# -*- coding: utf-8 -*-
"""A CMDB export for the cmdb tests (tests/unit/plugins/module_utils/test_cmdb_export.py and
tests/unit/plugins/inventory/test_cmdb.py): two deploy locations with hosts, one declared without,
an IPv6 host written upper-case and padded."""

import copy

EXPORT = {
    'deploy_locations': [{'name': 'cn_prod', 'description': 'production'}, 'appstore_review', 'dk-west'],
    'hosts': [
        {'name': 'gs-prod-01', 'inner_ip': '10.1.0.11', 'deploy_location': 'cn_prod',
         'section_ids': [1001, '1002'], 'services': ['gameserver', 'dk-server']},
        {'name': 'gs-review-01', 'inner_ip': '10.2.0.11', 'deploy_location': 'appstore_review',
         'section_ids': [2001], 'services': ['gameserver']},
        {'name': 'v6-host', 'inner_ip': 'FD00::0001', 'deploy_location': 'cn_prod'},
    ],
}


def with_change(path, value):
    doc = copy.deepcopy(EXPORT)
    target = doc
    for key in path[:-1]:
        target = target[key]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return doc
