# -*- coding: utf-8 -*-
# Copyright: (c) 2026, GameOps release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# This module_utils is PRIVATE to gameops.elastic_release; its API may change without notice.
"""Every instance of one host: what runs compared with what the tree says, and bringing each in line.

The controller decides the instances and their owners (`_instances`, one map read for the play);
this file runs on the host and reads only the host: pid files, /proc/<pid>/cmdline and the deployed
`version/` links. `status` gives each instance its state; `run` starts, stops or restarts each
instance through `_process.execute`. Neither connects to ZooKeeper (no kazoo import on this path).
No Ansible imports here.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from .pidfile import argv_matches, inspect
from .service import Request, ServiceError, expected_argv

STATES = ('in_sync', 'wrong_release', 'wrong_build', 'not_running', 'not_deployed', 'not_owned', 'unknown_process')
# The argument spec of the options in doc fragment gameops.elastic_release.instances.
INSTANCE_SPEC = dict(
    plan=dict(type='dict'),
    instances=dict(type='list', elements='dict', options=dict(
        service=dict(type='str', required=True), per=dict(type='str', choices=['section', 'host']),
        section_id=dict(type='str'), owner=dict(type='str'), build=dict(type='str'), global_url=dict(type='str'),
        package=dict(type='str'), error=dict(type='str'), command=dict(type='list', elements='str'))),
    served=dict(type='dict', default={}),
    sections=dict(type='list', elements='str'),
    ready_port=dict(type='int'),
    ports=dict(type='dict', default={}),
)
# Module options that each instance's Request takes from the module's own parameters.
COMMON = ('install_root', 'run_dir', 'inner_ip', 'restart_on_change', 'ready_timeout', 'ready_delay', 'stop_timeout')


def from_plan(params):
    """params with a `plan` (the host's part of lookup fleet's plan) spread into instances, served,
    inner_ip, sections; returns the plan's error, a refusal of this host, or None."""
    plan = params.get('plan') or {}
    for key in ('instances', 'served', 'inner_ip', 'sections'):
        if params.get(key) in (None, [], {}, '') and plan.get(key) is not None:
            params[key] = plan[key]
    return plan.get('error')


def port_of(params, inst):
    ports = params.get('ports') or {}
    if inst.get('section_id') and str(inst['section_id']) in ports:
        return int(ports[str(inst['section_id'])])
    if inst.get('service') in ports:
        return int(ports[inst['service']])
    return params.get('ready_port')


def request(params, inst, state, resolved=True):
    """The Request of one instance: the module's common options and the instance's own."""
    p = dict((k, params.get(k)) for k in COMMON)
    # The service's own command (elastic_release_services), else the host's (server_start_command).
    p.update(service=inst['service'], section_id=inst.get('section_id') or None, state=state,
             command=inst.get('command') or params.get('command') or None, ready_port=port_of(params, inst))
    if resolved and inst.get('owner') and inst.get('build') and not inst.get('error'):
        p.update(release=inst['owner'], version=inst['build'], global_url=inst.get('global_url'))
    elif resolved and state != 'stopped' and inst.get('error'):
        p['owner_error'] = inst['error']
    # Neither: the host looks the owner up itself (elastic_release_resolve=host).
    return Request(p)


def unserved(params, planned):
    """Instances found running for sections the host no longer serves: {service, per, section_id}.

    params['served'] holds, per service run per section, every section the CMDB gives the host;
    a pid file {service}-{id}.pid of another section (within the sections asked about) is a leftover."""
    served = params.get('served') or {}
    only = params.get('sections')
    run_dir = params.get('run_dir') or os.path.join(params['install_root'], 'run')
    try:
        names = sorted(os.listdir(run_dir))
    except OSError:
        return []
    seen = set((i['service'], i.get('section_id')) for i in planned)
    out = []
    for service in sorted(served):
        keep = set(str(s) for s in served[service] or [])
        prefix = service + '-'
        for name in names:
            if not (name.startswith(prefix) and name.endswith('.pid')):
                continue
            sid = name[len(prefix):-4]
            if sid in keep or (service, sid) in seen or (only is not None and sid not in only):
                continue
            out.append({'service': service, 'per': 'section', 'section_id': sid, 'owner': None, 'build': None,
                        'error': None, 'served': False})
    return out


def _deployed_from(install_root, argv0):
    """'release/build' of the deploy whose build provides the program's version directory: the
    version/{service}/{build} link points to ../../builds/{release}/{build}/version/... (_deploy_plan)."""
    rel = os.path.relpath(argv0, install_root).split(os.sep)
    full = os.path.join(install_root, *rel[:3])
    if len(rel) < 3 or rel[0] != 'version' or not os.path.islink(full):
        return None
    parts = os.readlink(full).split('/')
    return '/'.join(parts[3:5]) if parts[:3] == ['..', '..', 'builds'] and len(parts) == 8 else None


def instance_status(params, inst):
    """One instance's state and what runs; reads the host only."""
    served = inst.get('served', True)
    req = request(params, inst, 'stopped', resolved=False)
    entry = dict(service=inst['service'], per=inst.get('per') or ('section' if inst.get('section_id') else 'host'),
                 section_id=inst.get('section_id') or None, owner=inst.get('owner') if served else None,
                 expected_build=inst.get('build') if served else None, running_release=None, running_build=None,
                 pid=None, state=None, served=served, note=inst.get('error'), expected_cmd=None, running_cmd=None,
                 deployed_from=None, pid_file=req.pid_file)
    argv = None
    if served and inst.get('owner') and inst.get('build'):
        try:
            argv = expected_argv(req, dict(release=inst['owner'], version=inst['build'], global_url=inst.get('global_url')))
        except ServiceError as exc:
            entry['note'] = str(exc)
    entry['expected_cmd'] = argv
    status = inspect(req, argv)
    if status.state in ('running', 'foreign'):
        entry.update(pid=status.pid, running_cmd=status.cmdline)
    if status.running:
        entry.update(running_release=status.record.get('release'), running_build=status.record.get('version'))
    if argv:
        entry['deployed_from'] = _deployed_from(req.install_root, argv[0])

    if status.state == 'foreign':
        state = 'unknown_process'
        entry['note'] = ('the pid file %s names pid %d, which runs %s: not %s; left alone'
                         % (req.pid_file, status.pid, ' '.join(status.cmdline)[:120], req.service))
    elif not served:
        state = 'not_owned'
        entry['note'] = 'the CMDB no longer gives this host section %s' % entry['section_id']
        if not status.running:
            return None  # a leftover pid file of a stopped instance: nothing runs, nothing to report
    elif not inst.get('owner'):
        state = 'not_owned'
    elif not argv:
        state = 'not_deployed'
    elif not os.access(argv[0], os.X_OK):
        state = 'not_deployed'
        entry['note'] = entry['note'] or '%s is missing: deploy the build of %s' % (argv[0], inst['owner'])
    elif not status.running:
        state = 'not_running'
    elif entry['running_release'] != inst['owner']:
        state = 'wrong_release'
    elif not argv_matches(status.cmdline, argv):
        state = 'wrong_build'
    else:
        state = 'in_sync'
    entry['state'] = state
    return entry


def status(params):
    """Every planned instance of the host, and those still running for sections it no longer serves."""
    planned = list(params.get('instances') or [])
    out = []
    for inst in planned + unserved(params, planned):
        entry = instance_status(params, inst)
        if entry is not None:
            out.append(entry)
    counts = dict((state, 0) for state in STATES)
    for entry in out:
        counts[entry['state']] += 1
    return out, counts


def run(params, state, check_mode, open_session):
    """Bring every instance to state (started, restarted, stopped); with `prune`, stop the instances
    of sections the host no longer serves. Returns (results, errors): one failing instance does not
    keep the others from their state; the module fails afterwards, naming each error."""
    from .process import execute  # starting and signalling: a status run does not load it
    planned = list(params.get('instances') or [])
    work = [(inst, state) for inst in planned]
    if params.get('prune') or state == 'stopped':
        work += [(inst, 'stopped') for inst in unserved(params, planned)]
    results, errors = [], []
    for inst, want in work:
        summary = dict(service=inst['service'], section_id=inst.get('section_id') or None, inner_ip=params.get('inner_ip'),
                       action='none', pid=None, release=None, version=None)
        try:
            req = request(params, inst, want)
            res = execute(req, open_session, check_mode)
        except ServiceError as exc:
            summary.update(failed=True, changed=bool(getattr(exc, 'changed', False)), msg=str(exc))
            errors.append(str(exc))
            results.append(summary)
            continue
        entry = dict(res['summary'], changed=res['changed'], failed=False, warnings=res['warnings'],
                     cmd=res['cmd'], running_cmd=res['running_cmd'], pid_file=res['pid_file'], log_file=res['log_file'])
        results.append(entry)
    return results, errors
