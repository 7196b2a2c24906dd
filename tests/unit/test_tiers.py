# -*- coding: utf-8 -*-
"""The two test tiers (tests/conftest.py) and the real-ansible slice of scripts/test.sh (MATRIX_TESTS)."""

import ast
import json
import os
import re
import subprocess
import sys

import helpers

TEST_SH = os.path.join(helpers.ROOT, 'scripts', 'test.sh')


def matrix_tests():
    with open(TEST_SH) as handle:
        text = handle.read()
    body = re.search(r'(?ms)^MATRIX_TESTS=\((.*?)\)', text)
    assert body, 'scripts/test.sh has no MATRIX_TESTS=( ... ) list'
    return body.group(1).split()


def collected(tmp_path):
    report = tmp_path / 'tiers.json'
    proc = subprocess.run([sys.executable, '-m', 'pytest', '-p', 'no:cacheprovider', '--collect-only', '-q',
                           '--tier-report', str(report), 'tests'],
                          cwd=helpers.ROOT, capture_output=True, text=True, check=False, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return json.loads(report.read_text())


def test_every_test_is_in_one_tier_and_the_real_slice_is_quick(tmp_path):
    tests = collected(tmp_path)
    assert len(tests) > 500, len(tests)
    not_one = sorted(node for node, info in tests.items() if len(info['tiers']) != 1)
    assert not not_one, not_one[:10]
    for node, info in tests.items():
        if node.startswith(('tests/reliability/', 'tests/newcomer/')):
            assert info['tiers'] == ['full'], node
    # The ensemble's fault tests share one worker; so do the tests of one module's set-up.
    assert all(info['group'] == 'ensemble' for node, info in tests.items() if node.startswith('tests/reliability/test_faults.py'))
    assert any(info['group'] and info['group'].startswith('zk_module@') for info in tests.values())
    # Each test that keeps the real ansible path covered runs in the quick tier too.
    for entry in matrix_tests():
        matched = [node for node in tests if node == entry or node.startswith((entry + '[', entry + '::', entry + '/'))]
        assert matched, 'MATRIX_TESTS names %s, which pytest does not collect' % entry
        assert all(tests[node]['tiers'] == ['quick'] for node in matched), entry


def test_the_real_slice_runs_real_ansible():
    """A module test named in MATRIX_TESTS goes through `ansible`/`ansible-playbook` (helpers), not
    through main() in this process: it is what keeps AnsiballZ, the action plugins and
    module_defaults covered on every ansible-core of the matrix."""
    for entry in matrix_tests():
        if '::' not in entry:
            continue
        path, name = entry.split('::')
        with open(os.path.join(helpers.ROOT, path)) as handle:
            text = handle.read()
        found = [node for node in ast.parse(text).body if isinstance(node, ast.FunctionDef) and node.name == name]
        assert found, 'MATRIX_TESTS names %s, which %s does not define' % (name, path)
        body = ast.get_source_segment(text, found[0])
        assert re.search(r'helpers\.(adhoc|playbook|run)\(|real=True', body), \
            '%s runs no real ansible (helpers.adhoc/playbook/run or real=True)' % entry
