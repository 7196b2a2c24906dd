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
  - A restore is guarded like a publish - it never gives a section or server a second owner - and
    keeps the items the release holds by a move. A revision written by a move (widen, narrow) is
    undone by the inverse move, which writes both releases (RV(moves)).
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
revisions_written:
  description: The revision written for every release the restore touched.
  returned: when O(state=restored)
  type: dict
  sample: {"gray1": "rev-0000000005"}
write_outcome:
  description: V(unchanged), V(planned) (check mode) or V(written).
  returned: when O(state=restored)
  type: str
moves:
  description: For a revision written by a move, the inverse move made (or planned).
  returned: when O(state=restored) and the revision records a move
  type: dict
  sample: {"from": "gray1", "to": "production", "sections": ["1004", "1005"]}
impact:
  description:
    - What the change does to the release map (planned in check mode), computed against the map as read.
    - C(owners) lists the sections and servers that change owner (C(kind), C(name), C(from), C(to));
      C(versions) the client versions whose route changes (C(version), C(from) and C(to), each with
      C(release) and C(global_url)); C(data) the items whose node data changes in place;
      C(global_urls) the releases whose global URL changes; C(default_release) a change of the
      default release; C(hosts) the O(impact_hosts) that need a restart, with the C(reasons); and
      C(restart) their names.
  returned: when O(state=restored)
  type: dict
  sample: {"owners": [{"kind": "sections", "name": "1003", "from": "production", "to": "gray1"}],
           "versions": [], "data": [], "global_urls": [], "default_release": null,
           "hosts": [{"host": "gs-prod-02", "inner_ip": "10.1.0.12", "reasons": ["section 1003: production -> gray1"]}],
           "restart": ["gs-prod-02"]}
impact_table:
  description: RV(impact) as lines of text for people.
  returned: when O(state=restored)
  type: list
  elements: str
  sample: ["section  1003                   production -> gray1", "restart  gs-prod-02             section 1003: production -> gray1"]
diff:
  description: Release subtree before and after.
  returned: when O(state=restored) and diff mode is on
  type: dict
'''

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.gameops.elastic_release.plugins.module_utils._release import revisions as _revisions
from ansible_collections.gameops.elastic_release.plugins.module_utils._release.names import validate_release
from ansible_collections.gameops.elastic_release.plugins.module_utils._write import front
from ansible_collections.gameops.elastic_release.plugins.module_utils._write import rollback as _rollback
from ansible_collections.gameops.elastic_release.plugins.module_utils._write.transaction import apply


def main():
    module = AnsibleModule(
        argument_spec=front.write_argument_spec(
            release=dict(type='str', required=True),
            state=dict(type='str', default='listed', choices=['listed', 'restored']),
            revision=dict(type='str'),
        ),
        supports_check_mode=True,
    )
    p = module.params
    result = dict(changed=False, release=p['release'])
    restoring = p['state'] == 'restored'

    def work(session, opts, prepared):
        result['revisions'] = _revisions.rows(session, p['release'], opts.admin_root)
        if not restoring:
            return None
        intent, row, kind = _rollback.restore_intent(session, p['release'], opts.admin_root, p['revision'])
        outcome = apply(session, intent, opts, check_mode=module.check_mode)
        front.attach_impact(session, outcome, p['impact_hosts'])
        return intent, row, kind, outcome

    what = 'restore a revision of' if restoring else 'list the revisions of'
    done = front.execute(module, work, lambda opts: validate_release(p['release']), base=result,
                         prefix='cannot %s release %s: ' % (what, p['release']),
                         unknown_prefix='cannot restore a revision of release %s: ' % p['release'])
    if not restoring:
        module.exit_json(**result)
    intent, row, kind, outcome = done
    extra = dict(revisions=result['revisions'], restored=row)
    if kind == 'move':
        extra['moves'] = {'from': intent.source, 'to': intent.destination}
        extra['moves'].update(outcome.notes.get('moved') or {})
        extra['removed'] = False
    else:
        extra['removed'] = not intent.desired['exists']
    front.finish(module, p['release'], outcome, extra=extra)


if __name__ == '__main__':
    main()
