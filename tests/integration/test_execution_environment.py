# -*- coding: utf-8 -*-
"""execution-environment.yml is a valid ansible-builder definition for this collection.

`ansible-builder create` (from .venv, no container runtime needed) turns it into a build context
the way `ansible-builder build` would, after the collection tarball is built as the file's header
says. The context must install that tarball and the runtime requirements of requirements.txt.
"""

import os
import re
import shutil
import tarfile

import yaml
import helpers


def requirement_lines(path):
    with open(path, encoding='utf-8') as handle:
        return [line.strip() for line in handle if line.strip() and not line.startswith(('#', '-'))]


def test_ansible_builder_create(tmp_path):
    builder = os.path.join(helpers.TOOLS, 'ansible-builder')
    assert os.path.exists(builder), 'no ansible-builder next to %s: run scripts/setup.sh' % helpers.PYTHON
    with open(os.path.join(helpers.ROOT, 'galaxy.yml'), encoding='utf-8') as handle:
        galaxy = yaml.safe_load(handle)
    with open(os.path.join(helpers.ROOT, 'execution-environment.yml'), encoding='utf-8') as handle:
        ee = yaml.safe_load(handle)
    tarball = '%s-%s-%s.tar.gz' % (galaxy['namespace'], galaxy['name'], galaxy['version'])

    shutil.copy(os.path.join(helpers.ROOT, 'execution-environment.yml'), str(tmp_path))
    res = helpers.run(['ansible-galaxy', 'collection', 'build', '--output-path', 'context-files', helpers.ROOT],
                      cwd=str(tmp_path))
    assert res.rc == 0, res
    built = tmp_path / 'context-files' / tarball
    assert built.is_file(), (res, os.listdir(str(tmp_path / 'context-files')))
    with tarfile.open(str(built)) as tar:
        tops = {name.split('/')[0] for name in tar.getnames()}
    assert not tops & {'.venv', '.build', '.git', 'ansible.cfg'}, sorted(tops)

    res = helpers.run([builder, 'create', '-f', 'execution-environment.yml', '--context', 'context',
                       '--output-filename', 'Containerfile'], cwd=str(tmp_path))
    assert res.rc == 0, res
    context = tmp_path / 'context'
    containerfile = (context / 'Containerfile').read_text()
    assert (context / '_build' / 'collections' / tarball).is_file(), res
    assert yaml.safe_load((context / '_build' / 'requirements.yml').read_text()) == {
        'collections': [{'name': '/build/collections/' + tarball, 'type': 'file'}]}
    assert 'ansible-galaxy collection install' in containerfile

    # The image gets the runtime requirements of requirements.txt and an ansible-core the README
    # supports for the flows (2.19).
    runtime = requirement_lines(os.path.join(helpers.ROOT, 'requirements.txt'))
    python = [line for line in runtime if not line.startswith('ansible-core')]
    assert (context / '_build' / 'requirements.txt').read_text().split() == python
    assert ee['dependencies']['python'] == python
    core = re.search(r'ANSIBLE_INSTALL_REFS="(ansible-core[^ "]*)', containerfile).group(1)
    assert core == 'ansible-core' + ee['dependencies']['ansible_core']['package_pip'][len('ansible-core'):]
    low, high = (tuple(int(part) for part in bound.split('.'))
                 for bound in re.fullmatch(r'ansible-core>=([\d.]+),<([\d.]+)', core).groups())
    assert (2, 16) <= low <= (2, 19) < high <= (2, 20), core
