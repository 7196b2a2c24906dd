# -*- coding: utf-8 -*-
# Copyright: (c) 2026, GameOps release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# This module_utils is PRIVATE to gameops.elastic_release; its API may change without notice.
"""The summary of a flow run, and the next step an operator takes after it.

One dictionary for Tianti and AWX (the summary file, the custom stat `elastic_release_summary`), and
a few lines for the person reading the output: the result and the command to run next, with the
values of this run filled in. No Ansible imports here.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import re
import shlex
import time

from .._package.files import atomic_write
from .gate import MASK, scrub

# A URL on the command line (a gate's, with its credentials and query values), and a secret given by name.
_URL = re.compile(r'https?://[^\s"\',}\]]+')
_SECRET = re.compile(r'((?:credential|password|passwd|token|secret)[A-Za-z_]*["\']?\s*[=:]\s*["\']?)([^"\',}\s&]+)', re.I)

# The flows that write ZooKeeper; the others leave it unchanged whatever happens.
WRITERS = ('production', 'review', 'gray', 'promote', 'rollback', 'retire', 'widen', 'narrow')
# The flows that act on game hosts and never on the tree.
FLEET = ('deploy', 'start', 'status', 'sync')


class Context(object):
    """Where the run came from, to print commands that work when pasted: the inventory sources, the
    playbook directory, the working directory and the command line of this run."""

    def __init__(self, inventories=(), playbook_dir='', cwd='', argv=(), registry=None):
        self.inventories = [p for p in inventories or () if p]
        self.registry = registry
        self.package = ''
        self.playbook_dir = playbook_dir or ''
        self.cwd = cwd or os.getcwd()
        self.argv = list(argv or ())

    def path(self, path):
        """path relative to the working directory when it lies under it."""
        if path and os.path.isabs(path) and (path + os.sep).startswith(self.cwd.rstrip(os.sep) + os.sep):
            return os.path.relpath(path, self.cwd)
        return path

    def playbook(self, flow):
        """playbooks/<flow>.yml from a checkout, gameops.elastic_release.<flow> from an installed collection."""
        if self.playbook_dir and (self.playbook_dir + os.sep).startswith(self.cwd.rstrip(os.sep) + os.sep):
            return os.path.join(self.path(self.playbook_dir), flow + '.yml')
        return 'gameops.elastic_release.' + flow

    def command(self, flow, *extra):
        cmd = ['ansible-playbook']
        for inventory in self.inventories or ['inventory']:
            cmd += ['-i', self.path(inventory)]
        cmd.append(self.playbook(flow))
        for key, value in extra:
            if value not in (None, '', []):
                cmd += ['-e', '%s=%s' % (key, ','.join(str(v) for v in value) if isinstance(value, list) else value)]
        return ' '.join(shlex.quote(c) for c in cmd)

    def rerun(self, drop=('--check',)):
        """This run's own command line (without --check when drop says so), as it can be pasted."""
        if not self.argv:
            return None
        args = [os.path.basename(self.argv[0])] + [_masked(a) for a in self.argv[1:] if a not in drop]
        if not any(a in ('-i', '--inventory', '--inventory-file') or a.startswith(('-i', '--inventory='))
                   for a in args[1:]):
            # A run without -i read no inventory of the project: the rerun needs one.
            args[1:1] = ['-i', 'inventory']
        return ' '.join(shlex.quote(a) for a in args)


def _masked(arg):
    """A command-line argument as it may be shown: URLs masked (credentials, query values), secrets named
    on the command line (-e ..._credential=, password, token) replaced by the mask."""
    for url in _URL.findall(arg):
        arg = scrub(arg, url)
    return _SECRET.sub(lambda m: m.group(1) + MASK, arg)


def build(flow, release='', package='', result=None, started=0, status='ok', error='', failed_task='',
          failed_result=None, extra=None, check_mode=False, context=None, now=None):
    """The summary dictionary (docs/flows.md, "The summary", names every field)."""
    result = result or {}
    now = time.time() if now is None else now
    written = result.get('revisions_written') or {}
    revisions = dict(written) if written else ({release: result['revision']} if result.get('revision') and release else {})
    out = {
        'flow': flow,
        'release': release or None,
        'package': os.path.basename(package) if package else None,
        'status': status,
        'check_mode': bool(check_mode),
        'changed': bool(result.get('changed', False)),
        'changed_nodes': result.get('operations_count') or 0,
        'revision': result.get('revision'),
        'revisions': revisions,
        'revisions_written': written,
        'transactions': result.get('transactions') or 0,
        'write_outcome': outcome(flow, status, result, failed_result),
        'default_release': result.get('default_release'),
        'impact': result.get('impact'),
        'duration_seconds': round(now - float(started), 3) if started and float(started) > 0 else None,
        'finished': time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(now)),
        'error': error or None,
        'failed_task': failed_task or None,
    }
    out.update(extra or {})
    context = context or Context()
    context.package = package
    out['next'] = next_steps(out, context)
    return out


def outcome(flow, status, result, failed_result=None):
    """What happened to ZooKeeper: the write step's own word when there is one; a write whose result
    was lost is `unknown`; a failure before any write is `not_written`, a flow that never writes leaves the tree `unchanged`."""
    for source in (result, failed_result or {}):
        if source.get('write_outcome'):
            return source['write_outcome']
    # The write's process died before it reported: it may have committed (the move flows read the
    # tree back and say which; a step that did not is not known).
    if (failed_result or {}).get('result_lost'):
        return 'unknown'
    if status == 'failed':
        return 'not_written'
    if flow in WRITERS and result:
        return 'written' if result.get('changed') else 'unchanged'
    return 'unchanged'


def _items(impact, kind):
    return sorted(set(row['name'] for row in (impact or {}).get('owners') or [] if row.get('kind') == kind))


def next_steps(summary, ctx):
    """Commands (or a sentence) for what to do after this run, values filled in; [] when nothing is left."""
    flow = summary['flow']
    if summary['status'] == 'cancelled':
        if not summary['changed'] and summary.get('write_outcome') != 'unknown':
            again = ctx.rerun(drop=())
            return ['nothing was written: rerun when ready: %s' % again] if again else []
        release = summary.get('release')
        changes = ', '.join(summary.get('changes') or []) or 'none recorded'
        listing = ctx.command('rollback', ('release', release), ('list_revisions', 'true'))
        return ['see what the run applied (its changes: %s): %s' % (changes, listing),
                'undo them newest first: %s' % ctx.command('rollback', ('release', release)),
                'or finish the flow: rerun it: %s' % (ctx.rerun(drop=()) or 'the same command')]
    if summary['status'] == 'failed':
        again = ctx.rerun(drop=())
        fix = 'fix what the error names (its fix comes first)'
        if flow in WRITERS and summary.get('write_outcome') == 'unknown':
            fix = 'read the tree first: the write may have committed (the error says how to converge)'
        return ['%s, then rerun: %s' % (fix, again) if again else fix]
    if summary['check_mode'] and (flow in WRITERS or flow in ('deploy', 'start', 'sync')):
        again = ctx.rerun()
        return ['a check wrote nothing: run it for real: %s' % again] if again else []
    if flow in WRITERS:
        return _after_write(summary, ctx)
    if flow == 'deploy':
        target = summary.get('target')
        return [ctx.command('sync', ('target', target if target and target != 'all' else None),
                            ('package_dir', os.path.dirname(ctx.package or '') or None))]
    if flow in ('start', 'sync'):
        return [ctx.command('status', ('target', summary.get('target') if summary.get('target') != 'all' else None),
                            ('sections', summary.get('sections')))]
    if flow == 'status':
        counts = summary.get('counts') or {}
        drift = sum(n for state, n in counts.items() if state != 'in_sync')
        if not drift:
            return []
        return [ctx.command('sync', ('target', summary.get('target') if summary.get('target') != 'all' else None),
                            ('sections', summary.get('sections'))) + ' --check',
                'then without --check, with -e package_dir=<directory of the packages> when a build is missing']
    if flow in ('audit', 'map'):
        counts = summary.get('counts') or {}
        out = []
        if counts.get('error') or counts.get('warning'):
            out.append('fix the findings above (each kind names its fix), then: %s' % ctx.command('audit'))
        if summary.get('map_file'):
            out.append('open %s in a browser' % ctx.path(summary['map_file']))
        return out
    if flow == 'build_packages':
        # The default release first: review and gray publishes append their versions to it.
        order = {'production': 0, 'review': 1, 'gray': 2}
        return [ctx.command(p.get('flow') or 'gray', ('package', p.get('path')), ('release', p.get('release')))
                for p in sorted(summary.get('packages') or [], key=lambda p: order.get(p.get('flow'), 3))
                if p.get('path')]
    return []


def _after_write(summary, ctx):
    impact = summary.get('impact') or {}
    out = []
    gone = []
    if summary['flow'] in ('promote', 'retire') or summary.get('removed') is True:
        # The release is gone from ZooKeeper; the registry still names it until someone edits it.
        gone = [r for r in [summary.get('release')] if r and (ctx.registry is None or r in ctx.registry)]
    for release in gone:
        out.append('remove %s from elastic_release_registry in the inventory: the release is gone from ZooKeeper'
                   % release)
    if not summary['changed'] and not gone:
        return out
    hosts = impact.get('restart') or []
    if hosts and _synced(summary):
        out.append('the moved instances were synced (-e sync=true): check them with %s'
                   % ctx.command('status', ('target', hosts)))
    elif hosts:
        sections = _items(impact, 'sections') if summary['flow'] in ('widen', 'narrow') else []
        package_dir = os.path.dirname(ctx.package) if ctx.package else None
        out.append(ctx.command('sync', ('target', hosts), ('sections', sections), ('package_dir', package_dir)))
    elif summary['changed']:
        out.append('no host serves what changed: nothing to restart (check with %s)' % ctx.command('status'))
    return out


def _synced(summary):
    """Whether -e sync=true synced every write of the run (a single write's, or each step's)."""
    syncs = [summary.get('synced')] if summary.get('synced') else [
        step.get('synced') for step in summary.get('steps') or [] if isinstance(step, dict)]
    return bool(syncs) and all(isinstance(s, dict) and s.get('status') == 'ok' for s in syncs)


def screen(summary):
    """The lines a person reads at the end of the run: the result, the revisions, the next step."""
    state = 'FAILED' if summary['status'] == 'failed' else ('ok (check mode: nothing written)' if summary['check_mode'] else 'ok')
    lines = ['%s%s: %s' % (summary['flow'], (' ' + summary['release']) if summary.get('release') else '', state)]
    if summary['flow'] in WRITERS:
        revs = ', '.join('%s %s' % kv for kv in sorted((summary.get('revisions') or {}).items()))
        lines.append('ZooKeeper: %s%s' % (summary['write_outcome'], (' (%s)' % revs) if revs else ''))
    if summary.get('error'):
        lines.append('error: see the failed task above')
    for step in summary.get('next') or []:
        lines.append('next: %s' % step)
    return lines


def write(path, summary):
    """The summary file, whole or not at all. OSError names the path."""
    try:
        atomic_write(path, (json.dumps(summary, indent=2, sort_keys=False, default=str) + '\n').encode('utf-8'),
                     prefix='.' + os.path.basename(path) + '.')
    except OSError as exc:
        raise OSError('cannot write the summary file %s: %s' % (path, exc))
