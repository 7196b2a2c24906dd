# -*- coding: utf-8 -*-
"""The multi-read's jute encoding (_zkproto), against bytes written out by hand from ZooKeeper's
definitions (zookeeper.jute, MultiOperationRecord, MultiResponse). No ZooKeeper here."""

import struct

import pytest

from kazoo.exceptions import MarshallingError, NoAuthError, NoNodeError, UnimplementedError, ZookeeperError
from kazoo.protocol.states import ZnodeStat

from ansible_collections.gameops.elastic_release.plugins.module_utils._zk import protocol as _zkproto

# Spelled out, not taken from _zkproto: int = 4 bytes big-endian, boolean = 1 byte,
# ustring/buffer = int length (-1 for NULL) + bytes, vector = int count + items.
FALSE, TRUE = b'\x00', b'\x01'


def i32(value):
    return struct.pack('>i', value)


def i64(value):
    return struct.pack('>q', value)


def ustring(text):
    raw = text.encode('utf-8')
    return i32(len(raw)) + raw


def buffer(data):
    return i32(-1) if data is None else i32(len(data)) + data


def header(kind, done, err):          # MultiHeader {int type; boolean done; int err}
    return i32(kind) + (TRUE if done else FALSE) + i32(err)


DONE = header(-1, True, -1)
STAT_FIELDS = (11, 12, 1700000000000, 1700000000001, 3, 4, 5, 0, 2, 6, 13)


def stat_bytes(czxid, mzxid, ctime, mtime, version, cversion, aversion, owner, length, children, pzxid):
    return (i64(czxid) + i64(mzxid) + i64(ctime) + i64(mtime) + i32(version) + i32(cversion)
            + i32(aversion) + i64(owner) + i32(length) + i32(children) + i64(pzxid))


STAT = stat_bytes(*STAT_FIELDS)


def test_stat_is_68_bytes():
    assert len(STAT) == 68


def test_request_of_getdata_and_getchildren():
    request = _zkproto.MultiRead([_zkproto.get_data('/a'), _zkproto.get_children('/bc')])
    assert request.type == 22
    expected = (header(4, False, -1) + ustring('/a') + FALSE      # GetDataRequest {path, watch}
                + header(8, False, -1) + ustring('/bc') + FALSE   # GetChildrenRequest {path, watch}
                + DONE)
    assert bytes(request.serialize()) == expected
    # kazoo frames it: int length, int xid, int type, body. request_bytes counts all of it.
    assert _zkproto.request_bytes(request.ops) == 4 + 4 + 4 + len(expected)


def test_request_paths_are_utf8_and_counted_in_bytes():
    op = _zkproto.get_data(u'/r\u00e9')
    assert bytes(op.serialize()) == header(4, False, -1) + i32(4) + b'/r\xc3\xa9' + FALSE
    assert op.size() == len(op.serialize())


def test_empty_request():
    assert bytes(_zkproto.MultiRead([]).serialize()) == DONE


def answer(*results):
    return b''.join(results) + DONE


def test_answer_with_data_missing_node_children_null_and_empty_data():
    body = answer(
        header(4, False, 0) + buffer(b'xy') + STAT,              # GetDataResponse {data, stat}
        header(-1, False, -101) + i32(-101),                     # ErrorResponse {err}: NONODE
        header(8, False, 0) + i32(2) + ustring('a') + ustring(u'b\u00e9'),   # GetChildrenResponse
        header(4, False, 0) + buffer(None) + STAT,               # NULL data
        header(4, False, 0) + buffer(b'') + STAT,                # empty data
        header(8, False, 0) + i32(0),                            # no children
    )
    request = _zkproto.MultiRead([_zkproto.get_data('/x'), _zkproto.get_data('/missing'),
                                  _zkproto.get_children('/x'), _zkproto.get_data('/null'),
                                  _zkproto.get_data('/empty'), _zkproto.get_children('/leaf')])
    prefix = b'\xaa' * 16    # where kazoo's ReplyHeader was: deserialize starts at an offset
    results = request.deserialize(prefix + body, len(prefix))
    stat = ZnodeStat(*STAT_FIELDS)
    assert results[0] == (b'xy', stat) and isinstance(results[0][0], bytes)
    assert isinstance(results[1], NoNodeError)
    assert results[2] == ['a', u'b\u00e9']
    assert results[3] == (None, stat)
    assert results[4] == (b'', stat)
    assert results[5] == []
    assert _zkproto.answer_bytes(results) == 4 + 16 + len(body)


def test_each_error_code_becomes_kazoos_exception():
    body = answer(header(-1, False, -102) + i32(-102), header(-1, False, -6) + i32(-6))
    results = _zkproto.parse_answer(body)
    assert isinstance(results[0], NoAuthError)
    assert isinstance(results[1], UnimplementedError)


def test_an_unknown_error_code_is_still_an_error_of_its_own():
    result, = _zkproto.parse_answer(answer(header(-1, False, -999) + i32(-999)))
    assert isinstance(result, ZookeeperError) and 'error code -999' in str(result)


def test_result_count_must_match_the_request():
    request = _zkproto.MultiRead([_zkproto.get_data('/a'), _zkproto.get_data('/b')])
    with pytest.raises(MarshallingError, match='1 results for 2 operations'):
        request.deserialize(answer(header(4, False, 0) + buffer(b'') + STAT), 0)


def test_result_kind_must_match_its_operation():
    request = _zkproto.MultiRead([_zkproto.get_data('/a')])
    with pytest.raises(MarshallingError, match='/a'):
        request.deserialize(answer(header(8, False, 0) + i32(0)), 0)


@pytest.mark.parametrize('cut', [3, 9, 20, 60])
def test_truncated_answer_is_refused(cut):
    body = answer(header(4, False, 0) + buffer(b'xyz') + STAT)
    with pytest.raises(MarshallingError, match='truncated'):
        _zkproto.parse_answer(body[:cut])


def test_unknown_result_type_is_refused():
    with pytest.raises(MarshallingError, match='unexpected result type 5'):
        _zkproto.parse_answer(answer(header(5, False, 0) + STAT))


def test_plan_keeps_order_prefixes_the_chroot_and_asks_exists_as_getdata():
    keys = [('get', '/a'), ('exists', '/b'), ('children', '/'), ('get', '/c')]
    (part, request), = _zkproto.plan(keys, '/proj')
    assert part == keys
    assert [(op.type, op.path) for op in request.ops] == [(4, '/proj/a'), (4, '/proj/b'), (8, '/proj'), (4, '/proj/c')]
    stat = ZnodeStat(*STAT_FIELDS)
    assert _zkproto.single_result('exists', (b'data', stat)) == stat
    assert _zkproto.single_result('get', (b'data', stat)) == (b'data', stat)
    missing = NoNodeError()
    assert _zkproto.single_result('exists', missing) is missing


def test_plan_splits_by_count():
    keys = [('get', '/n%04d' % i) for i in range(1201)]
    parts = _zkproto.plan(keys)
    assert [len(part) for part, dummy in parts] == [500, 500, 201]
    assert [key for part, dummy in parts for key in part] == keys


def test_split_by_request_bytes():
    ops = [_zkproto.get_data('/' + 'p' * 999) for dummy in range(10)]   # 1,014 bytes each
    parts = _zkproto.split(ops, 500, 4000)
    assert [len(part) for part in parts] == [3, 3, 3, 1]
    assert all(_zkproto.request_bytes(part) <= 4000 for part in parts)
    assert _zkproto.request_bytes(ops[:4]) > 4000
    with pytest.raises(ValueError, match='alone needs a 1035-byte read request'):
        _zkproto.split(ops, 500, 1000)


@pytest.mark.parametrize('node_bytes, count', [(None, 500), (2000, 500), (2016, 500), (4000, 256),
                                               (1048576, 1), (10 ** 9, 1)])
def test_ops_per_read_keeps_answers_under_the_limit(node_bytes, count):
    assert _zkproto.ops_per_read(node_bytes) == count
    if node_bytes and node_bytes < 10 ** 6:
        worst = 4 + 16 + 9 + count * (9 + 4 + node_bytes + 68)
        assert worst <= _zkproto.READ_ANSWER_BYTES


def test_multi_op_bytes_counts_a_transaction():
    # create /a (data 'xy', world:anyone ACL, flags) + check /a version 0, with chroot /c
    from kazoo.security import OPEN_ACL_UNSAFE
    ops = [('create', '/a', b'xy'), ('check', '/a', 0)]
    acl = i32(1) + i32(31) + ustring('world') + ustring('anyone')
    body = (header(1, False, -1) + ustring('/c/a') + buffer(b'xy') + acl + i32(0)
            + header(13, False, -1) + ustring('/c/a') + i32(0) + DONE)
    assert _zkproto.multi_op_bytes(ops, OPEN_ACL_UNSAFE, '/c') == 4 + 4 + 4 + len(body)
