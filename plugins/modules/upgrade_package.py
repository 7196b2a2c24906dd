#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, GameOps release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: upgrade_package
short_description: Build or verify a client upgrade package between two versions
version_added: 0.1.0
description:
  - With O(state=present), compares two client trees and writes C({dest}/{from_version}_{to_version}.tar.gz)
    holding C(manifest.json) (the added, changed and removed files with their SHA-256 and size, and
    the added and removed directories) and the added and changed files under C(files/).
  - The archive is reproducible (sorted members, fixed mtime, owner 0/0, normalised modes, gzip
    header without time or name); an identical rebuild reports C(changed=false).
  - With O(state=verified), applies the existing package to a private copy of O(from_src) in a
    temporary directory and compares the result with O(to_src), file by file (content and
    execute bit) and directory by directory. Any difference fails the module. Nothing in O(dest)
    or in the trees is modified.
  - Trees hold regular files and directories; symlinks and special files are refused.
author:
  - GameOps release engineering (@gameops)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: With O(state=present) the archive is built in memory to learn its checksum; nothing is written.
  diff_mode:
    support: full
    details: With O(state=present), the members of the existing and the new archive.
  platform:
    platforms: posix
options:
  from_version:
    description:
      - The older client version, for example V(c-1).
      - Versions are 1-128 characters of letters, digits, C(.), C(+), C(~) and C(-), starting with a
        letter or a digit. C(_) is not allowed, since it separates the two versions in the file name.
    type: str
    required: true
  to_version:
    description:
      - The newer client version, for example V(c-2). Same rules as O(from_version).
    type: str
    required: true
  from_src:
    description:
      - The older client tree, a directory or a C(.tar.gz)/C(.tgz) archive (read with the same
        safety checks as server packages).
    type: path
    required: true
  to_src:
    description:
      - The newer client tree, a directory or a C(.tar.gz)/C(.tgz) archive.
    type: path
    required: true
  dest:
    description:
      - Directory holding the upgrade package. Created if missing with O(state=present).
    type: path
    required: true
  state:
    description:
      - V(present) builds the package; V(verified) checks an existing one.
    type: str
    choices: [present, verified]
    default: present
  mtime:
    description:
      - Modification time (seconds since the epoch) given to every member with O(state=present).
    type: int
    default: 0
  max_member_size:
    description:
      - Largest member allowed when reading archives (trees given as archives, and the package
        itself when verifying), in bytes.
    type: int
    default: 4294967296
  max_total_size:
    description:
      - Largest total uncompressed size allowed when reading archives, in bytes.
    type: int
    default: 68719476736
notes:
  - Verifying needs free space for a copy of the older tree in the temporary directory (C(TMPDIR)).
seealso:
  - module: gameops.elastic_release.server_package
'''

EXAMPLES = r'''
- name: Build the c-1 -> c-2 upgrade package
  gameops.elastic_release.upgrade_package:
    from_version: c-1
    to_version: c-2
    from_src: /data/client/c-1
    to_src: /data/client/c-2.tar.gz
    dest: /data/packages/upgrades

- name: Prove that applying it to c-1 gives c-2 exactly
  gameops.elastic_release.upgrade_package:
    from_version: c-1
    to_version: c-2
    from_src: /data/client/c-1
    to_src: /data/client/c-2.tar.gz
    dest: /data/packages/upgrades
    state: verified
'''

RETURN = r'''
path:
  description: Path of the upgrade package.
  returned: always
  type: str
  sample: /data/packages/upgrades/c-1_c-2.tar.gz
package:
  description: File name of the upgrade package.
  returned: always
  type: str
  sample: c-1_c-2.tar.gz
sha256:
  description: SHA-256 of the package (of the one that would be written, in check mode).
  returned: always
  type: str
size:
  description: Size of the package in bytes.
  returned: always
  type: int
from_version:
  description: The older version.
  returned: always
  type: str
to_version:
  description: The newer version.
  returned: always
  type: str
counts:
  description: Number of added, changed and removed files and of added and removed directories.
  returned: always
  type: dict
  sample: {"added": 12, "changed": 40, "removed": 3, "added_dirs": 1, "removed_dirs": 0}
members:
  description: Number of members in the archive.
  returned: when O(state=present)
  type: int
differences:
  description: How the upgraded tree differs from O(to_src) (empty when the package is right).
  returned: when O(state=verified)
  type: list
  elements: str
  sample: ["content of bin/client differs (1024 bytes, expected 2048)"]
'''

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.gameops.elastic_release.plugins.module_utils._package.archive import (
    DEFAULT_MAX_MEMBER_SIZE, DEFAULT_MAX_TOTAL_SIZE, Limits, existing_listing, listing)
from ansible_collections.gameops.elastic_release.plugins.module_utils._package.pkgname import PackageError, upgrade_file_name
from ansible_collections.gameops.elastic_release.plugins.module_utils._package.upgrade import (
    build_upgrade_package, verify_upgrade_package)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            from_version=dict(type='str', required=True),
            to_version=dict(type='str', required=True),
            from_src=dict(type='path', required=True),
            to_src=dict(type='path', required=True),
            dest=dict(type='path', required=True),
            state=dict(type='str', default='present', choices=['present', 'verified']),
            mtime=dict(type='int', default=0),
            max_member_size=dict(type='int', default=DEFAULT_MAX_MEMBER_SIZE),
            max_total_size=dict(type='int', default=DEFAULT_MAX_TOTAL_SIZE),
        ),
        supports_check_mode=True,
    )
    p = module.params
    name = '%s_%s.tar.gz' % (p['from_version'], p['to_version'])
    try:
        name = upgrade_file_name(p['from_version'], p['to_version'])
        path = '%s/%s' % (p['dest'].rstrip('/'), name)
        limits = Limits(p['max_member_size'], p['max_total_size'])
        if p['state'] == 'verified':
            result = verify_upgrade_package(path, p['from_version'], p['to_version'], p['from_src'], p['to_src'], limits)
        else:
            before = existing_listing(path, limits) if module._diff else None
            result = build_upgrade_package(p['from_version'], p['to_version'], p['from_src'], p['to_src'], p['dest'],
                                           mtime=p['mtime'], check=module.check_mode, limits=limits)
    except (PackageError, OSError) as exc:
        module.fail_json(msg='cannot %s upgrade package %s: %s'
                         % ('verify' if p['state'] == 'verified' else 'build', name, exc))
    if p['state'] == 'verified':
        if result['differences']:
            shown = result['differences'][:20]
            module.fail_json(msg='upgrade package %s applied to %s does not give %s: %s%s'
                             % (name, p['from_src'], p['to_src'], '; '.join(shown),
                                ' (and %d more)' % (len(result['differences']) - 20) if len(result['differences']) > 20 else ''),
                             **result)
        module.exit_json(changed=False, **result)
    members = result.pop('members')
    result['members'] = len(members)
    if module._diff:
        result['diff'] = {'before': before, 'after': listing(members) if result['changed'] else before,
                          'before_header': result['path'], 'after_header': result['path']}
    module.exit_json(**result)


if __name__ == '__main__':
    main()
