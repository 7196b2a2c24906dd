# -*- coding: utf-8 -*-
"""The summary of a flow and its next step (module_utils/_flow/summary.py), without Ansible."""

import json

from ansible_collections.gameops.elastic_release.plugins.module_utils._flow import summary as s

CTX = dict(inventories=['/srv/ops/inventory'], playbook_dir='/srv/ops/playbooks', cwd='/srv/ops',
           argv=['/usr/bin/ansible-playbook', '-i', 'inventory', 'playbooks/widen.yml', '-e', 'release=gray1', '--check'],
           registry=['production', 'gray1', 'gray2'])
IMPACT = {'owners': [{'kind': 'sections', 'name': '1004', 'from': 'production', 'to': 'gray1'},
                     {'kind': 'sections', 'name': '1003', 'from': 'production', 'to': 'gray1'}],
          'restart': ['gs-prod-02', 'gs-prod-01']}


def build(flow, **kw):
    return s.build(flow, context=s.Context(**CTX), now=1000.0, **kw)


def test_a_widen_names_the_sync_of_the_moved_sections_and_each_revision():
    out = build('widen', release='gray1', result={'changed': True, 'impact': IMPACT, 'write_outcome': 'written',
                                                  'revisions_written': {'gray1': 'rev-9', 'production': 'rev-7'}})
    assert out['revisions'] == {'gray1': 'rev-9', 'production': 'rev-7'} and out['write_outcome'] == 'written'
    assert out['next'] == ['ansible-playbook -i inventory playbooks/sync.yml -e target=gs-prod-02,gs-prod-01 '
                           '-e sections=1003,1004']
    assert s.screen(out) == ['widen gray1: ok', 'ZooKeeper: written (gray1 rev-9, production rev-7)',
                             'next: ' + out['next'][0]]
    json.dumps(out)


def test_a_move_run_with_sync_points_at_status_not_at_another_sync():
    result = {'changed': True, 'impact': IMPACT, 'write_outcome': 'written'}
    synced = build('widen', release='gray1', result=result,
                   extra={'steps': [{'step': 1, 'synced': {'status': 'ok'}}, {'step': 2, 'synced': {'status': 'ok'}}]})
    assert synced['next'] == ['the moved instances were synced (-e sync=true): check them with '
                              'ansible-playbook -i inventory playbooks/status.yml -e target=gs-prod-02,gs-prod-01']
    one = build('promote', release='gray1', result=result, extra={'synced': {'status': 'ok'}})
    assert 'check them with' in one['next'][-1]
    # a step that was not synced (or whose sync failed) still needs the sync
    part = build('widen', release='gray1', result=result, extra={'steps': [{'step': 1, 'synced': {'status': 'ok'}}, {'step': 2}]})
    assert part['next'][0].startswith('ansible-playbook -i inventory playbooks/sync.yml')


def test_a_publish_names_the_package_directory_and_a_single_revision():
    out = build('gray', release='gray1', package='/data/dist/mygame-gray1-1.tar.gz',
                result={'changed': True, 'revision': 'rev-3', 'impact': {'owners': [], 'restart': ['gs-gray-01']}})
    assert out['package'] == 'mygame-gray1-1.tar.gz' and out['revisions'] == {'gray1': 'rev-3'}
    assert out['write_outcome'] == 'written'
    assert out['next'] == ['ansible-playbook -i inventory playbooks/sync.yml -e target=gs-gray-01 -e package_dir=/data/dist']


def test_a_promote_says_to_take_the_release_out_of_the_registry():
    out = build('promote', release='gray2', result={'changed': True, 'impact': {'owners': [], 'restart': []}})
    assert out['next'][0] == ('remove gray2 from elastic_release_registry in the inventory: the release is gone '
                              'from ZooKeeper')
    assert out['next'][1].startswith('no host serves what changed')


def test_a_refusal_is_not_written_and_its_next_step_reruns_the_command():
    out = build('widen', release='gray1', status='failed', error='widen flow refused, nothing was written: ...')
    assert out['write_outcome'] == 'not_written' and out['revisions'] == {}
    assert out['next'] == ['fix what the error names (its fix comes first), then rerun: ansible-playbook -i inventory '
                           'playbooks/widen.yml -e release=gray1 --check']
    unknown = build('widen', release='gray1', status='failed', failed_result={'write_outcome': 'unknown'})
    assert unknown['write_outcome'] == 'unknown' and unknown['next'][0].startswith('read the tree first')


def test_a_check_run_reruns_without_check_and_a_run_without_inventory_gets_one():
    out = build('widen', release='gray1', check_mode=True, result={'changed': True, 'write_outcome': 'planned'})
    assert out['next'] == ['a check wrote nothing: run it for real: ansible-playbook -i inventory playbooks/widen.yml '
                           '-e release=gray1']
    ctx = s.Context(argv=['ansible-playbook', 'playbooks/start.yml'], cwd='/srv/ops')
    assert ctx.rerun() == 'ansible-playbook -i inventory playbooks/start.yml'


def test_read_only_flows_leave_the_tree_unchanged_and_point_on():
    status = build('status', extra={'target': 'gray1', 'counts': {'in_sync': 3, 'wrong_build': 1}})
    assert status['write_outcome'] == 'unchanged'
    assert status['next'][0] == 'ansible-playbook -i inventory playbooks/sync.yml -e target=gray1 --check'
    assert build('status', extra={'counts': {'in_sync': 3}})['next'] == []
    audit = build('audit', extra={'counts': {'error': 0, 'warning': 1}, 'map_file': '/srv/ops/map.html'})
    assert audit['next'] == ['fix the findings above (each kind names its fix), then: ansible-playbook -i inventory '
                             'playbooks/audit.yml', 'open map.html in a browser']
    installed = s.Context(inventories=['/srv/inv'], playbook_dir='/root/.ansible/collections/x/playbooks', cwd='/srv/ops')
    assert installed.command('status') == 'ansible-playbook -i /srv/inv gameops.elastic_release.status'


def test_a_cancelled_run_names_its_changes_and_the_undo():
    out = build('widen', release='gray1', status='cancelled', error='cancelled (SIGTERM)',
                result={'changed': True, 'write_outcome': 'written', 'revisions_written': {'gray1': 'rev-4'}},
                extra={'changes': ['3f2a1c9e0b7d']})
    assert out['next'][0] == ('see what the run applied (its changes: 3f2a1c9e0b7d): ansible-playbook -i inventory '
                              'playbooks/rollback.yml -e release=gray1 -e list_revisions=true')
    assert out['next'][1] == 'undo them newest first: ansible-playbook -i inventory playbooks/rollback.yml -e release=gray1'


def test_the_file_is_written_whole(tmp_path):
    out = build('audit')
    path = tmp_path / 'summary.json'
    s.write(str(path), out)
    assert json.loads(path.read_text()) == out
    try:
        s.write(str(tmp_path / 'missing' / 'summary.json'), out)
    except OSError as exc:
        assert 'cannot write the summary file' in str(exc)
    else:
        raise AssertionError('a summary file in a missing directory was written')


def test_a_rerun_command_never_shows_a_secret():
    ctx = s.Context(argv=['ansible-playbook', '-i', 'inv', 'playbooks/widen.yml', '-e',
                          '{"gate_url": "http://bot:S3cret@mon:8080/health?token=T0k&env=prod"}',
                          '-e', 'elastic_release_zk_auth_credential=user:Pw0rd'], cwd='/srv')
    shown = ctx.rerun()
    for secret in ('S3cret', 'T0k', 'Pw0rd', 'prod'):
        assert secret not in shown, shown
    assert 'http://***@mon:8080/health?token=***&env=***' in shown and 'credential=***' in shown


def test_a_write_whose_result_was_lost_is_unknown_unless_read_back():
    lost = {'failed': True, 'result_lost': True, 'msg': 'its process was killed by signal 9 before it reported'}
    assert s.outcome('production', 'failed', {}, lost) == 'unknown'
    assert s.outcome('widen', 'failed', {'write_outcome': 'written', 'changed': True}, lost) == 'written'
    assert s.outcome('production', 'failed', {}, {'failed': True, 'msg': 'refused'}) == 'not_written'
    summary = s.build('production', release='production', status='failed', failed_result=lost, error=lost['msg'])
    assert summary['write_outcome'] == 'unknown' and 'read the tree first' in summary['next'][0], summary
