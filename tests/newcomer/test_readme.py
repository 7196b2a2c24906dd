# -*- coding: utf-8 -*-
"""Every command README.md prints works when copied into a shell at the checkout root.

The README's shell blocks are run as a reader pastes them: in order, into one bash started at the
checkout root, with a clean HOME, the PATH of a fresh Debian login (no virtual environment until
a block activates it) and no ANSIBLE_* variables. Every command must exit 0. The blocks start the
demo's ZooKeeper themselves (`scripts/demo.sh --keep`) and stop it at the end.

Three blocks are the suite's entry points, proven elsewhere and only checked here: the first one
(setup and demo) runs verbatim in a clean clone in test_clean_clone.py, the everyday test command
is what developers run, and the full test command is exactly what CI runs (.ci/run).
"""

import json
import os
import re
import shlex
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import readme  # noqa: E402

ROOT = readme.ROOT
STOCK_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
MARK = '@@README@@ '


def reader_env(home):
    """A new login shell's environment: nothing of this test process's Python or Ansible."""
    env = {'HOME': str(home), 'PATH': STOCK_PATH, 'LANG': 'C.UTF-8', 'TERM': 'dumb',
           'USER': os.environ.get('USER', 'root')}
    return env


def is_suite(block):
    return any('scripts/test.sh' in command for command in readme.commands(block))


def ci_command():
    with open(os.path.join(ROOT, '.ci', 'run'), encoding='utf-8') as handle:
        lines = [line.strip() for line in handle if line.strip() and not line.lstrip().startswith('#')]
    return lines[-1]


def test_entry_points_are_what_the_other_tests_and_ci_run():
    blocks = readme.shell_blocks()
    assert blocks, 'README.md has no shell code block'
    # test_clean_clone.py runs the first block as it is; it must be the setup-and-demo command.
    assert readme.commands(blocks[0]) == ['bash scripts/setup.sh && bash scripts/demo.sh'], blocks[0]
    # Two suite commands: the everyday tier, and the full suite, which is exactly what CI runs.
    suites = [readme.commands(block) for block in blocks if is_suite(block)]
    assert suites == [['bash scripts/setup.sh && bash scripts/test.sh'], [ci_command()]], suites
    assert ci_command() == 'bash scripts/setup.sh && bash scripts/test.sh full', ci_command()


def test_readme_commands_work_as_printed(tmp_path):
    blocks = [block for block in readme.shell_blocks()[1:] if not is_suite(block)]
    commands = [command for block in blocks for command in readme.commands(block)]
    assert len(commands) >= 10, commands
    lines = ['cd %s' % shlex.quote(ROOT)]
    for command in commands:
        lines.append('printf "\\n%s%%s\\n" %s' % (MARK, shlex.quote(command)))
        lines.append(command)
        lines.append('rc=$?; if [ "$rc" -ne 0 ]; then echo "README command failed (exit $rc)"; exit "$rc"; fi')
    home = tmp_path / 'home'
    home.mkdir()
    try:
        proc = subprocess.run(['bash', '-c', '\n'.join(lines)], cwd=ROOT, env=reader_env(home),
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              timeout=1500, check=False)
    finally:
        # whatever happened: no ZooKeeper or game service left running
        subprocess.run(['bash', os.path.join(ROOT, 'scripts', 'demo.sh'), 'stop'], cwd=ROOT,
                       capture_output=True, timeout=120, check=False)
    log = os.path.join(ROOT, '.build', 'readme-commands.log')
    with open(log, 'w', encoding='utf-8') as handle:
        handle.write(proc.stdout)
    parts = proc.stdout.split('\n' + MARK)
    ran = {}
    for part in parts[1:]:
        command, _nl, output = part.partition('\n')
        ran[command] = output
    tail = proc.stdout[-8000:]
    assert proc.returncode == 0, 'README command failed: %s\n%s' % (list(ran)[-1] if ran else '?', tail)
    assert list(ran) == commands, tail

    for command, output in ran.items():
        # inventory/cmdb.yml is read by the cmdb plugin only (ansible.cfg's ignore_patterns)
        assert 'not a valid group definition' not in output, (command, output)
        if command.startswith('ansible-playbook '):
            recap = re.findall(r'^\S+\s+: ok=\d+\s+changed=\d+\s+unreachable=(\d+)\s+failed=(\d+)', output, re.M)
            assert recap and all(row == ('0', '0') for row in recap), (command, output[-4000:])

    def output_of(prefix):
        found = [output for command, output in ran.items() if command.startswith(prefix)]
        assert found, 'the README has no command starting with %r' % prefix
        return found[0]

    assert 'gameops.elastic_release.zk_release_node' in output_of('ansible-doc gameops.elastic_release.zk_release_node')
    graph = output_of('ansible-inventory -i inventory --graph')
    assert '@location_cn_prod' in graph and 'gs-gray-01' in graph, graph
    lookup = output_of('ansible -i .build/demo/inventory localhost -m gameops.elastic_release.release_lookup')
    assert json.loads(lookup[lookup.index('{'):])['release'] == 'gray1', lookup
    assert 'Demo finished in' in output_of('bash scripts/demo.sh --keep')
    # The FQCN commands ran from the copy installed into the clean HOME, not from the checkout.
    installed = home / '.ansible' / 'collections' / 'ansible_collections' / 'gameops' / 'elastic_release'
    assert (installed / 'MANIFEST.json').is_file() and not installed.is_symlink()
    # The installed collection's rollback flow lists the revisions as one table (revision, change, ...).
    listing = output_of('(cd .build/demo && ansible-playbook -i inventory/example.cmdb.yml gameops.elastic_release.rollback')
    assert 'revision' in listing and 'rev-0000000001' in listing, listing
