# -*- coding: utf-8 -*-
"""The cmdb inventory plugin: whole inventories through `ansible-inventory`, from a file, from the
example in inventory/, and from an HTTP server on 127.0.0.1 (the export's validation itself is
tested in tests/unit/plugins/module_utils/test_cmdb_export.py)."""

import json
import os
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

import helpers
from cmdbkit import EXPORT, with_change


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


def squeezed(text):
    """Without whitespace: ansible-core before 2.19 wraps warnings at 80 columns (and at hyphens)."""
    return ''.join(text.split())


def test_an_invalid_export_fails_naming_the_host(tmp_path):
    (tmp_path / 'cmdb.json').write_text(json.dumps(with_change(('hosts', 1, 'inner_ip'), 'nope')))
    config = write_config(tmp_path)
    res = helpers.run(['ansible-inventory', '-i', config, '--list'], env={'ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED': 'true'})
    assert res.rc != 0
    assert squeezed("cmdb.json: hosts[1] (gs-review-01): key inner_ip: invalid server inner IP 'nope'") in squeezed(res.output)


def test_hosts_the_release_model_refuses_are_refused_here(tmp_path):
    # A zone id or an IPv4-mapped address would be accepted by ipaddress but refused by the release
    # tree's rule later, in the middle of a start: the inventory refuses it first.
    (tmp_path / 'cmdb.json').write_text(json.dumps(with_change(('hosts', 2, 'inner_ip'), 'fe80::1%eth0')))
    res = helpers.run(['ansible-inventory', '-i', write_config(tmp_path), '--list'],
                      env={'ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED': 'true'})
    assert res.rc != 0
    assert (squeezed("cmdb.json: hosts[2] (v6-host): key inner_ip: invalid server inner IP 'fe80::1%eth0': an IPv6 zone id")
            in squeezed(res.output)), res


def test_the_example_inventory(tmp_path):
    res, data = inventory_list(helpers.copy_inventory(tmp_path))
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
