# -*- coding: utf-8 -*-
# Copyright: (c) 2026, GameOps release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# This module_utils is PRIVATE to gameops.elastic_release; its API may change without notice.
"""The fleet's status as one document, and what sync does about each instance.

Input: the controller's plan (lookup `fleet`) and each host's `release_status` result. Output:
every instance in the summary file's format, the counts per state, the table of the instances not
in sync as status.yml prints it, and per host what sync must do (packages to deploy, instances to
start, restart or stop). Pure data, computed once on the controller for the whole play.
No Ansible imports here.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from .fleet import STATES

FIELDS = ('host', 'inner_ip', 'service', 'per', 'section_id', 'owner', 'expected_build', 'running_release',
          'running_build', 'pid', 'state')
COLUMNS = (('host', 'host'), ('service', 'service'), ('section', 'section_id'), ('state', 'state'),
           ('owner', 'owner'), ('expected build', 'expected_build'), ('running release', 'running_release'),
           ('running build', 'running_build'), ('pid', 'pid'), ('sync does', 'action'))


def sync_action(entry, package_dir):
    """(what sync does for this instance, package path to deploy or None)."""
    state = entry['state']
    if state == 'in_sync':
        return 'nothing', None
    if state == 'unknown_process':
        return 'nothing: the pid file names another program (left alone; see the note)', None
    if state == 'not_owned':
        if entry.get('served') is False:
            return 'stop (the CMDB no longer gives the host this section)', None
        return 'nothing: no release owns it (%s)' % (entry.get('note') or 'publish or move it to a release'), None
    if state == 'not_deployed':
        package = entry.get('package')
        if not entry.get('expected_build'):
            return 'nothing: %s' % (entry.get('note') or 'no build to run'), None
        if not package:
            return ('nothing: release %s records no package to deploy (deploy its build with playbooks/deploy.yml '
                    '-e package=<path>)' % entry['owner']), None
        if not package_dir:
            return 'nothing: give -e package_dir=<directory of %s on the controller> to deploy it' % package, None
        if not entry.get('pid'):
            then = ', start'
        elif (entry.get('running_release'), entry.get('running_build')) != (entry['owner'], entry['expected_build']):
            then = ', restart'
        else:
            then = ''  # it runs the right build already: only its files come back
        return 'deploy %s%s' % (package, then), os.path.join(package_dir, package)
    if state == 'not_running':
        return 'start', None
    return 'restart', None


def report(plan, results, package_dir=None):
    """plan: {hosts: {host: {instances, inner_ip, selected, error}}}; results: {host: release_status result}."""
    hosts = plan.get('hosts') or {}
    instances, todo, errors, left = [], {}, [], []
    counts = dict((state, 0) for state in STATES)
    for host in sorted(hosts):
        entry = hosts[host]
        result = results.get(host) or {}
        if entry.get('error'):
            errors.append(entry['error'])
        if not entry.get('selected') or not (result.get('instances') or result.get('failed')):
            if result.get('failed'):
                errors.append('%s: %s' % (host, result.get('msg')))
            continue
        planned = dict(((i['service'], i.get('section_id')), i) for i in entry.get('instances') or [])
        for got in result.get('instances') or []:
            inst = planned.get((got['service'], got.get('section_id'))) or {}
            row = dict((key, got.get(key)) for key in FIELDS)
            row.update(host=host, inner_ip=entry.get('inner_ip'))
            action, package = sync_action(dict(got, package=inst.get('package')), package_dir)
            row.update(action=action, note=got.get('note'))
            counts[row['state']] = counts.get(row['state'], 0) + 1
            instances.append(row)
            if action.startswith('nothing:'):
                where = '%s %s%s' % (host, row['service'], ' ' + row['section_id'] if row['section_id'] else '')
                left.append('%s: %s %s' % (where, row['state'], action[len('nothing: '):]))
            if row['state'] == 'in_sync' or action.startswith('nothing'):
                continue
            work = todo.setdefault(host, {'packages': [], 'actions': []})
            if package and package not in work['packages']:
                work['packages'].append(package)
            work['actions'].append('%s%s: %s' % (row['service'], ' ' + row['section_id'] if row['section_id'] else '', action))
    drift = sorted(set(r['host'] for r in instances if r['state'] != 'in_sync'))
    counted = ', '.join('%s %d' % (state, counts[state]) for state in STATES if counts.get(state))
    return dict(instances=[dict((k, r[k]) for k in FIELDS) for r in instances], counts=counts, drift=drift,
                counts_line='%d instances: %s' % (len(instances), counted or 'none'),
                table=table([r for r in instances if r['state'] != 'in_sync']), todo=todo, errors=errors, left=left,
                notes=['%s %s%s: %s' % (r['host'], r['service'], ' ' + r['section_id'] if r['section_id'] else '', r['note'])
                       for r in instances if r['state'] != 'in_sync' and r.get('note')])


def table(rows):
    """Lines of a plain-text table (the instances not in sync), as status.yml prints them."""
    if not rows:
        return []
    cells = [[title for title, _key in COLUMNS]]
    for row in rows:
        cells.append(['-' if row.get(key) is None else str(row.get(key)) for _title, key in COLUMNS])
    widths = [max(len(line[i]) for line in cells) for i in range(len(COLUMNS) - 1)]
    return ['  '.join([c.ljust(w) for c, w in zip(line, widths)] + [line[-1]]) for line in cells]
