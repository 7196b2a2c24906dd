# -*- coding: utf-8 -*-
"""module_utils/_service.py: the request, the owning release's version and the command line,
without ZooKeeper and without running anything."""

import subprocess
import sys

import pytest

import helpers
from ansible_collections.gameops.elastic_release.plugins.module_utils._host import service as _service

VALUES = dict(release='gray1', section_id='1001', inner_ip='10.0.0.1', version='dev.1', global_url='http://g:9000',
              install_root='/data/game', service='gameserver')


# ---- commands ---------------------------------------------------------------------------------

def test_default_command():
    argv = _service.render_command(_service.default_template('1001'), VALUES)
    assert argv == ['/data/game/version/gameserver/dev.1/bin/gameserver', '--release', 'gray1', '--section', '1001']
    assert _service.default_template(None) == _service.DEFAULT_COMMAND


def test_placeholders_fill_exactly_one_argument():
    hostile = dict(VALUES, global_url='http://x/ --evil; rm -rf / $(id) `id`')
    argv = _service.render_command(['/bin/gs', '--url={global_url}', '{{literal}}', '{global_url}'], hostile)
    assert argv == ['/bin/gs', '--url=' + hostile['global_url'], '{literal}', hostile['global_url']]


@pytest.mark.parametrize('template,message', [
    (['/bin/gs', '{nope}'], 'unknown placeholder {nope}'),
    (['/bin/gs', '{release.__class__}'], 'unknown placeholder'),
    (['/bin/gs', '{release[0]}'], 'unknown placeholder'),
    (['/bin/gs', '{release!r}'], 'no conversion or format spec'),
    (['/bin/gs', '{release:>40}'], 'no conversion or format spec'),
    (['/bin/gs', '{release'], 'literal brace'),
    (['/bin/gs', '}'], 'literal brace'),
    (['gs', '{release}'], 'absolute path'),
    (['{version}/gs'], 'absolute path'),
    ([], 'non-empty list'),
    (['/bin/gs', 5], 'must be a string'),
])
def test_bad_templates(template, message):
    with pytest.raises(_service.ServiceError, match=message.replace('{', r'\{').replace('}', r'\}').replace('[', r'\[')):
        _service.render_command(template, VALUES)


def test_placeholder_without_value():
    with pytest.raises(_service.ServiceError, match=r'uses \{section_id\}, which has no value'):
        _service.render_command(['/bin/gs', '{section_id}'], dict(VALUES, section_id=None))


def answer(path, data, server_path=None, server_data=None, services=None):
    return {'release': 'p', 'path': path, 'data': data, 'server_path': server_path, 'server_data': server_data,
            'release_services': services or {}}


def test_version_by_the_start_version_order():
    server = '/releases/p/servers/10.0.0.1'
    section = '/releases/p/sections/1001'
    # A server's own node.
    assert _service.answer_version(answer(server, {'services': {'gameserver': 'dev.1'}}, server,
                                          {'services': {'gameserver': 'dev.1'}}), 'gameserver') == 'dev.1'
    # A section naming no service: the host's server node, then the release's services.
    assert _service.answer_version(answer(section, {'name': 'S1'}, server, {'services': {'gameserver': 'dev.2'}}),
                                   'gameserver') == 'dev.2'
    assert _service.answer_version(answer(section, {}, server, None, {'gameserver': 'dev.3'}), 'gameserver') == 'dev.3'
    # The section wins when it names the service.
    assert _service.answer_version(answer(section, {'services': {'gameserver': 'dev.4'}}, server,
                                          {'services': {'gameserver': 'dev.2'}}), 'gameserver') == 'dev.4'
    with pytest.raises(_service.ServiceError) as err:
        _service.answer_version(answer(section, {'name': 'S1'}, server, {'services': {'vms': '1'}}), 'gameserver')
    message = str(err.value)
    assert 'no version of gameserver to start: read %s (holds {"name": "S1"}, no "services")' % section in message
    assert '%s (names no version for gameserver)' % server in message
    assert 'Add {"services": {"gameserver": "<version>"}} to the server node' in message
    with pytest.raises(_service.ServiceError, match='invalid version'):
        _service.answer_version(answer(server, {'services': {'gameserver': '../../bin'}}, server,
                                       {'services': {'gameserver': '../../bin'}}), 'gameserver')


# ---- the request ------------------------------------------------------------------------------

def params(**over):
    p = dict(service='gameserver', install_root='/data/game', inner_ip='10.0.0.1', state='started')
    p.update(over)
    return p


@pytest.mark.parametrize('over,message', [
    ({'section_id': '1001; touch /tmp/pwned'}, 'invalid section id'),
    ({'section_id': '$(id)'}, 'invalid section id'),
    ({'inner_ip': '10.0.0.1 && id'}, 'not an IPv4 or IPv6 address'),
    ({'service': 'game server'}, 'invalid service name'),
    ({'service': '../bin'}, 'invalid service name'),
    ({'version': '../x'}, 'invalid version'),
    ({'release': 'gray1;id', 'version': '1'}, 'invalid release name'),
    ({'release': 'gray1'}, 'without version'),
    ({'install_root': 'data/game'}, 'absolute path'),
    ({'global_url': 'not a url'}, 'invalid global_url'),
    ({'inner_ip': None}, 'give section_id or inner_ip'),
    ({'command': ['/bin/x', '{oops}']}, 'unknown placeholder'),
    ({'ready_port': 70000}, 'ready_port'),
])
def test_request_refuses_bad_input(over, message):
    with pytest.raises(_service.ServiceError, match=message):
        _service.Request(params(**over))


def test_request_files():
    req = _service.Request(params(section_id='1001'))
    assert req.pid_file == '/data/game/run/gameserver-1001.pid'
    assert req.log_file == '/data/game/run/gameserver-1001.log'
    req = _service.Request(params(run_dir='/var/run/game'))
    assert req.pid_file == '/var/run/game/gameserver.pid'
    # Stopping needs neither an owner nor ZooKeeper.
    assert _service.Request(params(inner_ip=None, state='stopped')).state == 'stopped'


def test_answer_version_reads_the_answer_of_a_lookup():
    answer = {'path': '/releases/gray1/sections/1003', 'data': {'services': {'gameserver': 'dev.2'}}}
    assert _service.answer_version(answer, 'gameserver') == 'dev.2'
    with pytest.raises(_service.ServiceError, match='^no version of vms to start: read /releases/gray1/sections/1003 '
                                                    '\\(names no version for vms\\)'):
        _service.answer_version(answer, 'vms')
    with pytest.raises(_service.ServiceError, match='^no version of gameserver to start: read nothing'):
        _service.answer_version({'data': {}}, 'gameserver')


def test_resolve_uses_given_values_or_one_lookup():
    given = _service.Request(params(release='gray1', version='dev.2', global_url='http://g:9000'))
    assert _service.resolve(given, None) == dict(release='gray1', version='dev.2', global_url='http://g:9000',
                                                 is_default=None, source='given')
    assert _service.expected_argv(given, _service.resolve(given, None)) == [
        '/data/game/version/gameserver/dev.2/bin/gameserver', '--release', 'gray1']


def test_importing_service_loads_no_process_handling():
    # The release lookup plugin imports answer_version from here on the controller: it must not
    # pull in subprocess, signal handling or the process layer. A fresh interpreter shows what
    # the import alone loads (this test process has long imported both).
    code = ('import sys; sys.path.insert(0, %r)\n'
            'from ansible_collections.gameops.elastic_release.plugins.module_utils._host import service\n'
            'print(sorted(m for m in ("subprocess", "signal", "ansible_collections.gameops.elastic_release.plugins.'
            'module_utils._host.process") if m in sys.modules))' % helpers.COLLECTIONS)
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == '[]'


def test_owner_error_is_the_request_error():
    with pytest.raises(_service.ServiceError) as err:
        _service.Request(params(owner_error='cannot start gameserver on h: why', service='../bad'))
    assert str(err.value) == 'cannot start gameserver on h: why'
    assert _service.Request(params(owner_error='')).inner_ip == '10.0.0.1'
