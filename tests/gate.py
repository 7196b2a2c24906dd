# -*- coding: utf-8 -*-
"""A health gate for the widen and narrow flow tests: asks where some items route, from a process of
its own with raw kazoo (as VMS would), appends the answers to a file, and passes (exit 0).

    python tests/gate.py <zk hosts> <record file> section_id=1003 inner_ip=10.1.0.12 ...
    python tests/gate.py --fail <reason>      (exits 3, printing the reason)
"""

import json
import sys

from kazoo.client import KazooClient

KINDS = {'section_id': 'sections', 'inner_ip': 'servers', 'version': 'versions'}


def main(argv):
    if argv[1] == '--fail':   # a gate that says no: `gate.py --fail <reason>`
        sys.stderr.write(argv[2])
        return 3
    hosts, record, questions = argv[1], argv[2], argv[3:]
    client = KazooClient(hosts=hosts, timeout=10)
    client.start(timeout=15)
    try:
        releases = sorted(client.get_children('/releases'))
        answers = {}
        for question in questions:
            key, value = question.split('=', 1)
            owners = [r for r in releases if client.exists('/releases/%s/%s/%s' % (r, KINDS[key], value))]
            answers[question] = owners[0] if len(owners) == 1 else owners
    finally:
        client.stop()
        client.close()
    with open(record, 'a') as handle:
        handle.write(json.dumps({'answers': answers}) + '\n')
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
