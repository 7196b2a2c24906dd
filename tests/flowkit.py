# -*- coding: utf-8 -*-
"""Shared by the flow tests: server packages built once, `flow()`, one `ansible-playbook -i <inventory>
playbooks/<flow>.yml` run as Tianti makes it, with its summary file, and `first_step()`, the flow's
first task (the validate role's flow_check) run in this process."""

import io
import json
import os
import re
import shutil
import subprocess
import tarfile
import time

import helpers

PROJECT = 'mygame'
SERVICE = {'services': {'gameserver': 'dev.190122.01'}}
CONFIGS = {
    'production-190122.01': {
        'global_url': 'http://10.1.0.5:9000',
        'versions': ['1.2.0', '1.2.1'],
        'sections': {'1001': {'name': 'S1'}, '1002': {'name': 'S2'}, '1003': {}, '1004': {}},
        'servers': {'10.1.0.11': SERVICE, '10.1.0.12': SERVICE},
    },
    'gray1-190122.01': {
        'global_url': 'http://10.1.0.6:9000',
        'versions': ['1.3.0'],
        'sections': {'1901': {}},
        'servers': {'10.1.0.21': SERVICE},
    },
    'gray1-190123.01': {
        'global_url': 'http://10.1.0.7:9000',
        'versions': ['1.3.0', '1.3.1'],
        'sections': {'1901': {}, '1902': {}},
        'servers': {'10.1.0.21': SERVICE},
    },
    # The gray1 build promoted: its production package lists what production and gray1 serve.
    'production-190123.01': {
        'global_url': 'http://10.1.0.5:9000',
        'versions': ['1.2.0', '1.2.1', '1.3.0'],
        'sections': {'1001': {'name': 'S1'}, '1002': {'name': 'S2'}, '1003': {}, '1004': {}, '1901': {}},
        'servers': {'10.1.0.11': SERVICE, '10.1.0.12': SERVICE, '10.1.0.21': SERVICE},
    },
    'appstore_review-190122.01': {
        'global_url': 'http://10.2.0.5:9000',
        'versions': ['1.4.0'],
        'sections': {'2001': {'name': 'Review'}},
        'servers': {'10.2.0.11': SERVICE},
    },
}
TIMES = []


# ---- fixtures ------------------------------------------------------------------------------------

def build_packages(tmp_path_factory):
    """{key: path} of server packages built with the server_package module, plus bad ones."""
    work = tmp_path_factory.mktemp('packages')
    src = work / 'src'
    (src / 'lib').mkdir(parents=True)
    (src / 'lib' / 'dk-server.jar').write_bytes(b'jar')
    (src / 'version' / 'gameserver' / 'dev.190122.01').mkdir(parents=True)
    (src / 'version' / 'gameserver' / 'dev.190122.01' / 'gameserver').write_bytes(b'#!/bin/sh\n')
    dest = work / 'dist'
    items = []
    for key, config in sorted(CONFIGS.items()):
        release, build = key.split('-')
        items.append({'release': release, 'build': build, 'config': config})
    playbook = work / 'build.yml'
    playbook.write_text(json.dumps([{
        'name': 'Build the test packages', 'hosts': 'localhost', 'gather_facts': False,
        'tasks': [{'name': 'Build a server package', 'loop': items,
                   'gameops.elastic_release.server_package': {
                       'src': str(src), 'dest': str(dest), 'project': PROJECT, 'release': '{{ item.release }}',
                       'build': '{{ item.build }}', 'config': '{{ item.config }}'}}],
    }]))
    res = helpers.playbook(str(playbook))
    assert res.rc == 0, res
    out = dict((key, str(dest / ('%s-%s.tar.gz' % (PROJECT, key)))) for key in CONFIGS)
    for path in out.values():
        assert os.path.exists(path), path
    bad = work / 'bad'
    bad.mkdir()
    out['unsafe'] = _tar(bad / ('%s-gray1-190199.01.tar.gz' % PROJECT), 'gray1', CONFIGS['gray1-190122.01'],
                         extra=[('lib/../../../../tmp/evil.sh', b'#!/bin/sh\nrm -rf /\n')])
    out['wrong_indicator'] = _tar(bad / ('%s-gray1-190199.02.tar.gz' % PROJECT), 'gray1', CONFIGS['gray1-190122.01'],
                                  indicator={'name': 'production'})
    out['renamed'] = str(bad / 'gray1.tgz')
    shutil.copy(out['gray1-190122.01'], out['renamed'])
    out['unregistered'] = _tar(bad / ('%s-gray9-190122.01.tar.gz' % PROJECT), 'gray9', CONFIGS['gray1-190122.01'])
    return out


def _tar(path, release, config, indicator=None, extra=()):
    """A package written by hand, to hold what server_package would never write."""
    with tarfile.open(str(path), 'w:gz') as tar:
        def add(name, data=None):
            info = tarfile.TarInfo(name)
            info.mtime = 0
            if data is None:
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                tar.addfile(info)
            else:
                info.size, info.mode = len(data), 0o644
                tar.addfile(info, io.BytesIO(data))
        for directory in ('filecache', 'lib', 'version', 'version/gameserver', 'version/gameserver/dev.190122.01'):
            add(directory)
        add('filecache/%s.config.zoo' % release, json.dumps(config).encode())
        add('filecache/release_indicator.json', json.dumps(indicator or {'name': release}).encode())
        add('lib/dk-server.jar', b'jar')
        for name, data in extra:
            add(name, data)
    return str(path)


class Flow(object):
    """One run of a flow playbook, with its summary file and the tasks it went through."""

    def __init__(self, name, res, summary_path, seconds):
        self.name = name
        self.res = res
        self.seconds = seconds
        self.summary = json.load(open(summary_path)) if os.path.exists(summary_path) else None
        self.tasks = re.findall(r'(?m)^TASK \[(.*?)\] \*', res.stdout)

    @property
    def rc(self):
        return self.res.rc

    def failed_task(self):
        """The task a `fatal:` line follows first."""
        current = None
        for line in self.res.stdout.splitlines():
            match = re.match(r'^TASK \[(.*?)\] \*', line)
            if match:
                current = match.group(1)
            elif line.startswith('fatal:'):
                return current
        return None

    def __repr__(self):
        return repr(self.res)


def flow(inventory, tmp_path, name, check=False, diff=False, during=None, **extra):
    """`ansible-playbook -i <inventory> playbooks/<name>.yml -e key=value ...` as Tianti runs it.
    during(proc), when given, runs in this process while the flow runs (someone acting mid-flow, a kill)."""
    summary = str(tmp_path / ('summary-%s-%d.json' % (name, len(TIMES))))
    cmd = ['ansible-playbook', '-i', inventory, os.path.join('playbooks', name + '.yml')]
    for key, value in sorted(extra.items()):
        cmd += ['-e', '%s=%s' % (key, value)]
    cmd += ['-e', 'summary_file=%s' % summary]
    if check:
        cmd.append('--check')
    if diff:
        cmd.append('--diff')
    t0 = time.time()
    res = helpers.run(cmd) if during is None else _run_while(cmd, during)
    seconds = time.time() - t0
    TIMES.append((name + (' --check' if check else ''), round(seconds, 2), res.rc))
    return Flow(name, res, summary, seconds)


def _run_while(cmd, during):
    proc = subprocess.Popen(cmd, env=helpers.ansible_env(), cwd=helpers.ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        during(proc)
        stdout, stderr = proc.communicate(timeout=600)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    return helpers.Result(subprocess.CompletedProcess(cmd, proc.returncode, stdout, stderr), cmd)


def first_step(inventory, name, **extra):
    """The result of the first task of playbooks/<name>.yml (the validate role's flow_check task)
    run in this process, as `ansible-playbook -i <inventory> playbooks/<name>.yml -e key=value ...`
    would run it (tests/conftest.py set up the collection loader): the inventory and its variables, the `-e` values parsed as the command line parses
    them, the role's defaults and the task's arguments as the role writes them, templated by
    Ansible, then the flow_check action plugin itself. About 0.3 s instead of 3 to 4 s; what only the
    playbook shows (the role's argument spec, the summary file, the exit code) is checked by one real
    refusal per flow."""
    from ansible.inventory.manager import InventoryManager
    from ansible.parsing.dataloader import DataLoader
    from ansible.parsing.splitter import parse_kv
    from ansible.playbook.play_context import PlayContext
    from ansible.playbook.task import Task
    from ansible.plugins.loader import action_loader, connection_loader
    from ansible.template import Templar
    from ansible.utils.vars import combine_vars
    from ansible.vars.hostvars import HostVars
    from ansible.vars.manager import VariableManager

    loader = DataLoader()
    hosts = InventoryManager(loader=loader, sources=[inventory])
    variables = VariableManager(loader=loader, inventory=hosts)
    extra_vars = {}
    for key, value in sorted(extra.items()):
        extra_vars = combine_vars(extra_vars, parse_kv('%s=%s' % (key, value)))
    variables._extra_vars = extra_vars   # what `-e` sets; VariableManager reads it from the CLI otherwise
    HostVars(inventory=hosts, variable_manager=variables, loader=loader)
    role = os.path.join(helpers.ROOT, 'roles', 'validate')
    defaults = loader.load_from_file(os.path.join(role, 'defaults', 'main.yml'), trusted_as_template=True)
    check = [t for t in loader.load_from_file(os.path.join(role, 'tasks', 'main.yml'), trusted_as_template=True)
             if 'gameops.elastic_release.flow_check' in t]
    assert len(check) == 1, 'roles/validate/tasks/main.yml has no single flow_check task'
    task = Task.load(check[0], variable_manager=variables, loader=loader)
    # Precedence as in the play: role defaults < inventory < play vars (the flow's name) < -e.
    task_vars = combine_vars(defaults, variables.get_vars(host=hosts.get_host('localhost'), task=task))
    task_vars = combine_vars(combine_vars(task_vars, {'elastic_release_flow': name}), extra_vars)
    templar = Templar(loader=loader, variables=task_vars)
    task.args = templar.template(task.args)
    context = PlayContext()
    action = action_loader.get(task.action, task=task, connection=connection_loader.get('local', context, os.devnull),
                               play_context=context, loader=loader, templar=templar, shared_loader_obj=None)
    return action.run(task_vars=task_vars)


def children(client, path):
    return sorted(client.get_children(path)) if client.exists(path) else []


def release_state(client, release):
    """What VMS and the game services read, with raw kazoo."""
    base = '/releases/' + release
    if not client.exists(base):
        return None
    out = {'global_url': client.get(base + '/global_url')[0].decode()}
    for kind in ('versions', 'sections', 'servers'):
        out[kind] = children(client, '%s/%s' % (base, kind))
    return out


def expected_state(key):
    config = CONFIGS[key]
    return {'global_url': config['global_url'], 'versions': sorted(config['versions']),
            'sections': sorted(config['sections']), 'servers': sorted(config['servers'])}


def lookups(inventory, tmp_path, questions):
    """release_lookup for each question in one playbook run, as VMS would route them."""
    out = tmp_path / 'lookups.json'
    playbook = tmp_path / 'lookups.yml'
    playbook.write_text(json.dumps([{
        'name': 'Route like VMS', 'hosts': 'localhost', 'connection': 'local', 'gather_facts': False,
        'module_defaults': {'group/gameops.elastic_release.zookeeper': {'hosts': '{{ elastic_release_zk_hosts }}'}},
        'tasks': [
            {'name': 'Look up', 'gameops.elastic_release.release_lookup': '{{ item }}', 'loop': questions,
             'register': 'answers'},
            {'name': 'Save', 'ansible.builtin.copy': {
                'dest': str(out),
                'content': "{{ answers.results | map(attribute='release') | zip(answers.results | map(attribute='global_url')) | to_json }}"}},
        ]}]))
    res = helpers.run(['ansible-playbook', '-i', inventory, str(playbook)])
    assert res.rc == 0, res
    return json.loads(out.read_text())
