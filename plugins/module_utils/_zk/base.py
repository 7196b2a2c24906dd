# -*- coding: utf-8 -*-
# Copyright: (c) 2026, GameOps release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# This module_utils is PRIVATE to gameops.elastic_release; its API may change without notice.
"""What every part of the ZooKeeper session shares: kazoo (its client loaded when a session is first
made), the errors and how they are worded, the limits of reads in flight.
No Ansible imports here."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import logging

try:
    from kazoo import exceptions as kex
    HAS_KAZOO = True
    KAZOO_IMPORT_ERROR = None
except ImportError as _exc:  # pragma: no cover - reported by the adapters
    HAS_KAZOO = False
    KAZOO_IMPORT_ERROR = _exc
    kex = None

# kazoo's client, loaded by load_client() when a session is first made: importing it costs a few
# tens of ms, which a module that never connects (server_start resolved by the controller, on
# every host of a fleet) should not pay.
KazooClient = KazooState = make_digest_acl = make_acl = OPEN_ACL_UNSAFE = None
KazooTimeoutError = Exception


def load_client():
    """Import kazoo's client (once)."""
    global KazooClient, KazooState, KazooTimeoutError, make_digest_acl, make_acl, OPEN_ACL_UNSAFE
    if KazooClient is None and HAS_KAZOO:
        from kazoo.client import KazooClient as client, KazooState as state
        from kazoo.handlers.threading import KazooTimeoutError as timeout_error
        from kazoo.security import OPEN_ACL_UNSAFE as open_acl, make_acl as acl, make_digest_acl as digest_acl
        KazooClient, KazooState, KazooTimeoutError = client, state, timeout_error
        make_digest_acl, make_acl, OPEN_ACL_UNSAFE = digest_acl, acl, open_acl


# The connection options every module and plugin shares (documented in doc_fragments/zookeeper.py).
CONNECTION_DEFAULTS = {
    'hosts': None,
    'timeout': 10.0,
    'auth_scheme': 'digest',
    'auth_credential': None,
    'use_tls': False,
    'ca_cert': None,
    'client_cert': None,
    'client_key': None,
    'validate_certs': True,
    'acl': 'auto',
}
ENV_HOSTS = 'ELASTIC_RELEASE_ZK_HOSTS'
# Requests in flight at once: single reads (the pipelined path), and multi-reads (sized by
# _zkproto.plan; few at once, as the server holds every answer it built until we read it).
PIPELINE_WINDOW = 100
MULTI_READ_WINDOW = 4
# Connection losses in a row, with no answer in between, before a read gives up.
MAX_DROPS = 3
# unlock() waits this long for a connection (a leader election takes about a second), not for a
# lost quorum: the ephemeral lock node goes with the session anyway.
UNLOCK_WAIT = 3.0
# kazoo logs reconnects at WARNING through logging's last-resort handler (stderr noise in plugin
# output); our errors carry their own messages.
logging.getLogger('kazoo').addHandler(logging.NullHandler())


class ZkError(Exception):
    """A ZooKeeper operation that failed; the message names the path and the operation."""


class ZkUnavailable(ZkError):
    """No usable session within the deadline: unreachable servers, or an ensemble without quorum."""


class ZkBusy(ZkUnavailable):
    """Connected, but ZooKeeper did not answer within the deadline: a busy server or an overloaded
    machine. A write whose answer never came may or may not have been applied."""


class ZkConflict(ZkError):
    """Someone else changed what we read (a version check failed): read again and re-plan."""


class ZkRequestTooLarge(ZkError):
    pass


class ZkLocked(ZkError):
    """Another writer held the lock for longer than we were asked to wait."""


class Dropped(Exception):
    """The connection went away under a read: the answers in flight are lost, not refused."""


# What each read verb is called in messages.
VERBS = {'get': 'read', 'children': 'list children of', 'exists': 'stat'}


def describe(exc):
    name = type(exc).__name__
    text = {
        'NoNodeError': 'node does not exist',
        'NodeExistsError': 'node exists',
        'BadVersionError': 'version changed since it was read',
        'NotEmptyError': 'node has children',
        'NoAuthError': 'not authorised (ACL refuses this identity)',
        'AuthFailedError': 'authentication failed',
        'NoChildrenForEphemeralsError': 'ephemeral nodes cannot have children',
        'RolledBackError': 'rolled back with the transaction',
        'RuntimeInconsistency': 'rolled back with the transaction',
        'ConnectionLoss': 'connection lost',
        'SessionExpiredError': 'session expired',
        'MarshallingError': 'request could not be marshalled',
        'UnimplementedError': 'operation unknown to this ZooKeeper server',
    }.get(name)
    return text or ('%s %s' % (name, exc)).strip()


def secs(value):
    return '%g' % value


class Unreadable(object):
    """The answer to a read ZooKeeper refused for want of the READ right (a node another tool made
    with an ACL this client has no credential for), kept instead of raised when a reader asked
    for `unreadable=True`: such a reader (the audit, the release map) goes on with the rest."""

    def __init__(self, path):
        self.path = path

    def __bool__(self):
        return False

    __nonzero__ = __bool__

    def __repr__(self):
        return 'Unreadable(%r)' % self.path


def keep(key, value, out, unreadable=False):
    if isinstance(value, kex.NoNodeError):
        value = None
    elif unreadable and isinstance(value, kex.NoAuthError):
        value = Unreadable(key[1])
    elif isinstance(value, Exception):
        raise ZkError('cannot %s %s: %s' % (VERBS[key[0]], key[1], describe(value)))
    out[key] = value
