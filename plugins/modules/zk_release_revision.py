#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, GameOps release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: zk_release_revision
short_description: List a release's changes, or undo one (rollback)
version_added: 0.1.0
description:
  - Every write is one change with an id, recorded in a revision of every release it touched (a
    promote touches the default release and the gray release it removes; a gray publish touches
    the default release it appends versions to). Each revision keeps what the change altered in
    that release, with the release node's bookkeeping (C(package), C(services), C(appended),
    C(moved)), under C({admin_root}/history/{release}).
  - O(state=listed) returns the release's kept changes, oldest first - id, time, operator, action,
    the releases touched and, for each, the build it held before and after.
  - O(state=restored) undoes one change whole - by default the release's newest change, or the one
    named by O(change) - in one ZooKeeper transaction over every release it touched, including a
    release it removed (undoing a promote brings the gray release back with its items, versions and
    build). When nothing else wrote those releases since, the tree is byte-identical to what it was
    before the change.
  - An undo is refused, naming the later change and the command that undoes it first, when a later
    change touched the same items (undo newest first; never a mixed map). It is guarded like every
    write - it never gives an item a second owner, and never leaves a section or server without an
    owner unless O(release_items) names it - and is itself a change, so undoing it redoes the change.
  - O(revision) names a change by the revision that records it in this release; it is refused when
    the change touched other releases too (a change is undone whole, with O(change)).
  - Revisions written by earlier versions of the collection are listed and restored as before (a
    move's revision by the inverse move; another by restoring the state it holds).
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
      - V(listed) only reads and returns RV(changes).
      - V(restored) undoes a change.
    type: str
    choices: [listed, restored]
    default: listed
  change:
    description:
      - The change to undo, by its id as listed (V(3f2a1c9e0b7d)) or the first six or more characters of it.
      - Defaults to the release's newest change. Undoing the newest twice therefore redoes it.
    type: str
  revision:
    description:
      - The change to undo, by the revision that records it in this release (V(rev-0000000003) or V(3)).
      - Refused when that change touched other releases too.
    type: str
notes:
  - Requires the C(kazoo) Python library on the host that runs the module.
seealso:
  - module: gameops.elastic_release.zk_release_node
  - module: gameops.elastic_release.zk_release_move
'''

EXAMPLES = r'''
- name: List the changes of gray1
  gameops.elastic_release.zk_release_revision:
    hosts: 10.0.0.1:2181/mygame
    release: gray1
  register: kept

- name: Undo the newest change of gray1 (every release it touched)
  gameops.elastic_release.zk_release_revision:
    release: gray1
    state: restored

- name: Undo a chosen change, giving up the sections it created
  gameops.elastic_release.zk_release_revision:
    release: gray1
    state: restored
    change: 3f2a1c9e0b7d
    release_items: [all]
'''

RETURN = r'''
release:
  description: The release.
  returned: always
  type: str
  sample: gray1
changes:
  description:
    - The release's kept changes, oldest first, as they were before the task (one per revision).
    - C(change) is the id; C(releases) the releases the change touched; C(builds) the package each
      held before and after; C(undoes) the change an undo undid; C(undone_by) the undo that undid this
      one (null when it is live); C(given_up) the sections and servers it left with no owner on purpose.
    - C(holds_package) is the build this release held before the change (what undoing it brings back).
  returned: always
  type: list
  elements: dict
  sample:
    - change: 3f2a1c9e0b7d
      revision: rev-0000000002
      time: "2026-01-22T08:00:00Z"
      operator: tianti@ops-01
      action: publish
      releases: [gray1, production]
      builds: {"gray1": {"before": "mygame-gray1-190122.01.tar.gz", "after": "mygame-gray1-190123.01.tar.gz"},
               "production": {"before": "mygame-production-190122.01.tar.gz", "after": "mygame-production-190122.01.tar.gz"}}
      holds_package: mygame-gray1-190122.01.tar.gz
      undoes: null
      undone_by: null
revisions:
  description: RV(changes) under its earlier name.
  returned: always
  type: list
  elements: dict
restored:
  description: The change undone (one of RV(changes)).
  returned: when O(state=restored)
  type: dict
  sample: {"change": "3f2a1c9e0b7d", "revision": "rev-0000000002", "action": "publish"}
undone_change:
  description: The id of the change undone.
  returned: when O(state=restored)
  type: str
change:
  description: The id of the undo itself (a change), or null when nothing was written.
  returned: when O(state=restored)
  type: str
given_up:
  description: The sections and servers the undo leaves with no owner (named by O(release_items)).
  returned: when O(state=restored)
  type: dict
  sample: {"sections": {"1901": "gray1"}}
removed:
  description: Whether the undo removes the release (the change created it).
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
  description: Id of the new revision of the release that records the undo, or null when nothing was written.
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
  description: When the change undone was a move (a widen or narrow step), the items moved back.
  returned: when O(state=restored) and the change undone was a move
  type: dict
  sample: {"from": "gray1", "to": "production", "sections": ["1004", "1005"]}
impact:
  description:
    - What the change does to the release map (planned in check mode), computed against the map as read,
      with the keys described at RV(gameops.elastic_release.zk_release_node#module:impact).
  returned: when O(state=restored)
  type: dict
  sample: {"owners": [{"kind": "sections", "name": "1003", "from": "production", "to": "gray1"}],
           "versions": [], "data": [], "global_urls": [], "default_release": null, "held_elsewhere": [], "given_up": [],
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
from ansible_collections.gameops.elastic_release.plugins.module_utils._write.undo import UndoIntent


def main():
    module = AnsibleModule(
        argument_spec=front.write_argument_spec(
            release=dict(type='str', required=True),
            state=dict(type='str', default='listed', choices=['listed', 'restored']),
            change=dict(type='str'),
            revision=dict(type='str'),
        ),
        mutually_exclusive=[('change', 'revision')],
        supports_check_mode=True,
    )
    p = module.params
    result = dict(changed=False, release=p['release'])
    restoring = p['state'] == 'restored'

    def work(session, opts, prepared):
        result['changes'] = _revisions.list_changes(session, p['release'], opts.admin_root)
        result['revisions'] = result['changes']
        if not restoring:
            return None
        intent = UndoIntent(p['release'], opts.admin_root, change=p['change'], revision=p['revision'])
        return intent, front.run(session, intent, opts, module.check_mode, p['impact_hosts'])

    what = 'undo a change of' if restoring else 'list the changes of'
    done = front.execute(module, work, lambda opts: validate_release(p['release']), base=result,
                         prefix='cannot %s release %s: ' % (what, p['release']),
                         unknown_prefix='cannot undo a change of release %s: ' % p['release'])
    if not restoring:
        module.exit_json(**result)
    intent, outcome = done
    extra = dict(revisions=result['changes'], changes=result['changes'], restored=intent.row,
                 undone_change=(intent.row or {}).get('change'), removed=intent.removes)
    if intent.moves:
        extra['moves'] = intent.moves
    front.finish(module, p['release'], outcome, extra=extra)


if __name__ == '__main__':
    main()
