# -*- coding: utf-8 -*-
"""A TCP proxy on 127.0.0.1 in front of a real ZooKeeper that understands the framing of its
client protocol, to make a healthy server look slow, frozen or old:

- delay: every answer leaves the proxy `delay` seconds after the previous one (or after it came,
  if later), the way a busy server answers a queue of requests one by one;
- freeze(): answers are held (the connection stays open, requests still go through) until thaw();
- freeze_after(opcode, seconds): once a request of that opcode (14: a transaction) has been
  forwarded, nothing more goes either way for `seconds` - the server applies the transaction but
  the client hears nothing, not even its pings' answers, and the server hears no ping: both ends
  give the session up, exactly as when a network partition falls right after a commit was sent;
- old_server = 'unimplemented': a multi-read (opcode 22) is answered with error -6 UNIMPLEMENTED
  and the connection closed, as ZooKeeper 3.5 and older do for an unknown opcode; 'drop': the
  connection is closed without an answer.

Frames are int length + body. From the client: a ConnectRequest first, then RequestHeader
{int xid; int type} + request. From the server: a ConnectResponse first, then ReplyHeader
{int xid; long zxid; int err} + response.
"""

import collections
import socket
import struct
import threading
import time

MULTI_READ = 22
UNIMPLEMENTED = -6


def _recv_exact(sock, count):
    chunks = []
    while count:
        chunk = sock.recv(min(count, 1 << 16))
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        count -= len(chunk)
    return b''.join(chunks)


def _frame(sock):
    head = _recv_exact(sock, 4)
    return head + _recv_exact(sock, struct.unpack('>i', head)[0])


class _Link(object):
    """One client connection and its upstream connection."""

    def __init__(self, proxy, client):
        self.proxy = proxy
        self.client = client
        self.server = socket.create_connection(proxy.upstream)
        self.answers = collections.deque()   # (frame, arrival)
        self.cond = threading.Condition()
        self.closed = False
        self.last_word = False   # an answer that ends the connection is queued: nothing after it
        self.zxid = 0
        for target in (self.requests, self.replies, self.release):
            thread = threading.Thread(target=target, name='zkproxy')
            thread.daemon = True
            thread.start()

    def close(self):
        with self.cond:
            self.closed = True
            self.cond.notify_all()
        for sock in (self.client, self.server):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()

    def requests(self):
        """Client -> server, frame by frame (the old-server act needs the opcode)."""
        try:
            first = _frame(self.client)                 # ConnectRequest
            while self.proxy.cut:
                time.sleep(0.01)
            self.server.sendall(first)
            while True:
                frame = _frame(self.client)
                xid, kind = struct.unpack_from('>ii', frame, 4)
                if kind == MULTI_READ and self.proxy.old_server:
                    self.proxy.refused += 1
                    if self.proxy.old_server == 'unimplemented':
                        # After the answers before it, like the server's own error; then close.
                        with self.cond:
                            body = struct.pack('>iqi', xid, self.zxid, UNIMPLEMENTED)
                            self.answers.append((struct.pack('>i', len(body)) + body, time.time()))
                            self.last_word = True
                            self.cond.notify_all()
                        return
                    break
                self.server.sendall(frame)
                if self.proxy.trigger is not None and kind == self.proxy.trigger[0]:
                    self.proxy.partition(self.proxy.trigger[1])
                while self.proxy.cut:
                    time.sleep(0.01)
        except (EOFError, OSError):
            pass
        self.close()

    def replies(self):
        """Server -> queue: every answer with the time it came."""
        try:
            first = True
            while True:
                frame = _frame(self.server)
                with self.cond:
                    if self.last_word:
                        continue
                    if not first:
                        self.zxid = max(self.zxid, struct.unpack_from('>q', frame, 8)[0])
                    first = False
                    self.answers.append((frame, time.time()))
                    self.cond.notify_all()
        except (EOFError, OSError):
            pass
        # Let the queued answers out before closing (the server closed after answering).
        with self.cond:
            while self.answers and not self.closed:
                self.cond.wait(0.05)
        self.close()

    def release(self):
        """Queue -> client, each answer `delay` after the previous one, none while frozen."""
        last = 0.0
        try:
            while True:
                with self.cond:
                    while not self.closed and (not self.answers or self.proxy.frozen):
                        self.cond.wait(0.05)
                    if self.closed:
                        return
                    frame, came = self.answers[0]
                due = max(came, last) + self.proxy.delay
                while time.time() < due and not self.closed:
                    time.sleep(min(0.01, max(0.0, due - time.time())))
                if self.proxy.frozen:
                    continue
                self.client.sendall(frame)
                last = time.time()
                with self.cond:
                    self.answers.popleft()
                    self.cond.notify_all()
                    done = self.last_word and not self.answers
                if done:
                    self.close()
                    return
        except OSError:
            self.close()


class ZkProxy(object):
    """`with ZkProxy(server.port) as proxy: proxy.hosts` (add a chroot to it as usual)."""

    def __init__(self, upstream_port, delay=0.0):
        self.upstream = ('127.0.0.1', upstream_port)
        self.delay = delay
        self.frozen = False
        self.cut = False          # requests held too (a partition)
        self.trigger = None       # (opcode, seconds) for freeze_after
        self.partitions = []      # when each partition started and how long it lasted
        self.old_server = None
        self.refused = 0
        self.links = []
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(('127.0.0.1', 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        self.running = True
        thread = threading.Thread(target=self._accept, name='zkproxy-accept')
        thread.daemon = True
        thread.start()

    @property
    def hosts(self):
        return '127.0.0.1:%d' % self.port

    def _accept(self):
        while self.running:
            try:
                client, dummy = self.listener.accept()
            except OSError:
                return
            try:
                self.links.append(_Link(self, client))
            except OSError:
                client.close()

    def freeze(self):
        self.frozen = True

    def thaw(self):
        self.frozen = False
        self.cut = False

    def freeze_after(self, opcode, seconds):
        """Partition both ways for `seconds` right after forwarding the next request of `opcode`."""
        self.trigger = (opcode, seconds)

    def partition(self, seconds):
        self.trigger = None
        self.frozen = self.cut = True
        self.partitions.append((time.time(), seconds))
        timer = threading.Timer(seconds, self.thaw)
        timer.daemon = True
        timer.start()

    def close(self):
        self.running = False
        try:
            self.listener.shutdown(socket.SHUT_RDWR)   # wakes the accept() that close() would not
        except OSError:
            pass
        self.listener.close()
        for link in self.links:
            link.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
