# -*- coding: utf-8 -*-
"""The hostile-input corpus (tests/corpus/cases.yml) through real ansible (guarantee: Safe; and
"invalid input is refused before anything is written").

Every case must fail with a clear error that names the input, print no traceback, and leave the
whole ZooKeeper tree byte-identical (data, data version, child version and ACL version of every
node). The module cases run in one playbook, one task per case with `ignore_errors` and
`register`, and a tree digest (lookup_plugins/zk_tree_digest.py, raw kazoo) after every task, so
each case is judged on its own. The flow cases run `ansible-playbook -i <inventory copy>
playbooks/<flow>.yml -e ...` once each, as Tianti does.
"""

import concurrent.futures
import json
import os
import re
import sys
import time
import uuid

import pytest
import yaml

import faultkit
import helpers

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(os.path.dirname(HERE), 'corpus')
sys.path.insert(0, CORPUS)

import generators  # noqa: E402

NS = 'gameops.elastic_release.'
SMALL_CONFIG = {'versions': ['1.3.0'], 'sections': ['1901'], 'servers': ['10.1.0.21']}
PRODUCTION = {'global_url': 'http://10.1.0.5:9000', 'versions': ['1.2.0'], 'sections': {'1001': {'name': 'S1'}},
              'servers': {'10.1.0.11': {'services': {'gameserver': 'dev.190122.01'}}}}


def load_cases():
    with open(os.path.join(CORPUS, 'cases.yml')) as f:
        doc = yaml.safe_load(f)
    out = []
    for case in doc['cases']:
        if 'flow' in case:
            out.append(dict(case, kind='flow', key=case['id']))
            continue
        for module in case['modules']:
            key = case['id'] if len(case['modules']) == 1 else '%s@%s' % (case['id'], module)
            out.append(dict(case, kind='module', module=module, key=key))
    return out


CASES = load_cases()


def _params(case):
    marks = []
    if case.get('xfail'):
        marks.append(pytest.mark.xfail(reason='known bug: %s' % case['xfail'], strict=True))
    return pytest.param(case, id=case['key'], marks=marks)


class Unsafe(str):
    """A string Ansible must not template (YAML tag !unsafe). Only strings that hold template
    markers get the tag: ansible-core 2.19 resolves the type of an !unsafe scalar as if it were
    unquoted (!unsafe "" becomes null, !unsafe "1.10" the float 1.1)."""


def _unsafe_representer(dumper, value):
    return dumper.represent_scalar('!unsafe', str(value), style='"')


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(Unsafe, _unsafe_representer)


def _resolve(value, files):
    """Placeholders -> real values: "@package:key"/"@config:key" paths, "@repeat:x:n" strings."""
    if isinstance(value, dict):
        return dict((k, _resolve(v, files)) for k, v in value.items())
    if isinstance(value, list):
        return [_resolve(v, files) for v in value]
    if isinstance(value, str):
        if value in files:
            return files[value]
        match = re.match(r'^@repeat:(.):(\d+)$', value)
        if match:
            return match.group(1) * int(match.group(2))
    return value


def _unsafe(value):
    if isinstance(value, dict):
        return dict((_unsafe(k), _unsafe(v)) for k, v in value.items())
    if isinstance(value, list):
        return [_unsafe(v) for v in value]
    if isinstance(value, str) and any(mark in value for mark in ('{{', '{%', '{#')):
        return Unsafe(value)
    return value


def _module_args(case, hosts, files):
    args = _resolve(case['args'], files)
    if case['module'] == 'zk_release_node':
        args.setdefault('release', 'gray1')
        if not any(k in args for k in ('config', 'config_file', 'package')) and args.get('state') != 'absent':
            args['config'] = SMALL_CONFIG
        args['hosts'] = hosts
    elif case['module'] == 'server_package_info':
        args = {'path': args['package'], 'release': args.get('release', 'gray1')}
    elif case['module'] == 'release_lookup':
        args['hosts'] = hosts
    return args


def expected(case, files):
    """The substrings, with file placeholders turned into the files' base names."""
    out = []
    for text in case['expect']:
        for key, path in sorted(files.items(), key=lambda item: -len(item[0])):
            text = text.replace(key, os.path.basename(path.rstrip('/')))
        out.append(text)
    return out


def _seed(server_hosts):
    """A fresh chroot holding something to protect: production (the default release) and gray1."""
    chroot = '/corpus_%s' % uuid.uuid4().hex[:8]
    with faultkit.kazoo(server_hosts) as c:
        c.ensure_path(chroot)
    hosts = server_hosts + chroot
    for release, config, extra in (('production', PRODUCTION, {'set_default': True}), ('gray1', SMALL_CONFIG, {})):
        res, dummy, dummy2 = faultkit.adhoc('zk_release_node', dict({'hosts': hosts, 'release': release, 'config': config}, **extra))
        assert res.rc == 0, res
    return hosts


@pytest.fixture(scope='module')
def corpus(zk_server, tmp_path_factory):
    """Run every case once: {'cases': {key: {'result' or 'flow_result', 'before', 'after'}}, ...}.

    Three workers run at once, each in its own chroot (so a write is always charged to the right
    case): two playbooks sharing the module cases, and the flow cases one after another."""
    work = tmp_path_factory.mktemp('corpus')
    files = generators.build_all(str(work / 'files'))
    modules = [c for c in CASES if c['kind'] == 'module']
    flows = [c for c in CASES if c['kind'] == 'flow']
    jobs = [('modules-a', _run_module_cases, modules[0::2]), ('modules-b', _run_module_cases, modules[1::2]),
            ('flows', _run_flow_cases, flows)]
    out = {'files': files, 'cases': {}, 'outputs': [], 'seconds': {}, 'trees_changed': []}

    def job(name, func, cases):
        hosts = _seed(zk_server.hosts)
        with faultkit.kazoo(hosts) as c:
            tree0 = faultkit.dump_tree(c)
        t0 = time.time()
        got, outputs = func(work / name, hosts, files, cases)
        seconds = time.time() - t0
        with faultkit.kazoo(hosts) as c:
            changed = faultkit.dump_tree(c) != tree0
        return name, hosts, got, outputs, seconds, changed

    with concurrent.futures.ThreadPoolExecutor(len(jobs)) as pool:
        for name, hosts, got, outputs, seconds, changed in pool.map(lambda j: job(*j), jobs):
            out['cases'].update(got)
            out['outputs'].extend(outputs)
            out['seconds'][name] = round(seconds, 1)
            if changed:
                out['trees_changed'].append(name)
            out.setdefault('hosts', hosts)
    faultkit.record_rows('hostile-input corpus', [{
        'cases': len(CASES), 'seconds': out['seconds'], 'trees_changed': out['trees_changed']}])
    return out


def _run_module_cases(work, hosts, files, cases):
    os.makedirs(str(work), exist_ok=True)
    tasks = [{'name': 'tree before the cases', 'ansible.builtin.set_fact': {
        'tree_start': "{{ lookup('zk_tree_digest', zk_hosts) }}"}}]
    collect = {}
    for n, case in enumerate(cases):
        args = _module_args(case, hosts, files)
        tasks.append({'name': 'case %s' % case['key'], NS + case['module']: _unsafe(args),
                      'register': 'r%d' % n, 'ignore_errors': True})
        tasks.append({'name': 'tree after %s' % case['key'], 'ansible.builtin.set_fact': {
            't%d' % n: "{{ lookup('zk_tree_digest', zk_hosts) }}"}})
        collect[case['key']] = n
    content = '{{ {%s} | to_json }}' % ', '.join(
        "'%d': {'result': r%d, 'after': t%d}" % (n, n, n) for n in range(len(cases)))
    results_file = os.path.join(str(work), 'results.json')
    tasks.append({'name': 'write the results', 'ansible.builtin.copy': {
        'dest': results_file, 'content': content + '\n', 'mode': '0600'}})
    tasks.append({'name': 'write the first tree digest', 'ansible.builtin.copy': {
        'dest': results_file + '.start', 'content': '{{ tree_start }}', 'mode': '0600'}})
    play = [{'name': 'hostile-input corpus', 'hosts': 'localhost', 'connection': 'local', 'gather_facts': False,
             'vars': {'zk_hosts': hosts}, 'tasks': tasks}]
    path = os.path.join(str(work), 'corpus.yml')
    with open(path, 'w') as f:
        yaml.dump(play, f, Dumper=_Dumper, allow_unicode=False, width=1 << 30, sort_keys=False)
    res = helpers.playbook(path, env={'ANSIBLE_LOOKUP_PLUGINS': os.path.join(HERE, 'lookup_plugins')}, timeout=900)
    assert res.rc == 0, res           # ignore_errors: the play itself must complete
    with open(results_file) as f:
        results = json.load(f)
    with open(results_file + '.start') as f:
        before = f.read().strip()
    got = {}
    for key, n in collect.items():
        entry = results[str(n)]
        got[key] = {'result': entry['result'], 'before': before, 'after': entry['after']}
        before = entry['after']
    return got, [res]


def _run_flow_cases(work, hosts, files, cases):
    os.makedirs(str(work), exist_ok=True)
    inv = helpers.copy_inventory(work, hosts)
    got, outputs = {}, []
    for case in cases:
        with faultkit.kazoo(hosts) as c:
            before = faultkit.dump_tree(c)
        cmd = ['ansible-playbook', '-i', inv, os.path.join('playbooks', case['flow'] + '.yml')]
        for key, value in sorted(_resolve(case['vars'], files).items()):
            # One JSON document per variable: values stay strings, whatever they hold.
            cmd += ['-e', json.dumps({key: value})]
        res = helpers.run(cmd, timeout=300)
        with faultkit.kazoo(hosts) as c:
            after = faultkit.dump_tree(c)
        got[case['key']] = {'flow_result': res, 'before': before, 'after': after}
        outputs.append(res)
    return got, outputs


@pytest.mark.parametrize('case', [_params(c) for c in CASES])
def test_hostile_input_is_refused_clearly_and_writes_nothing(corpus, case):
    entry = corpus['cases'][case['key']]
    want = expected(case, corpus['files'])
    if case['kind'] == 'flow':
        res = entry['flow_result']
        assert res.rc != 0, res
        faultkit.assert_clean_output(res)
        fatal = [line for line in res.stdout.splitlines() if line.startswith('fatal:')]
        assert fatal, res
        last = fatal[-1]
        for text in want:
            assert text in last or text in res.stdout, (text, last)
        assert entry['after'] == entry['before'], 'the flow changed the ZooKeeper tree'
        return
    result = entry['result']
    text = json.dumps(result)
    assert result.get('failed') is True, result
    assert 'Traceback' not in text and 'MODULE FAILURE' not in result.get('msg', ''), result
    msg = result['msg']
    for part in want:
        assert part in msg, (part, msg)
    assert entry['after'] == entry['before'], 'case %s changed the ZooKeeper tree' % case['key']


def test_corpus_is_big_enough_and_nothing_was_written(corpus):
    """Only the known-bug (xfail) cases may have written anything, and nothing was written
    between cases."""
    assert len(CASES) >= 60
    known = set(c['key'] for c in CASES if c.get('xfail'))
    wrote = set(k for k, e in corpus['cases'].items() if e['before'] != e['after'])
    assert wrote <= known, sorted(wrote - known)
    assert 'flows' not in corpus['trees_changed']
    if not wrote:
        assert not corpus['trees_changed'], corpus['trees_changed']
    for res in corpus['outputs']:
        faultkit.assert_clean_output(res)


def test_flow_parameters_from_an_unsafe_vars_file_are_never_templated(corpus, tmp_path):
    """Tianti's parameters are data. Passed as `-e @params.yml` with `!unsafe` values, a release
    holding a Jinja expression is refused as a release name and the expression never runs.
    (Plain `-e release=...` values are templated by Ansible itself: see docs/guarantees.md.)"""
    marker = str(tmp_path / 'injected')
    inv = helpers.copy_inventory(tmp_path, corpus['hosts'])
    params = tmp_path / 'params.yml'
    payload = "{{ lookup('ansible.builtin.pipe', 'touch %s') }}" % marker
    params.write_text(yaml.dump({'release': Unsafe(payload), 'package': corpus['files']['@package:good_gray']},
                                Dumper=_Dumper))
    with faultkit.kazoo(corpus['hosts']) as c:
        before = faultkit.dump_tree(c)
    res = helpers.run(['ansible-playbook', '-i', inv, 'playbooks/gray.yml', '-e', '@%s' % params], timeout=300)
    assert res.rc != 0, res
    faultkit.assert_clean_output(res)
    assert 'invalid release name' in res.stdout, res
    assert not os.path.exists(marker), 'a flow parameter was templated and ran a command'
    with faultkit.kazoo(corpus['hosts']) as c:
        assert faultkit.dump_tree(c) == before
