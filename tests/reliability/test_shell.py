# -*- coding: utf-8 -*-
"""server_start never passes names through a shell (guarantee: Safe - commands are argument lists).

Section ids, IPs, releases, versions and service names crafted as shell payloads (`;`, `$(...)`,
backticks), given as parameters or found in ZooKeeper node data, start nothing and never run the
payload (its marker file never appears). A value that is legitimately free text (the global URL)
reaches the program as one verbatim argument.
"""

import json
import os
import signal
import sys
import time

import helpers

NS = 'gameops.elastic_release.'
RECORDER = '''#!%s
import json, os, signal, sys, time
signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
with open(os.path.join(%r, 'argv-%%d.json' %% os.getpid()), 'w') as f:
    json.dump(sys.argv[1:], f)
while True:
    time.sleep(0.2)
'''


def _install(root, version, record_dir):
    vdir = os.path.join(root, 'version', 'gameserver', version, 'bin')
    os.makedirs(vdir, exist_ok=True)
    program = os.path.join(vdir, 'gameserver')
    with open(program, 'w') as f:
        f.write(RECORDER % (sys.executable, record_dir))
    os.chmod(program, 0o755)


def test_shell_payloads_start_nothing_and_never_run(zk, tmp_path):
    root = str(tmp_path / 'install')
    record = str(tmp_path / 'argv')
    marks = str(tmp_path / 'marks')
    os.makedirs(record)
    os.makedirs(marks)
    _install(root, 'dev.1', record)
    # The release tree: a clean section, and one whose data names a hostile version.
    hostile_version = '$(touch %s/from_zk_data)' % marks
    res = helpers.run(['ansible', 'localhost', '-c', 'local', '-i', 'localhost,',
                       '-e', 'ansible_python_interpreter=%s' % helpers.PYTHON,
                       '-m', NS + 'zk_release_node', '-a', json.dumps({
                           'hosts': zk.hosts, 'release': 'gray1', 'config': {
                               'sections': {'1001': {'services': {'gameserver': 'dev.1'}},
                                            '1002': {'services': {'gameserver': hostile_version}}},
                               'servers': {'10.1.0.21': {'services': {'gameserver': 'dev.1'}}}}})])
    assert res.rc == 0, res

    def mark(name):
        return os.path.join(marks, name)
    base = {'hosts': zk.hosts, 'service': 'gameserver', 'install_root': root, 'ready_delay': 0.3}
    cases = [
        ('section-semicolon', dict(base, section_id='1001;touch %s' % mark('a')), 'section'),
        ('section-subshell', dict(base, section_id='$(touch %s)' % mark('b')), 'section'),
        ('section-backticks', dict(base, section_id='`touch %s`' % mark('c')), 'section'),
        ('ip-semicolon', dict(base, inner_ip='10.1.0.21;touch %s' % mark('d')), 'IP'),
        ('release-semicolon', dict(base, release='gray1;touch %s' % mark('e'), version='dev.1'), 'release'),
        ('release-subshell', dict(base, release='$(touch %s)' % mark('f'), version='dev.1'), 'release'),
        ('release-backticks', dict(base, release='`touch %s`' % mark('g'), version='dev.1'), 'release'),
        ('version-subshell', dict(base, release='gray1', version='dev.1$(touch %s)' % mark('h')), 'version'),
        ('version-from-zookeeper', dict(base, section_id='1002'), 'version'),
        ('service-semicolon', dict(base, service='gameserver;touch %s' % mark('i'), section_id='1001'), 'service'),
    ]
    tasks = []
    for n, (name, args, dummy) in enumerate(cases):
        assert not any(isinstance(v, str) and '{{' in v for v in args.values()), name
        tasks.append({'name': name, NS + 'server_start': args, 'register': 'r%d' % n, 'ignore_errors': True})
    # Free text that reaches the program: one argument, verbatim.
    url = 'http://10.0.0.5:9000/$(touch%%20%s);`touch${IFS}%s`' % (mark('k'), mark('l'))
    tasks.append({'name': 'global_url as one argument', NS + 'server_start': dict(
        base, release='gray1', version='dev.1', global_url=url,
        command=['{install_root}/version/{service}/{version}/bin/{service}', '--release', '{release}', '--url', '{global_url}']),
        'register': 'url'})
    tasks.append({'name': 'stop it', NS + 'server_start': {
        'service': 'gameserver', 'install_root': root, 'state': 'stopped', 'stop_timeout': 5}})
    tasks.append({'name': 'results', 'ansible.builtin.copy': {
        'dest': str(tmp_path / 'results.json'), 'mode': '0600',
        'content': '{{ [%s] | to_json }}' % ', '.join('r%d' % n for n in range(len(cases)))}})
    play = tmp_path / 'play.json'
    play.write_text(json.dumps([{'hosts': 'localhost', 'connection': 'local', 'gather_facts': False, 'tasks': tasks}]))
    res = helpers.playbook(str(play))
    try:
        assert res.rc == 0, [line[-700:] for line in res.stdout.splitlines() if line.startswith('fatal')][-1]
        assert 'Traceback' not in res.output, res
        results = json.loads((tmp_path / 'results.json').read_text())
        for (name, args, word), result in zip(cases, results):
            assert result.get('failed') is True, (name, result)
            assert 'Traceback' not in json.dumps(result), (name, result)
            assert word in result['msg'], (name, result['msg'])
        # The one legitimate start recorded exactly these arguments.
        recorded = [json.load(open(os.path.join(record, f))) for f in os.listdir(record)]
        assert recorded == [['--release', 'gray1', '--url', url]], recorded
    finally:
        _kill_recorded(record)
    time.sleep(0.5)
    assert os.listdir(marks) == [], 'a shell payload ran: %s' % os.listdir(marks)


def _kill_recorded(record):
    for name in os.listdir(record):
        try:
            os.kill(int(name[len('argv-'):-len('.json')]), signal.SIGKILL)
        except (OSError, ValueError):
            pass
