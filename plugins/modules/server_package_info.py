#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, GameOps release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: server_package_info
short_description: Read and check a server package without unpacking it
version_added: 0.1.0
description:
  - Reads a server package C(.tar.gz) as a stream and returns its release, build, release
    indicator, config.zoo and the components and versions under C(version/).
  - The indicator and the config are read from the archive itself, never from an unpacked
    directory (packages of several releases unpacked into one directory overwrite each other).
  - Nothing is extracted or written. Every member is checked before its data is read.
  - The module always fails for an unsafe or unusable package, naming the package and the member
    to blame; an absolute path, a C(..) component, a symlink or hardlink leaving the tree, a
    device or FIFO, a member over O(max_member_size), a zip bomb (O(max_total_size),
    O(max_ratio)), a truncated or corrupt archive, duplicate members, a missing or malformed
    C(filecache/release_indicator.json), an indicator naming another release than the file
    name, a config.zoo of another release, a missing or invalid C(filecache/{release}.config.zoo).
  - Layout oddities that do not make the package unusable (an unexpected top-level entry, a file
    directly under C(version/), a setuid member, no C(lib/)) are returned in RV(problems); they
    fail the module unless O(fail_on_problems=false).
author:
  - GameOps release engineering (@gameops)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: The module only reads; it runs the same in check mode.
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  path:
    description:
      - Path of the package on the host that runs the module.
    type: path
    required: true
  name_pattern:
    description:
      - Regular expression with the named groups C(release) and C(build) (and optionally
        C(project)) that must match the whole file name.
      - The default, V((?P<project>.+\)-(?P<release>[^-/]+\)-(?P<build>[^-/]+\)\\.tar\\.gz), reads
        C({project}-{release}-{build}.tar.gz) where release and build contain no C(-).
    type: str
  release:
    description:
      - The release the package must be for. A package of another release fails, naming both.
    type: str
  fail_on_problems:
    description:
      - Fail when RV(problems) is not empty. Unsafe or unusable packages fail regardless.
    type: bool
    default: true
  checksums:
    description:
      - Also return RV(files), every member with the SHA-256 of each file (reads all the data).
    type: bool
    default: false
  max_member_size:
    description:
      - Largest member allowed, in bytes.
    type: int
    default: 4294967296
  max_total_size:
    description:
      - Largest total uncompressed size allowed, in bytes.
    type: int
    default: 68719476736
  max_ratio:
    description:
      - Largest compression ratio (uncompressed / compressed bytes read so far) allowed once 64 MiB
        have been decompressed. Stops zip bombs early.
    type: int
    default: 200
seealso:
  - module: gameops.elastic_release.server_package
'''

EXAMPLES = r'''
- name: Check a package before publishing it as production
  gameops.elastic_release.server_package_info:
    path: /data/packages/mygame-production-190122.01.tar.gz
    release: production
  register: package

- name: Show the versions it carries
  ansible.builtin.debug:
    msg: "{{ package.config.versions | list }} / {{ package.components }}"

- name: Read a package named by another packaging tool ({release}_{build}_{project}.tgz)
  gameops.elastic_release.server_package_info:
    path: /data/packages/gray1_190122.01_mygame.tgz
    name_pattern: '(?P<release>[a-z][a-z0-9]*)_(?P<build>[^_]+)_(?P<project>.+)\.tgz'
'''

RETURN = r'''
path:
  description: Path of the package.
  returned: always
  type: str
package:
  description: File name of the package.
  returned: always
  type: str
  sample: mygame-production-190122.01.tar.gz
release:
  description: Release parsed from the file name (equal to the indicator's name).
  returned: always
  type: str
  sample: production
build:
  description: Build parsed from the file name.
  returned: always
  type: str
  sample: "190122.01"
project:
  description: Project parsed from the file name (null if the pattern has no C(project) group).
  returned: always
  type: str
  sample: mygame
indicator:
  description: Content of C(filecache/release_indicator.json).
  returned: always
  type: dict
  sample: {"name": "production"}
config:
  description: The parsed C(filecache/{release}.config.zoo), normalised (lists become objects).
  returned: always
  type: dict
  sample: {"global_url": "http://10.0.0.5:9000", "versions": {"1.2.0": {}}, "sections": {"1001": {}}, "servers": {}}
components:
  description: Components under C(version/) with their sorted versions.
  returned: always
  type: dict
  sample: {"gameserver": ["dev.190122.01", "dev.190122.02"], "vms": ["dev.190122.01"]}
problems:
  description: Layout oddities found (empty for a well-formed package).
  returned: always
  type: list
  elements: str
members:
  description: Number of members in the archive.
  returned: always
  type: int
size:
  description: Size of the package file in bytes.
  returned: always
  type: int
uncompressed_size:
  description: Total size of the files in the archive, in bytes.
  returned: always
  type: int
sha256:
  description: SHA-256 of the package file.
  returned: always
  type: str
files:
  description: Every member (name, type, mode, size, and sha256 for files).
  returned: when O(checksums=true)
  type: list
  elements: dict
'''

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.gameops.elastic_release.plugins.module_utils._package.archive import (
    DEFAULT_MAX_MEMBER_SIZE, DEFAULT_MAX_RATIO, DEFAULT_MAX_TOTAL_SIZE, Limits)
from ansible_collections.gameops.elastic_release.plugins.module_utils._package.pkgname import PackageError
from ansible_collections.gameops.elastic_release.plugins.module_utils._package.server_package import check_server_package


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type='path', required=True),
            name_pattern=dict(type='str'),
            release=dict(type='str'),
            fail_on_problems=dict(type='bool', default=True),
            checksums=dict(type='bool', default=False),
            max_member_size=dict(type='int', default=DEFAULT_MAX_MEMBER_SIZE),
            max_total_size=dict(type='int', default=DEFAULT_MAX_TOTAL_SIZE),
            max_ratio=dict(type='int', default=DEFAULT_MAX_RATIO),
        ),
        supports_check_mode=True,
    )
    p = module.params
    try:
        limits = Limits(p['max_member_size'], p['max_total_size'], p['max_ratio'])
    except PackageError as exc:
        module.fail_json(msg=str(exc))
    package, result, error = check_server_package(p['path'], p['name_pattern'], p['release'], limits,
                                                  hash_members=p['checksums'])
    if package is None:
        module.fail_json(msg=error, path=p['path'])
    if p['checksums']:
        result['files'] = [m.to_dict() for m in package.scan.members]
    if error and p['fail_on_problems']:
        module.fail_json(msg=error, **result)
    module.exit_json(changed=False, **result)


if __name__ == '__main__':
    main()
