# -*- coding: utf-8 -*-
"""Test-only lookup: a digest of every znode under a ZooKeeper hosts string (its chroot), with each
node's data, data version, child version and ACL version. Two equal digests mean nothing was
created, deleted, written or re-ACLed in between. Read with raw kazoo, never with the collection.

Used by tests/reliability/test_corpus.py between the cases of one playbook run:
    "{{ lookup('zk_tree_digest', hosts) }}"
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib

from ansible.plugins.lookup import LookupBase


class LookupModule(LookupBase):

    def run(self, terms, variables=None, **kwargs):
        from kazoo.client import KazooClient
        client = KazooClient(hosts=terms[0], timeout=10)
        client.start(timeout=30)
        try:
            digest = hashlib.sha256()
            level = ['/']
            while level:
                pending = [(p, client.get_async(p), client.get_children_async(p)) for p in level]
                level = []
                for path, got, kids in pending:
                    data, stat = got.get(timeout=30)
                    digest.update(repr((path, data, stat.version, stat.cversion, stat.aversion)).encode())
                    for child in sorted(kids.get(timeout=30)):
                        if path == '/' and child == 'zookeeper':
                            continue
                        level.append(path.rstrip('/') + '/' + child)
            return [digest.hexdigest()]
        finally:
            client.stop()
            client.close()
