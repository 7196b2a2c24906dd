#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, GameOps release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: server_package
short_description: Build a reproducible server package for one release
version_added: 0.1.0
description:
  - "Writes C({dest}/{project}-{release}-{build}.tar.gz) holding C(filecache/{release}.config.zoo),
    C(filecache/release_indicator.json) (C({\"name\": \"<release>\"})), and the C(lib/) and C(version/)
    directories of O(src)."
  - The config is validated with the same parser the publish module uses, then written as
    canonical pretty JSON, so the package carries exactly what will be published.
  - The archive is reproducible; the same inputs give a byte-identical file (members sorted,
    fixed mtime, owner 0/0 without names, modes normalised to 0755/0644, gzip header without
    time or file name).
  - The archive is built to a temporary file in O(dest) and renamed over the target only when its
    content differs, so an identical rebuild reports C(changed=false) and readers never see a
    half-written package.
  - Other top-level entries of O(src) (for example an old C(filecache/)) are left out and listed in
    RV(ignored).
author:
  - GameOps release engineering (@gameops)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: The archive is built in memory to learn its checksum; nothing is written.
  diff_mode:
    support: full
    details: The diff lists the members (type, mode, size, start of the sha256, name) of the existing and the new archive.
  platform:
    platforms: posix
options:
  src:
    description:
      - Directory holding C(lib/) and C(version/{component}/{version}/) (at least one of them).
      - Symlinks are kept when they are relative and stay inside the package; devices, FIFOs and
        sockets are refused.
    type: path
    required: true
  dest:
    description:
      - Directory to write the package into. Created if missing.
    type: path
    required: true
  release:
    description:
      - The release the package is for, matching C(^[a-z][a-z0-9_]{0,63}$).
    type: str
    required: true
  project:
    description:
      - Project (game) name, the first part of the file name. Letters, digits, C(.), C(_) and C(-).
    type: str
    required: true
  build:
    description:
      - Build id, the last part of the file name. Letters, digits, C(.), C(_), C(+) and C(~); no C(-).
    type: str
    required: true
  config:
    description:
      - The release's config as data, in the C(config.zoo) format (keys C(global_url),
        C(versions), C(sections), C(servers)).
      - Exactly one of O(config) and O(config_file) is required.
    type: dict
  config_file:
    description:
      - Path of the release's C({release}.config.zoo) on the host that runs the module.
    type: path
  mtime:
    description:
      - Modification time (seconds since the epoch) given to every member.
      - Use the commit time of the build (as with C(SOURCE_DATE_EPOCH)) to get meaningful times that
        are still reproducible.
    type: int
    default: 0
  force:
    description:
      - Replace an existing package of the same name whose content differs.
      - A package name stands for one build (game hosts and deploys compare builds by name), so by
        default a package that exists with other content is refused, naming both checksums, and kept.
        Build under a new build id instead, or set O(force=true) when the build really must be redone.
      - An existing package with the same content is never rewritten.
    type: bool
    default: false
notes:
  - The file name always follows the default pattern C({project}-{release}-{build}.tar.gz).
    Readers accept other patterns through their C(name_pattern) option.
seealso:
  - module: gameops.elastic_release.server_package_info
  - module: gameops.elastic_release.upgrade_package
'''

EXAMPLES = r'''
- name: Build the production package from the pipeline's output
  gameops.elastic_release.server_package:
    src: /data/build/mygame
    dest: /data/packages
    release: production
    project: mygame
    build: "190122.01"
    config_file: /data/configs/production.config.zoo

- name: Build a gray package with an inline config and the commit time as mtime
  gameops.elastic_release.server_package:
    src: /data/build/mygame
    dest: /data/packages
    release: gray1
    project: mygame
    build: "190122.01"
    mtime: "{{ lookup('ansible.builtin.env', 'SOURCE_DATE_EPOCH') | default(0, true) | int }}"
    config:
      global_url: http://10.0.0.5:9000
      versions: [1.2.1]
      sections: {"1003": {}}
  register: gray_package
'''

RETURN = r'''
path:
  description: Path of the package.
  returned: always
  type: str
  sample: /data/packages/mygame-production-190122.01.tar.gz
package:
  description: File name of the package.
  returned: always
  type: str
  sample: mygame-production-190122.01.tar.gz
sha256:
  description: SHA-256 of the package (of the one that would be written, in check mode).
  returned: always
  type: str
size:
  description: Size of the package in bytes.
  returned: always
  type: int
members:
  description: Number of members in the archive (files, directories and symlinks).
  returned: always
  type: int
release:
  description: The package's release.
  returned: always
  type: str
  sample: production
build:
  description: The package's build id.
  returned: always
  type: str
  sample: "190122.01"
project:
  description: The package's project.
  returned: always
  type: str
config_digest:
  description: SHA-256 of the canonical config, as the publish module records it.
  returned: always
  type: str
action:
  description: What happened to the file (would happen, in check mode).
  returned: always
  type: str
  choices: [created, replaced, unchanged]
  sample: created
ignored:
  description: Top-level entries of O(src) that were left out of the package.
  returned: always
  type: list
  elements: str
  sample: [filecache]
'''

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.gameops.elastic_release.plugins.module_utils._package.archive import existing_listing, listing
from ansible_collections.gameops.elastic_release.plugins.module_utils._package.archive_writer import PackageExists
from ansible_collections.gameops.elastic_release.plugins.module_utils._release.config import (
    ConfigError, parse_config, parse_config_file)
from ansible_collections.gameops.elastic_release.plugins.module_utils._release.names import InvalidName
from ansible_collections.gameops.elastic_release.plugins.module_utils._package.pkgname import PackageError, package_file_name
from ansible_collections.gameops.elastic_release.plugins.module_utils._package.server_package import build_server_package


def load_config(params):
    if params['config'] is not None:
        return parse_config(params['config'], source='option config')
    return parse_config_file(params['config_file'])


def main():
    module = AnsibleModule(
        argument_spec=dict(
            src=dict(type='path', required=True),
            dest=dict(type='path', required=True),
            release=dict(type='str', required=True),
            project=dict(type='str', required=True),
            build=dict(type='str', required=True),
            config=dict(type='dict'),
            config_file=dict(type='path'),
            mtime=dict(type='int', default=0),
            force=dict(type='bool', default=False),
        ),
        mutually_exclusive=[('config', 'config_file')],
        required_one_of=[('config', 'config_file')],
        supports_check_mode=True,
    )
    p = module.params
    name = None
    try:
        name = package_file_name(p['project'], p['release'], p['build'])
        config = load_config(p)
        before = existing_listing('%s/%s' % (p['dest'].rstrip('/'), name)) if module._diff else None
        result = build_server_package(p['src'], p['dest'], p['release'], p['project'], p['build'], config,
                                      mtime=p['mtime'], check=module.check_mode, force=p['force'])
    except PackageExists as exc:
        module.fail_json(msg='refused to overwrite server package %s: %s with force=true (playbooks/build_packages.yml: '
                             '-e force=true); nothing was written' % (name, exc), path=exc.path)
    except (PackageError, ConfigError, InvalidName) as exc:
        module.fail_json(msg='cannot build server package %s: %s' % (name or 'for release %s' % p['release'], exc))
    members = result.pop('members')
    result['members'] = len(members)
    if module._diff:
        result['diff'] = {'before': before, 'after': listing(members) if result['changed'] else before,
                          'before_header': result['path'], 'after_header': result['path']}
    module.exit_json(**result)


if __name__ == '__main__':
    main()
