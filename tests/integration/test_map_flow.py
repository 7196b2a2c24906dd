# -*- coding: utf-8 -*-
"""playbooks/map.yml with the status flow's summary: real ansible-playbook over a copy of the example
inventory, real ZooKeeper. A status file that is not there is refused before ZooKeeper is read and no
page is written; a real one colours every section tile by the worst state of its instances."""

import json

import browser
import modrun
from flowkit import flow

from ansible_collections.gameops.elastic_release.plugins.module_utils._report.render_tiles import NO_INSTANCE, STATE_COLOUR
from ansible_collections.gameops.elastic_release.plugins.modules import zk_release_node

SERVICE = {'services': {'gameserver': 'dev.190122.01'}}
KEYS = ('host', 'inner_ip', 'service', 'per', 'section_id', 'owner', 'expected_build', 'running_release',
        'running_build', 'pid', 'state')


def instance(host, ip, section, owner, state, service='gameserver', per='section'):
    return dict(zip(KEYS, (host, ip, service, per, section, owner, 'dev.190122.01', owner, 'dev.190122.01', 4242,
                           state)))


def test_map_flow_colours_sections_by_sync_state(zk, inventory, tmp_path):
    production = {'global_url': 'http://10.1.0.5:9000', 'versions': ['1.2.0'], 'sections': ['1001', '1002', '1003', '1004'],
                  'servers': {'10.1.0.11': SERVICE, '10.1.0.12': SERVICE}}
    gray1 = {'global_url': 'http://10.1.0.6:9000', 'versions': ['1.3.0'], 'sections': ['1901'],
             'servers': {'10.1.0.21': SERVICE}}
    for release, extra, config in (('production', {'set_default': True}, production),
                                   ('gray1', {'append_versions_to_default': True}, gray1)):
        assert modrun.run(zk_release_node, dict(extra, hosts=zk.hosts, release=release, config=config))['changed']
    page = tmp_path / 'map.html'

    missing = tmp_path / 'no-such-status.json'
    run = flow(inventory, tmp_path, 'map', map_file=str(page), status_file=str(missing))
    assert run.rc == 2, run
    assert ('status_file %s does not exist or is not a file: write it first with ansible-playbook -i <inventory> '
            'playbooks/status.yml -e summary_file=%s' % (missing, missing)) in run.summary['error']
    assert not page.exists()

    status = tmp_path / 'status.json'
    status.write_text(json.dumps({'flow': 'status', 'instances': [
        instance('gs-prod-01', '10.1.0.11', '1001', 'production', 'in_sync'),
        instance('gs-prod-01', '10.1.0.11', '1001', 'production', 'wrong_build', service='battle'),
        instance('gs-prod-01', '10.1.0.11', '1002', 'production', 'in_sync'),
        instance('gs-prod-02', '10.1.0.12', '1003', 'production', 'not_running'),
        instance('gs-gray-01', '10.1.0.21', '1901', 'gray1', 'wrong_release'),
        instance('global-prod-01', '10.1.0.5', None, None, 'not_owned', service='global', per='host'),
    ]}))
    run = flow(inventory, tmp_path, 'map', map_file=str(page), status_file=str(status))
    assert run.rc == 0, run
    root, errors = browser.parse(page.read_text())
    assert errors == []
    fills = {}
    for block in root.find('svg').find_all('g', cls='block'):
        for rect in block.find_all('rect'):
            title = rect.find('title')
            if title is not None and 'stroke' not in rect.attrs:
                fills[title.text().split(' \u00b7 ')[0]] = rect.attrs['fill']
    assert fills == {'section 1001': STATE_COLOUR['wrong_build'], 'section 1002': STATE_COLOUR['in_sync'],
                     'section 1003': STATE_COLOUR['not_running'], 'section 1004': NO_INSTANCE,
                     'section 1901': STATE_COLOUR['wrong_release']}
    header = root.find('header').text()
    assert str(status) in header and '2 in sync, 4 not' in header
