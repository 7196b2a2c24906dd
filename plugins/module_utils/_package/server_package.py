# -*- coding: utf-8 -*-
# Copyright: (c) 2026, GameOps release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# This module_utils is PRIVATE to gameops.elastic_release; its API may change without notice.
"""Server packages: ``{project}-{release}-{build}.tar.gz`` read, checked and built.

A server package holds ``filecache/{release}.config.zoo``, ``filecache/release_indicator.json``,
``lib/...`` and ``version/{component}/{version}/...``. The indicator and config.zoo are read from
the archive itself, never from an unpacked shared directory (several releases unpack into one
directory and their indicators collide). Reading goes through `_archive` (nothing is extracted),
building through `_archive_writer` (byte-identical for identical inputs).

No Ansible imports here.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

from .archive import UnsafeArchiveError, check_links, read_bounded, scan_archive
from .archive_writer import Entry, tree_entries, write_archive_file
from .._release.config import MAX_CONFIG_BYTES, ConfigError, encode, parse_config_text
from .._release.names import ITEM_RE, InvalidName, validate_release
from .pkgname import PackageError, package_file_name, parse_package_name

INDICATOR_MEMBER = 'filecache/release_indicator.json'
CONFIG_SUFFIX = '.config.zoo'
TOP_LEVEL = ('filecache', 'lib', 'version')
# Components and versions under version/: single file-name components, named as the tree's items.
LAYOUT_NAME_RE = ITEM_RE
MAX_INDICATOR_BYTES = 64 * 1024


# ---------------------------------------------------------------------------------------------
# Reading (nothing is extracted)
# ---------------------------------------------------------------------------------------------

class ServerPackage(object):
    __slots__ = ('path', 'name', 'indicator', 'config', 'components', 'problems', 'scan')

    def __init__(self, path, name, indicator, config, components, problems, scan):
        self.path = path
        self.name = name
        self.indicator = indicator
        self.config = config
        self.components = components
        self.problems = problems
        self.scan = scan

    def to_dict(self):
        return {
            'path': self.path,
            'package': self.name.name,
            'project': self.name.project,
            'release': self.name.release,
            'build': self.name.build,
            'indicator': self.indicator,
            'config': self.config.to_dict(),
            'components': self.components,
            'problems': list(self.problems),
            'members': len(self.scan.members),
            'size': self.scan.compressed_size,
            'uncompressed_size': self.scan.total_size,
            'sha256': self.scan.sha256,
        }


def parse_indicator(data, where):
    """release_indicator.json: a JSON object whose "name" is a release name (other keys allowed)."""
    try:
        text = data.decode('utf-8')
        if text.startswith(u'\ufeff'):
            text = text[1:]
        doc = json.loads(text)
    except UnicodeDecodeError:
        raise PackageError('%s: malformed release indicator: not UTF-8 text' % where)
    except (ValueError, RecursionError) as exc:
        raise PackageError('%s: malformed release indicator: not valid JSON (%s)' % (where, exc))
    if not isinstance(doc, dict):
        raise PackageError('%s: malformed release indicator: must be a JSON object such as '
                           '{"name": "production"}, got %s' % (where, type(doc).__name__))
    if 'name' not in doc:
        raise PackageError('%s: malformed release indicator: no "name" key' % where)
    try:
        validate_release(doc['name'])
    except InvalidName as exc:
        raise PackageError('%s: malformed release indicator: %s' % (where, exc))
    return doc


def read_server_package(path, name_pattern=None, expected_release=None, limits=None, hash_members=False):
    """Read and check a server package without extracting it. Returns a ServerPackage.

    Raises PackageError (UnsafeArchiveError for unsafe archives) for anything that makes the
    package unusable; layout oddities that do not are returned as ``problems``.
    """
    name = parse_package_name(path, name_pattern)
    label = name.name
    release = name.release
    if expected_release is not None and expected_release != release:
        raise PackageError('package %s is release %r, not the expected release %r'
                           % (label, release, expected_release))
    wanted = {}

    def visitor(member, fileobj):
        parts = member.name.split('/')
        if len(parts) != 2 or parts[0] != 'filecache':
            return
        if member.name == INDICATOR_MEMBER:
            limit = MAX_INDICATOR_BYTES
        elif member.name.endswith(CONFIG_SUFFIX):
            limit = MAX_CONFIG_BYTES
        else:
            return
        wanted[member.name] = read_bounded(fileobj, limit, '%s: member %r' % (label, member.name))

    scan = scan_archive(path, limits, visitor, label, hash_members)
    kinds = dict((m.name, m) for m in scan.members)

    indicator_member = kinds.get(INDICATOR_MEMBER)
    if indicator_member is None:
        raise PackageError('%s: missing member %r: every server package must carry its release indicator'
                           % (label, INDICATOR_MEMBER))
    if indicator_member.kind != 'file':
        raise PackageError('%s: member %r must be a regular file, not a %s'
                           % (label, INDICATOR_MEMBER, indicator_member.kind))
    where = '%s: member %r' % (label, INDICATOR_MEMBER)
    indicator = parse_indicator(wanted[INDICATOR_MEMBER], where)
    if indicator['name'] != release:
        raise PackageError('%s: the release indicator names release %r but the package name says %r'
                           % (where, indicator['name'], release))

    config_name = 'filecache/%s%s' % (release, CONFIG_SUFFIX)
    for member in scan.members:
        parts = member.name.split('/')
        is_config = parts[-1] == CONFIG_SUFFIX[1:] or parts[-1].endswith(CONFIG_SUFFIX)
        if len(parts) == 2 and parts[0] == 'filecache' and is_config and member.name != config_name:
            other = parts[1][:-len(CONFIG_SUFFIX)] if parts[1].endswith(CONFIG_SUFFIX) else ''
            if other:
                raise PackageError('%s: member %r is the config.zoo of release %r, but the package is release %r'
                                   % (label, member.name, other, release))
            raise PackageError('%s: member %r has no release prefix (a legacy config.zoo); the package must carry '
                               '%r' % (label, member.name, config_name))
    config_member = kinds.get(config_name)
    if config_member is None:
        raise PackageError('%s: missing member %r (the config.zoo of release %r)' % (label, config_name, release))
    if config_member.kind != 'file':
        raise PackageError('%s: member %r must be a regular file, not a %s' % (label, config_name, config_member.kind))
    try:
        config = parse_config_text(wanted[config_name], source='%s: member %r' % (label, config_name))
    except ConfigError as exc:
        raise PackageError(str(exc))

    components, problems = _layout(scan.members, release)
    return ServerPackage(path, name, indicator, config, components, problems, scan)


def check_server_package(path, name_pattern=None, expected_release=None, limits=None, hash_members=False):
    """(package or None, the answer of server_package_info, the reason it cannot be used or None).

    The one wording of a refused package, for the module and for the controller-side lookup: an
    unsafe or unusable package, or one with layout problems."""
    try:
        package = read_server_package(path, name_pattern, expected_release, limits, hash_members)
    except PackageError as exc:
        return None, {'path': path, 'problems': []}, 'cannot read server package %s: %s' % (path, exc)
    result = package.to_dict()
    if result['problems']:
        return package, result, 'server package %s has %d problem(s): %s' % (
            result['package'], len(result['problems']), '; '.join(result['problems']))
    return package, result, None


def read_package_for_publish(path, release, name_pattern=None, limits=None):
    """(ReleaseConfig, indicator bytes) for the publish module: the package read from the archive
    itself and checked against the release it is published as. The indicator is returned as
    canonical JSON (what /default_release holds). Layout problems do not stop a publish."""
    package = read_server_package(path, name_pattern, expected_release=release, limits=limits)
    return package.config, encode(package.indicator)


def _layout(members, release):
    """Components and versions under version/, and layout oddities that do not make the package
    unusable (reported as problems)."""
    components = {}
    problems = []
    tops = set()
    allowed_filecache = (INDICATOR_MEMBER, 'filecache/%s%s' % (release, CONFIG_SUFFIX))
    for member in members:
        parts = member.name.split('/')
        tops.add(parts[0])
        if parts[0] not in TOP_LEVEL:
            if len(parts) == 1:
                problems.append('unexpected top-level member %r (a server package holds only %s)'
                                % (member.name, ', '.join(TOP_LEVEL)))
            continue
        if member.mode & 0o7000 and member.kind == 'file':
            problems.append('member %r has the setuid, setgid or sticky bit (mode %04o)' % (member.name, member.mode))
        elif member.mode & 0o002 and member.kind == 'file':
            problems.append('member %r is world-writable (mode %04o)' % (member.name, member.mode))
        if parts[0] == 'filecache' and len(parts) >= 2 and member.name not in allowed_filecache:
            problems.append('unexpected member %r in filecache/' % member.name)
        if parts[0] == 'version' and len(parts) >= 2:
            component = parts[1]
            if len(parts) == 2 and member.kind != 'dir':
                problems.append('member %r: version/ must hold only component directories' % member.name)
                continue
            if not LAYOUT_NAME_RE.match(component):
                problems.append('member %r: invalid component name %r' % (member.name, component))
                continue
            versions = components.setdefault(component, set())
            if len(parts) >= 3:
                if len(parts) == 3 and member.kind != 'dir':
                    problems.append('member %r: version/%s/ must hold only version directories'
                                    % (member.name, component))
                    continue
                if not LAYOUT_NAME_RE.match(parts[2]):
                    problems.append('member %r: invalid version name %r' % (member.name, parts[2]))
                    continue
                versions.add(parts[2])
    for top in ('lib', 'version'):
        if top not in tops:
            problems.append('the package has no %s/ directory' % top)
    for component, versions in sorted(components.items()):
        if not versions:
            problems.append('component %r under version/ has no version directory' % component)
    return dict((c, sorted(v)) for c, v in sorted(components.items())), problems


# ---------------------------------------------------------------------------------------------
# Building
# ---------------------------------------------------------------------------------------------

def config_bytes(config):
    """config.zoo as the package carries it: canonical, pretty JSON (keys sorted, 2 spaces)."""
    doc = config.to_dict()
    if doc.get('global_url') is None:
        doc.pop('global_url', None)
    return (json.dumps(doc, sort_keys=True, indent=2, ensure_ascii=False) + '\n').encode('utf-8')


def indicator_bytes(release):
    return (json.dumps({'name': release}, sort_keys=True, indent=2) + '\n').encode('utf-8')


def server_package_entries(src, release, config, label):
    if not os.path.isdir(src):
        raise PackageError('%s: source directory %s does not exist' % (label, src))
    entries = [
        Entry('filecache', 'dir'),
        Entry('filecache/%s%s' % (release, CONFIG_SUFFIX), 'file', 0o644, data=config_bytes(config)),
        Entry(INDICATOR_MEMBER, 'file', 0o644, data=indicator_bytes(release)),
    ]
    found = []
    for top in ('lib', 'version'):
        full = os.path.join(src, top)
        if os.path.islink(full) or (os.path.lexists(full) and not os.path.isdir(full)):
            raise PackageError('%s: %s must be a directory' % (label, full))
        if os.path.isdir(full):
            found.append(top)
            entries.append(Entry(top, 'dir'))
            entries.extend(tree_entries(src, top, label))
    if not found:
        raise PackageError('%s: source directory %s has neither lib/ nor version/' % (label, src))
    ignored = sorted(n for n in os.listdir(src) if n not in ('lib', 'version'))
    for entry in entries:
        parts = entry.name.split('/')
        if parts[0] != 'version' or len(parts) not in (2, 3):
            continue
        if entry.kind != 'dir':
            raise PackageError('%s: source %s: version/ holds version/{component}/{version}/ directories only'
                               % (label, os.path.join(src, entry.name)))
        if not LAYOUT_NAME_RE.match(parts[-1]):
            what = 'component' if len(parts) == 2 else 'version'
            raise PackageError('%s: source %s: invalid %s name %r'
                               % (label, os.path.join(src, entry.name), what, parts[-1]))
    links = dict((e.name, e.linkname) for e in entries if e.kind == 'symlink')
    try:
        check_links(label, [e.name for e in entries], links)
    except UnsafeArchiveError as exc:
        raise PackageError(str(exc).replace('unsafe member', 'source'))
    return entries, ignored


def build_server_package(src, dest, release, project, build, config, mtime=0, check=False, force=False):
    """Build {dest}/{project}-{release}-{build}.tar.gz from src/lib, src/version and a parsed
    ReleaseConfig. Byte-identical for identical inputs. Returns a dict (see write_archive_file) plus
    release, build, project, ignored (top-level source entries left out). An existing package of
    that name with other content is refused unless force: its name stands for one build."""
    file_name = package_file_name(project, release, build)
    parsed = parse_package_name(file_name)
    if (parsed.project, parsed.release, parsed.build) != (project, release, build):
        raise PackageError('%s: the name does not parse back to project %r, release %r, build %r'
                           % (file_name, project, release, build))
    entries, ignored = server_package_entries(src, release, config, file_name)
    result = write_archive_file(os.path.join(dest, file_name), entries, mtime, check, file_name, replace=force)
    result.update({'release': release, 'build': build, 'project': project, 'package': file_name,
                   'ignored': ignored, 'config_digest': config.digest()})
    return result
