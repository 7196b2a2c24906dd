# -*- coding: utf-8 -*-
# Copyright: (c) 2026, GameOps release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# This module_utils is PRIVATE to gameops.elastic_release; its API may change without notice.
"""Pictures of the release map: one self-contained HTML page, and a compact Markdown rendering.

Input is the release-map document (docs/release-map.md), a plain dict built elsewhere from one read
of the tree, the registry and the CMDB; nothing here talks to ZooKeeper or imports Ansible.

    render_html(doc) -> str        the page (inline CSS and SVG, no script, no network)
    render_markdown(doc) -> str    releases, version routes and findings as Markdown tables
    with_status(doc, status, source) -> doc   the document with the status flow's sync states
    format_ranges(ids) -> str      '1001-1200, 1301': section ids compressed into ranges

A document this renderer cannot read raises RenderError (a ValueError) naming the part.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from .render_html import page
from .render_model import Map, RenderError, format_ranges, md_text as _md, plural, ranges, run_label

__all__ = ['render_html', 'render_markdown', 'format_ranges', 'with_status', 'RenderError']

MD_RUNS = 12            # runs shown in one Markdown cell before "... (+N more)"


def _md_runs(runs, limit=MD_RUNS, neighbours=False):
    """Runs for a cell; the ones a finding names in bold."""
    shown = [(u'**%s**' if marked else u'%s') % _md(run_label(f, l, c, neighbours))
             for f, l, c, marked in runs[:limit]]
    more = len(runs) - limit
    return u', '.join(shown) + (u' \u2026 (+%d more)' % more if more > 0 else u'')


def _md_table(header, rows):
    lines = [u'| ' + u' | '.join(header) + u' |', u'|' + u'|'.join(u' --- ' for _h in header) + u'|']
    lines.extend(u'| ' + u' | '.join(cells) + u' |' for cells in rows)
    return lines


def render_markdown(doc):
    """The release map as compact Markdown: a releases table, a version-routes table, the findings."""
    m = Map(doc)
    out = [u'# Release map: %s' % _md(m.title), u'']
    out.append(u'ZooKeeper %s \u00b7 generated %s \u00b7 default release: %s' % (
        _md(m.zookeeper or u'(unknown)'), _md(m.generated or u'(unknown)'),
        _md(m.default) if m.default else u'**none** (/default_release is missing or unreadable)'))
    out.append(u'')
    counts = m.severity_counts()
    out.append(u'%s, %s, %s, %s; findings: %s, %s, %s' % (
        plural(len(m.releases), u'release'), plural(m.sections, u'section'), plural(m.servers, u'server'),
        plural(len(m.versions), u'client version'), plural(counts['error'], u'error'),
        plural(counts['warning'], u'warning'), plural(counts['info'], u'info', u'info')))
    out.append(u'')
    if m.findings:
        # One row per kind with its fix, then one row per finding: what is wrong, what it names.
        groups = m.groups()
        out += [u'## Findings', u'']
        out += _md_table([u'severity', u'kind', u'count', u'fix'], [
            (u'**%s**' % g.severity if g.severity == 'error' else g.severity, _md(g.kind, 60), u'%d' % len(g.findings),
             _md(g.fix or u'each finding says what to do', 400)) for g in groups])
        out.append(u'')
        out += _md_table([u'kind', u'releases', u'items', u'finding'], [
            (_md(g.kind, 60), _md(u', '.join(f.releases), 200), _md(u', '.join(f.items), 200), _md(line, 400))
            for g in groups for f, line in g.lines])
        out.append(u'')
    out += [u'## Releases', u'']
    if not m.releases:
        out += [u'No releases: nothing is published under /releases of %s.' % _md(m.title), u'']
    else:
        rows = []
        for r in m.releases:
            listed = len(r.versions)
            appended = sum(1 for v in r.versions if v[2])
            name = _md(r.name, 64)
            rows.append((u'**%s**' % name if r.severity == 'error' else name, _md(r.type or u'unregistered', 40),
                         u'yes' if r.is_default else u'',
                         u'%s (%d)' % (_md_runs(ranges(r.section_ids(), m.flag_item), limit=6), len(r.sections))
                         if r.sections else u'0',
                         u'%d' % len(r.servers),
                         u'%d routed here, %d listed%s' % (r.routed, listed,
                                                           u' (%d appended)' % appended if appended else u''),
                         _md(r.global_url or u'-', 120)))
        out += _md_table([u'release', u'type', u'default', u'sections', u'servers', u'versions', u'global_url'], rows)
        out.append(u'')
    if m.versions:
        out += [u'## Version routes', u'']
        out += _md_table([u'routes to', u'global_url', u'versions', u'count'], [
            (_md(target, 64) if target else u'**nowhere**', _md(url or u'-', 120), _md_runs(runs, neighbours=True),
             u'%d' % sum(r[2] for r in runs)) for target, url, runs in m.routes()])
        out.append(u'')
    if m.unowned:
        out += [u'## CMDB hosts no release owns', u'']
        out += _md_table([u'host', u'inner IP', u'section ids'], [
            (_md(h, 80), _md(ip or u'-', 60), _md_runs(ranges(s, m.flag_item))) for h, ip, s in m.unowned])
        out.append(u'')
    return u'\n'.join(out)


def with_status(doc, status, source=None):
    """The document with the sync states of the status flow's summary (its `instances`), which the
    page's tiles then show. Refused, naming what is wrong, when `status` is no such summary."""
    where = u'the status summary%s' % (u' %s' % source if source else u'')
    if isinstance(status, (str, bytes)):
        try:
            status = json.loads(status)
        except ValueError as exc:
            raise RenderError(u'%s is not JSON (%s): give the summary file that playbooks/status.yml '
                              u'-e summary_file=<path> writes' % (where, exc))
    if not isinstance(status, dict) or not isinstance(status.get('instances'), list):
        raise RenderError(u'%s has no "instances" list: give the summary file that '
                          u'playbooks/status.yml -e summary_file=<path> writes' % where)
    if not isinstance(doc, dict):
        raise RenderError('the release map must be an object (a dict), not %s' % type(doc).__name__)
    out = dict(doc, status={'source': source, 'instances': status['instances']})
    Map(out)    # checked now, so a bad instance is reported as the status file's, before any page is written
    return out


def render_html(doc):
    """The release map as one self-contained HTML page (inline CSS and SVG, no script, no network)."""
    return page(Map(doc))
