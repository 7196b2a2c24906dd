# -*- coding: utf-8 -*-
"""Pure logic of the release model: names, config.zoo, planning, routing rules. No ZooKeeper."""

import json

import pytest

from ansible_collections.gameops.elastic_release.plugins.module_utils._release import config as _config
from ansible_collections.gameops.elastic_release.plugins.module_utils._report import lookup as _lookup
from ansible_collections.gameops.elastic_release.plugins.module_utils._release import names as _names
from ansible_collections.gameops.elastic_release.plugins.module_utils._release import ownership as _ownership
from ansible_collections.gameops.elastic_release.plugins.module_utils._write import plan as _plan
from ansible_collections.gameops.elastic_release.plugins.module_utils._release import revisions as _revisions
from ansible_collections.gameops.elastic_release.plugins.module_utils._release import snapshot as _snapshot
from ansible_collections.gameops.elastic_release.plugins.module_utils._release import state as _state
from ansible_collections.gameops.elastic_release.plugins.module_utils._zk import session as _zk


@pytest.mark.parametrize('name', ['production', 'gray1', 'appstore_review', 'a', 'a' * 64])
def test_valid_release_names(name):
    assert _names.validate_release(name) == name


@pytest.mark.parametrize('name', ['', 'Production', '1gray', 'gray-1', 'gray/1', '..', 'a' * 65, 'locks',
                                  'gray\x00', u'gr\u0430y', 'gray 1', None, 5])
def test_invalid_release_names(name):
    with pytest.raises(_names.InvalidName):
        _names.validate_release(name)


@pytest.mark.parametrize('kind,name,canonical', [
    ('versions', '1.2.0', '1.2.0'), ('versions', 'Numeric#Development#17253', 'Numeric#Development#17253'),
    ('sections', '1001', '1001'), ('sections', 1001, '1001'),
    ('servers', '10.1.2.3', '10.1.2.3'), ('servers', 'FD00:0::1', 'fd00::1'),
])
def test_valid_items(kind, name, canonical):
    assert _names.validate_item(kind, name) == canonical


@pytest.mark.parametrize('kind,name', [
    ('versions', ''), ('versions', '.'), ('versions', '..'), ('versions', 'a/b'), ('versions', 'a b'),
    ('versions', 'x' * 201), ('sections', '10\n01'), ('servers', '10.0.0.256'), ('servers', 'host.example'),
    ('versions', True), ('servers', '10.0.0.1/24'), ('servers', 'fe80::1%eth0'), ('servers', 'fe80::1% x'),
    ('servers', '::ffff:10.0.0.1'),
])
def test_invalid_items(kind, name):
    with pytest.raises(_names.InvalidName):
        _names.validate_item(kind, name)


@pytest.mark.parametrize('name,message', [
    ('10O3', "invalid section id '10O3': a section id is the game zone number the CMDB gives a host, 1 to 18 decimal "
             "digits without a leading zero (did you mean 1003? 'O' is a letter, not a digit)"),
    ('l0O1', "(did you mean 1001? 'O' and 'l' are letters, not digits)"),
    ('0012', '(write it without the leading zero, 12, as the CMDB does)'),
    ('S1', "invalid section id 'S1': a section id is the game zone number"),
    ('1' * 19, 'invalid section id'),
    (u'\uff11\uff10\uff10\uff11', 'invalid section id'),
])
def test_a_section_id_is_a_zone_number(name, message):
    """The CMDB gives hosts zone numbers; a section id that is no number (a typed letter O) is
    refused as invalid, naming what was probably meant, never looked up as a zone nobody owns."""
    with pytest.raises(_names.InvalidName) as exc:
        _names.validate_item('sections', name)
    assert message in str(exc.value)
    assert _names.validate_item('sections', '0') == '0' and _names.validate_item('sections', '1' * 18) == '1' * 18


def test_config_lists_and_objects():
    cfg = _config.parse_config_text(json.dumps({
        'global_url': 'http://10.0.0.5:9000', 'versions': ['1.0', '1.1'],
        'sections': {'1001': {'name': 'S1'}, '1002': None}, 'servers': ['10.0.0.1']}), 'x.config.zoo')
    assert cfg.versions == {'1.0': {}, '1.1': {}}
    assert cfg.sections == {'1001': {'name': 'S1'}, '1002': {}}
    assert cfg.servers == {'10.0.0.1': {}}
    assert _config.item_bytes('versions', {}) == b''
    assert _config.item_bytes('sections', {}) == b'{}'
    assert _config.item_bytes('sections', {'b': 1, 'a': 2}) == b'{"a":2,"b":1}'


@pytest.mark.parametrize('text,message', [
    ('', 'not valid JSON'),
    ('{"versions": 1}', 'key versions: must be a list'),
    ('{"versions": ["1.0", "1.0"]}', 'listed twice'),
    ('{"servers": {"10.0.0.1": {}, "10.0.0.1": {}}}', 'duplicate key'),
    ('{"global_url": 5}', 'key global_url'),
    ('{"global_url": "http://a b"}', 'key global_url'),
    ('[' * 100000 + ']' * 100000, 'nested too deeply'),
    ('{"sections": {"1": ' + '{"a":' * 40 + '1' + '}' * 40 + '}}', 'nested deeper'),
    (b'\xff\xfe', 'not UTF-8'),
    ('{"sections": {"1": {"weight": NaN}}}', 'NaN is not a JSON value'),
    ('{"sections": {"1": {"weight": -Infinity}}}', '-Infinity is not a JSON value'),
])
def test_config_errors_name_the_problem(text, message):
    with pytest.raises(_config.ConfigError) as err:
        _config.parse_config_text(text, 'gray1.config.zoo')
    assert message in str(err.value)
    assert 'gray1.config.zoo' in str(err.value)


def test_config_data_refuses_nan_and_infinity():
    with pytest.raises(_config.ConfigError) as err:
        _config.parse_config({'sections': {'1': {'weight': float('inf')}}}, 'config')
    assert 'NaN or Infinity' in str(err.value)
    with pytest.raises(ValueError):
        _config.encode({'weight': float('nan')})


def test_config_size_limit():
    with pytest.raises(_config.ConfigError) as err:
        _config.parse_config_text(b' ' * (_config.MAX_CONFIG_BYTES + 1), 'big.config.zoo')
    assert 'limit' in str(err.value)


def snap_of(release, state, children=None):
    snap = _snapshot.Snapshot(release)
    snap.state = state
    snap.nodes = dict((kind, dict(state[kind])) for kind in _names.KINDS)
    snap.releases_root_exists = True
    if state['exists']:
        class Stat(object):
            version = 3
        snap.meta_stat = Stat()
        snap.release_children = children if children is not None else ['versions', 'sections', 'servers', 'global_url']
        snap.container_stats = dict((k, Stat()) for k in _names.KINDS)
        snap.global_url_stat = Stat() if state['global_url'] is not None else None
    return snap


def test_plan_creates_sets_and_deletes_in_a_safe_order():
    cur = _state.empty_state(True)
    cur['sections'] = {'1001': b'{}', '1002': b'{"name":"old"}'}
    cur['global_url'] = b'http://a:1'
    want = _state.empty_state(True)
    want['sections'] = {'1002': b'{"name":"new"}', '1003': b'{}'}
    want['global_url'] = b'http://a:1'
    plan = _plan.plan_release(snap_of('gray1', cur), want, {})
    assert [(op[0], op[1]) for op in plan.ops] == [
        ('delete', '/releases/gray1/sections/1001'),
        ('set', '/releases/gray1/sections/1002'),
        ('create', '/releases/gray1/sections/1003'),
    ]


def test_plan_compares_json_semantically():
    cur = _state.empty_state(True)
    cur['servers'] = {'10.0.0.1': b'{ "services": {"gameserver": "a"} }'}
    cur['versions'] = {'1.0': b'{}'}
    want = _state.empty_state(True)
    want['servers'] = {'10.0.0.1': b'{"services":{"gameserver":"a"}}'}
    want['versions'] = {'1.0': b''}
    assert not _plan.plan_release(snap_of('gray1', cur), want, {}).ops


def test_plan_absent_refuses_unknown_children():
    cur = _state.empty_state(True)
    with pytest.raises(_zk.ZkError) as err:
        _plan.plan_release(snap_of('gray1', cur, ['versions', 'extra']), _state.empty_state(False), {})
    assert 'extra' in str(err.value)


def test_revision_roundtrip_keeps_bytes_exactly():
    state = _state.empty_state(True)
    state['sections'] = {'1001': b'\xff\x00not json', '1002': b'{"a":1}'}
    state['global_url'] = b'http://x:1'
    doc = _revisions.decode_revision(_revisions.encode_revision({'before': _state.state_to_json(state)}), 'x')
    assert _state.state_from_json(doc['before']) == state
    assert _revisions.decode_revision(_revisions.encode_revision({'a': 1}), 'x') == {'a': 1}


def test_next_revision():
    assert _revisions.next_revision([]) == 'rev-0000000001'
    assert _revisions.next_revision(['rev-0000000009', 'rev-0000000010']) == 'rev-0000000011'


@pytest.mark.parametrize('data,name', [
    (b'{"name": "production"}', 'production'), (b'production\n', 'production'), (b'', None), (None, None),
    (b'{"other": 1}', None),
])
def test_parse_default(data, name):
    assert _snapshot.parse_default(data) == name


def test_routing_rules():
    assert _ownership.route('sections', '1', ['gray1'], 'production') == ('gray1', True)
    assert _ownership.route('sections', '1', [], 'production') == (None, False)
    with pytest.raises(_lookup.LookupFailed) as err:
        _ownership.route('servers', '10.0.0.1', ['production', 'gray1'], 'production')
    assert 'gray1 and production' in str(err.value)
    assert _ownership.route('versions', '2.0', ['production', 'gray1'], 'production') == ('gray1', True)
    assert _ownership.route('versions', '1.0', ['production'], 'production') == ('production', True)
    assert _ownership.route('versions', '9.0', [], 'production') == ('production', False)
    with pytest.raises(_lookup.LookupFailed):
        _ownership.route('versions', '2.0', ['gray1', 'review'], 'production')


def test_question_needs_exactly_one():
    assert _lookup.question(section_id=1001) == ('sections', '1001')
    with pytest.raises(_lookup.LookupFailed):
        _lookup.question(section_id='1', inner_ip='10.0.0.1')
    with pytest.raises(_lookup.LookupFailed):
        _lookup.question()


def test_request_size_matches_jute_encoding():
    acl = _zk.build_acl('digest', None, 'open')    # ZooKeeper's OPEN_ACL_UNSAFE
    ops = [('create', '/a', b'xyz'), ('delete', '/b', -1), ('set', '/c', b'', 1), ('check', '/d', 0)]
    # header 4+8+9; create 9+(4+2)+(4+3)+acl(4+4+4+5+4+6)+4; delete 9+6+4; set 9+6+4+4; check 9+6+4
    assert _zk.request_size(ops, acl) == 21 + (9 + 6 + 7 + 27 + 4) + 19 + 23 + 19
    assert _zk.request_size(ops, acl, '/chroot') > _zk.request_size(ops, acl)


def test_digest_acl_gives_world_read():
    acl = _zk.build_acl('digest', 'ops:secret', 'auto')
    assert [a.id.scheme for a in acl] == ['digest', 'world']
    assert 'secret' not in repr(acl)
    with pytest.raises(_zk.ZkError):
        _zk.build_acl('digest', None, 'private')


def test_state_digest_is_exact_and_framed():
    def state(url=b'http://a', **kinds):
        out = _state.empty_state(True)
        out['global_url'] = url
        for kind, items in kinds.items():
            out[kind] = dict(items)
        return out

    base = state(sections={'1001': b'{}', '1002': b'{"a":1}'}, versions={'1.2.0': b''})
    digest = _state.state_digest(base)
    assert digest == _state.state_digest(state(versions={'1.2.0': b''}, sections={'1002': b'{"a":1}', '1001': b'{}'}))
    others = [
        state(sections={'1001': b'{}', '1002': b'{"a": 1}'}, versions={'1.2.0': b''}),   # other bytes
        state(sections={'1001': b'{}', '1002': b'{"a":1}'}, versions={'1.2.0': None}),   # null data
        state(sections={'1001': b'{}', '1002': b'{"a":1}'}, servers={'1.2.0': b''}),     # other kind
        state(sections={'1001': b'{}', '1002': b'{"a":1}'}, versions={'1.2.0': b''}, url=None),
        state(sections={'100': b'1{}', '1002': b'{"a":1}'}, versions={'1.2.0': b''}),    # name/data boundary
        state(sections={'1001': b'{}'}, versions={'1.2.0': b''}),
    ]
    digests = [_state.state_digest(other) for other in others]
    assert digest not in digests and len(set(digests)) == len(digests)
