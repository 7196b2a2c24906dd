# -*- coding: utf-8 -*-
"""TLS to ZooKeeper (guarantee: Safe): a server with secureClientPort (Netty, PEM key and trust
stores, client certificates required), certificates made by the tests with `cryptography`.

The modules and the lookup plugin connect with use_tls/ca_cert/client_cert/client_key; a wrong
CA, an unknown client certificate or a plain connection are refused with a message that says
why, and nothing is written.
"""

import json
import uuid

import pytest

import faultkit
import helpers

CONFIG = {'global_url': 'http://10.1.0.6:9000', 'versions': ['1.3.0'], 'sections': {'1901': {'name': 'TLS'}},
          'servers': ['10.1.0.21']}


@pytest.fixture
def tls(tls_server):
    """The TLS server with a fresh chroot; `tls.args(...)` are the connection options."""
    certs = tls_server.certs
    chroot = '/tls_%s' % uuid.uuid4().hex[:8]
    with faultkit.kazoo(tls_server.hosts) as c:        # plain port: setup only
        c.ensure_path(chroot)

    class View(object):
        hosts = tls_server.secure_hosts + chroot
        plain_hosts = tls_server.hosts + chroot

        @staticmethod
        def args(ca='ca_pem', cert='client_crt', key='client_key', **extra):
            out = {'hosts': View.hosts, 'use_tls': True, 'ca_cert': certs[ca], 'timeout': 3}
            if cert:
                out['client_cert'] = certs[cert]
            if key:
                out['client_key'] = certs[key]
            out.update(extra)
            return out

        @staticmethod
        def tree():
            with faultkit.kazoo(View.plain_hosts) as c:
                return faultkit.dump_tree(c)

        @staticmethod
        def raw_tls_client():
            return faultkit.kazoo(View.hosts, use_ssl=True, ca=certs['ca_pem'], certfile=certs['client_crt'],
                                  keyfile=certs['client_key'])
    return View


def test_modules_and_lookup_plugin_work_over_tls(tls):
    res, task, dummy = faultkit.adhoc('zk_release_node', tls.args(release='production', config=CONFIG, set_default=True, timeout=15))
    assert res.rc == 0, res
    assert task['changed'] is True
    # Verified over TLS with raw kazoo, never with the module under test.
    with tls.raw_tls_client() as c:
        assert json.loads(c.get('/releases/production/sections/1901')[0]) == {'name': 'TLS'}
    res, task, dummy = faultkit.adhoc('zk_release_node', tls.args(release='production', config=CONFIG, set_default=True, timeout=15))
    assert res.rc == 0 and task['changed'] is False, res
    res, task, dummy = faultkit.adhoc('release_lookup', tls.args(section_id='1901', timeout=15))
    assert res.rc == 0, res
    assert task['release'] == 'production'
    # The lookup plugin, with the same options given as lookup keywords.
    args = tls.args()
    play = [{'hosts': 'localhost', 'gather_facts': False, 'tasks': [{
        'ansible.builtin.assert': {'that': [
            "lookup('gameops.elastic_release.release', section_id='1901', hosts=zk_hosts, use_tls=true, "
            "ca_cert=zk_ca, client_cert=zk_cert, client_key=zk_key).release == 'production'"]}}]}]
    res = _play(play, {'zk_hosts': args['hosts'], 'zk_ca': args['ca_cert'], 'zk_cert': args['client_cert'],
                       'zk_key': args['client_key']})
    assert res.rc == 0, res


def _play(play, extra_vars):
    import tempfile
    with tempfile.NamedTemporaryFile('w', suffix='.yml', delete=False) as f:
        json.dump(play, f)
    return helpers.playbook(f.name, extra_vars=extra_vars)


@pytest.mark.parametrize('case,args,expect', [
    ('wrong CA', {'ca': 'wrongca_pem'}, 'CERTIFICATE_VERIFY_FAILED'),
    ('client certificate of another CA', {'cert': 'rogue_crt', 'key': 'rogue_key'}, 'certificate'),
    ('no client certificate', {'cert': None, 'key': None}, 'SSL'),
    ('key of another certificate', {'key': 'rogue_key'}, 'KEY_VALUES_MISMATCH'),
])
def test_bad_tls_is_refused_clearly_and_writes_nothing(tls, case, args, expect):
    before = tls.tree()
    res, task, dummy = faultkit.adhoc('zk_release_node', tls.args(release='gray1', config=CONFIG, **args))
    faultkit.assert_clean_output(res)
    assert res.rc != 0, res
    assert 'cannot connect to ZooKeeper at %s' % tls.hosts.split('/')[0] in task['msg'], task['msg']
    assert expect in task['msg'], (case, task['msg'])
    assert tls.tree() == before


def test_plain_client_on_the_tls_port_and_tls_on_the_plain_port_are_refused(tls):
    before = tls.tree()
    res, task, dummy = faultkit.adhoc('zk_release_node', {'hosts': tls.hosts, 'release': 'gray1', 'config': CONFIG,
                                                          'timeout': 3})
    faultkit.assert_clean_output(res)
    assert res.rc != 0 and 'cannot connect to ZooKeeper' in task['msg'], task
    res, task, dummy = faultkit.adhoc('zk_release_node', dict(tls.args(release='gray1', config=CONFIG),
                                                              hosts=tls.plain_hosts))
    faultkit.assert_clean_output(res)
    assert res.rc != 0 and 'cannot connect to ZooKeeper' in task['msg'], task
    assert 'SSL' in task['msg'] or 'ssl' in task['msg'], task['msg']
    assert tls.tree() == before


def test_missing_certificate_file_is_named(tls):
    res, task, dummy = faultkit.adhoc('zk_release_node', dict(tls.args(release='gray1', config=CONFIG),
                                                              ca_cert='/nonexistent/ca.pem'))
    assert res.rc != 0 and 'ca_cert file /nonexistent/ca.pem does not exist' in task['msg'], task
