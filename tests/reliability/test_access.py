# -*- coding: utf-8 -*-
"""Access control with digest auth (guarantee: Safe).

The nodes the collection creates carry its ACL (`acl: auto`: the writer may do everything, the
world may read), a client without credentials reads a release but cannot change it, a module
without (or with wrong) credentials fails clearly writing nothing, and the password never shows
up: not in -vvv/--diff output, not in ansible's log, not in the flow summary, not in any
ZooKeeper node (history revisions included).
"""

import json
import os
import sys
import zlib

import pytest

import faultkit
import helpers

from kazoo.exceptions import NoAuthError
from kazoo.security import OPEN_ACL_UNSAFE, make_digest_acl_credential

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'corpus'))

import generators  # noqa: E402

MODULE = 'zk_release_node'
CONFIG = {'global_url': 'http://10.1.0.6:9000', 'versions': ['1.3.0'], 'sections': {'1901': {'name': 'G'}},
          'servers': {'10.1.0.21': {'services': {'gameserver': 'dev.1'}}}}


def _acl_of(client, path):
    acls, dummy = client.get_acls(path)
    return sorted((a.id.scheme, a.id.id, a.perms) for a in acls)


def _every_node(client, root='/'):
    return sorted(faultkit.dump_tree(client, root))


def _assert_secret_absent(text, secret, where):
    assert secret not in text, 'the password appears in %s' % where


def test_created_nodes_carry_the_acl_and_others_can_only_read(authzk, tmp_path):
    secret = authzk.writer[1]
    log = tmp_path / 'ansible.log'
    env = {'ANSIBLE_LOG_PATH': str(log)}
    args = {'hosts': authzk.hosts, 'release': 'gray1', 'config': CONFIG, 'auth_credential': authzk.credential}
    res, task, dummy = faultkit.adhoc(MODULE, args, env=env, diff=True, verbose='-vvv')
    assert res.rc == 0, res
    assert task['changed'] is True
    # A second publish (so a revision holds a previous state), with a config change.
    res2, dummy, dummy2 = faultkit.adhoc(MODULE, dict(args, config=dict(CONFIG, versions=['1.3.1'])), env=env, diff=True,
                                         verbose='-vvv')
    assert res2.rc == 0, res2
    writer = ('digest', make_digest_acl_credential(*authzk.writer), 31)
    world_read = ('world', 'anyone', 1)
    # ZooKeeper shows a digest ACL's hash only to that identity (others see "user:x").
    with faultkit.kazoo(authzk.hosts, auth_data=[('digest', authzk.credential)]) as owner:
        created = [p for p in _every_node(owner) if p != '/']
        assert '/releases/gray1/sections/1901' in created and '/elastic_release/history/gray1/rev-0000000002' in created
        for path in created:
            assert _acl_of(owner, path) == sorted([writer, world_read]), path
    with faultkit.kazoo(authzk.hosts) as anonymous:
        # Reading works without credentials: game services and VMS read anonymously.
        assert json.loads(anonymous.get('/releases/gray1/sections/1901')[0]) == {'name': 'G'}
        before = faultkit.dump_tree(anonymous)
        for attempt in (lambda: anonymous.set('/releases/gray1/sections/1901', b'{"name":"evil"}'),
                        lambda: anonymous.create('/releases/gray1/sections/6666', b'{}'),
                        lambda: anonymous.delete('/releases/gray1/versions/1.3.1'),
                        lambda: anonymous.set('/releases/gray1/global_url', b'http://evil:1'),
                        lambda: anonymous.create('/releases/evil', b'{}'),
                        lambda: anonymous.set_acls('/releases/gray1', list(OPEN_ACL_UNSAFE))):
            with pytest.raises(NoAuthError):
                attempt()
        assert faultkit.dump_tree(anonymous) == before
        history = [anonymous.get('/elastic_release/history/gray1/' + n)[0]
                   for n in anonymous.get_children('/elastic_release/history/gray1')]
        all_data = b''.join(d for d, *dummy in faultkit.dump_tree(anonymous).values())
    # The password is nowhere: output (-vvv, --diff), ansible's log, history, any node.
    for r in (res, res2):
        _assert_secret_absent(r.stdout + r.stderr, secret, 'ansible output (-vvv --diff)')
        assert 'VALUE_SPECIFIED_IN_NO_LOG_PARAMETER' in r.stdout or '********' in r.stdout
    _assert_secret_absent(log.read_text(), secret, 'ANSIBLE_LOG_PATH')
    for data in history:
        text = zlib.decompress(data).decode('utf-8')
        _assert_secret_absent(text, secret, 'a history revision')
        _assert_secret_absent(text, authzk.credential, 'a history revision')
    _assert_secret_absent(all_data.decode('utf-8', 'replace'), secret, 'ZooKeeper node data')


@pytest.mark.parametrize('credential', [None, 'release_bot:wrong-password', 'intruder:S3cr3t-pw-7f1c2a'])
def test_a_writer_without_the_credentials_fails_clearly_and_writes_nothing(authzk, credential):
    res, dummy, dummy2 = faultkit.adhoc(MODULE, {'hosts': authzk.hosts, 'release': 'gray1', 'config': CONFIG,
                                        'auth_credential': authzk.credential})
    assert res.rc == 0, res
    before = authzk.tree()
    # (section 1901, replaced by 1902, is given up: the refusal that matters here is the lock's)
    args = {'hosts': authzk.hosts, 'release': 'gray1', 'config': dict(CONFIG, sections=['1902']), 'release_items': ['1901']}
    if credential:
        args['auth_credential'] = credential
    res, task, dummy = faultkit.adhoc(MODULE, args, verbose='-vvv')
    faultkit.assert_clean_output(res)
    assert res.rc != 0
    assert 'not authorised' in task['msg'] and '/elastic_release/locks/gray1' in task['msg'], task['msg']
    assert 'nothing was written' in task['msg'], task['msg']
    assert authzk.tree() == before
    if credential:
        assert credential.split(':', 1)[1] not in res.stdout + res.stderr
    # Removing the release is refused the same way.
    res, task, dummy = faultkit.adhoc(MODULE, dict(args, state='absent', config=None, release_items=['all']))
    assert res.rc != 0 and 'not authorised' in task['msg'], task
    assert authzk.tree() == before
    # Reading needs nothing: an identical publish without credentials changes nothing.
    res, task, dummy = faultkit.adhoc(MODULE, {'hosts': authzk.hosts, 'release': 'gray1', 'config': CONFIG})
    assert res.rc == 0 and task['changed'] is False, res


def test_private_acl_hides_the_release_from_anonymous_readers(authzk):
    res, dummy, dummy2 = faultkit.adhoc(MODULE, {'hosts': authzk.hosts, 'release': 'gray1', 'config': CONFIG,
                                        'auth_credential': authzk.credential, 'acl': 'private'})
    assert res.rc == 0, res
    from kazoo.client import KazooClient
    anonymous = KazooClient(hosts=authzk.hosts)
    anonymous.start(timeout=15)
    try:
        with pytest.raises(NoAuthError):
            anonymous.get('/releases/gray1/sections/1901')
    finally:
        anonymous.stop()
        anonymous.close()


def test_flow_with_credentials_from_the_environment_never_shows_them(authzk, tmp_path):
    """The production flow as AWX runs it: credential in ELASTIC_RELEASE_ZK_AUTH_CREDENTIAL,
    -vvv --diff, a summary file. Neither output, log, summary nor ZooKeeper holds the password."""
    secret = authzk.writer[1]
    packages = generators.packages(str(tmp_path / 'packages'))
    inv = helpers.copy_inventory(tmp_path, authzk.hosts)
    summary = tmp_path / 'summary.json'
    log = tmp_path / 'ansible.log'
    res = helpers.run(['ansible-playbook', '-i', inv, 'playbooks/production.yml', '-vvv', '--diff',
                       '-e', json.dumps({'release': 'production', 'package': packages['good_production'],
                                         'summary_file': str(summary)})],
                      env={'ELASTIC_RELEASE_ZK_AUTH_CREDENTIAL': authzk.credential, 'ANSIBLE_LOG_PATH': str(log)})
    assert res.rc == 0, res
    _assert_secret_absent(res.stdout + res.stderr, secret, 'the flow output (-vvv --diff)')
    _assert_secret_absent(log.read_text(), secret, 'the flow log')
    _assert_secret_absent(summary.read_text(), secret, 'the flow summary')
    with faultkit.kazoo(authzk.hosts, auth_data=[('digest', authzk.credential)]) as owner:
        tree = faultkit.dump_tree(owner)
        assert _acl_of(owner, '/releases/production') == sorted(
            [('digest', make_digest_acl_credential(*authzk.writer), 31), ('world', 'anyone', 1)])
        assert _acl_of(owner, '/default_release') == _acl_of(owner, '/releases/production')
    for path, (data, *dummy) in tree.items():
        if '/rev-' in path:
            data = zlib.decompress(data)
        _assert_secret_absent(data.decode('utf-8', 'replace'), secret, path)


def test_check_mode_writes_nothing_even_without_write_access(authzk):
    """--check --diff of a change by a client that could not write it: the module reports the
    change and its diff from reads alone, takes no lock, and writes nothing."""
    res, dummy, dummy2 = faultkit.adhoc(MODULE, {'hosts': authzk.hosts, 'release': 'gray1', 'config': CONFIG,
                                        'auth_credential': authzk.credential})
    assert res.rc == 0, res
    before = authzk.tree()
    res, task, dummy = faultkit.adhoc(MODULE, {'hosts': authzk.hosts, 'release': 'gray1',
                                               'config': dict(CONFIG, sections={'1901': {'name': 'G'}, '1902': {}})},
                                      check=True, diff=True)
    assert res.rc == 0, res
    assert task['changed'] is True and task['revision'] is None
    assert {'op': 'create', 'path': '/releases/gray1/sections/1902'} in task['operations']
    assert '"1902": {}' in res.stdout          # the diff is shown
    assert authzk.tree() == before


def test_module_takes_the_credential_from_the_environment(authzk):
    """ELASTIC_RELEASE_ZK_AUTH_CREDENTIAL stands in for auth_credential (ad-hoc runs, AWX
    credential types): the write is made as that identity, and the secret is not echoed."""
    secret = authzk.credential.split(':', 1)[1]
    res, task, dummy = faultkit.adhoc(MODULE, {'hosts': authzk.hosts, 'release': 'gray_env', 'config': CONFIG},
                                      env={'ELASTIC_RELEASE_ZK_AUTH_CREDENTIAL': authzk.credential}, verbose='-vvv')
    assert res.rc == 0 and task['changed'] is True, res
    _assert_secret_absent(res.stdout + res.stderr, secret, 'ansible output (-vvv)')
    writer = ('digest', make_digest_acl_credential(*authzk.writer), 31)
    with faultkit.kazoo(authzk.hosts, auth_data=[('digest', authzk.credential)]) as owner:
        assert _acl_of(owner, '/releases/gray_env/sections/1901') == sorted([writer, ('world', 'anyone', 1)])
