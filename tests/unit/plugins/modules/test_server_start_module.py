# -*- coding: utf-8 -*-
"""plugins/modules/server_start.py: main() run in-process, its arguments and its result as JSON."""

import json
import os
import signal

import pytest

import gameservice
import modrun
import zkserver
from ansible_collections.gameops.elastic_release.plugins.module_utils._host import process as _process
from ansible_collections.gameops.elastic_release.plugins.module_utils._host import service as _service
from ansible_collections.gameops.elastic_release.plugins.modules import server_start


@pytest.fixture
def root(tmp_path):
    yield str(tmp_path)
    gameservice.stop_all([str(tmp_path)])


def install(root, version='dev.1'):
    port = zkserver.free_ports(1)[0]
    gameservice.install(root, version, port=port)
    return port


def run_main(args, capsys):
    with modrun.module_args(args):
        with pytest.raises(SystemExit):
            server_start.main()
    return json.loads(capsys.readouterr().out)


def test_module_main(root, capsys):
    port = install(root)
    args = dict(service='gameserver', install_root=root, section_id='1001', release='gray1', version='dev.1',
                ready_port=port, _ansible_check_mode=True)
    out = run_main(args, capsys)
    assert out['changed'] is True and out['action'] == 'started' and out['pid'] is None
    assert out['cmd'][-4:] == ['--release', 'gray1', '--section', '1001']
    assert out['source'] == 'given'

    out = run_main(dict(args, section_id='1001; touch %s/pwned' % root, _ansible_check_mode=False), capsys)
    assert out['failed'] is True and "invalid section id '1001; touch" in out['msg']
    assert not os.path.exists(os.path.join(root, 'pwned')) and not os.path.exists(os.path.join(root, 'run'))

    out = run_main(dict(args, release='gray1', version=None), capsys)
    assert out['failed'] is True and 'version' in out['msg']


def test_module_main_real_start(root, capsys):
    port = install(root)
    out = run_main(dict(service='gameserver', install_root=root, inner_ip='10.0.0.1', release='production',
                        version='dev.1', ready_port=port), capsys)
    assert out['changed'] is True and gameservice.query(port)['release'] == 'production'
    assert os.kill(out['pid'], 0) is None
    os.kill(out['pid'], signal.SIGTERM)


def test_module_has_no_shell():
    # Nothing on the way from the module to the game service asks for a shell: the one process the
    # code starts is subprocess.Popen with an argument list, without shell=True, and no other way
    # of running a command (os.system, os.popen, the exec family, other subprocess helpers) appears.
    import ast
    calls = []
    for path in (server_start.__file__, _service.__file__, _process.__file__):
        with open(path) as f:
            tree = ast.parse(f.read())
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
                    isinstance(node.func.value, ast.Name) and node.func.value.id in ('subprocess', 'os'):
                name = '%s.%s' % (node.func.value.id, node.func.attr)
                if name.startswith('subprocess.') or name in ('os.system', 'os.popen') or name.startswith('os.exec') \
                        or name.startswith('os.spawn'):
                    calls.append((os.path.basename(path), name, sorted(k.arg for k in node.keywords),
                                  type(node.args[0]).__name__))
    assert calls == [('process.py', 'subprocess.Popen',
                      ['close_fds', 'cwd', 'env', 'start_new_session', 'stderr', 'stdin', 'stdout'], 'Name')]


def test_owner_error_fails_with_the_controllers_reason(root, capsys):
    install(root)
    reason = 'cannot start gameserver on gs-09: server inner IP 10.1.0.99 is owned by no release'
    # Whatever else the task says (here an invalid section id too), the controller's reason is the
    # failure, and nothing is read or started.
    out = run_main(dict(service='gameserver', install_root=root, section_id='1001; id', owner_error=reason), capsys)
    assert out['failed'] is True and out['msg'] == reason and out['changed'] is False
    assert not os.path.exists(os.path.join(root, 'run'))
