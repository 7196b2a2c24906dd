# -*- coding: utf-8 -*-
"""module_utils/_cmdb.py: the CMDB export validated as a whole, inner IPs and section ids by the
release tree's own rules (_names), every refusal naming the source, the host and the key."""

import pytest

from ansible_collections.gameops.elastic_release.plugins.module_utils._host.cmdb import (
    MAX_EXPORT_BYTES, CmdbError, load_text, parse_cmdb, parse_export)
from cmdbkit import EXPORT, with_change


def test_parse_normalises_names():
    locations, hosts = parse_cmdb(EXPORT, 'cmdb.yml')
    assert locations == {'cn_prod': 'production', 'appstore_review': None, 'dk-west': None}
    assert hosts[0] == {'name': 'gs-prod-01', 'inner_ip': '10.1.0.11', 'deploy_location': 'cn_prod',
                        'section_ids': ['1001', '1002'], 'services': ['gameserver', 'dk-server']}
    assert hosts[2]['inner_ip'] == 'fd00::1' and hosts[2]['section_ids'] == [] and hosts[2]['services'] == []


@pytest.mark.parametrize('path,value,message', [
    (('hosts', 0, 'inner_ip'), '10.1.0.300',
     "cmdb.yml: hosts[0] (gs-prod-01): key inner_ip: invalid server inner IP '10.1.0.300': not an IPv4 or IPv6 address"),
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
    (('hosts', 2, 'inner_ip'), 'fe80::1%eth0',
     "cmdb.yml: hosts[2] (v6-host): key inner_ip: invalid server inner IP 'fe80::1%eth0': an IPv6 zone id"),
    (('hosts', 2, 'inner_ip'), '::ffff:10.0.0.1',
     "cmdb.yml: hosts[2] (v6-host): key inner_ip: invalid server inner IP '::ffff:10.0.0.1': an IPv4-mapped IPv6 "
     'address; write the IPv4 address 10.0.0.1'),
    (('hosts', 2, 'inner_ip'), 10, 'cmdb.yml: hosts[2] (v6-host): key inner_ip: invalid server inner IP 10: must be a string'),
    (('hosts', 2, 'inner_ip'), KeyError, 'cmdb.yml: hosts[2] (v6-host): key inner_ip: invalid server inner IP None'),
    (('hosts', 2, 'inner_ip'), '10.1.0.11', 'hosts[2] (v6-host): key inner_ip: 10.1.0.11 is also the inner IP of host gs-prod-01'),
    (('hosts', 0, 'section_ids'), [1001, True], "hosts[0] (gs-prod-01): key section_ids[1]: invalid section id True"),
    (('deploy_locations', 0, 'region'), 'cn', "deploy_locations[0]: unknown key 'region'"),
    (('deploy_locations',), KeyError, 'cmdb.yml: key deploy_locations: must be a list, got nothing (the key is missing)'),
    (('hosts',), {'gs-prod-01': {}}, 'cmdb.yml: key hosts: must be a list, got dict'),
    (('format',), 2, 'cmdb.yml: key format: this plugin reads format 1, got 2'),
    (('hostz',), [], "cmdb.yml: unknown key 'hostz'"),
])
def test_invalid_exports_name_the_host_and_the_key(path, value, message):
    doc = with_change(path, value)
    if message is None:
        locations, _hosts = parse_cmdb(doc, 'cmdb.yml')
        assert sorted(locations) == ['appstore_review', 'cn_prod', value]
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


def test_inner_ips_come_out_as_the_tree_names_them():
    doc = with_change(('hosts', 2, 'inner_ip'), '2001:DB8:0::1')
    assert parse_cmdb(doc, 'cmdb.yml')[1][2]['inner_ip'] == '2001:db8::1'
    # Two spellings of one address are one address.
    doc['hosts'][1]['inner_ip'] = '2001:db8::0:1'
    with pytest.raises(CmdbError) as exc:
        parse_cmdb(doc, 'cmdb.yml')
    assert 'hosts[2] (v6-host): key inner_ip: 2001:db8::1 is also the inner IP of host gs-review-01' in str(exc.value)


def test_parse_export_reads_bytes():
    text = b'{"deploy_locations": ["a"], "hosts": [{"name": "h", "inner_ip": "10.0.0.1", "deploy_location": "a"}]}'
    assert parse_export(text, '/x/cmdb.json', 'cmdb.json') == (
        {'a': None}, [{'name': 'h', 'inner_ip': '10.0.0.1', 'deploy_location': 'a', 'section_ids': [], 'services': []}])
    with pytest.raises(CmdbError, match=r'^cmdb\.json: hosts\[0\] \(h\): key inner_ip'):
        parse_export(text.replace(b'10.0.0.1', b'10.0.0.256'), '/x/cmdb.json', 'cmdb.json')
    with pytest.raises(CmdbError, match=r'^/x/cmdb\.json: not UTF-8 text \(byte 0\)$'):
        parse_export(b'\xff', '/x/cmdb.json', 'cmdb.json')
    with pytest.raises(CmdbError, match=r'^/x/cmdb\.json: larger than %d bytes$' % MAX_EXPORT_BYTES):
        parse_export(b' ' * (MAX_EXPORT_BYTES + 1), '/x/cmdb.json')
