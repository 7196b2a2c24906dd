#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, GameOps release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: server_deploy
short_description: Unpack a server package on a game host beside other releases' builds, keeping the last N builds
version_added: 0.2.0
description:
  - Runs on the game host, with the package already there (the C(deploy) role copies it with
    M(ansible.builtin.copy)). Reads it with the checks of M(gameops.elastic_release.server_package_info)
    before anything is written, so a hostile package (a path with C(..) or absolute, a link leaving
    the tree, a device or FIFO, a zip bomb, a member over the limits, a corrupt archive) or a package of
    another release than O(release) fails naming the package and the member, with nothing unpacked.
  - Unpacks each build into its own directory, C({install_root}/builds/{release}/{build}/), through a
    hidden directory renamed into place; a build is never written again.
  - Makes the layout M(gameops.elastic_release.server_start) runs from out of symlinks -
    C({install_root}/version/{service}/{version}) points into a build that provides that version, and
    C({install_root}/current/{release}) to the release's build deployed last. Links are switched
    atomically (a new link renamed over the old one).
  - Several releases share one install root without touching each other's files. A version two releases
    run is shared when both packages carry the same content for it (a digest of its files, modes and
    links); a package that carries other content under a version another release's kept build
    provides is refused. Entries deploy did not make (a directory unpacked by hand) are never
    overwritten; the deploy fails naming them.
  - Keeps the last O(keep) builds of the release (deploy order; redeploying a kept build makes it the
    newest) and removes older ones, once every version link into them points to another kept build
    that provides the same version, or is gone because no kept build provides it.
  - A rerun with the same package changes nothing (C(changed=false)). Deploys into one install root
    take turns (a lock on its directory). See C(docs/packages.md), section Deploying, for the layout and why.
author:
  - GameOps release engineering (@gameops)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details:
      - Reads the package (all its checks run) and reports what would be unpacked, linked and removed;
        writes nothing. A package not on the host yet (check mode does not copy it) is planned from its
        name, without its version links (RV(note) says so).
  diff_mode:
    support: full
    details:
      - The install root as deploy manages it (builds with their package, C(current/) and C(version/)
        links) before and after.
  platform:
    platforms: posix
options:
  package:
    description:
      - Path of the server package on the host, named C({project}-{release}-{build}.tar.gz) (or as
        O(name_pattern) says).
    type: path
    required: true
  release:
    description:
      - The release the package must be for; a package of another release (by its name, its release
        indicator or its config.zoo) fails with nothing unpacked.
    type: str
    required: true
  install_root:
    description:
      - Absolute path of the install root, the C(server_start_install_root) of the host. Created when missing.
    type: path
    required: true
  keep:
    description:
      - How many builds of the release to keep, the one being deployed included.
    type: int
    default: 5
  package_dir:
    description:
      - Directory a copy of the package is kept in (the role's C(deploy_package_dir)), written by this
        module through a descriptor of the directory opened before anything else is written, never
        through a link it did not make - a link planted at C({install_root}/packages) by the user who
        owns the install root is refused naming it, and nothing is written. When a build is removed,
        its package file in this directory is removed too.
    type: path
  stage_dir:
    description:
      - Directory of the deploying user the package was sent to (the role's C(deploy_stage_dir)); the
        packages of removed builds are removed from it too, so it holds no more than O(keep) builds.
    type: path
  name_pattern:
    description:
      - Regular expression with the named groups C(release) and C(build) that must match the whole file name.
    type: str
  lock_timeout:
    description:
      - Seconds to wait for another deploy into the same install root to finish.
    type: int
    default: 300
notes:
  - The package is read with the limits of M(gameops.elastic_release.server_package_info) at their defaults
    (the flows' first step checks it with the same ones on the controller).
  - The package is read twice when it is unpacked (checked, then unpacked); a rerun of a deployed build
    only hashes the file.
  - A running service keeps its files open when its build is removed; removing builds is a matter of
    O(keep), not of what runs.
seealso:
  - module: gameops.elastic_release.server_start
  - module: gameops.elastic_release.server_package_info
'''

EXAMPLES = r'''
# The install root may belong to the game's user: the package goes to a directory of the deploying
# user first, and the module keeps its copy in the install root link-safely.
- name: Send the package (only when its checksum differs)
  ansible.builtin.copy:
    src: /data/dist/mygame-gray1-190123.01.tar.gz
    dest: /root/.cache/gameops.elastic_release/packages/
    mode: "0644"

- name: Unpack it beside the other releases, keeping the last 5 builds of gray1
  gameops.elastic_release.server_deploy:
    package: /root/.cache/gameops.elastic_release/packages/mygame-gray1-190123.01.tar.gz
    release: gray1
    install_root: /data/game
    package_dir: /data/game/packages
    stage_dir: /root/.cache/gameops.elastic_release/packages
  register: deployed
'''

RETURN = r'''
release:
  description: The release.
  returned: always
  type: str
  sample: gray1
build:
  description: The build deployed.
  returned: always
  type: str
  sample: "190123.01"
package:
  description: File name of the package.
  returned: always
  type: str
sha256:
  description: SHA-256 of the package file (null in check mode when the package is not on the host).
  returned: always
  type: str
install_root:
  description: The install root.
  returned: always
  type: str
build_dir:
  description: The build's directory.
  returned: always
  type: str
  sample: /data/game/builds/gray1/190123.01
keep:
  description: How many builds of the release are kept.
  returned: always
  type: int
action:
  description:
    - V(unpacked) (the build was unpacked), V(switched) (it was there already and is the release's current
      build again) or V(present) (nothing to do for the build itself).
  returned: always
  type: str
unpacked:
  description: Members and uncompressed bytes unpacked (would be, in check mode); null when nothing is.
  returned: always
  type: dict
  sample: {"members": 1204, "size": 734003200}
removed:
  description: Builds of the release removed (beyond O(keep)), with their package and directory.
  returned: always
  type: list
  elements: dict
kept:
  description: The builds of the release kept, newest first.
  returned: always
  type: list
  elements: str
versions:
  description: "The version directories the build provides: C({service: {version: digest}})."
  returned: always
  type: dict
  sample: {"gameserver": {"dev.190123.01": "5f0c..."}}
links:
  description: The links changed (C(path) under the install root, C(before), C(after); null for none).
  returned: always
  type: list
  elements: dict
  sample: [{"path": "version/gameserver/dev.190123.01", "before": null,
            "after": "../../builds/gray1/190123.01/version/gameserver/dev.190123.01"}]
repaired:
  description: What an interrupted deploy left and this one cleaned up (hidden directories, records of builds whose directory is gone).
  returned: always
  type: list
  elements: str
problems:
  description: Layout oddities of the package that do not stop the deploy (also shown as warnings).
  returned: always
  type: list
  elements: str
package_copy:
  description: With O(package_dir), V(copied) (the copy there was missing or differed) or V(present).
  returned: when O(package_dir) is given, not in check mode
  type: str
note:
  description: In check mode, why the version links are not known yet (the package is not on the host).
  returned: when the package is not on the host in check mode
  type: str
'''

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.gameops.elastic_release.plugins.module_utils._host.deploy import (
    DEFAULT_KEEP, DEFAULT_LOCK_TIMEOUT, deploy)
from ansible_collections.gameops.elastic_release.plugins.module_utils._release.names import InvalidName
from ansible_collections.gameops.elastic_release.plugins.module_utils._package.pkgname import PackageError


def main():
    module = AnsibleModule(
        argument_spec=dict(
            package=dict(type='path', required=True),
            release=dict(type='str', required=True),
            install_root=dict(type='path', required=True),
            keep=dict(type='int', default=DEFAULT_KEEP),
            package_dir=dict(type='path'),
            stage_dir=dict(type='path'),
            name_pattern=dict(type='str'),
            lock_timeout=dict(type='int', default=DEFAULT_LOCK_TIMEOUT),
        ),
        supports_check_mode=True,
    )
    p = module.params
    try:
        result = deploy(p['package'], p['release'], p['install_root'], keep=p['keep'], name_pattern=p['name_pattern'],
                        package_dir=p['package_dir'], check=module.check_mode, lock_timeout=p['lock_timeout'],
                        stage_dir=p['stage_dir'])
    except (PackageError, InvalidName, OSError) as exc:
        # The errors name the package (and the member) themselves.
        module.fail_json(msg='cannot deploy to %s: %s' % (p['install_root'], exc),
                         package=p['package'], install_root=p['install_root'])
    diff = result.pop('diff')
    if module._diff:
        result['diff'] = diff
    for problem in result['problems']:
        module.warn('%s: %s' % (result['package'], problem))
    module.exit_json(**result)


if __name__ == '__main__':
    main()
