# -*- coding: utf-8 -*-
"""Mistakes a newcomer makes on the command line, through real ansible-playbook runs: a forgotten
-i, a ZooKeeper that does not answer at the configured hosts. Each message names what is wrong and
the command or the variable that fixes it, and the run stops before anything is written."""

import pathlib
import re

import pytest

import helpers
import zkserver


def playbook(args, cwd=helpers.ROOT):
    return helpers.run(['ansible-playbook'] + args, cwd=cwd)


def test_a_forgotten_inventory_is_named_with_the_command_that_gives_it(tmp_path):
    res = playbook(['playbooks/gray.yml', '-e', 'release=gray1', '-e', 'package=/data/mygame-gray1-190122.01.tar.gz'])
    assert res.rc == 2, res
    assert ("gray flow refused, nothing was written: no inventory: the release registry (elastic_release_registry), "
            "the CMDB hosts and the ZooKeeper hosts (elastic_release_zk_hosts) come from the game project's inventory, "
            "and none was given. Add -i with the inventory directory: ansible-playbook -i inventory playbooks/gray.yml "
            "-e ...") in res.output
    assert 'missing required arguments' not in res.output and 'argument_spec_data' not in res.output

    dest = tmp_path / 'dist'
    res = playbook(['playbooks/build_packages.yml', '-e', 'elastic_release_location=cn_prod', '-e',
                    'elastic_release_build=190122.01', '-e', 'elastic_release_project=mygame', '-e',
                    'elastic_release_package_src=%s' % tmp_path, '-e', 'elastic_release_package_dest=%s' % dest,
                    '-e', 'elastic_release_configs_dir=%s' % tmp_path])
    assert res.rc == 2, res
    assert 'no inventory: the release registry (elastic_release_registry)' in res.output
    assert 'ansible-playbook -i inventory playbooks/build_packages.yml' in res.output
    assert not dest.exists()

    # The fleet flows (start, status, sync) say it too, with the flow's own command.
    res = playbook(['playbooks/status.yml', '-e', 'target=gs-prod-02'])
    assert res.rc == 2, res
    assert ('the inventory is missing: run ansible-playbook -i inventory playbooks/status.yml -e target=gs-prod-02 '
            'at the checkout root') in res.output, res


def unreachable_inventory(tmp_path):
    """A copy of the example inventory whose ZooKeeper hosts name a port nothing listens on."""
    port = zkserver.free_ports(1)[0]
    inv = pathlib.Path(helpers.copy_inventory(tmp_path, '127.0.0.1:%d/mygame' % port))
    all_yml = inv / 'group_vars' / 'all.yml'
    all_yml.write_text(re.sub(r'(?m)^elastic_release_zk_timeout: .*$', 'elastic_release_zk_timeout: 1', all_yml.read_text()))
    line = [n for n, text in enumerate(all_yml.read_text().splitlines(), 1) if text.startswith('elastic_release_zk_hosts:')][0]
    return inv, all_yml, line, port


def test_zookeeper_unreachable_names_elastic_release_zk_hosts_and_where_it_is_set(tmp_path):
    inv, all_yml, line, port = unreachable_inventory(tmp_path)
    # the first step of a widen plans the move against ZooKeeper: its refusal names the variable and its file
    res = playbook(['-i', str(inv), 'playbooks/widen.yml', '-e', 'release=gray1', '-e', 'sections=1003'])
    assert res.rc == 2, res
    assert 'cannot connect to ZooKeeper at 127.0.0.1:%d' % port in res.output
    assert ('The ZooKeeper hosts are elastic_release_zk_hosts, set in %s line %d: correct it there, or pass -e '
            'elastic_release_zk_hosts=<host:port,...>/<chroot> to try others' % (all_yml, line)) in res.output


@pytest.mark.full
def test_zookeeper_unreachable_ad_hoc_and_with_extra_vars(tmp_path):
    inv, all_yml, line, port = unreachable_inventory(tmp_path)
    # a module run ad hoc against the inventory says the same
    res = helpers.run(['ansible', '-i', str(inv), 'localhost', '-m', 'gameops.elastic_release.release_lookup',
                       '-a', 'section_id=1001'], cwd=helpers.ROOT)
    assert res.rc != 0, res
    assert 'set in %s line %d' % (all_yml, line) in res.output
    # -e wins over the inventory, and the message says where the value came from
    res = playbook(['-i', str(inv), 'playbooks/widen.yml', '-e', 'release=gray1', '-e', 'sections=1003',
                    '-e', 'elastic_release_zk_hosts=127.0.0.1:%d' % port])
    assert res.rc == 2, res
    assert 'The ZooKeeper hosts are elastic_release_zk_hosts, set in the command line (-e)' in res.output
