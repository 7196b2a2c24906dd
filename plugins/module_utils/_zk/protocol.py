# -*- coding: utf-8 -*-
# Copyright: (c) 2026, GameOps release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# This module_utils is PRIVATE to gameops.elastic_release; its API may change without notice.
"""ZooKeeper's multi-read (opcode 22, servers 3.6+) in jute, for kazoo's protocol layer.

kazoo has no API for it, but its connection thread sends any object with ``type`` and
``serialize()`` and answers the caller with ``deserialize(bytes, offset)``, as it does for its own
``Transaction``. The encoding follows ZooKeeper's MultiOperationRecord and MultiResponse
(zookeeper-server/src/main/java/org/apache/zookeeper/, zookeeper.jute):

request  = { MultiHeader(type, done=false, err=-1) GetDataRequest|GetChildrenRequest }*
           MultiHeader(-1, true, -1)
answer   = { MultiHeader(type, false, err) GetDataResponse|GetChildrenResponse|ErrorResponse }*
           MultiHeader(-1, true, -1)

with MultiHeader = int type, boolean done (one byte), int err; GetDataRequest and
GetChildrenRequest = ustring path, boolean watch; GetDataResponse = buffer data, Stat;
GetChildrenResponse = vector<ustring>; ErrorResponse = int err. Every int is big-endian, a
ustring or buffer is an int length (-1 for NULL) and the bytes, a vector an int count and its items.

Each sub-operation is answered on its own: a missing node is an ErrorResult (header type -1, err
-101 NONODE) in its place while the others carry their data; the reply header's err stays 0. A
server without multi-read (3.5 and older) answers the whole request with err -6 UNIMPLEMENTED and
closes the connection.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import struct
from collections import namedtuple

try:
    from kazoo.exceptions import EXCEPTIONS, MarshallingError, ZookeeperError
    from kazoo.protocol.paths import _prefix_root
    from kazoo.protocol.states import ZnodeStat
except ImportError:  # pragma: no cover - _zk reports the missing library
    _prefix_root = None
    EXCEPTIONS = None
    MarshallingError = ZookeeperError = ValueError
    ZnodeStat = None

MULTI_READ = 22      # ZooDefs.OpCode.multiRead
GET_DATA = 4         # ZooDefs.OpCode.getData
GET_CHILDREN = 8     # ZooDefs.OpCode.getChildren
ERROR = -1           # ZooDefs.OpCode.error: an ErrorResult in a MultiResponse
NONODE = -101        # KeeperException.Code.NONODE
UNIMPLEMENTED = -6   # KeeperException.Code.UNIMPLEMENTED: the opcode is unknown to the server

_INT = struct.Struct('!i')
_HEADER = struct.Struct('!iBi')                 # MultiHeader: int type, boolean done, int err
_STAT = struct.Struct('!qqqqiiiqiiq')           # org.apache.zookeeper.data.Stat, 68 bytes
_DONE = _HEADER.pack(-1, 1, -1)

# Fixed bytes around a request's ops: the length prefix, the RequestHeader (xid, type) and the
# closing MultiHeader. Around an answer's results: the length prefix, the ReplyHeader (xid, zxid,
# err) and the closing MultiHeader.
REQUEST_OVERHEAD = 4 + 8 + _HEADER.size
ANSWER_OVERHEAD = 4 + 16 + _HEADER.size
# One getData result without its data: header, data length, Stat.
GET_DATA_RESULT_OVERHEAD = _HEADER.size + 4 + _STAT.size


# How many reads share one multi-read. The request is sized exactly (paths are known); the answer
# only once it comes, so its size is bounded by the count. ZooKeeper builds each answer whole in its
# heap before sending it (a 21.6 MB answer killed a 128 MB server with OutOfMemoryError) and its
# Java client refuses answers over jute.maxbuffer: READ_OPS getData stay under READ_ANSWER_BYTES
# while nodes hold up to 2,016 bytes on average (docs/design.md, "Reads").
READ_OPS = 500
READ_REQUEST_BYTES = 1000000     # as for writes: under the 1,048,579 bytes the server takes
READ_ANSWER_BYTES = 1048575      # jute.maxbuffer's default


class ReadOp(namedtuple('ReadOp', 'type path')):
    """One sub-operation of a multi-read: GET_DATA or GET_CHILDREN of a full server path (the
    chroot already prefixed), never with a watch."""

    def serialize(self):
        raw = self.path.encode('utf-8')
        return _HEADER.pack(self.type, 0, -1) + _INT.pack(len(raw)) + raw + b'\x00'

    def size(self):
        """Bytes this op adds to a request."""
        return _HEADER.size + 4 + len(self.path.encode('utf-8')) + 1


def get_data(path):
    return ReadOp(GET_DATA, path)


def get_children(path):
    return ReadOp(GET_CHILDREN, path)


def request_bytes(ops):
    """Exact size of the multi-read request carrying ops, length prefix included (the figure the
    server compares with jute.maxbuffer)."""
    return REQUEST_OVERHEAD + sum(op.size() for op in ops)


def ops_per_read(node_bytes=None):
    """READ_OPS, or fewer when one node may hold node_bytes (> 2,016) bytes of data."""
    if not node_bytes:
        return READ_OPS
    room = READ_ANSWER_BYTES - ANSWER_OVERHEAD
    return max(1, min(READ_OPS, room // (GET_DATA_RESULT_OVERHEAD + int(node_bytes))))


def plan(keys, chroot='', node_bytes=None):
    """[(verb, path)] with verb get/exists/children, paths below chroot -> [(keys, MultiRead)] in
    order, each request within ops_per_read(node_bytes) ops and READ_REQUEST_BYTES bytes. exists is
    asked as getData (see single_result)."""
    ops = [(get_children if verb == 'children' else get_data)(_prefix_root(chroot, path)) for verb, path in keys]
    out, start = [], 0
    for part in split(ops, ops_per_read(node_bytes), READ_REQUEST_BYTES):
        out.append((keys[start:start + len(part)], MultiRead(part)))
        start += len(part)
    return out


def single_result(verb, result):
    """A multi-read result in the shape kazoo's single read of verb answers: exists -> the stat of
    the getData result. Errors (exception instances) pass unchanged."""
    if verb == 'exists' and not isinstance(result, Exception):
        return result[1]
    return result


def split(ops, max_ops, max_request_bytes):
    """Cut ops, in order, into lists of at most max_ops ops and max_request_bytes request bytes."""
    if max_ops < 1:
        raise ValueError('max_ops must be at least 1')
    parts, part, size = [], [], REQUEST_OVERHEAD
    for op in ops:
        one = op.size()
        if REQUEST_OVERHEAD + one > max_request_bytes:
            raise ValueError('the path %s alone needs a %d-byte read request, over %d bytes'
                             % (op.path, REQUEST_OVERHEAD + one, max_request_bytes))
        if part and (len(part) >= max_ops or size + one > max_request_bytes):
            parts.append(part)
            part, size = [], REQUEST_OVERHEAD
        part.append(op)
        size += one
    if part:
        parts.append(part)
    return parts


class MultiRead(namedtuple('MultiRead', 'ops')):
    """A multi-read request for kazoo's ``client._call(request, async_result)``.

    The async result gets one entry per op, in order: ``(data, ZnodeStat)`` for getData (data is
    None for a node with NULL data, b'' for empty data), a list of child names for getChildren,
    or, for an op the server refused, the kazoo exception instance of its error code
    (``NoNodeError()`` for a missing node): exactly what ``get_async``/``get_children_async``
    would have answered or raised.
    """

    type = MULTI_READ

    def serialize(self):
        return b''.join(op.serialize() for op in self.ops) + _DONE

    def deserialize(self, data, offset):
        results = parse_answer(data, offset)
        if len(results) != len(self.ops):
            raise MarshallingError('multi-read answer has %d results for %d operations'
                                   % (len(results), len(self.ops)))
        for op, result in zip(self.ops, results):
            if isinstance(result, Exception):
                continue
            expected = tuple if op.type == GET_DATA else list
            if not isinstance(result, expected):
                raise MarshallingError('multi-read answer for %s does not match its operation' % op.path)
        return results


def _read_buffer(data, offset):
    length = _INT.unpack_from(data, offset)[0]
    offset += 4
    if length < 0:
        return None, offset
    end = offset + length
    if end > len(data):
        raise MarshallingError('multi-read answer truncated')
    return bytes(data[offset:end]), end


def parse_answer(data, offset=0):
    """The results of a MultiResponse body starting at offset (after the ReplyHeader)."""
    results = []
    try:
        while True:
            kind, done, err = _HEADER.unpack_from(data, offset)
            offset += _HEADER.size
            if done:
                return results
            if kind == GET_DATA:
                value, offset = _read_buffer(data, offset)
                stat = ZnodeStat._make(_STAT.unpack_from(data, offset))
                offset += _STAT.size
                results.append((value, stat))
            elif kind == GET_CHILDREN:
                count = _INT.unpack_from(data, offset)[0]
                offset += 4
                names = []
                for dummy in range(max(0, count)):
                    name, offset = _read_buffer(data, offset)
                    names.append(name.decode('utf-8') if name is not None else None)
                results.append(names)
            elif kind == ERROR:
                # The ErrorResponse body repeats the code the header carries.
                code = _INT.unpack_from(data, offset)[0]
                offset += 4
                results.append(EXCEPTIONS[code]() if code in EXCEPTIONS else ZookeeperError('error code %d' % code))
            else:
                raise MarshallingError('unexpected result type %d in a multi-read answer' % kind)
    except struct.error:
        raise MarshallingError('multi-read answer truncated')


def answer_bytes(results):
    """Size of the answer that carries results (as parse_answer returns them), length prefix
    included: what kazoo reads off the socket for one multi-read."""
    total = ANSWER_OVERHEAD
    for result in results:
        if isinstance(result, Exception):
            total += _HEADER.size + 4
        elif isinstance(result, tuple):
            total += GET_DATA_RESULT_OVERHEAD + len(result[0] or b'')
        else:
            total += _HEADER.size + 4 + sum(4 + len(name.encode('utf-8')) for name in result)
    return total


def multi_op_bytes(ops, acl, chroot=''):
    """Bytes ZooKeeper's server counts for a transaction (multi, opcode 14) of [(op, path, data or
    version, ...)], length prefix included, to stay under jute.maxbuffer."""
    prefix = len(chroot.encode('utf-8'))
    acl_bytes = 4 + sum(4 + 4 + len(a.id.scheme) + 4 + len(a.id.id) for a in acl)
    total = 4 + 8 + 9  # length prefix, request header, closing multi header
    for op in ops:
        path = 4 + prefix + len(op[1].encode('utf-8'))
        if op[0] == 'create':
            total += 9 + path + 4 + len(op[2]) + acl_bytes + 4
        elif op[0] == 'set':
            total += 9 + path + 4 + len(op[2]) + 4
        else:
            total += 9 + path + 4
    return total
