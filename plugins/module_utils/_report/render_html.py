# -*- coding: utf-8 -*-
# Copyright: (c) 2026, GameOps release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# This module_utils is PRIVATE to gameops.elastic_release; its API may change without notice.
"""The HTML page of the release map (called through `_render.render_html`).

One file, no script, no network: inline CSS, an inline SVG overview, and <details> for everything
long, so the page opens from a mail attachment or an AWX artifact and stays readable at 50 releases
x 200 sections x 20 servers and 500 client versions. Every value goes through `h` (text) or `attr`
(attributes, SVG text), never straight into the markup.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from .render_model import TYPES, html_attr as attr, html_text as h, plural, ranges, run_label
from .render_tiles import picture

# Scripts are never needed, so none may run, and nothing may load from anywhere: a value that
# slipped through escaping still could neither execute nor call home.
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"
ITEMS_SHOWN = 3         # findings listed under their kind's line before "N more"; errors are always listed
RUNS_SHOWN = 10         # ranges shown inline before the rest folds away
ROWS_SHOWN = 25         # server rows shown before the rest folds away

CSS = u"""
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","DejaVu Sans",sans-serif;
 color:#111827;background:#f3f4f6}
code,.mono,table.rows td:first-child{font-family:ui-monospace,"DejaVu Sans Mono","Liberation Mono",monospace;
 font-size:12.5px}
a{color:inherit}
header.top{background:#1f2937;color:#f9fafb;padding:10px 24px 10px}
header.top .kicker{font-size:12px;letter-spacing:.08em;text-transform:uppercase;color:#9ca3af;margin-right:6px;
 font-weight:400}
header.top h1{margin:0 0 2px;font-size:20px;overflow-wrap:anywhere}
header.top .meta{color:#d1d5db;font-size:13px;overflow-wrap:anywhere}
header.top .meta code{color:#f9fafb}
.stats{display:flex;flex-wrap:wrap;gap:6px;margin-top:6px}
.stat{background:#374151;border-radius:5px;padding:2px 10px;font-size:13px;font-weight:600;color:#fff}
.stat.error{background:#991b1b}.stat.warning{background:#92400e}.stat.ok{background:#166534}
main{padding:10px 24px 24px;max-width:1400px}
section.panel{background:#fff;border:1px solid #e5e7eb;border-radius:8px;padding:10px 16px;margin-bottom:14px;
 overflow-x:auto}
h2{font-size:16px;margin:2px 0 8px}h3{font-size:14px;margin:14px 0 6px}
.findings{border-left:5px solid #b91c1c}.findings.none{border-left-color:#15803d}
.findings.w{border-left-color:#b45309}.findings.i{border-left-color:#0e7490}
.findings ul{list-style:none;margin:0;padding:0}
.findings li{padding:2px 0;overflow-wrap:anywhere}
.group{padding:4px 0 4px;border-top:1px solid #e5e7eb}.group:first-of-type{border-top:0}
.group ul{padding-left:78px}.group li{font-size:13px}
.kindline{overflow-wrap:anywhere}.count{margin-right:8px}.fix b{color:#111827}
.sev{display:inline-block;white-space:nowrap;min-width:62px;text-align:center;border-radius:4px;font-size:11px;
 font-weight:700;
 text-transform:uppercase;padding:1px 6px;margin-right:6px;color:#fff}
.sev.error{background:#b91c1c}.sev.warning{background:#b45309}.sev.info{background:#0e7490}
.kind{color:#4b5563;margin-right:6px}.refs{color:#4b5563;font-size:12.5px;margin-left:4px}
table{border-collapse:collapse;width:100%;font-size:13px}
th{text-align:left;font-weight:600;color:#374151;background:#f9fafb;border-bottom:2px solid #e5e7eb;padding:4px 6px}
td{border-bottom:1px solid #f0f1f3;padding:3px 6px;vertical-align:top;overflow-wrap:break-word}
td.nw,.nw{white-space:nowrap}
tr.sev-error td:first-child{box-shadow:inset 4px 0 #b91c1c}tr.sev-error{background:#fef2f2}
tr.sev-warning td:first-child{box-shadow:inset 4px 0 #b45309}tr.sev-warning{background:#fffbeb}
tr.sev-info td:first-child{box-shadow:inset 4px 0 #0e7490}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.type{display:inline-block;border-radius:4px;padding:0 6px;font-size:12px;font-weight:600;color:#fff;
 white-space:nowrap}
.t-production{background:#1d4ed8}.t-gray{background:#7c3aed}.t-review{background:#047857}
.t-none{background:#fff;color:#4b5563;border:1px dashed #6b7280;font-style:italic}
.pill{display:inline-block;border-radius:9px;padding:0 7px;font-size:11px;font-weight:700;margin-left:4px;
 background:#111827;color:#fff;vertical-align:1px}
.hl-error{background:#fee2e2;color:#7f1d1d;outline:1px solid #b91c1c;border-radius:3px;padding:0 3px;font-weight:700}
.hl-warning{background:#fef3c7;color:#78350f;outline:1px solid #b45309;border-radius:3px;padding:0 3px;font-weight:700}
.hl-info{background:#cffafe;color:#164e63;border-radius:3px;padding:0 3px}
.muted{color:#6b7280}.bad{color:#b91c1c;font-weight:600}
.ctl{background:#fde68a;color:#92400e;border:1px solid #d97706;border-radius:2px;font:11px monospace;padding:0 1px}
.cut{color:#6b7280;font-style:italic;font-size:11px;margin-left:2px}
details.more{display:inline}details.more>summary{display:inline;cursor:pointer;color:#1d4ed8;font-size:12px}
details.more[open]>summary{display:block}
details.card{background:#fff;border:1px solid #e5e7eb;border-radius:8px;margin-bottom:8px}
details.card>summary{cursor:pointer;padding:8px 14px;font-size:14px;overflow-wrap:anywhere}
details.card>summary .rname{font-weight:700;font-size:15px}
details.card>summary .counts{color:#4b5563;font-size:12.5px;margin-left:8px}
details.card.sev-error{border-left:5px solid #b91c1c}details.card.sev-warning{border-left:5px solid #b45309}
details.card.default{border:2px solid #111827}
.cardbody{padding:2px 16px 12px;border-top:1px solid #f3f4f6}
.line{margin:8px 0}
dl.kv{display:grid;grid-template-columns:max-content minmax(0,1fr) max-content minmax(0,1fr);gap:2px 14px;
 margin:8px 0}
td.ids{min-width:14em}td.data{word-break:break-all;font-size:11.5px;color:#374151}
dl.kv dt{color:#6b7280}dl.kv dd{margin:0;overflow-wrap:anywhere}
details.sub{margin:6px 0}details.sub>summary{cursor:pointer;color:#1d4ed8;font-size:13px}
.legend{font-size:12px;color:#4b5563}
svg.tiles rect{shape-rendering:crispEdges}
svg text{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","DejaVu Sans",sans-serif}
footer{color:#6b7280;font-size:12px;padding:0 24px 24px}
"""


def _sev_class(severity):
    """' class="sev-error"' or nothing: most rows carry no class, and 10,000 rows add up."""
    return u' class="sev-%s"' % severity if severity else u''


def _type_pill(t):
    if t is None:
        return u'<span class="type t-none">unregistered</span>'
    cls = u't-%s' % t if t in TYPES else u't-none'
    return u'<span class="type %s">%s</span>' % (cls, h(t, 40))


def _flagged(m, value, limit=160, cls=''):
    """A value, highlighted when a finding names it."""
    sev = m.flag_item.get(value)
    if sev:
        return u'<span class="hl-%s" title="named by a finding">%s</span>' % (sev, h(value, limit))
    return u'<span class="%s">%s</span>' % (cls, h(value, limit)) if cls else h(value, limit)


def _runs(m, runs, shown=RUNS_SHOWN, what='ranges', neighbours=False):
    """Runs as text; the ones a finding names highlighted; beyond `shown` behind <details>."""
    def one(run):
        first, last, count, marked = run
        label = run_label(first, last, count, neighbours)
        if marked:
            sev = m.flag_item.get(first, 'error')
            return u'<span class="hl-%s" title="named by a finding">%s</span>' % (sev, h(label, 120))
        return h(label, 120)
    head = u', '.join(one(r) for r in runs[:shown])
    if len(runs) <= shown:
        return head
    return u'%s <details class="more"><summary>+%s</summary>%s</details>' % (
        head, plural(len(runs) - shown, u'more ' + what[:-1]), u', '.join(one(r) for r in runs[shown:]))


def _release_ref(m, name):
    r = m.by_name.get(name)
    if r is None:
        return u'<span class="bad" title="not in the map">%s</span>' % h(name, 64)
    return u'<a href="#%s">%s</a>' % (r.anchor, h(name, 64))


def _header(m):
    counts = m.severity_counts()
    default = _release_ref(m, m.default) if m.default else \
        u'<span class="bad">none</span> (/default_release is missing or unreadable)'
    stats = [(plural(len(m.releases), u'release'), ''), (plural(m.sections, u'section'), ''),
             (plural(m.servers, u'server'), ''), (plural(len(m.versions), u'client version'), '')]
    if m.unowned:
        stats.append((plural(len(m.unowned), u'host') + u' serving unowned sections', 'warning'))
    if m.findings:
        stats += [(plural(counts['error'], u'error'), 'error' if counts['error'] else ''),
                  (plural(counts['warning'], u'warning'), 'warning' if counts['warning'] else ''),
                  (plural(counts['info'], u'info', u'info'), '')]
    else:
        stats.append((u'no findings', 'ok'))
    if m.has_status:
        bad = sum(n for s, n in m.state_counts.items() if s != 'in_sync')
        stats.append((u'%s in sync, %s not' % (format(m.state_counts.get('in_sync', 0), ','), format(bad, ',')),
                      'error' if bad else 'ok'))
    return u''.join([
        u'<header class="top"><h1><span class="kicker">Release map</span> %s</h1>' % h(m.title, 120),
        u'<div class="meta">ZooKeeper <code>%s</code> \u00b7 generated %s \u00b7 default release %s%s</div>' % (
            h(m.zookeeper or u'(unknown)', 200), h(m.generated or u'(unknown)', 60), default,
            u' \u00b7 sync status from <code>%s</code>' % h(m.status_source, 200) if m.status_source else u''),
        u'<div class="stats">',
        u''.join(u'<span class="stat%s">%s</span>' % (u' ' + cls if cls else u'', label) for label, cls in stats),
        u'</div></header>\n'])


def _refs(m, f):
    refs = []
    if f.releases:
        refs.append(u', '.join(_release_ref(m, r) for r in f.releases[:20]))
    if f.items:
        refs.append(u', '.join(u'<span class="hl-%s mono">%s</span>' % (f.severity, h(i, 80))
                               for i in f.items[:20]) + (u' \u2026' if len(f.items) > 20 else u''))
    return u'<span class="refs">%s</span>' % u' \u00b7 '.join(refs) if refs else u''


def _finding_li(m, f, line=None):
    """One finding: what is wrong (the whole message when its advice is not its kind's), the
    releases and items it names."""
    badge = u'' if line is not None else u'<span class="sev %s">%s</span><code class="kind">%s</code>' % (
        f.severity, f.severity, h(f.kind, 60))
    return u'<li class="sev-%s">%s%s %s</li>' % (f.severity, badge, h(f.message if line is None else line, 1000),
                                                 _refs(m, f))


def _group(m, g):
    shown = len(g.findings) if g.severity == 'error' else ITEMS_SHOWN
    items = [_finding_li(m, f, line) for f, line in g.lines]
    rest = u''
    if len(items) > shown:
        rest = u'<li><details class="sub"><summary>%d more</summary><ul>%s</ul></details></li>' % (
            len(items) - shown, u''.join(items[shown:]))
    fix = (u'<span class="fix"><b>Fix:</b> %s</span>' % h(g.fix, 1000)) if g.fix else \
        u'<span class="fix muted">each finding says what to do</span>'
    return (u'<div class="group sev-%s" data-kind="%s"><div class="kindline"><span class="sev %s">%s</span>'
            u'<code class="kind">%s</code><b class="count">%s</b> %s</div><ul>%s%s</ul></div>'
            % (g.severity, attr(g.kind, 80), g.severity, g.severity, h(g.kind, 80), plural(len(g.findings), u'finding'),
               fix, u''.join(items[:shown]), rest))


def _findings(m):
    if not m.findings:
        return u'<section class="panel findings none" id="findings"><h2>Findings</h2>' \
               u'<p>No findings: the audit reported nothing for this map.</p></section>\n'
    counts = m.severity_counts()
    cls = u'' if counts['error'] else (u' w' if counts['warning'] else u' i')
    groups = m.groups()
    return (u'<section class="panel findings%s" id="findings"><h2>Findings: %s, %s, %s in %s</h2>%s</section>\n'
            % (cls, plural(counts['error'], u'error'), plural(counts['warning'], u'warning'),
               plural(counts['info'], u'info', u'info'), plural(len(groups), u'kind'),
               u''.join(_group(m, g) for g in groups)))


def _releases_table(m):
    rows = []
    for r in m.releases:
        listed = len(r.versions)
        appended = sum(1 for v in r.versions if v[2])
        no_host = sum(1 for s in r.servers if not s[1])
        sev_counts = {}
        for f in r.findings:
            sev_counts[f.severity] = sev_counts.get(f.severity, 0) + 1
        rows.append(u''.join([
            u'<tr%s>' % _sev_class(r.severity),
            u'<td class="nw"><a class="rname" href="#%s"><b>%s</b></a>%s</td>'
            % (r.anchor, h(r.name, 64), u'<span class="pill">default</span>' if r.is_default else u''),
            u'<td>%s</td><td class="nw">%s</td>' % (_type_pill(r.type), h(r.location or u'', 40)),
            u'<td class="num">%d</td><td class="mono ids">%s</td>' % (
                len(r.sections), _runs(m, ranges(r.section_ids(), m.flag_item), 4)),
            u'<td class="num">%d%s</td>' % (len(r.servers), u'<br><span class="bad">%d not in CMDB</span>' % no_host
                                            if no_host else u''),
            u'<td class="num">%d%s</td>' % (r.routed, u'<br><span class="muted">%d listed%s</span>' % (
                listed, u', %d appended' % appended if appended else u'') if listed != r.routed else u''),
            u'<td class="nw"><code>%s</code></td>' % h(r.global_url or u'-', 80),
            u'<td class="nw">%s</td>' % h(r.updated or u'-', 40),
            u'<td>%s</td>' % u' '.join(u'<span class="sev %s">%s</span>' % (s, plural(sev_counts[s], s, s if s == 'info' else None))
                                       for s in ('error', 'warning', 'info') if s in sev_counts),
            u'</tr>']))
    return (u'<section class="panel" id="releases"><h2>Releases (%d)</h2><table><thead><tr><th>Release</th>'
            u'<th>Type</th><th>Location</th><th>Sections</th><th>Section ids</th><th>Servers</th>'
            u'<th>Versions routed here</th><th>global_url</th><th>Updated</th>'
            u'<th>Findings</th></tr></thead>'
            u'<tbody>%s</tbody></table></section>\n' % (len(m.releases), u''.join(rows)))


def _routes(m):
    if not m.versions:
        return u'<section class="panel" id="routes"><h2>Client version routes</h2>' \
               u'<p>No client version is listed by any release.</p></section>\n'
    rows = []
    for target, url, runs in m.routes():
        rel = m.by_name.get(target) if target else None
        sev = None if target else 'error'   # the release's own findings are shown with the release
        rows.append(u'<tr%s><td>%s</td><td><code>%s</code></td><td class="num">%d</td>'
                    u'<td class="mono">%s</td></tr>' % (
                        _sev_class(sev),
                        _release_ref(m, target) + (u' ' + _type_pill(rel.type) if rel else u'') if target
                        else u'<span class="bad">nowhere</span> (no release)',
                        h(url or u'-', 80), sum(r[2] for r in runs), _runs(m, runs, RUNS_SHOWN, 'runs', neighbours=True)))
    full = u''.join(u'<tr%s><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>' % (
        _sev_class(m.flag_item.get(name)), h(name, 80),
        _release_ref(m, target) if target else u'<span class="bad">nowhere</span>', h(url or u'-', 80),
        u', '.join(h(r, 64) for r in listed)) for name, target, url, listed in m.versions)
    return (u'<section class="panel" id="routes"><h2>Client version routes (%s)</h2>'
            u'<table><thead><tr><th>Routes to</th><th>global_url</th><th>Versions</th><th>Client versions '
            u'(in version order; a \u2026 b = neighbours in that order)</th></tr></thead><tbody>%s</tbody></table>'
            u'<details class="sub"><summary>All %s</summary><table class="rows"><thead><tr><th>Version</th>'
            u'<th>Routes to</th><th>global_url</th><th>Listed by</th></tr></thead><tbody>%s</tbody></table>'
            u'</details></section>\n' % (plural(len(m.versions), u'version'), u''.join(rows),
                                         plural(len(m.versions), u'client version'), full))


def _unowned(m):
    if not m.unowned:
        return u''
    rows = u''.join(u'<tr class="sev-warning"><td>%s</td><td class="mono">%s</td><td class="mono">%s</td></tr>' % (
        _flagged(m, host, 80), _flagged(m, ip or u'-', 60), _runs(m, ranges(sids, m.flag_item)))
        for host, ip, sids in m.unowned)
    return (u'<section class="panel findings w" id="unowned"><h2>CMDB hosts serving sections no release owns (%d)</h2>'
            u'<table><thead><tr><th>Host</th><th>Inner IP</th><th>Section ids (CMDB)</th></tr></thead>'
            u'<tbody>%s</tbody></table></section>\n' % (len(m.unowned), rows))


def _card(m, r):
    routes = dict((v[0], v[1]) for v in m.versions)
    cls = [u'card'] + ([u'sev-%s' % r.severity] if r.severity else []) + ([u'default'] if r.is_default else [])
    opened = u' open' if r.severity == 'error' or len(m.releases) <= 3 else u''
    out = [u'<details class="%s" id="%s"%s><summary><span class="rname">%s</span> %s%s'
           u'<span class="counts">%s \u00b7 %s \u00b7 %s</span>%s</summary>'
           % (u' '.join(cls), r.anchor, opened, h(r.name, 100), _type_pill(r.type),
              u'<span class="pill">default</span>' if r.is_default else u'', plural(len(r.sections), u'section'),
              plural(len(r.servers), u'server'), _routed(r.routed),
              u''.join(u' <span class="sev %s">%s</span>' % (f.severity, f.severity) for f in r.findings[:5]))]
    out.append(u'<div class="cardbody"><dl class="kv"><dt>Release</dt><dd><code>%s</code></dd><dt>Type</dt><dd>%s'
               u'</dd><dt>Location</dt><dd>%s</dd><dt>Default release</dt><dd>%s</dd><dt>global_url</dt><dd><code>'
               u'%s</code></dd><dt>Last package</dt><dd>%s</dd><dt>Updated</dt><dd>%s</dd></dl>' % (
                   h(r.name, 300), _type_pill(r.type), h(r.location or u'-', 80), u'yes' if r.is_default else u'no',
                   h(r.global_url or u'-', 300), h(r.package or u'-', 200), h(r.updated or u'-', 60)))
    if r.findings:
        out.append(u'<div class="findings panel"><ul>%s</ul></div>' % u''.join(_finding_li(m, f) for f in r.findings))
    moved = r.moved_in()
    if moved:
        out.append(u'<div class="line">Moved here by a widen: %s</div>' % u'; '.join(
            u'from %s: <span class="mono">%s</span>' % (_release_ref(m, src), _runs(m, ranges(items, m.flag_item)))
            for src, items in moved))
    out.append(u'<h3>Sections (%d)</h3>' % len(r.sections))
    if r.sections:
        rows = u''.join(u'<tr><td>%s</td><td class="mono">%s</td><td class="num">%d</td></tr>' % (
            u', '.join(_flagged(m, host, 80) for host in hosts) if hosts else u'<span class="bad">no CMDB host</span>',
            _runs(m, ranges(ids, m.flag_item)), len(ids)) for hosts, ids in r.by_hosts())
        out.append(u'<table><thead><tr><th>CMDB host</th><th>Sections it holds</th><th>Count</th></tr></thead>'
                   u'<tbody>%s</tbody></table>' % rows)
        labelled = any(s[1] for s in r.sections)
        moved_col = any(s[3] for s in r.sections)
        rows = u''.join(u'<tr%s><td>%s</td>%s<td>%s</td>%s</tr>' % (
            _sev_class(m.flag_item.get(sid)), h(sid, 80),
            u'<td>%s</td>' % h(label, 80) if labelled else u'', u', '.join(h(x, 80) for x in hosts),
            u'<td>%s</td>' % h(mv or u'', 64) if moved_col else u'')
            for sid, label, hosts, mv in sorted(r.sections, key=lambda s: (len(s[0]), s[0])))
        out.append(u'<details class="sub"><summary>%s, one per row</summary><table class="rows"><thead><tr>'
                   u'<th>Section</th>%s<th>CMDB host</th>%s</tr></thead><tbody>%s</tbody></table></details>' % (
                       (u'All %d sections' % len(r.sections)) if len(r.sections) > 1 else u'The section',
                       u'<th>Data</th>' if labelled else u'',
                       u'<th>Moved from</th>' if moved_col else u'', rows))
    else:
        out.append(u'<p class="muted">No sections.</p>')
    out.append(u'<h3>Servers (%d)</h3>' % len(r.servers))
    if r.servers:
        versions = r.service_versions()
        out.append(u'<p>%s</p>' % u' \u00b7 '.join(
            u'<b>%s</b> %s%s' % (h(service, 60),
                                 u', '.join(u'<code>%s</code> \u00d7%d' % (h(v, 60), n) for v, n in counts[:6]),
                                 u' <span class="bad">(mixed versions)</span>' if len(counts) > 1 else u'')
            for service, counts in versions))
        rows = [u'<tr%s><td class="mono nw">%s</td><td class="nw">%s</td><td class="nw">%s</td><td>%s</td>'
                u'<td class="mono data">%s</td>'
                u'</tr>' % (_sev_class(m.flag_item.get(ip)), _flagged(m, ip, 60),
                            u'<br>'.join(_flagged(m, x, 80) for x in hosts) if hosts
                            else u'<span class="bad">not in the CMDB</span>',
                            u'<br>'.join(u'%s <code>%s</code>' % (h(s, 60), h(v, 80)) for s, v in services) or u'-',
                            h(mv or u'', 64), h(other, 120))
                for ip, hosts, services, other, mv in r.servers]
        head = (u'<table><thead><tr><th>Inner IP</th><th>CMDB host</th><th>Services (running version)</th>'
                u'<th>Moved from</th><th>Other data</th></tr></thead><tbody>')
        out.append(head + u''.join(rows[:ROWS_SHOWN]) + u'</tbody></table>')
        if len(rows) > ROWS_SHOWN:
            out.append(u'<details class="sub"><summary>%s</summary>%s%s</tbody></table></details>'
                       % (plural(len(rows) - ROWS_SHOWN, u'more server'), head, u''.join(rows[ROWS_SHOWN:])))
    else:
        out.append(u'<p class="muted">No servers.</p>')
    here = [v[0] for v in r.versions if v[1] or routes.get(v[0]) == r.name]
    elsewhere = [v for v in r.versions if v[0] not in set(here)]
    out.append(u'<h3>Client versions (%d listed, %d route here)</h3>' % (len(r.versions), r.routed))
    if here:
        out.append(u'<div class="line">Route here: <span class="mono">%s</span></div>' % _version_list(m, here))
    if elsewhere:
        # Grouped by where they route: on the default release these are the versions the review
        # and gray publishes appended, one group per release.
        groups, order = {}, []
        for name, _here, _appended in elsewhere:
            target = routes.get(name)
            if target not in groups:
                order.append(target)
                groups[target] = []
            groups[target].append(name)
        items = [u'\u2192 %s: <span class="mono">%s</span>' % (
            _release_ref(m, t) if t else u'<span class="bad">nowhere</span>',
            u', '.join(_flagged(m, v, 80) for v in groups[t][:20]) + (u' \u2026' if len(groups[t]) > 20 else u''))
            for t in order]
        shown = u' \u00b7 '.join(items[:12])
        if len(items) > 12:
            shown += u' <details class="more"><summary>+%s</summary>%s</details>' % (
                plural(len(items) - 12, u'more release'), u' \u00b7 '.join(items[12:]))
        appended = sum(1 for v in elsewhere if v[2])
        out.append(u'<div class="line">Listed here, routed elsewhere (%d%s): %s</div>' % (
            len(elsewhere), u', %d appended by review or gray publishes' % appended if appended else u'', shown))
    if not r.versions:
        out.append(u'<p class="muted">No client versions listed.</p>')
    out.append(u'</div></details>\n')
    return u''.join(out)


def _routed(count):
    return u'%s route%s here' % (plural(count, u'client version'), u's' if count == 1 else u'')


def _version_list(m, names):
    items = [_flagged(m, n, 80) for n in names]
    if len(items) <= 40:
        return u', '.join(items)
    return u'%s <details class="more"><summary>+%s</summary>%s</details>' % (
        u', '.join(items[:40]), plural(len(items) - 40, u'more version'), u', '.join(items[40:]))


def page(m):
    """The whole page for a checked map (`_render_model.Map`): the picture first, then the findings
    grouped by kind (both on the first screen), then the tables and one card per release."""
    body = [_header(m), u'<main>']
    if m.releases or m.unowned:
        body.append(u'<section class="panel" id="overview"><h2>Sections by owner release%s</h2>%s</section>\n' % (
            u', coloured by sync state' if m.has_status else u'', picture(m)))
    body.append(_findings(m))
    if not m.releases:
        body.append(u'<section class="panel" id="releases"><h2>Releases</h2><p class="empty">No releases: nothing '
                    u'is published under /releases of %s.</p></section>\n' % h(m.title, 120))
    else:
        body.append(_releases_table(m))
    body.append(_routes(m))
    body.append(_unowned(m))
    if m.releases:
        body.append(u'<section id="details"><h2>Release details</h2>%s</section>' % u''.join(
            _card(m, r) for r in m.releases))
    body.append(u'</main><footer>Static page written by gameops.elastic_release from one read of the release '
                u'tree, the release registry and the CMDB. It runs no script and loads nothing.</footer>')
    return u''.join([
        u'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">',
        u'<meta http-equiv="Content-Security-Policy" content="%s">' % CSP,
        u'<meta name="viewport" content="width=device-width, initial-scale=1">',
        u'<title>Release map: %s</title><style>%s</style></head><body>\n' % (attr(m.title, 120), CSS),
        u''.join(body), u'</body></html>\n'])
