# -*- coding: utf-8 -*-
# Copyright: (c) 2026, GameOps release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
name: package_info
short_description: Read and check server packages on the controller, without unpacking them
version_added: 0.1.0
description:
  - Reads each server package named in the terms, on the controller, with the same checks and the
    same code as M(gameops.elastic_release.server_package_info), and returns what that module returns.
  - Nothing is extracted or written.
  - The release flows use it in their first task, so that one task refuses a flow for its
    parameters, its release registry and its package alike.
author:
  - GameOps release engineering (@gameops)
options:
  _terms:
    description:
      - Paths of server packages on the controller.
    type: list
    elements: path
    required: true
  release:
    description:
      - The release the packages must be for. A package of another release is refused, naming both.
    type: str
  name_pattern:
    description:
      - Regular expression with the named groups C(release) and C(build) (and optionally C(project))
        that must match the whole file name; see M(gameops.elastic_release.server_package_info).
    type: str
  on_error:
    description:
      - V(fail) raises an error for an unsafe or unusable package, or for a package with layout
        problems (as the module does with its default O(gameops.elastic_release.server_package_info#module:fail_on_problems=true)).
      - V(report) never raises for the package itself; the answer for such a package holds the reason
        in RV(_raw[].error) (null for a good package), and whatever could be read.
    type: str
    choices: [fail, report]
    default: fail
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
      - Largest compression ratio allowed once 64 MiB have been decompressed.
    type: int
    default: 200
notes:
  - The package is read on the controller. To read it on a managed host, use the
    M(gameops.elastic_release.server_package_info) module.
seealso:
  - module: gameops.elastic_release.server_package_info
  - plugin: gameops.elastic_release.package_release
    plugin_type: filter
'''

EXAMPLES = r'''
- name: Versions carried by a package
  ansible.builtin.debug:
    msg: "{{ lookup('gameops.elastic_release.package_info', package, release='gray1').config.versions | list }}"
  vars:
    package: /data/packages/mygame-gray1-190122.01.tar.gz

- name: Refuse a bad package with every other problem of the run, in one task
  ansible.builtin.assert:
    that: problems | length == 0
    fail_msg: "{{ problems | join('; ') }}"
  vars:
    checked: "{{ lookup('gameops.elastic_release.package_info', package, release=release, on_error='report') }}"
    problems: "{{ ([checked.error] if checked.error else []) + other_problems }}"
'''

RETURN = r'''
_raw:
  description:
    - One answer per package, as M(gameops.elastic_release.server_package_info) returns it
      (C(path), C(package), C(project), C(release), C(build), C(indicator), C(config), C(components),
      C(problems), C(members), C(size), C(uncompressed_size), C(sha256)), plus RV(_raw[].error).
    - Called with C(lookup) and one package, the answer itself is returned.
  type: list
  elements: dict
  contains:
    error:
      description:
        - Why the package cannot be used, naming the package and the member to blame; null for a good package.
        - Only with O(on_error=report); with V(fail) such a package raises an error instead.
      type: str
'''

import os

from ansible.errors import AnsibleLookupError
from ansible.module_utils.common.text.converters import to_native
from ansible.plugins.lookup import LookupBase

from ansible_collections.gameops.elastic_release.plugins.module_utils._package.archive import Limits
from ansible_collections.gameops.elastic_release.plugins.module_utils._package.pkgname import PackageError
from ansible_collections.gameops.elastic_release.plugins.module_utils._package.server_package import check_server_package


class LookupModule(LookupBase):

    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        try:
            limits = Limits(self.get_option('max_member_size'), self.get_option('max_total_size'),
                            self.get_option('max_ratio'))
        except PackageError as exc:
            raise AnsibleLookupError('package_info: %s' % exc)
        report = self.get_option('on_error') == 'report'
        answers = []
        for term in terms:
            if not term:
                raise AnsibleLookupError('package_info: empty package path')
            path = os.path.expanduser(to_native(term))
            dummy, result, error = check_server_package(path, self.get_option('name_pattern') or None,
                                                        self.get_option('release') or None, limits)
            if error and not report:
                raise AnsibleLookupError(error)
            if report:
                result['error'] = error
            answers.append(result)
        return answers
