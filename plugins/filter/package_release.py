# -*- coding: utf-8 -*-
# Copyright: (c) 2026, GameOps release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters that read the release and the build out of a server package name.

The documentation of each filter is in the YAML file of the same name beside this one.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_text
from ansible_collections.gameops.elastic_release.plugins.module_utils._package.pkgname import PackageError, parse_package_name


def _parse(value, pattern, filter_name):
    if value is None:
        raise AnsibleFilterError('%s: expected a package name or path, got None' % filter_name)
    try:
        return parse_package_name(to_text(value), pattern)
    except PackageError as exc:
        raise AnsibleFilterError('%s: %s' % (filter_name, exc))


def package_release(value, pattern=None):
    """The release of a server package, from its file name or path."""
    return _parse(value, pattern, 'package_release').release


def package_build(value, pattern=None):
    """The build of a server package, from its file name or path."""
    return _parse(value, pattern, 'package_build').build


class FilterModule(object):
    def filters(self):
        return {
            'package_release': package_release,
            'package_build': package_build,
        }
