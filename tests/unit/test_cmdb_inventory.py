# -*- coding: utf-8 -*-
"""The cmdb inventory plugin: the export's validation (pure), then whole inventories through
`ansible-inventory`, from a file, from the example in inventory/, and from an HTTP server on 127.0.0.1."""

import copy
import json
import os
import shutil
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

import helpers
from ansible_collections.gameops.elastic_release.plugins.inventory.cmdb import CmdbError, load_text, parse_cmdb

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


def test_parse_normalises_names():
    locations, hosts = parse_cmdb(EXPORT, 'cmdb.yml')
    assert locations == {'cn_prod': 'production', 'appstore_review': None, 'dk-west': None}
    assert hosts[0] == {'name': 'gs-prod-01', 'inner_ip': '10.1.0.11', 'deploy_location': 'cn_prod',
                        'section_ids': ['1001', '1002'], 'services': ['gameserver', 'dk-server']}
    assert hosts[2]['inner_ip'] == 'fd00::1' and hosts[2]['section_ids'] == [] and hosts[2]['services'] == []


@pytest.mark.parametrize('path,value,message', [
    (('hosts', 0, 'inner_ip'), '10.1.0.300', "cmdb.yml: hosts[0] (gs-prod-01): key inner_ip: invalid inner IP '10.1.0.300'"),
    (('hosts', 1, 'inner_ip'), '10.1.0.11', 'hosts[1] (gs-review-01): key inner_ip: 10.1.0.11 is also the inner IP of host gs-prod-01'),
    (('hosts', 1, 'name'), 'gs-prod-01', 'hosts[1] (gs-prod-01): host name gs-prod-01 is also hosts[0]'),
    (('hosts', 1, 'name'), 'bad/name', "hosts[1]: key name: invalid host name 'bad/name'"),
    (('hosts', 1, 'deploy_location'), 'cn_test', "hosts[1] (gs-review-01): key deploy_location: 'cn_test' is not one of the deploy_locations"),
    (('hosts', 1, 'deploy_location'), KeyError, 'hosts[1] (gs-review-01): key deploy_location: None is not one of'),
    (('hosts', 0, 'section_ids'), [1001, 'a/b'], "hosts[0] (gs-prod-01): key section_ids[1]: invalid section id 'a/b'"),
    (('hosts', 0, 'section_ids'), [1001, 1001], 'hosts[0] (gs-prod-01): key section_ids[1]: section id 1001 listed twice'),
    (('hosts', 0, 'section_ids'), '1001', 'hosts[0] (gs-prod-01): key section_ids: must be a list of section ids, got str'),
    (('hosts', 0, 'services'), ['game server'], "hosts[0] (gs-prod-01): key services[0]: invalid service name 'game server'"),
    (('hosts', 0, 'services'), ['dk-server', 'dk_server'], 'services dk-server and dk_server would both be group service_dk_server'),
    (('hosts', 0, 'sectoins'), [1], "hosts[0] (gs-prod-01): unknown key 'sectoins'"),
    (('hosts', 0), 'gs-prod-01', 'hosts[0]: must be a mapping'),
    (('deploy_locations', 1), 'cn_prod', 'deploy_locations[1]: deploy location cn_prod is declared twice'),
    (('deploy_locations', 2), 'dk_west', None),  # a different name for the same group is fine alone
    (('deploy_locations', 0, 'region'), 'cn', "deploy_locations[0]: unknown key 'region'"),
    (('deploy_locations',), KeyError, 'cmdb.yml: key deploy_locations: must be a list, got nothing (the key is missing)'),
    (('hosts',), {'gs-prod-01': {}}, 'cmdb.yml: key hosts: must be a list, got dict'),
    (('format',), 2, 'cmdb.yml: key format: this plugin reads format 1, got 2'),
    (('hostz',), [], "cmdb.yml: unknown key 'hostz'"),
])
def test_invalid_exports_name_the_host_and_the_key(path, value, message):
    doc = with_change(path, value)
    if message is None:
        parse_cmdb(doc, 'cmdb.yml')
        return
    with pytest.raises(CmdbError) as exc:
        parse_cmdb(doc, 'cmdb.yml')
    assert message in str(exc.value)


def test_unknown_keys_can_be_allowed():
    doc = with_change(('hosts', 0, 'rack'), 'A12')
    doc['exported_by'] = 'cmdb-job'
    assert parse_cmdb(doc, 'cmdb.yml', allow_unknown=True)[1][0]['name'] == 'gs-prod-01'


def test_load_text_reports_the_position():
    assert load_text('{"hosts": [], "deploy_locations": []}', 'x.json') == {'hosts': [], 'deploy_locations': []}
    with pytest.raises(CmdbError) as exc:
        load_text('hosts:\n  - name: a\n   bad: [', 'cmdb.yml')
    assert 'cmdb.yml: not valid YAML or JSON at line' in str(exc.value)


# ---- through ansible-inventory -------------------------------------------------------------------

def plain(value):
    """ansible-inventory --export marks untrusted strings (all CMDB data) as {'__ansible_unsafe': s}."""
    if isinstance(value, dict):
        if list(value) == ['__ansible_unsafe']:
            return value['__ansible_unsafe']
        return dict((k, plain(v)) for k, v in value.items())
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def inventory_list(source):
    res = helpers.run(['ansible-inventory', '-i', source, '--list', '--export'])
    return res, (json.loads(res.stdout) if res.rc == 0 else None)


def write_config(directory, source='cmdb.json', **options):
    config = dict(plugin='gameops.elastic_release.cmdb', source=source, **options)
    path = os.path.join(str(directory), 'game.cmdb.yml')
    with open(path, 'w') as handle:
        json.dump(config, handle)
    return path


def test_groups_hostvars_and_constructed_options(tmp_path):
    (tmp_path / 'cmdb.json').write_text(json.dumps(EXPORT))
    config = write_config(tmp_path, compose={'ansible_host': 'inner_ip'},
                          keyed_groups=[{'key': 'section_ids', 'prefix': 'section'}],
                          groups={'gameservers_in_prod': "'gameserver' in services and deploy_location == 'cn_prod'"})
    res, data = inventory_list(config)
    assert res.rc == 0, res

    def hosts(group):
        return sorted(data.get(group, {}).get('hosts', []))
    assert hosts('location_cn_prod') == ['gs-prod-01', 'v6-host']
    assert hosts('location_appstore_review') == ['gs-review-01']
    assert 'location_dk_west' in data['all']['children']  # declared without hosts: the group exists
    assert hosts('service_gameserver') == ['gs-prod-01', 'gs-review-01']
    assert hosts('service_dk_server') == ['gs-prod-01']
    assert hosts('section_1001') == ['gs-prod-01'] and hosts('section_2001') == ['gs-review-01']
    assert hosts('gameservers_in_prod') == ['gs-prod-01']
    hostvars = data['_meta']['hostvars']['gs-prod-01']
    # CMDB data is never trusted as a template.
    assert hostvars['inner_ip'] == {'__ansible_unsafe': '10.1.0.11'}
    assert plain(hostvars) == {'inner_ip': '10.1.0.11', 'section_ids': ['1001', '1002'], 'deploy_location': 'cn_prod',
                               'services': ['gameserver', 'dk-server'], 'ansible_host': '10.1.0.11'}


def test_an_invalid_export_fails_naming_the_host(tmp_path):
    (tmp_path / 'cmdb.json').write_text(json.dumps(with_change(('hosts', 1, 'inner_ip'), 'nope')))
    config = write_config(tmp_path)
    res = helpers.run(['ansible-inventory', '-i', config, '--list'], env={'ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED': 'true'})
    assert res.rc != 0
    assert "cmdb.json: hosts[1] (gs-review-01): key inner_ip: invalid inner IP 'nope'" in res.output


def test_the_example_inventory(tmp_path):
    inv = tmp_path / 'inventory'
    shutil.copytree(os.path.join(helpers.ROOT, 'inventory'), str(inv))
    res, data = inventory_list(str(inv))
    assert res.rc == 0, res
    # Ansible's yaml plugin also reads the export (cmdb.yml) and adds nothing from it.
    assert not set(data) & {'hosts', 'deploy_locations'}
    assert sorted(data['location_cn_prod']['hosts']) == ['global-prod-01', 'gs-gray-01', 'gs-prod-01', 'gs-prod-02']
    assert sorted(data['location_appstore_review']['hosts']) == ['global-review-01', 'gs-review-01']
    registry = data['all']['vars']['elastic_release_registry']
    assert registry == {'production': {'type': 'production', 'location': 'cn_prod'},
                        'gray1': {'type': 'gray', 'location': 'cn_prod'},
                        'appstore_review': {'type': 'review', 'location': 'appstore_review'}}
    # Every registered release lives in a deploy location of the CMDB; a review release is named after it.
    for release, entry in registry.items():
        assert 'location_' + entry['location'] in data
        assert entry['type'] != 'review' or entry['location'] == release


class _Handler(BaseHTTPRequestHandler):
    body = b''
    seen = []

    def do_GET(self):  # noqa: N802 (http.server's naming)
        _Handler.seen.append((self.path, self.headers.get('Authorization')))
        if self.path != '/export':
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args):
        pass


@pytest.fixture
def cmdb_server():
    server = HTTPServer(('127.0.0.1', 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield 'http://127.0.0.1:%d' % server.server_address[1]
    server.shutdown()
    server.server_close()


def test_http_source(tmp_path, cmdb_server):
    _Handler.body = json.dumps(EXPORT).encode()
    _Handler.seen = []
    config = write_config(tmp_path, source=cmdb_server + '/export', headers={'Authorization': 'Bearer t0ken'}, timeout=5)
    res, data = inventory_list(config)
    assert res.rc == 0, res
    assert sorted(data['location_cn_prod']['hosts']) == ['gs-prod-01', 'v6-host']
    assert _Handler.seen == [('/export', 'Bearer t0ken')]

    config = write_config(tmp_path, source=cmdb_server + '/missing')
    res = helpers.run(['ansible-inventory', '-i', config, '--list'], env={'ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED': 'true'})
    assert res.rc != 0
    assert 'cannot read the CMDB export from %s/missing: HTTP Error 404' % cmdb_server in res.output
