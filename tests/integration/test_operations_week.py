# -*- coding: utf-8 -*-
"""A week of operations, as Tianti and the ops engineers run it, through ansible-playbook on a copy
of the example inventory: production and review published; gray1 widened in steps with a gate; a
production hotfix while widened; gray1 fails - narrowed back and its publish undone; gray2 published,
widened and promoted (twice: the retry is ok); the review release retired; the promote undone.

Once the three releases the CMDB gives hosts to are online, and after every step from there, the
whole map is checked with raw kazoo and the in-process audit: every section and IP of the tree has
exactly one owner, every one the CMDB lists has one unless a change gave it up on
purpose, /default_release names a release, every version routes by the one rule, the audit has no
error, and each release node's package names its live build. audit.yml runs for real at the end.
"""

import json
import os
import re
import sys

import pytest
import yaml

import flowkit
import modrun
from flowkit import flow
from ansible_collections.gameops.elastic_release.plugins.modules import release_audit, release_lookup

GATE = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'gate.py')
SERVICE = {'services': {'gameserver': 'dev.190122.01'}}
GLOBAL = {'services': {'global': 'dev.190122.01', 'vms': 'dev.190122.01'}}
PROD = {'global_url': 'http://10.1.0.5:9000', 'versions': ['1.2.0', '1.2.1'],
        'sections': {'1001': {'name': 'S1'}, '1002': {'name': 'S2'}, '1003': {'name': 'S3'}, '1004': {'name': 'S4'}},
        # The global server runs for production: every IP of the CMDB has an owner.
        'servers': {'10.1.0.11': SERVICE, '10.1.0.12': SERVICE, '10.1.0.5': GLOBAL}}
# Gray releases name their build release-wide, so sections lent to them by a widen start there.
GRAY2 = {'global_url': 'http://10.1.0.8:9000', 'versions': ['1.5.0'], 'sections': {'1901': {'name': 'Canary'}},
         'servers': {'10.1.0.21': {'services': {'gameserver': 'dev.190124.01'}}},
         'services': {'gameserver': 'dev.190124.01'}}
CONFIGS = {
    'production-190122.01': PROD,
    # The hotfix: the same items, S2 renamed and a new client version.
    'production-190122.02': dict(PROD, versions=['1.2.0', '1.2.1', '1.2.2'],
                                 sections=dict(PROD['sections'], **{'1002': {'name': 'S2 (hotfix)'}})),
    'appstore_review-190122.01': {'global_url': 'http://10.2.0.5:9000', 'versions': ['1.4.0'],
                                  'sections': {'2001': {'name': 'Review'}},
                                  'servers': {'10.2.0.11': SERVICE, '10.2.0.5': GLOBAL}},
    'gray1-190123.01': {'global_url': 'http://10.1.0.6:9000', 'versions': ['1.3.0'], 'sections': {'1901': {}},
                        'servers': {'10.1.0.21': SERVICE}, 'services': {'gameserver': 'dev.190123.01'}},
    'gray2-190124.01': GRAY2,
    # The production package of the build gray2 ran: what the hotfix serves and what gray2 serves.
    'production-190124.01': dict(PROD, global_url='http://10.1.0.5:9000', versions=['1.2.0', '1.2.1', '1.2.2', '1.5.0'],
                                 sections=dict(PROD['sections'], **{'1002': {'name': 'S2 (hotfix)'}, '1901': {'name': 'Canary'}}),
                                 servers=dict(PROD['servers'], **GRAY2['servers']), services=GRAY2['services']),
}


@pytest.fixture(scope='module')
def week_packages(tmp_path_factory):
    dist = tmp_path_factory.mktemp('week')
    return dict((key, flowkit._tar(dist / ('%s-%s.tar.gz' % (flowkit.PROJECT, key)), key.split('-', 1)[0], config))
                for key, config in CONFIGS.items())


class Week(object):
    def __init__(self, zk, inventory, tmp_path, packages):
        self.zk = zk
        self.inventory = inventory
        self.tmp_path = tmp_path
        self.packages = packages
        self.live = {}      # release -> the package its node must name
        with open(os.path.join(inventory, 'cmdb.yml')) as f:
            self.hosts = yaml.safe_load(f)['hosts']
        with open(os.path.join(inventory, 'group_vars', 'all.yml')) as f:
            self.registry = yaml.safe_load(f)['elastic_release_registry']

    def run(self, name, rc=0, **extra):
        res = flow(self.inventory, self.tmp_path, name, **extra)
        assert res.rc == rc, res
        return res

    def owners(self):
        """{(kind, name): [releases]} read with raw kazoo, as game services and VMS read the tree."""
        client, out = self.zk.client, {}
        for release in client.get_children('/releases'):
            for kind in ('versions', 'sections', 'servers'):
                for name in client.get_children('/releases/%s/%s' % (release, kind)):
                    out.setdefault((kind, name), []).append(release)
        return out

    def check(self, step):
        client = self.zk.client
        owners = self.owners()
        default = json.loads(client.get('/default_release')[0])['name']
        assert client.exists('/releases/%s' % default), (step, default)
        for (kind, name), releases in owners.items():
            if kind != 'versions':
                assert len(releases) == 1, (step, kind, name, releases)
        given = json.loads(client.get('/elastic_release/given_up')[0]) if client.exists('/elastic_release/given_up') else {}
        for host in self.hosts:
            items = [('sections', str(s)) for s in host.get('section_ids') or []] + [('servers', host['inner_ip'])]
            for kind, name in items:
                assert (kind, name) in owners or name in (given.get(kind) or {}), (step, host['name'], kind, name)
        for (kind, name), releases in owners.items():
            if kind != 'versions':
                continue
            special = sorted(r for r in releases if r != default)
            assert len(special) <= 1, (step, name, releases)
            answer = modrun.run(release_lookup, {'hosts': self.zk.hosts, 'version': name})
            assert answer['release'] == (special[0] if special else default) and answer['found'], (step, name, answer)
        unlisted = modrun.run(release_lookup, {'hosts': self.zk.hosts, 'version': '9.9.9', 'fail_on_missing': False})
        assert unlisted['release'] == default and unlisted['found'] is False, (step, unlisted)
        audit = modrun.run(release_audit, {'hosts': self.zk.hosts, 'registry': self.registry, 'cmdb_hosts': [
            dict(h, section_ids=h.get('section_ids') or [], services=h.get('services') or []) for h in self.hosts]})
        assert audit['counts']['error'] == 0, (step, audit['findings'])
        for release in client.get_children('/releases'):
            meta = json.loads(client.get('/releases/%s' % release)[0])
            assert meta.get('package') == self.live.get(release), (step, release, meta.get('package'), self.live)
        assert sorted(client.get_children('/releases')) == sorted(self.live), (step, self.live)
        return audit

    def publish(self, flow_name, key, **extra):
        release = key.split('-', 1)[0]
        res = self.run(flow_name, package=self.packages[key], release=release, **extra)
        self.live['production' if flow_name == 'promote' else release] = os.path.basename(self.packages[key])
        return res


def content(client):
    out = {}

    def walk(path):
        out[path] = client.get(path)[0]
        for child in sorted(client.get_children(path)):
            walk(path + '/' + child)
    walk('/releases')
    out['/default_release'] = client.get('/default_release')[0]
    return out


@pytest.mark.full
def test_a_week_of_operations(zk, inventory, week_packages, tmp_path):
    all_yml = os.path.join(inventory, 'group_vars', 'all.yml')
    with open(all_yml) as f:
        text = f.read()
    text, count = re.subn(r'(?m)^  gray1:\n    type: gray\n    location: cn_prod\n',
                          '  gray1:\n    type: gray\n    location: cn_prod\n  gray2:\n    type: gray\n    location: cn_prod\n', text)
    assert count == 1
    with open(all_yml, 'w') as f:
        f.write(text)
    week = Week(zk, inventory, tmp_path, week_packages)
    client = zk.client

    # Monday: production, the App Store review release and gray1 go online. The CMDB gives hosts to all
    # three, so the map is whole (every CMDB section served) once the three are published.
    week.publish('production', 'production-190122.01')
    week.publish('review', 'appstore_review-190122.01')
    week.publish('gray', 'gray1-190123.01')
    week.check('production, review and gray1 published')

    # Tuesday: gray1 is widened in two steps behind a gate that asks the tree like VMS.
    record = tmp_path / 'gate.jsonl'
    gate = json.dumps([sys.executable, GATE, zk.hosts, str(record), 'section_id=1003', 'section_id=1004'],
                      separators=(',', ':'))
    res = week.run('widen', release='gray1', steps='[[1003],[1004]]', gate_command=gate, gate_interval=1, gate_timeout=10)
    assert [json.loads(line)['answers'] for line in record.read_text().splitlines()] == [
        {'section_id=1003': 'gray1', 'section_id=1004': 'production'},
        {'section_id=1003': 'gray1', 'section_id=1004': 'gray1'}]
    assert len(res.summary['changes']) == 2 and res.summary['transactions'] == 2, res.summary
    week.check('gray1 widened')

    # Wednesday: a production hotfix while widened. 1003 and 1004 stay with gray1, and the flow says so.
    res = week.publish('production', 'production-190122.02')
    held = sorted(row['name'] for row in res.summary['impact']['held_elsewhere'])
    assert held == ['1003', '1004'] and 'stays with gray1' in res.res.stdout, res.summary['impact']
    week.check('production hotfix while widened')

    # Thursday: gray1 fails. Narrow everything back, then undo its publish: gray1 goes, with the version
    # it appended to production; its own section and server are given up on purpose.
    week.run('narrow', release='gray1', all='true')
    week.check('gray1 narrowed')
    changes = week.run('rollback', release='gray1', list_revisions='true').summary['changes']
    publish = [c for c in changes if c['action'] == 'publish'][-1]
    refused = week.run('rollback', rc=2, release='gray1', change=publish['change'])
    assert 'section id 1901 (owned by gray1); server inner IP 10.1.0.21 (owned by gray1)' in refused.summary['error']
    res = week.run('rollback', release='gray1', change=publish['change'], release_items='all')
    assert res.summary['undone_change'] == publish['change'] and res.summary['transactions'] == 1, res.summary
    del week.live['gray1']
    assert '1.3.0' not in client.get_children('/releases/production/versions')
    audit = week.check('gray1 publish undone')
    assert sorted(f['items'][0] for f in audit['findings'] if f['kind'] == 'given_up') == ['10.1.0.21', '1901']

    # Friday: gray2 takes over the gray host, widens by 1001, and is promoted (the retry is ok).
    week.publish('gray', 'gray2-190124.01')
    week.run('widen', release='gray2', sections='1001')
    week.check('gray2 widened')
    before_promote = content(client)
    res = week.run('promote', release='gray2', package=week.packages['production-190124.01'])
    promote = res.summary['change']
    assert res.summary['transactions'] == 1 and sorted(res.summary['revisions_written']) == ['gray2', 'production']
    week.live['production'] = os.path.basename(week.packages['production-190124.01'])
    del week.live['gray2']
    after_promote = content(client)
    week.check('gray2 promoted')
    res = week.run('promote', release='gray2', package=week.packages['production-190124.01'])
    assert res.summary['changed'] is False and res.summary['already_promoted'] == promote, res.summary
    assert 'already promoted in change %s' % promote in res.res.stdout
    assert content(client) == after_promote

    # Saturday: the review release is retired; its section and servers are given up.
    res = week.run('retire', release='appstore_review', release_items='all')
    del week.live['appstore_review']
    week.check('review retired')

    # Sunday: the promote is undone from production - gray2 comes back with its items, versions and
    # build, byte for byte, in one transaction (the retire touched other releases).
    res = week.run('rollback', release='production', change=promote)
    assert res.summary['undone_change'] == promote and res.summary['transactions'] == 1, res.summary
    week.live['production'] = os.path.basename(week.packages['production-190122.02'])
    week.live['gray2'] = os.path.basename(week.packages['gray2-190124.01'])
    now = content(client)
    assert dict((k, v) for k, v in now.items() if 'appstore_review' not in k) == \
        dict((k, v) for k, v in before_promote.items() if 'appstore_review' not in k)
    week.check('promote undone')
    res = week.run('audit')
    assert res.summary['counts']['error'] == 0, res.summary['findings']
