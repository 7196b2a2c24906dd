# -*- coding: utf-8 -*-
# Copyright: (c) 2026, GameOps release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# This module_utils is PRIVATE to gameops.elastic_release; its API may change without notice.
"""The picture at the top of the release-map page: one SVG with a tile per game section, grouped
in one block per owner release (its name above it), and the client version routing beside it.

Tiles are coloured by their owner release, or, when the status flow's summary is given, by their
sync state (the worst of the section's instances). Sizes adapt so that the whole grid of a large
project (50 releases x 200 sections) fits the first screen: the largest tile that fits is chosen.
Every value reaches the markup through `attr` (escaped, cut).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math

from .render_model import TYPES, html_attr as attr, natural_key, plural, ranges, run_label, state_rank

WIDTH = 1320            # the picture's viewBox width (the page's content width at 1400 px)
GRID_WIDTH = 930        # tiles on the left; the version routing beside them
GRID_HEIGHT = 390       # the height the first screen has room for
CELLS = (40, 32, 26, 20, 16, 13, 10, 8, 6, 5, 4)
LABEL = 15              # a block's name above its tiles
GAP_X, GAP_Y = 14, 8    # between blocks
MIN_BLOCK = 56          # a block is at least this wide, so its name can be read
TILES_ONE_BY_ONE = 3000  # above this many (or below 8 px), plain tiles are drawn as runs
# Per release type, shades that neighbours can tell apart; a release takes the next shade of its type.
PALETTE = {
    'production': ('#1d4ed8', '#1e3a8a', '#3b82f6'),
    'gray': ('#7c3aed', '#c026d3', '#5b21b6', '#a855f7', '#86198f', '#6366f1'),
    'review': ('#047857', '#0e7490', '#4d7c0f', '#0f766e', '#15803d', '#0369a1'),
    None: ('#6b7280', '#475569'),
}
STATE_COLOUR = {'in_sync': '#16a34a', 'wrong_build': '#f59e0b', 'wrong_release': '#ea580c',
                'not_owned': '#111827', 'unknown_process': '#be185d', 'not_deployed': '#b91c1c',
                'not_running': '#dc2626'}
UNKNOWN_STATE = '#111827'
NO_INSTANCE = '#d1d5db'
SEV_COLOUR = {'error': '#b91c1c', 'warning': '#d97706', 'info': '#0e7490'}
NOWHERE = '#b91c1c'


def release_colours(m):
    """{release name: colour}: a shade of its type's hue, shades taken in page order."""
    taken, out = {}, {}
    for r in m.releases:
        kind = r.type if r.type in TYPES else None
        shades = PALETTE[kind]
        out[r.name] = shades[taken.get(kind, 0) % len(shades)]
        taken[kind] = taken.get(kind, 0) + 1
    return out


def _blocks(m, colours):
    """[(name, label, colour, [section ids], unowned)]: one block per release, in page order, then
    the CMDB's sections no release owns."""
    out = [(r.name, r.name, colours[r.name], sorted(r.section_ids(), key=natural_key), False) for r in m.releases]
    orphans = sorted(set(s for _h, _ip, ids in m.unowned for s in ids), key=natural_key)
    if orphans:
        out.append((None, u'no owner', NOWHERE, orphans, True))
    return out


def _layout(blocks, cell):
    """[(block, x, y, columns, width)] and the total height, blocks placed in rows (shelves)."""
    placed, x, y, row_h = [], 0, 0, 0
    for block in blocks:
        n = max(1, len(block[3]))
        cols = max(1, min(n, int(math.ceil(math.sqrt(n * 3.0))), GRID_WIDTH // cell))
        rows = int(math.ceil(n / float(cols)))
        # Large tiles leave room for the whole name; small ones (a large project) cut it to the block.
        width = max(cols * cell, MIN_BLOCK if cell < 16 else min(int(len(block[1]) * 6.8) + 4, 170))
        if x and x + width > GRID_WIDTH:
            x, y, row_h = 0, y + row_h + GAP_Y, 0
        placed.append((block, x, y, cols, width))
        x += width + GAP_X
        row_h = max(row_h, LABEL + rows * cell)
    return placed, y + row_h


def layout(m, colours):
    """(cell size, placed blocks, height): the largest tile with which the grid fits GRID_HEIGHT."""
    blocks = _blocks(m, colours)
    for cell in CELLS:
        placed, height = _layout(blocks, cell)
        if height <= GRID_HEIGHT:
            return cell, placed, height
    return (CELLS[-1],) + _layout(blocks, CELLS[-1])


def _tint(colour):
    """The colour mixed half with white: a moved section, lighter than its release's own."""
    rgb = [int(colour[i:i + 2], 16) for i in (1, 3, 5)]
    return '#%02x%02x%02x' % tuple((c + 255) // 2 for c in rgb)


class _Grid(object):
    def __init__(self, m, colours, cell):
        self.m = m
        self.colours = colours
        self.cell = cell
        # Below 8 px a gap would stripe the blocks: they are drawn solid, their marks on top.
        self.gap = 0 if cell < 8 else (1 if cell < 10 else 2)
        self.moved = {}
        self.hosts = {}
        for r in m.releases:
            for sid, _label, hosts, moved in r.sections:
                if moved:
                    self.moved[(r.name, sid)] = moved
                self.hosts.setdefault(sid, hosts)

    def fill(self, owner, sid, colour):
        if self.m.has_status:
            state = self.m.section_state.get(sid)
            return NO_INSTANCE if state is None else STATE_COLOUR.get(state, UNKNOWN_STATE)
        return _tint(colour) if (owner, sid) in self.moved else colour

    def title(self, owner, sid):
        parts = [u'section %s' % sid, u'owned by %s' % owner if owner else u'no release owns it']
        moved = self.moved.get((owner, sid))
        if moved:
            parts.append(u'moved here from %s' % moved)
        if self.hosts.get(sid):
            parts.append(u'CMDB host %s' % u', '.join(self.hosts[sid][:3]))
        if self.m.has_status:
            parts.append(self.m.section_state.get(sid, u'no instance in the status').replace('_', ' '))
        sev = self.m.flag_item.get(sid)
        if sev:
            parts.append(u'named by %s %s finding' % ('an' if sev in ('error', 'info') else 'a', sev))
        return u' \u00b7 '.join(parts)

    def block(self, placed):
        (owner, label, colour, ids, unowned), x, y, cols, width = placed
        c, gap = self.cell, self.gap
        out = [u'<g class="block" data-release="%s">' % attr(owner or u'', 80)]
        name = attr(label, max(4, int(width // 6.6)))
        if self.m.has_status and owner:
            # the release's own colour beside its name: the tiles show sync states
            out.append(u'<rect x="%d" y="%d" width="9" height="9" rx="2" fill="%s"/>' % (x, y + 2, colour))
            out.append(u'<text x="%d" y="%d" font-size="11" font-weight="700" fill="#111827">%s</text>'
                       % (x + 12, y + 10, name))
        else:
            out.append(u'<text x="%d" y="%d" font-size="11" font-weight="700" fill="%s">%s</text>'
                       % (x, y + 10, NOWHERE if unowned else '#111827', name))
        top = y + LABEL
        out.append(u'<title>%s</title>' % attr(u'%s: %s%s' % (label, plural(len(ids), u'section'), (
            u' (%s)' % u', '.join(run_label(*r[:3]) for r in ranges(ids)[:6])) if ids else u''), 400))
        if not ids:
            out.append(u'<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="#9ca3af" '
                       u'stroke-dasharray="3 2"/>' % (x, top, c - gap, c - gap))
        one_by_one = c >= 8 and len(ids) <= TILES_ONE_BY_ONE
        marks = []
        for row in range(0, len(ids), cols):
            line = ids[row:row + cols]
            if one_by_one:
                for k, sid in enumerate(line):
                    out.append(self.tile(owner, sid, colour, x + k * c, top + (row // cols) * c, unowned))
            else:
                out.extend(self.runs(owner, line, colour, x, top + (row // cols) * c, unowned))
            for k, sid in enumerate(line):
                marks.extend(self.marks(owner, sid, x + k * c, top + (row // cols) * c))
        out.extend(marks)
        out.append(u'</g>')
        return u''.join(out)

    def tile(self, owner, sid, colour, x, y, unowned):
        c, gap = self.cell, self.gap
        if unowned:
            shape = u'<rect x="%d" y="%d" width="%d" height="%d" fill="#fff" stroke="%s" stroke-dasharray="3 2">' % (
                x, y, c - gap - 1, c - gap - 1, NOWHERE)
        else:
            shape = u'<rect x="%d" y="%d" width="%d" height="%d" rx="%d" fill="%s">' % (
                x, y, c - gap, c - gap, 2 if c >= 16 else 0, self.fill(owner, sid, colour))
        out = [shape, u'<title>%s</title></rect>' % attr(self.title(owner, sid), 300)]
        if c >= 26 and len(sid) * 6.2 <= c - 6:
            out.append(u'<text x="%.1f" y="%d" font-size="10.5" text-anchor="middle" fill="%s">%s</text>' % (
                x + (c - gap) / 2.0, y + (c - gap) // 2 + 4, NOWHERE if unowned else '#fff', attr(sid, 20)))
        return u''.join(out)

    def runs(self, owner, line, colour, x, y, unowned):
        """A row of small tiles as runs of one colour: thousands of tiles, tens of elements."""
        out, start = [], 0
        fills = [NOWHERE if unowned else self.fill(owner, sid, colour) for sid in line]
        for k in range(1, len(line) + 1):
            if k == len(line) or fills[k] != fills[start]:
                out.append(u'<rect x="%d" y="%d" width="%d" height="%d" fill="%s"/>'
                           % (x + start * self.cell, y, (k - start) * self.cell - self.gap, self.cell - self.gap,
                              fills[start]))
                start = k
        return out

    def marks(self, owner, sid, x, y):
        """What sits on top of a tile: the corner of a moved section (the colour it came from) and
        the outline of a section a finding names."""
        c, gap = self.cell, self.gap
        out = []
        moved = self.moved.get((owner, sid))
        if moved and c >= 10:
            k = max(4, c // 2)
            out.append(u'<path d="M%d %d h%d l-%d %d z" fill="%s" stroke="#fff" stroke-width="1"/>'
                       % (x, y, k, k, k, self.colours.get(moved, NOWHERE)))
        sev = self.m.flag_item.get(sid)
        if sev in ('error', 'warning'):
            out.append(u'<rect x="%.1f" y="%.1f" width="%d" height="%d" fill="none" stroke="%s" stroke-width="%s">'
                       u'<title>%s</title></rect>' % (x - 1.5, y - 1.5, c - gap + 3, c - gap + 3, SEV_COLOUR[sev],
                                                      '2' if c >= 8 else '1.5', attr(self.title(owner, sid), 300)))
        return out


def _routing(m, colours, x, height):
    """Beside the grid: where the client versions route, one line per release (nowhere first)."""
    groups = m.routes()
    groups.sort(key=lambda g: g[0] is not None)
    total = len(m.versions)
    out = [u'<g class="routing"><text x="%d" y="10" font-size="12.5" font-weight="700" fill="#111827">'
           u'Client versions \u2192 release (%s)</text>' % (x, plural(total, u'version'))]
    if not groups:
        out.append(u'<text x="%d" y="30" font-size="12" fill="#6b7280">No release lists a client version.</text>' % x)
        return u''.join(out) + u'</g>', 40
    rows = max(8, (max(height, 200) - 30) // 19)
    shown = groups if len(groups) <= rows else groups[:rows - 1]
    y = 30
    for target, _url, runs in shown:
        count = sum(r[2] for r in runs)
        colour = colours.get(target, NOWHERE) if target else NOWHERE
        first, last = runs[0][0], runs[-1][1]
        span = first if count == 1 else u'%s \u2026 %s' % (first, last)
        tip = u'%s: %s (%s)' % (target or u'nowhere (no release takes them)', plural(count, u'version'), span)
        out.append(u'<g class="route" data-release="%s"><title>%s</title>' % (attr(target or u'', 80), attr(tip, 300)))
        out.append(u'<rect x="%d" y="%d" width="10" height="10" rx="2" fill="%s"/>' % (x, y - 9, colour))
        out.append(u'<text x="%d" y="%d" font-size="12" font-weight="600" fill="%s">%s</text>' % (
            x + 15, y, NOWHERE if target is None else '#111827', attr(target or u'nowhere', 22)))
        out.append(u'<text x="%d" y="%d" font-size="12" fill="#111827" text-anchor="end">%s</text>'
                   % (x + 215, y, format(count, ',')))
        out.append(u'<text x="%d" y="%d" font-size="11" fill="#4b5563">%s</text></g>' % (x + 225, y, attr(span, 22)))
        y += 19
    if len(shown) < len(groups):
        rest = groups[len(shown):]
        out.append(u'<text x="%d" y="%d" font-size="11.5" fill="#1d4ed8">+%s (%s): table below</text>'
                   % (x + 15, y, plural(len(rest), u'more release'), plural(sum(sum(r[2] for r in g[2]) for g in rest),
                                                                            u'version')))
        y += 19
    return u''.join(out) + u'</g>', y


def _legend(m, y):
    """One or two lines under the picture: what a tile's colour and marks mean."""
    if m.has_status:
        counts = sorted(m.state_counts.items(), key=lambda sc: state_rank(sc[0]))
        items = [(STATE_COLOUR.get(s, UNKNOWN_STATE), u'%s %s' % (s.replace('_', ' '), format(n, ',')))
                 for s, n in counts] + [(NO_INSTANCE, u'no instance')]
        lines = [u'Tile colour: the sync state of the section (its worst instance; instances counted):']
    else:
        items = []
        lines = [u'A tile is a section, coloured by the release that owns it (one block per release, its name above). '
                 u'Lighter, with a corner: moved here by a widen (the corner has the colour of the release it came from).',
                 u'Red / orange outline: named by an error / warning finding. Dashed: a section the CMDB gives a host '
                 u'and no release owns. Hover a tile for its section id, owner and hosts.']
    out = [u'<text x="0" y="%d" font-size="11.5" fill="#374151">%s</text>' % (y + 10 + 15 * i, attr(line, 400))
           for i, line in enumerate(lines)]
    x = 8 + int(len(lines[0]) * 5.7) if items else 0
    for colour, label in items:
        out.append(u'<rect x="%d" y="%d" width="11" height="11" rx="2" fill="%s"/><text x="%d" y="%d" '
                   u'font-size="11.5" fill="#374151">%s</text>' % (x, y + 1, colour, x + 15, y + 10, attr(label, 40)))
        x += 24 + int(len(label) * 6.2)
    return u''.join(out), 15 * len(lines)


def picture(m):
    """The SVG: the tile grid, the routing beside it, a legend line under both."""
    colours = release_colours(m)
    cell, placed, height = layout(m, colours)
    grid = _Grid(m, colours, cell)
    body = [grid.block(p) for p in placed]
    routing, routing_height = _routing(m, colours, GRID_WIDTH + 40, height)
    y = max(height, routing_height) + 12
    legend, legend_height = _legend(m, y)
    return (u'<svg class="tiles" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="100%%" role="img" '
            u'aria-label="Sections by owner release, and client version routing" data-cell="%d">%s%s%s</svg>'
            % (WIDTH, y + legend_height + 4, cell, u''.join(body), routing, legend))
