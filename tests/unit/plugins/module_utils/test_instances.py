# -*- coding: utf-8 -*-
"""module_utils/_host/instances.py and fleet_report.py: the instances a host runs, their owners from
the map, a command line read back through its template, and what status prints and sync does."""

import pytest

from ansible_collections.gameops.elastic_release.plugins.module_utils._host import fleet_report as _report
from ansible_collections.gameops.elastic_release.plugins.module_utils._host import instances as _instances
from ansible_collections.gameops.elastic_release.plugins.module_utils._host.service import (DEFAULT_COMMAND, ServiceError,
                                                                                            parse_running)
from ansible_collections.gameops.elastic_release.plugins.module_utils._release.releasemap import ReleaseMap
from ansible_collections.gameops.elastic_release.plugins.module_utils._report.lookup import ReleaseIndex

SPECS = {'gameserver': {'per': 'section'}, 'gmtool': {'per': 'host'}}


def specs(mapping=None, names=('gameserver', 'gmtool')):
    return _instances.parse_specs(mapping or SPECS, list(names))


def test_specs_default_per_host_and_refusals():
    got = _instances.parse_specs({}, ['vms'])
    assert got['vms'].per == 'host' and got['vms'].template() == DEFAULT_COMMAND
    assert specs()['gameserver'].template()[-2:] == ['--section', '{section_id}']
    with pytest.raises(ServiceError) as err:
        _instances.parse_specs({'gameserver': {'per': 'zone'}}, ['gameserver'])
    assert 'elastic_release_services.gameserver.per is \'zone\': write "section"' in str(err.value)
    with pytest.raises(ServiceError) as err:
        _instances.parse_specs({'gameserver': {'per': 'section', 'command': ['/x/gs', '--release', '{release}']}},
                               ['gameserver'])
    assert ("gameserver runs per section but its command ['/x/gs', '--release', '{release}'] lacks {section_id}"
            in str(err.value)) and 'Add "--section", "{section_id}"' in str(err.value)
    with pytest.raises(ServiceError, match='unknown keys ports'):
        _instances.parse_specs({'gameserver': {'per': 'section', 'ports': 1}}, ['gameserver'])
    with pytest.raises(ServiceError, match='unknown placeholder'):
        _instances.parse_specs({'gmtool': {'command': ['/x', '{rel}']}}, ['gmtool'])


def test_plan_host():
    facts = {'inner_ip': '10.0.0.1', 'section_ids': [1001, 1002], 'services': ['gameserver', 'gmtool']}
    insts, served, error = _instances.plan_host('gs', facts, specs())
    assert error is None and served == {'gameserver': ['1001', '1002']}
    assert [(i['service'], i['per'], i['section_id']) for i in insts] == [
        ('gameserver', 'section', '1001'), ('gameserver', 'section', '1002'), ('gmtool', 'host', None)]
    # -e sections narrows to those sections' instances, and leaves per-host instances alone
    insts, _served, _error = _instances.plan_host('gs', facts, specs(), ['1002', '1003'])
    assert [(i['service'], i['section_id']) for i in insts] == [('gameserver', '1002')]
    # a host whose services list lacks a service does not run it
    insts, served, _error = _instances.plan_host('gs', dict(facts, services=['gmtool']), specs())
    assert [i['service'] for i in insts] == ['gmtool'] and served == {}
    # a pinned section the CMDB does not give the host is refused, naming its sections
    _insts, _served, error = _instances.plan_host('gs', dict(facts, section_id='1003'), specs())
    assert error == ('cannot start gameserver, gmtool on gs: section 1003 is not a section of gs in the CMDB (its '
                     'sections: 1001, 1002): fix server_start_section_id or the CMDB entry')
    _insts, _served, error = _instances.plan_host('gs', dict(facts, section_ids=['1001; id']), specs())
    assert error.startswith("cannot start gameserver, gmtool on gs: invalid section id '1001; id'")


class FakeSession(object):
    """Answers ReleaseMap.load's batches from a dict of {path: (data, stat)} and {path: children}."""

    def __init__(self, nodes, children):
        self.nodes, self.kids = nodes, children

    def batch(self, requests, **_options):
        return [self.get_one(verb, path) for verb, path in requests]

    def get_one(self, verb, path):
        if verb == 'children':
            return self.kids.get(path)
        return (self.nodes[path], None) if path in self.nodes else None

    def get_many(self, paths, **_options):
        return dict((p, (self.nodes[p], None) if p in self.nodes else None) for p in paths)


def index():
    nodes = {'/default_release': b'{"name": "production"}',
             '/releases/production': b'{"package": "mygame-production-1.tar.gz", "services": {"gameserver": "v1"}}',
             '/releases/gray1': b'{"package": "mygame-gray1-2.tar.gz"}',
             '/releases/gray1/sections/1002': b'{"services": {"gameserver": "v2"}}',
             '/releases/production/sections/1001': b'{}', '/releases/production/servers/10.0.0.1': b'{}'}
    kids = {'/releases': ['production', 'gray1'],
            '/releases/production/sections': ['1001'], '/releases/production/servers': ['10.0.0.1'],
            '/releases/gray1/sections': ['1002'], '/releases/gray1/servers': []}
    return ReleaseIndex(ReleaseMap.load(FakeSession(nodes, kids), with_data=('sections', 'servers')))


def test_resolve_owner_build_package_and_errors():
    sp = specs()
    insts = [{'service': 'gameserver', 'per': 'section', 'section_id': '1001'},
             {'service': 'gameserver', 'per': 'section', 'section_id': '1002'},
             {'service': 'gameserver', 'per': 'section', 'section_id': '1003'},
             {'service': 'gmtool', 'per': 'host', 'section_id': None}]
    got = _instances.resolve(index(), 'gs', '10.0.0.1', insts, sp)
    assert [(g['owner'], g['build'], g['package']) for g in got[:2]] == [
        ('production', 'v1', 'mygame-production-1.tar.gz'), ('gray1', 'v2', 'mygame-gray1-2.tar.gz')]
    assert got[2]['owner'] is None and got[2]['error'].startswith(
        'cannot start gameserver of section 1003 on gs: section id 1003 is owned by no release')
    # the release owns the host but names no build of gmtool: the message says what to add
    assert got[3]['owner'] == 'production' and got[3]['build'] is None
    assert 'Add {"services": {"gmtool": "<version>"}} to the server node' in got[3]['error']


@pytest.mark.parametrize('cmdline,known,expected', [
    (['/r/version/gs/v1/bin/gs', '--release', 'gray1', '--section', '1001'], {'section_id': '1001'},
     {'version': 'v1', 'release': 'gray1'}),
    (['/usr/bin/python3', '/r/version/gs/v1/bin/gs', '--release', 'gray1', '--section', '1001'], {'section_id': '1001'},
     {'version': 'v1', 'release': 'gray1'}),
    (['/r/version/gs/v1/bin/gs', '--release', 'gray1', '--section', '1002'], {'section_id': '1001'}, None),
    (['/r/version/gs/v1/bin/gmtool', '--release', 'gray1', '--section', '1001'], {'section_id': '1001'}, None),
    (['/other/version/gs/v1/bin/gs', '--release', 'gray1', '--section', '1001'], {'section_id': '1001'}, None),
    (['sleep', '60'], {'section_id': '1001'}, None),
])
def test_parse_running(cmdline, known, expected):
    template = DEFAULT_COMMAND + ['--section', '{section_id}']
    assert parse_running(template, dict(known, install_root='/r', service='gs'), cmdline) == expected


def row(state, **over):
    return dict(dict(host='gs', service='gameserver', section_id='1001', state=state, owner='gray1',
                     expected_build='v2', pid=None, served=True, note=None, package='mygame-gray1-2.tar.gz'), **over)


def test_sync_actions_and_table():
    assert _report.sync_action(row('in_sync'), '/dist') == ('nothing', None)
    assert _report.sync_action(row('not_running'), None) == ('start', None)
    assert _report.sync_action(row('wrong_build'), None) == ('restart', None)
    assert _report.sync_action(row('not_deployed'), '/dist') == ('deploy mygame-gray1-2.tar.gz, start',
                                                                 '/dist/mygame-gray1-2.tar.gz')
    assert _report.sync_action(row('not_deployed', pid=7, running_release='gray1', running_build='v2'), '/d')[0] == \
        'deploy mygame-gray1-2.tar.gz'
    assert _report.sync_action(row('not_deployed', pid=7, running_release='production'), '/d')[0].endswith(', restart')
    assert _report.sync_action(row('not_deployed'), '')[0] == ('nothing: give -e package_dir=<directory of '
                                                               'mygame-gray1-2.tar.gz on the controller> to deploy it')
    assert _report.sync_action(row('not_deployed', package=None), '/dist')[0].startswith(
        'nothing: release gray1 records no package to deploy')
    assert _report.sync_action(row('not_owned', served=False), None)[0].startswith('stop')
    assert _report.sync_action(row('unknown_process'), None)[0].startswith('nothing: the pid file names another program')
    lines = _report.table([dict(row('wrong_release', running_release='production', running_build='v1', pid=42),
                                action='restart')])
    assert lines[0].split()[:4] == ['host', 'service', 'section', 'state']
    assert lines[1].split() == ['gs', 'gameserver', '1001', 'wrong_release', 'gray1', 'v2', 'production', 'v1', '42', 'restart']
