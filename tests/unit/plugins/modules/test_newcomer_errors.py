# -*- coding: utf-8 -*-
"""Mistakes a newcomer makes, refused in-process before anything connects or is written: each
message names what is wrong and what fixes it."""

import modrun

from ansible_collections.gameops.elastic_release.plugins.modules import release_lookup


def test_a_section_id_with_a_letter_o_is_invalid_not_unowned():
    # port 1: nothing listens there; the refusal comes before any connection is tried
    res = modrun.run(release_lookup, {'hosts': '127.0.0.1:1', 'section_id': '10O3', 'timeout': 1})
    assert res['failed'] is True
    assert "invalid section id '10O3'" in res['msg'] and 'did you mean 1003?' in res['msg'], res['msg']
    assert 'owned by no release' not in res['msg'] and 'cannot connect' not in res['msg']


def test_the_connection_hint_matches_how_the_session_words_a_failed_connection(monkeypatch):
    """The action plugins add where the hosts came from to this one message: the two must agree."""
    from ansible_collections.gameops.elastic_release.plugins.module_utils._zk.session import ZkSession, ZkUnavailable
    from ansible_collections.gameops.elastic_release.plugins.plugin_utils._zk_hint import CONNECT_FAILED, with_hosts_hint
    message = None
    try:
        ZkSession('127.0.0.1:1', timeout=0.5).start()
    except ZkUnavailable as exc:
        message = str(exc)
    assert message is not None, 'a session to 127.0.0.1:1 opened'
    assert message.startswith(CONNECT_FAILED + '127.0.0.1:1'), message
    # (hosts from the inventory: the origin Ansible records is read on the controller only, where importing
    # it belongs; tests/integration/test_newcomer_errors.py checks that message through ansible-playbook)
    monkeypatch.setenv('ELASTIC_RELEASE_ZK_HOSTS', '127.0.0.1:1')
    result = with_hosts_hint({'failed': True, 'msg': message}, {}, {})
    assert result['msg'] == message + ('. The ZooKeeper hosts come from the environment variable ELASTIC_RELEASE_ZK_HOSTS '
                                       '(the inventory sets no elastic_release_zk_hosts): correct it, or pass -e '
                                       'elastic_release_zk_hosts=<host:port,...>/<chroot> to try others')
    assert with_hosts_hint({'failed': True, 'msg': message}, {'hosts': '127.0.0.1:1'}, {})['msg'] == message
