# -*- coding: utf-8 -*-
# Copyright: (c) 2026, GameOps release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# This module_utils is PRIVATE to gameops.elastic_release; its API may change without notice.
"""Package file names: ``{project}-{release}-{build}.tar.gz`` and ``{from}_{to}.tar.gz``.

The bottom layer of the package code, and all the filter plugins load: parsing a file name
must not pull in the archive reader. ``PackageError`` lives here for the same reason: every
package layer above (`_archive`, `_server_package`, `_upgrade`) raises it or a subclass.

No Ansible imports here.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import posixpath
import re

from .._release.names import InvalidName, validate_release

# Release and build contain no '-'; the project may. Matched against the whole base name.
DEFAULT_NAME_PATTERN = r'(?P<project>.+)-(?P<release>[^-/]+)-(?P<build>[^-/]+)\.tar\.gz'
PROJECT_RE = re.compile(r'^[A-Za-z0-9][A-Za-z0-9._-]{0,127}\Z')
BUILD_RE = re.compile(r'^[A-Za-z0-9][A-Za-z0-9._+~]{0,127}\Z')
# What a custom name pattern may capture as a build: one printable file-name component.
LOOSE_BUILD_RE = re.compile(r'^[A-Za-z0-9][A-Za-z0-9._+~#@=,:-]{0,127}\Z')
# Client versions of upgrade packages: '_' separates them in '{from}_{to}.tar.gz', so it is not
# allowed inside one; neither are '/', spaces or characters that URLs and shells treat specially.
UPGRADE_VERSION_RE = re.compile(r'^[A-Za-z0-9][A-Za-z0-9.+~-]{0,127}\Z')
UPGRADE_NAME_RE = re.compile(r'^(?P<from_version>[^_/]+)_(?P<to_version>[^_/]+)\.tar\.gz\Z')


class PackageError(ValueError):
    """A package (or its name) that cannot be used. The message names the package and, where one
    is to blame, the member."""


class PackageName(object):
    """A parsed package file name; ``project`` is None when a custom pattern has no such group."""

    __slots__ = ('name', 'project', 'release', 'build')

    def __init__(self, name, project, release, build):
        self.name = name
        self.project = project
        self.release = release
        self.build = build

    def to_dict(self):
        return dict((name, getattr(self, name)) for name in self.__slots__)


def _compile_pattern(pattern):
    if pattern is None or pattern == '':
        pattern = DEFAULT_NAME_PATTERN
    if not isinstance(pattern, str):
        raise PackageError('invalid package name pattern %r: must be a string' % (pattern,))
    try:
        regex = re.compile(pattern)
    except re.error as exc:
        raise PackageError('invalid package name pattern %r: %s' % (pattern, exc))
    missing = [g for g in ('release', 'build') if g not in regex.groupindex]
    if missing:
        raise PackageError('invalid package name pattern %r: it must define the named groups '
                           '(?P<release>...) and (?P<build>...); missing %s' % (pattern, ', '.join(missing)))
    return regex


def parse_package_name(name_or_path, pattern=None):
    """Split a package file name (or a path to one) into project, release and build.

    The pattern is a regular expression with the named groups ``release`` and ``build`` (and
    optionally ``project``) that must match the whole base name.
    """
    if not isinstance(name_or_path, str) or not name_or_path:
        raise PackageError('invalid package name %r: must be a non-empty string' % (name_or_path,))
    name = posixpath.basename(name_or_path.replace(os.sep, '/'))
    regex = _compile_pattern(pattern)
    match = regex.fullmatch(name)
    if not match:
        raise PackageError('package name %r does not match the pattern %r (by default '
                           '{project}-{release}-{build}.tar.gz, where release and build contain no "-")'
                           % (name, regex.pattern))
    release = match.group('release')
    build = match.group('build')
    project = match.group('project') if 'project' in regex.groupindex else None
    try:
        validate_release(release)
    except InvalidName as exc:
        raise PackageError('package %s: %s' % (name, exc))
    if not build or not LOOSE_BUILD_RE.match(build):
        raise PackageError('package %s: invalid build %r: must be a file-name component of letters, digits '
                           'and . _ + ~ # @ = , : -' % (name, build))
    return PackageName(name, project, release, build)


def package_file_name(project, release, build):
    """The file name the build module writes; validated so that it parses back unchanged."""
    if not isinstance(project, str) or not PROJECT_RE.match(project):
        raise PackageError('invalid project %r: must be 1-128 characters of letters, digits, . _ - '
                           '(starting with a letter or digit)' % (project,))
    try:
        validate_release(release)
    except InvalidName as exc:
        raise PackageError(str(exc))
    if not isinstance(build, str) or not BUILD_RE.match(build):
        raise PackageError('invalid build %r: must be 1-128 characters of letters, digits, . _ + ~ '
                           '(no "-": it separates the parts of the package name)' % (build,))
    return '%s-%s-%s.tar.gz' % (project, release, build)


def validate_upgrade_version(version, what='version'):
    if not isinstance(version, str) or not UPGRADE_VERSION_RE.match(version):
        raise PackageError('invalid %s %r for an upgrade package: must be 1-128 characters of letters, digits '
                           'and . + ~ - starting with a letter or digit ("_" separates the two versions in '
                           '{from}_{to}.tar.gz, "/" and spaces are never allowed)' % (what, version))
    return version


def upgrade_file_name(from_version, to_version):
    validate_upgrade_version(from_version, 'from_version')
    validate_upgrade_version(to_version, 'to_version')
    if from_version == to_version:
        raise PackageError('from_version and to_version are both %r: an upgrade package needs two versions'
                           % from_version)
    return '%s_%s.tar.gz' % (from_version, to_version)


def parse_upgrade_name(name_or_path):
    name = posixpath.basename(str(name_or_path).replace(os.sep, '/'))
    match = UPGRADE_NAME_RE.match(name)
    if not match:
        raise PackageError('upgrade package name %r is not {from_version}_{to_version}.tar.gz' % name)
    upgrade_file_name(match.group('from_version'), match.group('to_version'))
    return match.group('from_version'), match.group('to_version')
