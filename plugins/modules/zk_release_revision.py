#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, GameOps release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: zk_release_revision
short_description: List a release's kept revisions, or restore one (rollback)
version_added: 0.1.0
description:
  - Every write of a release (publish, retire, rollback) keeps the state of C(/releases/{release})
    it replaced as a revision under C({admin_root}/history/{release}). The newest revision
    therefore holds the state before the last write.
  - O(state=listed) returns the kept revisions with their time, operator, action and package.
  - O(state=restored) makes C(/releases/{release}) hold exactly the state kept by O(revision)
    (by default the newest one, which undoes the last write). The restore is one ZooKeeper
    transaction, takes the release's lock, and is itself recorded as a new revision (action
    C(rollback)), so a restore can be undone like any other write.
  - Restoring a revision taken before the release existed removes the release; that is refused for
    the default release named by C(/default_release).
  - C(/default_release) and the versions a review or gray publish appended to the default release
    are not part of a release's revisions and are not changed.
author:
  - GameOps release engineering (@gameops)
extends_documentation_fragment:
  - gameops.elastic_release.zookeeper
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
      - V(listed) only reads and returns RV(revisions).
      - V(restored) restores O(revision).
    type: str
    choices: [listed, restored]
    default: listed
  revision:
    description:
      - The revision to restore, as listed (V(rev-0000000003)) or as its number (V(3)).
      - Defaults to the newest revision, the state before the last write. Running the default
        twice therefore undoes the first restore; give the revision for a repeatable rollback.
    type: str
  admin_root:
    description:
      - Root of the collection's own bookkeeping (locks and history). Never under C(/releases).
    type: str
    default: /elastic_release
  keep_revisions:
    description:
      - How many revisions of the release to keep once the restore is recorded; older ones are
        deleted in the same transaction.
    type: int
    default: 20
  lock_timeout:
    description:
      - Seconds to wait for another writer of the same release to finish.
    type: float
    default: 30
  max_request_bytes:
    description:
      - Largest transaction to send (see M(gameops.elastic_release.zk_release_node)).
    type: int
    default: 1000000
  allow_chunked:
    description:
      - When the restore does not fit in one transaction, write it in several (readers may then see
        part of it until the last one). Without this the module fails and writes nothing.
    type: bool
    default: false
notes:
  - Requires the C(kazoo) Python library on the host that runs the module.
seealso:
  - module: gameops.elastic_release.zk_release_node
'''

EXAMPLES = r'''
- name: List the kept revisions of gray1
  gameops.elastic_release.zk_release_revision:
    hosts: 10.0.0.1:2181/mygame
    release: gray1
  register: kept

- name: Undo the last write of gray1
  gameops.elastic_release.zk_release_revision:
    release: gray1
    state: restored

- name: Restore production as it was before revision 3 was written
  gameops.elastic_release.zk_release_revision:
    release: production
    state: restored
    revision: rev-0000000003
'''

RETURN = r'''
release:
  description: The release.
  returned: always
  type: str
  sample: gray1
revisions:
  description:
    - The kept revisions, oldest first, as they were before the task.
    - C(package) is the package of the write that made the revision (the write a restore undoes);
      C(holds_package) is the package whose content the revision holds, when known.
  returned: always
  type: list
  elements: dict
  sample:
    - revision: rev-0000000001
      time: "2026-01-22T08:00:00Z"
      operator: tianti@ops-01
      action: publish
      package: mygame-gray1-190122.01.tar.gz
      holds_package: null
      release_existed_before: false
restored:
  description: The revision restored (one of RV(revisions)).
  returned: when O(state=restored)
  type: dict
  sample: {"revision": "rev-0000000002", "action": "publish", "package": "mygame-gray1-190123.01.tar.gz"}
removed:
  description: Whether the restore removes the release (the revision was taken before it existed).
  returned: when O(state=restored)
  type: bool
operations:
  description: The node operations made (or, in check mode, that would be made).
  returned: when O(state=restored)
  type: list
  elements: dict
  sample: [{"op": "create", "path": "/releases/gray1/versions/1.2.0"}]
operations_count:
  description: Number of node operations.
  returned: when O(state=restored)
  type: int
operations_truncated:
  description: Whether RV(operations) was cut (at 1000 operations); RV(operations_count) has the total.
  returned: when O(state=restored)
  type: bool
verified:
  description: How the current content was compared (always V(full) for a restore).
  returned: when O(state=restored)
  type: str
zk_seconds:
  description: Seconds spent talking to ZooKeeper (reads, lock, commit).
  returned: when O(state=restored)
  type: float
revision:
  description: Id of the new revision that records the restore (it keeps the state the restore replaced), or null when nothing was written.
  returned: when O(state=restored)
  type: str
  sample: rev-0000000004
transactions:
  description: Number of ZooKeeper transactions committed.
  returned: when O(state=restored)
  type: int
default_release:
  description: The default release named by C(/default_release).
  returned: when O(state=restored)
  type: str
diff:
  description: Release subtree before and after.
  returned: when O(state=restored) and diff mode is on
  type: dict
'''

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.gameops.elastic_release.plugins.module_utils._options import OptionAdapter, argument_spec
from ansible_collections.gameops.elastic_release.plugins.module_utils import _publish, _revisions
from ansible_collections.gameops.elastic_release.plugins.module_utils._names import validate_admin_root, validate_release


def main():
    module = AnsibleModule(
        argument_spec=argument_spec(
            release=dict(type='str', required=True),
            state=dict(type='str', default='listed', choices=['listed', 'restored']),
            revision=dict(type='str'),
            admin_root=dict(type='str', default='/elastic_release'),
            keep_revisions=dict(type='int', default=20),
            lock_timeout=dict(type='float', default=30.0),
            max_request_bytes=dict(type='int', default=1000000),
            allow_chunked=dict(type='bool', default=False),
        ),
        supports_check_mode=True,
    )
    p = module.params
    result = dict(changed=False, release=p['release'])
    try:
        validate_release(p['release'])
        validate_admin_root(p['admin_root'])
        if p['keep_revisions'] < 1:
            raise ValueError('keep_revisions must be at least 1, got %d' % p['keep_revisions'])
        with OptionAdapter.from_module(module).session() as session:
            result['revisions'] = _revisions.rows(session, p['release'], p['admin_root'])
            if p['state'] == 'restored':
                request, row = _revisions.restore_request(
                    session, p['release'], p['admin_root'], p['revision'], keep=p['keep_revisions'],
                    lock_timeout=p['lock_timeout'], max_request_bytes=p['max_request_bytes'],
                    allow_chunked=p['allow_chunked'])
                outcome = _revisions.restore(session, request, module.check_mode)
    except _publish.USER_ERRORS as exc:
        what = 'restore a revision of' if p['state'] == 'restored' else 'list the revisions of'
        module.fail_json(msg='cannot %s release %s: %s' % (what, p['release'], exc), **result)
    if p['state'] == 'restored':
        result.update(_publish.result(p['release'], outcome))
        result['restored'] = row
        result['removed'] = not request.desired['exists']
        if module._diff:
            result['diff'] = _publish.diff(outcome, request)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
