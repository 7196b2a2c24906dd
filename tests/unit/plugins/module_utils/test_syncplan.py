# -*- coding: utf-8 -*-
"""Which hosts and sections a flow with -e sync=true syncs after a write."""

from ansible_collections.gameops.elastic_release.plugins.module_utils._flow.syncplan import sync_targets

HOSTS = [{'name': 'gs-a', 'inner_ip': '10.3.0.1', 'section_ids': [1001, 1002]},
         {'name': 'gs-b', 'inner_ip': '10.3.0.2', 'section_ids': [1003, 1004]},
         {'name': 'gs-c', 'inner_ip': '10.3.0.3', 'section_ids': [1901]}]


def owner(kind, name, src, dst):
    return {'kind': kind, 'name': name, 'from': src, 'to': dst}


def test_a_moved_section_syncs_that_section_on_the_hosts_that_serve_it():
    impact = {'owners': [owner('sections', '1003', 'production', 'gray1'), owner('sections', '7777', 'production', 'gray1')]}
    assert sync_targets(impact, HOSTS) == {'hosts': ['gs-b'], 'sections': ['1003'], 'left': []}


def test_a_moved_server_syncs_every_instance_of_its_host():
    impact = {'owners': [owner('sections', '1003', 'production', 'gray1'), owner('servers', '10.3.0.1', 'production', 'gray1')]}
    assert sync_targets(impact, HOSTS) == {'hosts': ['gs-a', 'gs-b'], 'sections': [], 'left': []}


def test_items_given_up_are_left_out_and_named():
    impact = {'owners': [owner('sections', '1901', 'gray1', None), owner('sections', '1004', 'gray1', 'production')]}
    assert sync_targets(impact, HOSTS) == {'hosts': ['gs-b'], 'sections': ['1004'], 'left': ['section 1901']}


def test_changed_node_data_syncs_its_section():
    impact = {'owners': [], 'data': [{'kind': 'sections', 'name': '1002', 'release': 'production'}]}
    assert sync_targets(impact, HOSTS) == {'hosts': ['gs-a'], 'sections': ['1002'], 'left': []}


def test_whole_syncs_every_host_and_nothing_moved_syncs_nothing():
    assert sync_targets({'owners': []}, HOSTS, whole=True) == {'hosts': ['gs-a', 'gs-b', 'gs-c'], 'sections': [], 'left': []}
    assert sync_targets({'owners': []}, HOSTS) == {'hosts': [], 'sections': [], 'left': []}
    assert sync_targets(None, HOSTS) == {'hosts': [], 'sections': [], 'left': []}
