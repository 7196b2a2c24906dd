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


def test_the_connection_hint_matches_how_the_session_words_a_failed_connection():
    """_zk_action adds where the hosts came from to this one message: the two must agree."""
    from ansible_collections.gameops.elastic_release.plugins.module_utils._zk.session import ZkSession, ZkUnavailable
    from ansible_collections.gameops.elastic_release.plugins.plugin_utils._zk_action import CONNECT_FAILED, with_hosts_hint
    message = None
    try:
        ZkSession('127.0.0.1:1', timeout=0.5).start()
    except ZkUnavailable as exc:
        message = str(exc)
    assert message is not None, 'a session to 127.0.0.1:1 opened'
    assert message.startswith(CONNECT_FAILED + '127.0.0.1:1'), message
    result = with_hosts_hint({'failed': True, 'msg': message}, {}, {'elastic_release_zk_hosts': '127.0.0.1:1'})
    assert result['msg'].startswith(message + '. The ZooKeeper hosts are elastic_release_zk_hosts, set in ')
    assert with_hosts_hint({'failed': True, 'msg': message}, {'hosts': '127.0.0.1:1'}, {})['msg'] == message
