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
