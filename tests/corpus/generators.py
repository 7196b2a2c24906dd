# -*- coding: utf-8 -*-
"""Generators for the hostile-input corpus (cases.yml): server packages and config.zoo files that
the collection must refuse, written into a scratch directory at test time (nothing binary is kept
in the repository).

    files = build_all(workdir)      # {"@package:traversal": "/tmp/.../mygame-gray1-1.tar.gz", ...}

Every package is written by hand with tarfile, because the collection's own builder refuses to
write any of them. A package is named `mygame-{release}-{build}.tar.gz` unless its case needs a
wrong name.
"""

import gzip
import io
import json
import os
import tarfile

PROJECT = 'mygame'
GOOD_CONFIG = {
    'global_url': 'http://10.1.0.6:9000',
    'versions': ['1.3.0'],
    'sections': {'1901': {}},
    'servers': {'10.1.0.21': {'services': {'gameserver': 'dev.190122.01'}}},
}
BOMB_BYTES = 80 * 1024 * 1024     # past the reader's 64 MiB ratio floor: the ratio check must trip


class _Zeros(object):
    """A file object of n zero bytes, without holding them in memory."""

    def __init__(self, n):
        self.left = n

    def read(self, size=-1):
        size = self.left if size is None or size < 0 else min(size, self.left)
        self.left -= size
        return b'\0' * size


def _info(name, kind=tarfile.REGTYPE, size=0, mode=0o644, linkname=''):
    info = tarfile.TarInfo(name)
    info.type = kind
    info.size = size
    info.mode = mode
    info.mtime = 0
    info.linkname = linkname
    if kind in (tarfile.CHRTYPE, tarfile.BLKTYPE):
        info.devmajor, info.devminor = 1, 3
    return info


def _package(path, release='gray1', config=None, indicator=None, config_name=None, extra=(),
             skip=(), raw_config=None, level=6):
    """Write a package: the standard members, minus `skip`, plus `extra`
    [(name, kind, data or size, linkname)]."""
    members = [
        ('filecache', tarfile.DIRTYPE, b'', ''),
        ('filecache/release_indicator.json', tarfile.REGTYPE,
         indicator if isinstance(indicator, bytes) else json.dumps(indicator or {'name': release}).encode(), ''),
        (config_name or 'filecache/%s.config.zoo' % release, tarfile.REGTYPE,
         raw_config if raw_config is not None else json.dumps(config or GOOD_CONFIG).encode(), ''),
        ('lib', tarfile.DIRTYPE, b'', ''),
        ('lib/dk-server.jar', tarfile.REGTYPE, b'jar', ''),
        ('version', tarfile.DIRTYPE, b'', ''),
        ('version/gameserver', tarfile.DIRTYPE, b'', ''),
        ('version/gameserver/dev.190122.01', tarfile.DIRTYPE, b'', ''),
    ]
    members = [m for m in members if m[0] not in skip] + list(extra)
    with open(path, 'wb') as raw:
        with gzip.GzipFile(fileobj=raw, mode='wb', compresslevel=level, mtime=0) as gz:
            with tarfile.open(fileobj=gz, mode='w|', format=tarfile.GNU_FORMAT) as tar:
                for name, kind, data, linkname in members:
                    if isinstance(data, int):      # a size: zeros streamed without memory
                        tar.addfile(_info(name, kind, data), _Zeros(data))
                    elif kind == tarfile.REGTYPE:
                        tar.addfile(_info(name, kind, len(data)), io.BytesIO(data))
                    else:
                        mode = 0o755 if kind == tarfile.DIRTYPE else 0o777 if kind == tarfile.SYMTYPE else 0o644
                        tar.addfile(_info(name, kind, 0, mode, linkname))
    return path


def _name(workdir, release='gray1', build='190199.01', name=None):
    return os.path.join(workdir, name or '%s-%s-%s.tar.gz' % (PROJECT, release, build))


def packages(workdir):
    """{key: path} of every hostile or broken package."""
    os.makedirs(workdir, exist_ok=True)
    reg, sym, lnk = tarfile.REGTYPE, tarfile.SYMTYPE, tarfile.LNKTYPE
    specs = {
        'traversal': dict(extra=[('../evil.sh', reg, b'#!/bin/sh\n', '')]),
        'traversal_nested': dict(extra=[('lib/../../../../tmp/evil.sh', reg, b'x', '')]),
        'absolute_path': dict(extra=[('/etc/cron.d/evil', reg, b'x', '')]),
        'symlink_escape': dict(extra=[('lib/passwd', sym, b'', '../../../../etc/passwd')]),
        'symlink_absolute': dict(extra=[('lib/passwd', sym, b'', '/etc/passwd')]),
        'symlink_chain_escape': dict(extra=[('lib/a', sym, b'', 'b'), ('lib/b', sym, b'', '../..')]),
        'member_through_symlink': dict(extra=[('lib/up', sym, b'', '.'), ('lib/up/evil', reg, b'x', '')]),
        'hardlink_escape': dict(extra=[('lib/shadow', lnk, b'', '../../etc/shadow')]),
        'char_device': dict(extra=[('lib/null', tarfile.CHRTYPE, b'', '')]),
        'block_device': dict(extra=[('lib/sda', tarfile.BLKTYPE, b'', '')]),
        'fifo': dict(extra=[('lib/pipe', tarfile.FIFOTYPE, b'', '')]),
        'control_char_name': dict(extra=[('lib/a\nb', reg, b'x', '')]),
        'duplicate_member': dict(extra=[('lib/dk-server.jar', reg, b'again', '')]),
        'zip_bomb': dict(extra=[('lib/zeros.bin', reg, BOMB_BYTES, '')], level=9),
        'wrong_release_config': dict(config_name='filecache/production.config.zoo'),
        'legacy_config_name': dict(config_name='filecache/config.zoo'),
        'indicator_other_release': dict(indicator={'name': 'production'}),
        'indicator_not_json': dict(indicator=b'{"name": "gray1"'),
        'indicator_hostile_name': dict(indicator={'name': '../releases/production'}),
        'missing_indicator': dict(skip=('filecache/release_indicator.json',)),
        'missing_config': dict(skip=('filecache/gray1.config.zoo',)),
        'config_not_json': dict(raw_config=b'{"versions": ["1.3.0"],'),
        'config_bad_section': dict(config={'sections': {'../1901': {}}}),
        'config_duplicate_keys': dict(raw_config=b'{"versions": ["1"], "versions": ["2"]}'),
    }
    out = {}
    for i, (key, spec) in enumerate(sorted(specs.items())):
        out[key] = _package(_name(workdir, build='1901%02d.01' % i), **spec)
    # A production package (name, indicator and config all production) published as gray1.
    out['other_release'] = _package(_name(workdir, release='production', build='190122.01'), release='production')
    out['bad_file_name'] = _package(_name(workdir, name='gray1.tar.gz'))
    # Well-formed packages, for the flow cases whose parameters (not packages) are wrong.
    out['good_gray'] = _package(_name(workdir, build='190300.01'))
    out['good_gray9'] = _package(_name(workdir, release='gray9', build='190300.01'), release='gray9')
    out['good_production'] = _package(_name(workdir, release='production', build='190300.01'), release='production')
    good = _package(_name(workdir, build='190200.01'))
    with open(good, 'rb') as f:
        data = f.read()
    out['truncated_gzip'] = _write(_name(workdir, build='190201.01'), data[:len(data) * 2 // 3])
    out['not_gzip'] = _write(_name(workdir, build='190202.01'), b'PK\x03\x04 this is a zip, not a tar.gz' * 20)
    out['empty_file'] = _write(_name(workdir, build='190203.01'), b'')
    # A valid tar.gz, then more gzip data after the tar end-of-archive marker.
    out['data_after_end'] = _write(_name(workdir, build='190204.01'), data + gzip.compress(b'trailing garbage', mtime=0))
    out['missing_file'] = _name(workdir, build='190205.01')          # never written
    directory = _name(workdir, build='190206.01')
    os.makedirs(directory, exist_ok=True)
    out['directory'] = directory
    return out


def _write(path, data):
    with open(path, 'wb') as f:
        f.write(data)
    return path


def configs(workdir):
    """{key: path} of config.zoo files that must be refused."""
    os.makedirs(workdir, exist_ok=True)
    deep_object = {}
    node = deep_object
    for dummy in range(40):
        node['a'] = {}
        node = node['a']
    specs = {
        'not_json': b'versions: [1.0]\n',
        'truncated_json': b'{"versions": ["1.0"],',
        'duplicate_keys': b'{"sections": {"1001": {}}, "sections": {"1002": {}}}',
        'duplicate_nested_keys': b'{"sections": {"1001": {"name": "a", "name": "b"}}}',
        'ten_megabytes': None,                                   # written below, streamed
        'deep_nesting_brackets': b'[' * 100000 + b']' * 100000,
        'deep_nesting_objects': json.dumps({'sections': {'1001': deep_object}}).encode(),
        'not_utf8': b'{"sections": {"1001": {"name": "\xff\xfe"}}}',
        'empty_file': b'',
        'nul_bytes': b'{"sections": {"1001\x00": {}}}',
        'top_level_array': b'[{"sections": {}}]',
        'top_level_string': b'"production"',
        'versions_wrong_type': b'{"versions": "1.2.0"}',
        'sections_wrong_type': b'{"sections": 1001}',
        'section_data_not_object': b'{"sections": {"1001": "S1"}}',
        'global_url_number': b'{"global_url": 9000}',
        'global_url_newline': b'{"global_url": "http://10.0.0.5:9000\\nX-Injected: 1"}',
        'unknown_key': b'{"sectoins": {"1001": {}}}',
        # gray1's server stays: the node's size is the one problem of this config
        'huge_node_data': json.dumps({'release': 'gray1', 'sections': {'1901': {'blob': 'x' * (1536 * 1024)}},
                                      'servers': ['10.1.0.21']}).encode(),
        'nan_value': b'{"sections": {"1001": {"weight": NaN}}}',
    }
    out = {}
    for key, data in sorted(specs.items()):
        path = os.path.join(workdir, 'gray1-%s.config.zoo' % key)
        if data is None:
            with open(path, 'wb') as f:
                f.write(b'{"sections": {"0": {}')
                i, written = 1, 0
                while written < 10 * 1024 * 1024:
                    entry = (', "%d": {"name": "%s"}' % (i, 'x' * 60)).encode()
                    f.write(entry)
                    written += len(entry)
                    i += 1
                f.write(b'}}')
        else:
            _write(path, data)
        out[key] = path
    out['missing_file'] = os.path.join(workdir, 'gray1-missing.config.zoo')
    out['directory'] = workdir
    return out


def build_all(workdir):
    """Every generated input, keyed as cases.yml refers to it ("@package:key", "@config:key")."""
    files = {}
    for key, path in packages(os.path.join(workdir, 'packages')).items():
        files['@package:%s' % key] = path
    for key, path in configs(os.path.join(workdir, 'configs')).items():
        files['@config:%s' % key] = path
    return files
