# -*- coding: utf-8 -*-
"""Trees other tools wrote under /releases: a node with a digest ACL this collection has no
credential for, ephemeral and sequential nodes, release metadata that is not JSON, a binary
/default_release. The audit names each and goes on with everything it can read; a write refuses
only when it must read the unreadable node, naming it, and writes nothing (the tree is compared
by a client that can read all of it). Real ZooKeeper; modules in-process, flows through
ansible-playbook."""

import pytest

import faultkit
import flowkit
import modrun

from kazoo.security import make_digest_acl

from ansible_collections.gameops.elastic_release.plugins.modules import release_audit, zk_release_move, zk_release_node

OTHER = ('othertool', 'other-pw-5d1e')    # the other tool's digest identity (the collection has none)


def publish(zk, release, config, **extra):
    return modrun.run(zk_release_node, dict(extra, hosts=zk.hosts, release=release, config=config))


def basics(zk):
    for key, extra in (('production-190122.01', {'set_default': True}),
                       ('gray1-190122.01', {'append_versions_to_default': True})):
        res = publish(zk, key.split('-', 1)[0], flowkit.CONFIGS[key], **extra)
        assert res['changed'] is True, res


@pytest.fixture
def other(zk):
    """The other tool's client: it reads everything (the collection's nodes are world-readable)."""
    with faultkit.kazoo(zk.hosts, auth_data=[('digest', '%s:%s' % OTHER)]) as client:
        yield client


def private(client, path, data=b'', ephemeral=False, sequence=False):
    return client.create(path, data, acl=[make_digest_acl(OTHER[0], OTHER[1], all=True)], ephemeral=ephemeral,
                         sequence=sequence, makepath=False)


def audit(zk, **extra):
    return modrun.run(release_audit, dict(extra, hosts=zk.hosts))


def kinds(findings):
    return sorted((f['kind'], f['message'].split(' ')[0] if f['kind'] != 'unreadable_node' else
                   f['message'].split(' ')[4]) for f in findings)


def test_an_unreadable_servers_list_blocks_only_the_writes_that_need_it(zk, other, inventory, tmp_path):
    basics(zk)
    # A release another tool keeps: readable, but its server list is behind the tool's own ACL.
    other.create('/releases/foreign/sections/1950', b'{}', makepath=True)
    private(other, '/releases/foreign/servers')
    private(other, '/releases/foreign/servers/10.1.0.99', b'{}')
    before = faultkit.dump_tree(other)

    res = audit(zk)
    assert res.get('failed') is not True, res
    unreadable = [f for f in res['findings'] if f['kind'] == 'unreadable_node']
    assert [f['message'].split(' ')[4] for f in unreadable] == ['/releases/foreign/servers'], res['findings']
    assert 'Give this collection\'s credential READ on it' in unreadable[0]['message']
    # the rest was audited: production, gray1 and foreign with its section
    assert res['releases'] == ['foreign', 'gray1', 'production'] and res['nodes'] == 13, res

    # a publish that adds a server cannot know whether foreign lists it: refused, naming the node
    config = dict(flowkit.CONFIGS['gray1-190122.01'], servers={'10.1.0.21': {}, '10.1.0.31': {}})
    res = publish(zk, 'gray1', config)
    assert res['failed'] is True and res['write_outcome'] == 'not_written', res
    assert 'cannot tell who owns server inner IP 10.1.0.31: ZooKeeper refuses to read /releases/foreign/servers' \
        in res['msg'], res['msg']
    assert faultkit.dump_tree(other) == before
    # a move of a server too; a move of a section needs only the section lists: done
    res = modrun.run(zk_release_move, {'hosts': zk.hosts, 'destination': 'gray1', 'servers': ['10.1.0.12']})
    assert res['failed'] is True and '/releases/foreign/servers' in res['msg'], res
    assert faultkit.dump_tree(other) == before
    run = flowkit.flow(inventory, tmp_path, 'widen', release='gray1', sections='1003')
    assert run.rc == 0 and run.summary['changed'] is True, run
    assert flowkit.children(zk.client, '/releases/gray1/sections') == ['1003', '1901']

    # the audit flow names the node and fails (an error finding), having audited the rest
    run = flowkit.flow(inventory, tmp_path, 'audit')
    assert run.rc == 2 and 'ZooKeeper refuses to read /releases/foreign/servers' in run.summary['error'], run
    assert run.summary['releases'] == ['foreign', 'gray1', 'production'], run.summary


@pytest.mark.full
def test_an_unreadable_release_is_audited_around_and_mapped(zk, other, inventory, tmp_path):
    basics(zk)
    private(other, '/releases/foreign')
    private(other, '/releases/foreign/sections')
    private(other, '/releases/foreign/sections/1950', b'{}')
    before = faultkit.dump_tree(other)
    res = audit(zk)
    assert sorted(f['message'].split(' ')[4] for f in res['findings'] if f['kind'] == 'unreadable_node') == [
        '/releases/foreign', '/releases/foreign/sections'], res['findings']
    page = tmp_path / 'map.html'
    run = flowkit.flow(inventory, tmp_path, 'map', map_file=str(page))
    assert run.rc == 0 and 'foreign' in page.read_text(), run
    # every write that adds a section is refused (foreign may own it); a rerun that adds nothing is not
    res = publish(zk, 'production', dict(flowkit.CONFIGS['production-190122.01'],
                                         sections={'1001': {}, '1002': {}, '1003': {}, '1004': {}, '1005': {}}),
                  set_default=True)
    assert res['failed'] is True and 'refuses to read /releases/foreign/sections' in res['msg'], res
    res = publish(zk, 'production', flowkit.CONFIGS['production-190122.01'], set_default=True)
    assert res.get('failed') is not True and res['changed'] is False, res
    assert faultkit.dump_tree(other) == before


def test_ephemeral_sequential_and_malformed_nodes_are_findings(zk, other):
    basics(zk)
    other.create('/releases/gray1/sections/1950', b'{}', ephemeral=True)
    other.create('/releases/gray1/sections/', b'{}', sequence=True)             # .../sections/0000000001
    other.create('/releases/', b'', sequence=True)                              # /releases/00000000NN
    other.create('/releases/tempo', b'{}', ephemeral=True)
    other.create('/releases/notes', b'\x00\xff not json')
    other.set('/default_release', b'\x89PNG\r\n\x1a\n\x00\x00')
    res = audit(zk)
    assert res.get('failed') is not True, res
    found = dict((f['kind'], []) for f in res['findings'])
    for f in res['findings']:
        found[f['kind']].append(f['message'])
    ephemeral = sorted(m.split(' ')[0] for m in found['ephemeral_node'])
    assert ephemeral == ['/releases/gray1/sections/1950', '/releases/tempo'], found
    assert any(m.startswith('/releases/gray1/sections/000000000') for m in found['sequential_node']), found
    assert any(m.startswith('/releases/000000000') for m in found['sequential_node']), found
    assert [m.split(' ')[0] for m in found['non_json_metadata']] == ['/releases/notes'], found
    assert 'default_release_malformed' in found and 'default_release_dangling' not in found, found
    assert "/default_release holds b'\\x89PNG" in found['default_release_malformed'][0]
