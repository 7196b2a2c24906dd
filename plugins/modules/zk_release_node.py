#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, GameOps release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: zk_release_node
short_description: Publish or remove a release's nodes in ZooKeeper, atomically
version_added: 0.1.0
description:
  - Makes C(/releases/{release}) hold exactly (or at least, with O(mode=merge)) the versions,
    sections, servers and global URL of a C({release}.config.zoo), read from a dict, a file or a
    server package.
  - Every change is one ZooKeeper multi-op, together with a revision holding the release's previous
    state under C({admin_root}/history/{release}) (see the rollback flow), so readers see all of
    the change or none of it.
  - Writers of one release are serialised by a lock under C({admin_root}/locks/{release}); the
    transaction also checks that the lock is still held, so a writer whose session expired
    writes nothing.
  - Reading and comparing happens before the lock is taken, so a rerun with nothing to change
    takes no lock and writes nothing.
  - Invalid names or an invalid config are refused before connecting; nothing is written.
  - The release map stays whole (see docs/ownership.md). A publish that would give a section or a server a
    second owner, or a client version a second non-default release, is refused naming each item and
    its owner, and nothing is written; O(takeover) takes such items from their owner in the same
    transaction instead. A write that would leave a section or server with no owner (a config that
    drops it, a removal) is refused unless O(release_items) names it.
  - Every write is one change (RV(change)), recorded with the state it replaced in every release it
    touched; M(gameops.elastic_release.zk_release_revision) lists and undoes changes.
  - Items another release holds by a move from this release (a widened gray release) stay there and
    are returned as RV(held_elsewhere); items this release holds by a move and its config does not
    list are kept (RV(kept_moved)). Removing a release gives its lent items back to their origin.
  - A new build whose config is unchanged is written as a metadata-only change (the C(package) of
    C(/releases/{release}) names the build that is live); RV(metadata_only) says so.
author:
  - GameOps release engineering (@gameops)
extends_documentation_fragment:
  - gameops.elastic_release.zookeeper
  - gameops.elastic_release.write
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
  platform:
    platforms: posix
options:
  release:
    description:
      - Name of the release, matching C(^[a-z][a-z0-9_]{0,63}$).
    type: str
    required: true
  state:
    description:
      - V(present) publishes the config; V(absent) removes the whole release subtree (refused for
        the default release).
    type: str
    choices: [present, absent]
    default: present
  config:
    description:
      - The config as data, in the C(config.zoo) format (keys C(global_url), C(versions),
        C(sections), C(servers)).
      - Exactly one of O(config), O(config_file) and O(package) is required with O(state=present).
    type: dict
  config_file:
    description:
      - Path of a C({release}.config.zoo) file on the managed host (a regular file).
      - The file must say which release it is for, so that the config of another release unpacked
        beside it is never published by mistake - by its name (C(gray1.config.zoo) is release
        C(gray1)'s, and refused for any other release), or, for other names, by a C(release) key
        in the document.
    type: path
  package:
    description:
      - Path of a server package C(.tar.gz); its C(filecache/{release}.config.zoo) and
        C(filecache/release_indicator.json) are read from the archive itself.
      - The release in the package's file name, its indicator and its config.zoo must agree with O(release).
    type: path
  name_pattern:
    description:
      - Regular expression with named groups C(release) and C(build) that parses a package file name.
      - Defaults to C({project}-{release}-{build}.tar.gz).
    type: str
  mode:
    description:
      - V(replace) makes the release's versions, sections, servers and global URL exactly the
        config's, removing what is gone. V(merge) only adds and updates.
    type: str
    choices: [replace, merge]
    default: replace
  set_default:
    description:
      - Also write C(/default_release) with the package's C(release_indicator.json) when O(package)
        is given, else with a JSON object whose C(name) is O(release). Only the production flow does this.
    type: bool
    default: false
  append_versions_to_default:
    description:
      - Also create this release's versions under the default release's C(versions) (found through
        C(/default_release)), in the same transaction. The review and gray flows do this.
    type: bool
    default: false
  keep_appended_versions:
    description:
      - With O(mode=replace) on the default release, keep the versions that another release
        also lists (the review and gray flows append their versions to the default release), so
        that rerunning the production flow does not unlist the review or gray clients. A version
        whose release no longer lists it (retired, or republished without it) is removed.
      - V(false) makes the default release's versions exactly the config's.
    type: bool
    default: true
  takeover:
    description:
      - Take the sections, servers and non-default versions of the config that another release owns
        from that release, in the same transaction (each touched release gets a revision). Without
        it such a publish is refused. Prefer the widen and narrow flows for gray releases.
    type: bool
    default: false
  absorb:
    description:
      - Releases whose sections, servers and versions this release takes over, removing those
        releases, in the same transaction (the promote flow). Each gets a revision of the one change.
      - With O(package), the package's build must be the build of the package recorded on each absorbed
        release (the build that ran as gray); otherwise the write is refused naming both builds.
      - When every absorbed release is gone and the newest promote recorded on O(release) absorbed
        them with the same package, nothing is written and RV(already_promoted) names that change
        (a pipeline's retry is V(ok)).
    type: list
    elements: str
    default: []
  allow_other_build:
    description:
      - With O(absorb), promote a package of another build than the absorbed release's.
    type: bool
    default: false
  leave_to:
    description:
      - Releases whose sections and servers stay theirs even when the config lists them (they are left
        out of this write and reported as RV(left_to)). The first write of a promote too large for one
        transaction - the production package published in parts with O(allow_chunked) while the gray
        release still holds its items - and then the promote, with O(absorb), moves them in one
        transaction. Not with O(absorb).
    type: list
    elements: str
    default: []
  origin:
    description:
      - Free text recorded with the revision as its package (for example the package file name
        or a Tianti job id). Defaults to the package's file name when O(package) is given.
    type: str
  verify:
    description:
      - How to tell whether the release already holds the config.
      - V(full) reads every node's data and compares it (about 0.5 ms per node).
      - V(fast) trusts the digest stored with the last write when no node was created or deleted
        and C(global_url) was not written since. It does B(not) see an in-place data edit of an
        existing version, section or server node made outside this collection. Only with O(mode=replace).
    type: str
    choices: [full, fast]
    default: full
  max_reported_operations:
    description:
      - How many operations to list in RV(operations); RV(operations_count) always has the total.
    type: int
    default: 1000
notes:
  - Requires the C(kazoo) Python library on the host that runs the module.
seealso:
  - module: gameops.elastic_release.release_lookup
'''

EXAMPLES = r'''
- name: Publish a gray release from its config.zoo and route its versions
  gameops.elastic_release.zk_release_node:
    hosts: 10.0.0.1:2181,10.0.0.2:2181/mygame
    release: gray1
    config_file: /data/filecache/gray1.config.zoo
    append_versions_to_default: true

- name: Publish production from a server package and mark it the default release
  gameops.elastic_release.zk_release_node:
    release: production
    package: /data/packages/mygame-production-190122.01.tar.gz
    set_default: true

- name: Write a config given inline (lists are fine where nodes carry no data)
  gameops.elastic_release.zk_release_node:
    release: appstore_review
    config:
      global_url: http://10.0.0.9:9000
      versions: [1.2.0, 1.2.1]
      sections: {"2001": {name: Review}}
      servers: {10.1.9.3: {services: {gameserver: dev.190122.01}}}

- name: Remove a retired gray release
  gameops.elastic_release.zk_release_node:
    release: gray1
    state: absent
'''

RETURN = r'''
release:
  description: The release written.
  returned: always
  type: str
  sample: gray1
operations:
  description: The node operations made (or, in check mode, that would be made), in order, at most O(max_reported_operations).
  returned: always
  type: list
  elements: dict
  sample: [{"op": "create", "path": "/releases/gray1/sections/1001"}]
operations_count:
  description: Number of node operations.
  returned: always
  type: int
  sample: 12
operations_truncated:
  description: Whether RV(operations) was cut at O(max_reported_operations).
  returned: always
  type: bool
revision:
  description: Id of the revision that keeps the release's previous state, or null when nothing was written.
  returned: always
  type: str
  sample: rev-0000000003
revisions_written:
  description: The revision written for every release the write touched (takeover, absorb, lent items given back).
  returned: always
  type: dict
  sample: {"gray1": "rev-0000000004", "production": "rev-0000000012"}
write_outcome:
  description:
    - V(unchanged) (nothing to write), V(planned) (check mode), V(written). A failed task whose
      transaction was sent but whose reply was lost, and could not be checked, says so in its
      message and returns V(unknown) (run again to converge).
  returned: always
  type: str
request_bytes:
  description: Size of the transaction (bytes, as ZooKeeper counts them), when something is written.
  returned: always
  type: int
held_elsewhere:
  description: Items of the config that another release holds by a move from this release, left there.
  returned: always
  type: dict
  sample: {"sections": {"1003": "gray1"}}
kept_moved:
  description: Items this release holds by a move that the config does not list, kept (with their origin).
  returned: always
  type: dict
  sample: {"sections": {"1003": "production"}}
left_to:
  description: With O(leave_to), the sections and servers of the config left where they are.
  returned: with O(leave_to)
  type: dict
  sample: {"sections": ["1901"], "servers": ["10.1.0.21"]}
taken_over:
  description: With O(takeover), the items taken from each former owner.
  returned: always
  type: dict
  sample: {"production": {"sections": ["1001"]}}
metadata_only:
  description: Whether only the release node's metadata changed (a new build with the same config).
  returned: when true
  type: bool
change:
  description: The id of the change written (or planned in check mode), or null when nothing changes.
  returned: always
  type: str
  sample: 3f2a1c9e0b7d
given_up:
  description: Sections and servers the write leaves with no owner (named by O(release_items)), with their owner before.
  returned: always
  type: dict
  sample: {"sections": {"1901": "gray1"}}
appended_versions:
  description: With O(append_versions_to_default), the versions this write appended to the default release.
  returned: when versions were appended
  type: dict
  sample: {"production": ["1.3.0"]}
already_promoted:
  description: With O(absorb), the change that already promoted the absorbed releases (nothing was written).
  returned: when the promote was already made
  type: str
returned:
  description: With O(state=absent), the items the release held by a move, given back to where each came from.
  returned: with O(state=absent)
  type: dict
  sample: {"production": {"sections": ["1003"]}}
transactions:
  description: Number of ZooKeeper transactions committed (1 unless chunked; 0 when nothing was written).
  returned: always
  type: int
verified:
  description: How the current content was compared (V(full) or V(fast)).
  returned: always
  type: str
kept_versions:
  description:
    - Versions of the default release that O(mode=replace) kept because another release lists
      them (see O(keep_appended_versions)).
  returned: always
  type: list
  elements: str
  sample: ['1.3.0']
default_release:
  description: The default release after the task.
  returned: always
  type: str
  sample: production
zk_seconds:
  description: Seconds spent talking to ZooKeeper inside the module (reads, lock, commit).
  returned: always
  type: float
impact:
  description:
    - What the change does to the release map (planned in check mode), computed against the map as read.
    - C(owners) lists the sections and servers that change owner (C(kind), C(name), C(from), C(to));
      C(versions) the client versions whose route changes or that enter or leave routing (C(version),
      C(from) and C(to), each with C(release), C(global_url) and C(listed) - false for a version no
      release lists, which still routes to the default release); C(data) the items whose node data
      changes in place; C(global_urls) the releases whose global URL changes; C(default_release) a
      change of the default release; C(held_elsewhere) the items of the config another release holds
      by a move and keeps (C(kind), C(name), C(holder)); C(given_up) the sections and servers left with
      no owner on purpose (C(kind), C(name), C(owner)); C(hosts) the O(impact_hosts) that need a
      restart, with the C(reasons); and C(restart) their names.
  returned: always
  type: dict
  sample: {"owners": [{"kind": "sections", "name": "1003", "from": "production", "to": "gray1"}],
           "versions": [], "data": [], "global_urls": [], "default_release": null, "held_elsewhere": [], "given_up": [],
           "hosts": [{"host": "gs-prod-02", "inner_ip": "10.1.0.12", "reasons": ["section 1003: production -> gray1"]}],
           "restart": ["gs-prod-02"]}
impact_table:
  description: RV(impact) as lines of text for people.
  returned: always
  type: list
  elements: str
  sample: ["section  1003                   production -> gray1", "restart  gs-prod-02             section 1003: production -> gray1"]
diff:
  description: Release subtree before and after (with O(set_default), also the default release).
  returned: when diff mode is on
  type: dict
'''

import os

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.gameops.elastic_release.plugins.module_utils._write import front
from ansible_collections.gameops.elastic_release.plugins.module_utils._write import publish as _publish


def main():
    module = AnsibleModule(
        argument_spec=front.write_argument_spec(
            release=dict(type='str', required=True),
            state=dict(type='str', default='present', choices=['present', 'absent']),
            config=dict(type='dict'),
            config_file=dict(type='path'),
            package=dict(type='path'),
            name_pattern=dict(type='str'),
            mode=dict(type='str', default='replace', choices=['replace', 'merge']),
            set_default=dict(type='bool', default=False),
            append_versions_to_default=dict(type='bool', default=False),
            takeover=dict(type='bool', default=False),
            absorb=dict(type='list', elements='str', default=[]),
            allow_other_build=dict(type='bool', default=False),
            leave_to=dict(type='list', elements='str', default=[]),
            origin=dict(type='str'),
            verify=dict(type='str', default='full', choices=['full', 'fast']),
            keep_appended_versions=dict(type='bool', default=True),
            max_reported_operations=dict(type='int', default=1000),
        ),
        mutually_exclusive=[('config', 'config_file', 'package')],
        required_if=[('state', 'present', ('config', 'config_file', 'package'), True)],
        supports_check_mode=True,
    )
    p = module.params

    def prepare(opts):
        return _publish.request_from_params(p, os.path.basename(p['package']) if p['package'] else None)[0]

    def work(session, opts, intent):
        return intent, front.run(session, intent, opts, module.check_mode, p['impact_hosts'])

    intent, outcome = front.execute(module, work, prepare, base=dict(release=p['release']), invocation=True)
    front.finish(module, p['release'], outcome, indicator=intent.indicator,
                 max_reported=p['max_reported_operations'])


if __name__ == '__main__':
    main()
