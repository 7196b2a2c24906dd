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

from .render_model import TYPES, html_attr as attr, html_text as h, ranges, run_label

# Scripts are never needed, so none may run, and nothing may load from anywhere: a value that
# slipped through escaping still could neither execute nor call home.
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"
TYPE_COLOUR = {'production': '#1d4ed8', 'gray': '#7c3aed', 'review': '#047857', None: '#6b7280'}
SEV_COLOUR = {'error': '#b91c1c', 'warning': '#b45309', 'info': '#0e7490'}
FINDINGS_SHOWN = 8      # findings listed before "N more"; errors are always listed
RUNS_SHOWN = 10         # ranges shown inline before the rest folds away
ROWS_SHOWN = 25         # server rows shown before the rest folds away
SVG_WIDTH = 1320

CSS = u"""
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","DejaVu Sans",sans-serif;
 color:#111827;background:#f3f4f6}
code,.mono,table.rows td:first-child{font-family:ui-monospace,"DejaVu Sans Mono","Liberation Mono",monospace;
 font-size:12.5px}
a{color:inherit}
header.top{background:#1f2937;color:#f9fafb;padding:14px 24px 16px}
header.top .kicker{font-size:12px;letter-spacing:.08em;text-transform:uppercase;color:#9ca3af}
header.top h1{margin:2px 0 4px;font-size:22px;overflow-wrap:anywhere}
header.top .meta{color:#d1d5db;font-size:13px;overflow-wrap:anywhere}
header.top .meta code{color:#f9fafb}
.stats{display:flex;flex-wrap:wrap;gap:8px;margin-top:10px}
.stat{background:#374151;border-radius:6px;padding:4px 12px;min-width:92px}
.stat b{display:block;font-size:18px;color:#fff}.stat span{font-size:12px;color:#d1d5db}
.stat.error{background:#7f1d1d}.stat.warning{background:#78350f}.stat.ok{background:#14532d}
main{padding:14px 24px 24px;max-width:1400px}
section.panel{background:#fff;border:1px solid #e5e7eb;border-radius:8px;padding:10px 16px;margin-bottom:14px;
 overflow-x:auto}
h2{font-size:16px;margin:2px 0 8px}h3{font-size:14px;margin:14px 0 6px}
.findings{border-left:5px solid #b91c1c}.findings.none{border-left-color:#15803d}
.findings.w{border-left-color:#b45309}.findings.i{border-left-color:#0e7490}
.findings ul{list-style:none;margin:0;padding:0}
.findings li{padding:4px 0;border-top:1px solid #f3f4f6;overflow-wrap:anywhere}
.findings li:first-child{border-top:0}
.sev{display:inline-block;white-space:nowrap;min-width:62px;text-align:center;border-radius:4px;font-size:11px;
 font-weight:700;
 text-transform:uppercase;padding:1px 6px;margin-right:6px;color:#fff}
.sev.error{background:#b91c1c}.sev.warning{background:#b45309}.sev.info{background:#0e7490}
.kind{color:#4b5563;margin-right:6px}.refs{color:#4b5563;font-size:12.5px}
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
    return u'%s <details class="more"><summary>+%d more %s</summary>%s</details>' % (
        head, len(runs) - shown, what, u', '.join(one(r) for r in runs[shown:]))


def _release_ref(m, name):
    r = m.by_name.get(name)
    if r is None:
        return u'<span class="bad" title="not in the map">%s</span>' % h(name, 64)
    return u'<a href="#%s">%s</a>' % (r.anchor, h(name, 64))


def _header(m):
    counts = m.severity_counts()
    default = _release_ref(m, m.default) if m.default else \
        u'<span class="bad">none</span> (/default_release is missing or unreadable)'
    stats = [(len(m.releases), u'releases', ''), (m.sections, u'sections', ''), (m.servers, u'servers', ''),
             (len(m.versions), u'client versions', ''), (len(m.unowned), u'hosts without owner', '')]
    if m.findings:
        stats += [(counts['error'], u'errors', 'error' if counts['error'] else ''),
                  (counts['warning'], u'warnings', 'warning' if counts['warning'] else ''),
                  (counts['info'], u'info', '')]
    else:
        stats.append((0, u'findings', 'ok'))
    return u''.join([
        u'<header class="top"><div class="kicker">Release map</div><h1>%s</h1>' % h(m.title, 120),
        u'<div class="meta">ZooKeeper <code>%s</code> \u00b7 generated %s \u00b7 default release %s</div>' % (
            h(m.zookeeper or u'(unknown)', 200), h(m.generated or u'(unknown)', 60), default),
        u'<div class="stats">',
        u''.join(u'<div class="stat%s"><b>%s</b><span>%s</span></div>'
                 % (u' ' + cls if cls else u'', format(n, ','), label) for n, label, cls in stats),
        u'</div></header>\n'])


def _finding_li(m, f):
    refs = []
    if f.releases:
        refs.append(u'releases: ' + u', '.join(_release_ref(m, r) for r in f.releases[:20]))
    if f.items:
        refs.append(u'items: ' + u', '.join(u'<span class="hl-%s mono">%s</span>' % (f.severity, h(i, 80))
                                            for i in f.items[:20]) + (u' \u2026' if len(f.items) > 20 else u''))
    return u'<li class="sev-%s"><span class="sev %s">%s</span><code class="kind">%s</code>%s%s</li>' % (
        f.severity, f.severity, f.severity, h(f.kind, 60), h(f.message, 400),
        u'<div class="refs">%s</div>' % u' \u00b7 '.join(refs) if refs else u'')


def _findings(m):
    if not m.findings:
        return u'<section class="panel findings none" id="findings"><h2>Findings</h2>' \
               u'<p>No findings: the audit reported nothing for this map.</p></section>\n'
    counts = m.severity_counts()
    cls = u'' if counts['error'] else (u' w' if counts['warning'] else u' i')
    shown = max(FINDINGS_SHOWN, counts['error'])
    items = [_finding_li(m, f) for f in m.findings]
    rest = u''
    if len(items) > shown:
        rest = u'<details class="sub"><summary>%d more findings</summary><ul>%s</ul></details>' % (
            len(items) - shown, u''.join(items[shown:]))
    return (u'<section class="panel findings%s" id="findings"><h2>Findings (%d errors, %d warnings, %d info)</h2>'
            u'<ul>%s</ul>%s</section>\n' % (cls, counts['error'], counts['warning'], counts['info'],
                                            u''.join(items[:shown]), rest))


def _svg(m):
    """The overview: every client version in version order coloured by the release it routes to,
    then a box per release (bar = sections relative to the largest release; numbers = sections,
    servers, and client versions that route there), then the legend."""
    out = []
    y = 0
    if m.versions:
        out.append(_svg_routes(m, 14))
        y = 84
    n = len(m.releases)
    cols = max(1, min(6, n))
    gap, bh = 10, 66
    bw = min(300, (SVG_WIDTH - (cols - 1) * gap) // cols)
    max_sections = max([len(r.sections) for r in m.releases] + [1])
    for i, r in enumerate(m.releases):
        out.append(_svg_box(m, r, (i % cols) * (bw + gap), y + (i // cols) * (bh + gap), bw, bh, max_sections))
    y += ((n + cols - 1) // cols) * (bh + gap) + 8
    x = 0
    for colour, label in [(TYPE_COLOUR[t], t) for t in TYPES] + [(TYPE_COLOUR[None], u'unregistered')]:
        out.append(u'<rect x="%d" y="%d" width="12" height="12" rx="2" fill="%s"/><text x="%d" y="%d" '
                   u'font-size="12" fill="#374151">%s</text>' % (x, y, colour, x + 17, y + 10, label))
        x += 40 + 7 * len(label)
    out.append(u'<text x="%d" y="%d" font-size="12" fill="#374151">\u2605 and thick border: default release'
               u' \u00b7 red / orange border and (!): named by an error / warning finding \u00b7 bar: sections,'
               u' relative to the largest release</text>' % (x + 10, y + 10))
    return (u'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="100%%" role="img" '
            u'aria-label="Overview of the releases and client version routing">%s</svg>'
            % (SVG_WIDTH, y + 18, u''.join(out)))


def _svg_box(m, r, x, y, bw, bh, max_sections):
    colour = TYPE_COLOUR.get(r.type if r.type in TYPES else None)
    stroke, width, dash = '#d1d5db', 1, ''
    if r.severity in ('error', 'warning'):
        stroke, width = SEV_COLOUR[r.severity], 2
    if r.is_default:
        stroke, width = ('#111827' if r.severity not in ('error', 'warning') else stroke), 3
    if r.type not in TYPES:
        dash = ' stroke-dasharray="5 3"'
    tip = u'%s%s: %s in %s, %d sections, %d servers, %d client versions route here%s' % (
        r.name, u' (default release)' if r.is_default else u'', r.type or u'unregistered',
        r.location or u'no registered location', len(r.sections),
        len(r.servers), r.routed, u'; %s finding' % r.severity if r.severity else u'')
    bar_width = int(round((bw - 20) * len(r.sections) / max_sections))
    routed = u'%d client version%s' % (r.routed, u'' if r.routed == 1 else u's')
    out = [
        u'<a href="#%s"><g class="rbox" data-release="%s"><title>%s</title>'
        % (r.anchor, attr(r.name, 80), attr(tip, 300)),
        u'<rect x="%d" y="%d" width="%d" height="%d" rx="6" fill="%s" stroke="%s" stroke-width="%d"%s/>' % (
            x + 1, y + 1, bw - 2, bh - 2, '#eff6ff' if r.is_default else '#ffffff', stroke, width, dash),
        u'<text x="%d" y="%d" font-size="13" font-weight="700" fill="#111827">%s%s</text>' % (
            x + 10, y + 18, u'\u2605 ' if r.is_default else u'', attr(r.name, max(8, (bw - 50) // 8))),
        u'<text x="%d" y="%d" font-size="11" fill="%s" font-weight="600">%s</text>' % (
            x + 10, y + 33, colour, attr(r.type or u'unregistered', 14)),
        u'<text x="%d" y="%d" font-size="11" fill="#374151" text-anchor="end">%s</text>'
        % (x + bw - 10, y + 33, routed),
        u'<rect x="%d" y="%d" width="%d" height="5" rx="2" fill="#e5e7eb"/>' % (x + 10, y + 40, bw - 20),
        u'<rect x="%d" y="%d" width="%d" height="5" rx="2" fill="%s"/>' % (x + 10, y + 40,
                                                                           max(bar_width, 2 if r.sections else 0), colour),
        u'<text x="%d" y="%d" font-size="11" fill="#374151">%d sections \u00b7 %d servers</text>' % (
            x + 10, y + 58, len(r.sections), len(r.servers))]
    if r.severity:
        out.append(u'<circle cx="%d" cy="%d" r="8" fill="%s"/><text x="%d" y="%d" font-size="12" '
                   u'font-weight="700" fill="#fff" text-anchor="middle">!</text>'
                   % (x + bw - 16, y + 14, SEV_COLOUR[r.severity], x + bw - 16, y + 18))
    out.append(u'</g></a>')
    return u''.join(out)


def _svg_routes(m, y):
    """A strip of all client versions in version order: a run of neighbours routing to the same
    release is one segment; runs too thin to label are bracketed together with their counts."""
    total = len(m.versions)
    runs = []
    for pos, (name, target, _url, _listed) in enumerate(m.versions):
        if runs and runs[-1][0] == target:
            runs[-1][2] += 1
        else:
            runs.append([target, pos, 1, name])
    out = [u'<text x="0" y="%d" font-size="12.5" font-weight="600" fill="#111827">Client version routing: %d '
           u'versions in version order (%s \u2192 %s), coloured by the type of the release each routes to</text>'
           % (y, total, attr(m.versions[0][0], 40), attr(m.versions[-1][0], 40))]
    top = y + 8
    small = []          # consecutive runs too thin for a label of their own

    def bracket():
        if not small:
            return
        x0 = SVG_WIDTH * small[0][1] / total
        x1 = SVG_WIDTH * (small[-1][1] + small[-1][2]) / total
        count = sum(r[2] for r in small)
        targets = set(r[0] for r in small if r[0] is not None)
        nowhere = sum(r[2] for r in small if r[0] is None)
        if x1 - x0 >= 30:
            label = u'%d versions \u2192 %d releases' % (count, len(targets)) if len(targets) > 1 else \
                u'%d \u2192 %s' % (count, attr(small[0][0] or u'nowhere', 20))
            if nowhere and targets:
                label += u' (%d nowhere)' % nowhere
            out.append(u'<path d="M%.1f %d v5 H%.1f v-5" fill="none" stroke="#6b7280"/>' % (x0, top + 23, x1))
            anchor = 'end' if x1 > SVG_WIDTH - 120 else ('start' if x0 < 120 else 'middle')
            tx = x1 if anchor == 'end' else (x0 if anchor == 'start' else (x0 + x1) / 2)
            out.append(u'<text x="%.1f" y="%d" font-size="11" fill="#374151" text-anchor="%s">%s</text>'
                       % (tx, top + 41, anchor, label))
        del small[:]

    for run in runs:
        target, pos, count, first = run
        x0 = SVG_WIDTH * pos / total
        w = SVG_WIDTH * count / total
        rel = m.by_name.get(target)
        colour = TYPE_COLOUR.get(rel.type if rel.type in TYPES else None) if rel else '#b91c1c'
        label = u'%s: %d version%s from %s' % (target or u'nowhere (no release)', count, u's' if count > 1 else u'',
                                               first)
        out.append(u'<rect x="%.1f" y="%d" width="%.1f" height="20" fill="%s" stroke="#fff" stroke-width="1">'
                   u'<title>%s</title></rect>' % (x0, top, max(w, 1.5), colour, attr(label, 200)))
        if w > 110:
            bracket()
            out.append(u'<text x="%.1f" y="%d" font-size="11" fill="#fff" font-weight="600">%s \u00b7 %d</text>'
                       % (x0 + 6, top + 14, attr(target or u'nowhere', max(6, int(w / 7) - 6)), count))
        else:
            small.append(run)
    bracket()
    for pos, (name, _t, _u, _l) in enumerate(m.versions):
        sev = m.flag_item.get(name)
        if sev:
            x0 = SVG_WIDTH * (pos + 0.5) / total
            out.append(u'<path d="M%.1f %d l-5 -7 h10 z" fill="%s"><title>%s</title></path>'
                       % (x0, top - 1, SEV_COLOUR[sev], attr(u'%s: named by a finding' % name, 200)))
    return u''.join(out)


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
            u'<td>%s</td>' % u' '.join(u'<span class="sev %s">%d %s</span>' % (s, sev_counts[s], s)
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
    return (u'<section class="panel" id="routes"><h2>Client version routes (%d versions)</h2>'
            u'<table><thead><tr><th>Routes to</th><th>global_url</th><th>Versions</th><th>Client versions '
            u'(in version order; a \u2026 b = neighbours in that order)</th></tr></thead><tbody>%s</tbody></table>'
            u'<details class="sub"><summary>All %d client versions</summary><table class="rows"><thead><tr><th>Version</th>'
            u'<th>Routes to</th><th>global_url</th><th>Listed by</th></tr></thead><tbody>%s</tbody></table>'
            u'</details></section>\n' % (len(m.versions), u''.join(rows), len(m.versions), full))


def _unowned(m):
    if not m.unowned:
        return u''
    rows = u''.join(u'<tr class="sev-warning"><td>%s</td><td class="mono">%s</td><td class="mono">%s</td></tr>' % (
        _flagged(m, host, 80), _flagged(m, ip or u'-', 60), _runs(m, ranges(sids, m.flag_item)))
        for host, ip, sids in m.unowned)
    return (u'<section class="panel findings w" id="unowned"><h2>CMDB hosts no release owns (%d)</h2>'
            u'<table><thead><tr><th>Host</th><th>Inner IP</th><th>Section ids (CMDB)</th></tr></thead>'
            u'<tbody>%s</tbody></table></section>\n' % (len(m.unowned), rows))


def _card(m, r):
    routes = dict((v[0], v[1]) for v in m.versions)
    cls = [u'card'] + ([u'sev-%s' % r.severity] if r.severity else []) + ([u'default'] if r.is_default else [])
    opened = u' open' if r.severity == 'error' or len(m.releases) <= 3 else u''
    out = [u'<details class="%s" id="%s"%s><summary><span class="rname">%s</span> %s%s'
           u'<span class="counts">%d sections \u00b7 %d servers \u00b7 %d client versions route here</span>%s</summary>'
           % (u' '.join(cls), r.anchor, opened, h(r.name, 100), _type_pill(r.type),
              u'<span class="pill">default</span>' if r.is_default else u'', len(r.sections), len(r.servers),
              r.routed, u''.join(u' <span class="sev %s">%s</span>' % (f.severity, f.severity)
                                 for f in r.findings[:5]))]
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
        out.append(u'<details class="sub"><summary>All %d sections, one per row</summary><table class="rows"><thead><tr>'
                   u'<th>Section</th>%s<th>CMDB host</th>%s</tr></thead><tbody>%s</tbody></table></details>' % (
                       len(r.sections), u'<th>Data</th>' if labelled else u'',
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
            out.append(u'<details class="sub"><summary>%d more servers</summary>%s%s</tbody></table></details>'
                       % (len(rows) - ROWS_SHOWN, head, u''.join(rows[ROWS_SHOWN:])))
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
            shown += u' <details class="more"><summary>+%d more releases</summary>%s</details>' % (
                len(items) - 12, u' \u00b7 '.join(items[12:]))
        appended = sum(1 for v in elsewhere if v[2])
        out.append(u'<div class="line">Listed here, routed elsewhere (%d%s): %s</div>' % (
            len(elsewhere), u', %d appended by review or gray publishes' % appended if appended else u'', shown))
    if not r.versions:
        out.append(u'<p class="muted">No client versions listed.</p>')
    out.append(u'</div></details>\n')
    return u''.join(out)


def _version_list(m, names):
    items = [_flagged(m, n, 80) for n in names]
    if len(items) <= 40:
        return u', '.join(items)
    return u'%s <details class="more"><summary>+%d more versions</summary>%s</details>' % (
        u', '.join(items[:40]), len(items) - 40, u', '.join(items[40:]))


def page(m):
    """The whole page for a checked map (`_render_model.Map`)."""
    body = [_header(m), u'<main>', _findings(m)]
    if not m.releases:
        body.append(u'<section class="panel" id="releases"><h2>Releases</h2><p class="empty">No releases: nothing '
                    u'is published under /releases of %s.</p></section>\n' % h(m.title, 120))
    else:
        body.append(u'<section class="panel" id="overview"><h2>Overview</h2>%s</section>\n' % _svg(m))
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
