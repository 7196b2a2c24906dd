# -*- coding: utf-8 -*-
# Copyright: (c) 2026, GameOps release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# The first step of every release flow, on the controller: see the flow_check module's documentation.

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible.module_utils.common.parameters import remove_values
from ansible.module_utils.common.text.converters import to_native
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

from ansible_collections.gameops.elastic_release.plugins.module_utils._flow import flowcheck as _flowcheck
from ansible_collections.gameops.elastic_release.plugins.module_utils._flow import startable as _startable
from ansible_collections.gameops.elastic_release.plugins.module_utils._flow.gate import secrets
from ansible_collections.gameops.elastic_release.plugins.module_utils._package.pkgname import PackageError, parse_package_name
from ansible_collections.gameops.elastic_release.plugins.module_utils._write.publish import load_package
from ansible_collections.gameops.elastic_release.plugins.module_utils._zk.session import ZkError
from ansible_collections.gameops.elastic_release.plugins.plugin_utils._flow_plan import plan_problems
from ansible_collections.gameops.elastic_release.plugins.plugin_utils._zk_action import connection_args
from ansible_collections.gameops.elastic_release.plugins.plugin_utils._zk_hint import CONNECT_FAILED, hosts_hint

OPTIONS = ('flow', 'release', 'package', 'name_pattern', 'sections', 'servers', 'steps', 'all', 'registry',
           'check_zookeeper', 'zookeeper', 'gate_url', 'gate_command', 'gate_timeout', 'gate_interval', 'gate_try_timeout',
           'gate_follow_redirects', 'pause_seconds', 'allow_chunked', 'release_items', 'allow_other_build', 'change',
           'revision', 'list_revisions')


def _package_name(path, pattern):
    try:
        name = parse_package_name(path, pattern)
    except PackageError as exc:
        raise ValueError(str(exc))
    return name.release, name.build


def _read_package(path, release, pattern):
    try:
        return load_package(path, release, pattern)
    except (PackageError, OSError) as exc:
        raise ValueError(str(exc))


def _no_inventory(flow, groups, task_vars):
    """The refusal of a run without the game project's inventory (a forgotten -i), or with one that
    lacks the release registry: what is missing, and the command that brings it."""
    command = 'ansible-playbook -i inventory playbooks/%s.yml%s' % (flow or '<flow>', '' if flow in ('audit', 'map') else ' -e ...')
    if not groups.get('all'):
        return ('no inventory: the release registry (elastic_release_registry), the CMDB hosts and the ZooKeeper hosts '
                '(elastic_release_zk_hosts) come from the game project\'s inventory, and none was given. Add -i with '
                'the inventory directory: %s (inventory/ is the example at the checkout root)' % command)
    sources = ', '.join("'%s'" % s for s in task_vars.get('ansible_inventory_sources') or []) or '(unknown)'
    return ('the inventory %s sets no elastic_release_registry (the releases a flow may write, with their type and '
            'deploy location): add it to its group_vars/all.yml (see docs/registry.md), or run with the example '
            'inventory: %s' % (sources, command))


def _serving(hosts, hostvars):
    """The CMDB hosts with the services each runs per section (its elastic_release_services)."""
    out = []
    for host in hosts:
        hv = hostvars[host['name']] if host['name'] in hostvars else {}
        per_section = _startable.section_services(hv.get('elastic_release_services') or {}, hv.get('services'))
        if per_section:
            out.append(dict(host, per_section=per_section))
    return out


class ActionModule(ActionBase):

    _supports_check_mode = True
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super(ActionModule, self).run(tmp, task_vars)
        args = self._task.args
        unknown = sorted(set(args) - set(OPTIONS))
        if unknown:
            result.update(failed=True, msg='flow_check: unknown option %s (known: %s)' % (unknown[0], ', '.join(OPTIONS)))
            return result
        flow = args.get('flow') or ''
        registry = args.get('registry')
        groups = task_vars.get('groups') or {}
        if registry is None:
            if 'elastic_release_registry' not in task_vars:
                result.update(failed=True, msg='%s flow refused, nothing was written: %s'
                              % (flow or '?', _no_inventory(flow, groups, task_vars)))
                return result
            registry = self._templar.template(task_vars['elastic_release_registry'])
        try:
            all_items = self._bool('all', args.get('all'))
            check_zookeeper = self._bool('check_zookeeper', args.get('check_zookeeper', True))
            follow_redirects = self._bool('gate_follow_redirects', args.get('gate_follow_redirects'))
            allow_chunked = self._bool('allow_chunked', args.get('allow_chunked'))
            allow_other_build = self._bool('allow_other_build', args.get('allow_other_build'))
            list_revisions = self._bool('list_revisions', args.get('list_revisions'))
        except ValueError as exc:
            result.update(failed=True, msg='%s flow refused, nothing was written: %s' % (flow or '?', exc))
            return result
        params = _flowcheck.FlowParams(flow, release=args.get('release'), package=args.get('package'),
                                       name_pattern=args.get('name_pattern'), sections=args.get('sections'),
                                       servers=args.get('servers'), steps=args.get('steps'),
                                       all_items=all_items, allow_chunked=allow_chunked,
                                       release_items=args.get('release_items'), allow_other_build=allow_other_build,
                                       change=args.get('change'), revision=args.get('revision'),
                                       list_revisions=list_revisions,
                                       gate={'url': args.get('gate_url'), 'command': args.get('gate_command'),
                                             'timeout': args.get('gate_timeout'), 'interval': args.get('gate_interval'),
                                             'try_timeout': args.get('gate_try_timeout'),
                                             'follow_redirects': follow_redirects, 'pause': args.get('pause_seconds')})
        problems, info = _flowcheck.check(params, registry, groups, _package_name, _read_package)
        hostvars = task_vars.get('hostvars') or {}
        info['hosts'] = _flowcheck.cmdb_hosts(sorted((groups.get('all') or [])),
                                              lambda name: hostvars[name] if name in hostvars else {})
        info['started'] = time.time()
        info['planned'] = None
        if not problems and check_zookeeper:
            connection = connection_args(args.get('zookeeper') or {}, task_vars, self._templar.template)
            try:
                problems, info['planned'] = plan_problems(params, info, connection, _serving(info['hosts'], hostvars))
            except ZkError as exc:
                problems = ['cannot check the release map in ZooKeeper: %s' % to_native(exc)]
            hint = hosts_hint(args.get('zookeeper') or {}, task_vars)
            problems = [p + hint if CONNECT_FAILED in p else p for p in problems]
        config = info.pop('config', None)
        info.pop('indicator', None)
        info['config_digest'] = config.digest() if config is not None else None
        result['flow_info'] = info
        result['changed'] = False
        if problems:
            result['failed'] = True
            result['problems'] = problems
            result['msg'] = '%s flow refused, nothing was written: %s' % (flow or '?', '; '.join(problems))
            if Display().verbosity < 1:
                # Ansible prints a failed result whole after its msg: the problems and flow_info would
                # repeat the error and bury it under the plan (both are shown with -v).
                del result['flow_info'], result['problems']
        raw = args.get('gate_url')
        if raw and isinstance(raw, str):
            # flow_info carries the gate URL masked; nothing of the raw one may reach the output or AWX
            return remove_values(result, set([raw] + secrets(raw)))
        return result

    @staticmethod
    def _bool(name, value):
        # as Ansible parses a bool option ('t', 'on', 1 are true), and a value it would refuse is refused
        if value is None:
            return False
        try:
            return boolean(value, strict=True)
        except TypeError:
            raise ValueError('%s must be true or false, got %r' % (name, value))
