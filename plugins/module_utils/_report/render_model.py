# -*- coding: utf-8 -*-
# Copyright: (c) 2026, GameOps release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# This module_utils is PRIVATE to gameops.elastic_release; its API may change without notice.
"""The release-map document read once for the renderers (`_render`): checked, ordered, with the
names the findings flag; plus the text safety both renderings share.

Every name and every node datum comes from ZooKeeper and may be hostile: all text reaches a page
through `html_text`/`html_attr` or `md_text`, which escape markup, make invisible and bidi-control
characters visible, and cut very long strings. No Ansible imports, no ZooKeeper.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re

FORMAT = 1
SEVERITIES = ('error', 'warning', 'info')
TYPES = ('production', 'gray', 'review')
LIMIT = 160             # characters of one value shown before it is cut
# The sync states of the status flow's instances, best first: a section shows its worst instance.
# Running the wrong thing is bad; serving nobody (not deployed, not running) is worse.
STATES = ('in_sync', 'wrong_build', 'wrong_release', 'not_owned', 'unknown_process', 'not_deployed', 'not_running')
# What to do about a kind of finding whose messages carry no advice of their own ("Run ...", "Add ...").
FIXES = {
    'server_not_in_cmdb': 'add the host to the CMDB export, or republish the release without that server',
    'server_wrong_location': "move the host to the release's deploy location in the CMDB, or correct the "
                             "release's location in elastic_release_registry",
    'registered_not_published': 'publish it with its flow (playbooks/<type>.yml -e release=... -e package=...), '
                                'or remove it from elastic_release_registry',
    'appended_version_orphaned': 'nothing breaks meanwhile: rerun playbooks/production.yml to drop them now',
    'foreign_node': 'if no other tool needs it, remove the node (zkCli.sh: deleteall <path>)',
    'non_canonical_name': 'nothing to do: the next publish of the release renames it',
    'null_data': 'nothing to do: the next publish of the release writes it',
    'non_json_data': 'republish the release with its flow to rewrite the node',
    'moved_from_missing': 'move them to a release that exists (playbooks/widen.yml of that release)',
    'orphan_revision_parts': 'nothing to do: the next write of the release removes them',
}

# C0/C1 controls, soft hyphen, bidi marks, embeddings, overrides and isolates, zero-width and
# invisible operators, line/paragraph separators, BOM, interlinear annotations, lone surrogates,
# tag characters: anything that can hide or reorder what an engineer reads.
_INVISIBLE = re.compile(u'[\x00-\x1f\x7f-\x9f\xad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f'
                        u'\ufeff\ufff9-\ufffb\ud800-\udfff\U000e0000-\U000e007f]')
_PLAIN = re.compile(r'[A-Za-z0-9 _.:,/@+=#~()-]*\Z')   # text that needs no escaping at all
NUMERIC = re.compile(r'^(?:0|[1-9][0-9]{0,17})\Z')
_DIGITS = re.compile(r'([0-9]+)')
_SEV_RANK = dict((s, i) for i, s in enumerate(SEVERITIES))
_TYPE_RANK = dict((t, i) for i, t in enumerate(TYPES))
STATE_RANK = dict((s, i) for i, s in enumerate(STATES))
# Where a finding's own advice starts: the first sentence that begins with a capital after ". ".
_ADVICE = re.compile(r'(?<=[A-Za-z0-9)\]"\'])\. (?=[A-Z])')


class RenderError(ValueError):
    """The document is not a release map this renderer can read (the message names the part)."""


# --- text ---------------------------------------------------------------------------------------

def text(value):
    """Any JSON value as one line of text (dicts and lists as compact sorted JSON); None is ''."""
    if value.__class__ is str:     # the common case first: this runs for every value shown
        return value
    if value is None:
        return u''
    if isinstance(value, bool):
        return u'true' if value else u'false'
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(',', ':'), default=str)
    if isinstance(value, bytes):
        return value.decode('utf-8', 'replace')
    return u'%s' % (value,)


def codepoint(char):
    """The visible stand-in of an invisible character: \\u202e, \\x0a."""
    n = ord(char)
    return u'\\x%02x' % n if n < 0x100 else (u'\\u%04x' % n if n < 0x10000 else u'\\U%08x' % n)


def cut(value, limit=LIMIT):
    """(shown text, number of characters left out)."""
    s = text(value)
    return (s, 0) if len(s) <= limit else (s[:limit], len(s) - limit)


def escape_html(s):
    return s.replace(u'&', u'&amp;').replace(u'<', u'&lt;').replace(u'>', u'&gt;') \
        .replace(u'"', u'&quot;').replace(u"'", u'&#x27;')


def html_text(value, limit=LIMIT):
    """HTML text of any value: escaped, invisibles shown, long text cut."""
    if value.__class__ is str and len(value) <= limit and _PLAIN.match(value):
        return value
    s, more = cut(value, limit)
    if _INVISIBLE.search(s):
        out, pos = [], 0
        for m in _INVISIBLE.finditer(s):
            out.append(escape_html(s[pos:m.start()]))
            out.append(u'<span class="ctl" title="invisible or control character">%s</span>' % codepoint(m.group()))
            pos = m.end()
        out.append(escape_html(s[pos:]))
        s = u''.join(out)
    else:
        s = escape_html(s)
    if more:
        s += u'<span class="cut">\u2026 %d more characters</span>' % more
    return s


def html_attr(value, limit=LIMIT):
    """Attribute text: escaped, invisibles as \\uXXXX, cut."""
    s, more = cut(value, limit)
    s = _INVISIBLE.sub(lambda m: codepoint(m.group()), s)
    return escape_html(s + (u'\u2026' if more else u''))


# Backslash-escaped in Markdown: what could start raw HTML, a link or image, a code span, emphasis
# by '*', or end a table cell. '_' is left alone: release names are full of it, CommonMark does not
# emphasise inside words, and AWX shows the text raw.
_MD_SPECIAL = re.compile(r'([\\`*\[\]<>|])')


def md_text(value, limit=LIMIT):
    """Markdown text for a table cell or a list item: one line, no markup, no raw HTML, no links."""
    s, more = cut(value, limit)
    s = _MD_SPECIAL.sub(r'\\\1', s)
    # after escaping, so the backslash of '\x0a' stays single and reads as the code it is
    s = _INVISIBLE.sub(lambda m: codepoint(m.group()), s)
    return s + (u'\u2026 (+%d characters)' % more if more else u'')


# --- ordering and ranges ------------------------------------------------------------------------

def natural_key(value):
    """Sort key where '1.10.0' follows '1.9.0' and 'gs-02' precedes 'gs-10'."""
    return [(0, int(p), p) if p.isdigit() else (1, 0, p) for p in _DIGITS.split(text(value))]


def ranges(ids, marked=()):
    """Consecutive numeric ids as runs: [(first, last, count, is_marked)], numeric ones first.

    An id in `marked` (named by a finding) stays a run of its own, so a highlight never hides
    inside a range. Ids that are not plain decimal numbers ('0012', 'S1') are listed one by one.
    """
    seen = set()
    numeric, other = [], []
    for raw in ids:
        s = text(raw)
        if s in seen:
            continue
        seen.add(s)
        (numeric if NUMERIC.match(s) else other).append(s)
    numeric.sort(key=int)
    other.sort(key=natural_key)
    runs = []
    for s in numeric:
        n = int(s)
        if s in marked:
            runs.append([s, s, 1, True, n])
        elif runs and not runs[-1][3] and runs[-1][4] == n - 1:
            runs[-1][1] = s
            runs[-1][2] += 1
            runs[-1][4] = n
        else:
            runs.append([s, s, 1, False, n])
    out = [(r[0], r[1], r[2], r[3]) for r in runs]
    out.extend((s, s, 1, s in marked) for s in other)
    return out


def run_label(first, last, count, neighbours=False):
    """One run as text. Section runs are numeric ranges ('1001-1200'); version runs are neighbours
    in version order, which a range would misstate: '1.0.0 \u2026 1.2.5 (26)'."""
    if count == 1:
        return first
    if count == 2:
        return u'%s, %s' % (first, last)
    if neighbours:
        return u'%s \u2026 %s (%d)' % (first, last, count)
    return u'%s-%s' % (first, last)


def plural(count, word, words=None):
    """'1 section', '2 sections', '1,000 servers'; `words` for irregular plurals ('info')."""
    return u'%s %s' % (format(count, ','), word if count == 1 else (words or word + u's'))


def split_advice(message):
    """(what is wrong, what to do): a message cut where its advice starts ('' when it has none)."""
    m = _ADVICE.search(message)
    if not m:
        return message, u''
    return message[:m.start()], message[m.end():]


def format_ranges(ids):
    """'1001-1200, 1301, S1': the ids compressed into ranges (plain text, not escaped)."""
    return u', '.join(run_label(f, l, c) for f, l, c, _m in ranges(ids))


# --- the document, read once into what both renderings show -------------------------------------

def _list(value, what, *args):
    """The value as a list; `what % args` names it in the error (formatted only then: this runs
    for every section)."""
    if value is None:
        return []
    if not isinstance(value, (list, tuple)):
        raise RenderError('%s must be a list, not %s' % (what % args, type(value).__name__))
    return value


def _dict(value, what, *args):
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise RenderError('%s must be an object, not %s' % (what % args, type(value).__name__))
    return value


def _opt(value):
    return None if value is None or value == '' else text(value)


def _worse(table, key, severity):
    if key not in table or _SEV_RANK[severity] < _SEV_RANK[table[key]]:
        table[key] = severity


class Finding(object):
    def __init__(self, raw, index):
        raw = _dict(raw, 'findings[%d]', index)
        sev = text(raw.get('severity')).lower()
        self.severity = sev if sev in _SEV_RANK else 'warning'
        self.kind = text(raw.get('kind')) or 'finding'
        self.items = [text(i) for i in _list(raw.get('items'), 'findings[%d].items', index)]
        self.releases = [text(r) for r in _list(raw.get('releases'), 'findings[%d].releases', index)]
        self.message = text(raw.get('message'))
        self.index = index


class Group(object):
    """The findings of one kind (and severity): one line with the count and the fix, the items under it.

    The fix is the advice the messages share, else FIXES' entry for the kind, else none (each
    message then says what to do). When every message carries the same advice (or none), the
    items show what is wrong only: the advice is in the group's line, once."""

    def __init__(self, severity, kind, findings):
        self.severity = severity
        self.kind = kind
        self.findings = findings
        parts = [split_advice(f.message) for f in findings]
        advices = set(a for _w, a in parts)
        self.strip = len(advices) == 1
        self.fix = (advices.pop() if self.strip else u'') or FIXES.get(kind, u'')
        self.lines = [(f, w if self.strip else f.message) for f, (w, _a) in zip(findings, parts)]


def grouped_lines(findings):
    """The audit's findings as text lines, grouped by kind as the map page groups them, errors first:
    one line per kind with the count and the fix, then its items."""
    if not findings:
        return [u'no findings: every section, server and version has one owner']
    parsed = [Finding(f, i) for i, f in enumerate(findings)]
    kinds = []
    for f in sorted(parsed, key=lambda f: _SEV_RANK.get(f.severity, 1)):
        if (f.severity, f.kind) not in kinds:
            kinds.append((f.severity, f.kind))
    out = []
    for severity, kind in kinds:
        group = Group(severity, kind, [f for f in parsed if (f.severity, f.kind) == (severity, kind)])
        count = len(group.findings)
        fix = (u': fix: %s' % group.fix) if group.fix else u''
        out.append(u'%s %s (%d finding%s)%s' % (severity.upper(), kind, count, u'' if count == 1 else u's', fix))
        out.extend(u'  - %s' % line for _f, line in group.lines)
    return out


class Release(object):
    def __init__(self, raw, index, flags):
        what = 'releases[%d]' % index
        raw = _dict(raw, '%s', what)
        self.name = text(raw.get('name'))
        self.type = _opt(raw.get('type'))
        self.location = _opt(raw.get('location'))
        self.is_default = bool(raw.get('is_default'))
        self.global_url = _opt(raw.get('global_url'))
        self.package = _opt(raw.get('package'))
        self.updated = _opt(raw.get('updated'))
        self.severity = flags.get(self.name)
        self.findings = []
        self.anchor = None
        self.sections = []      # (id, label, hosts, moved_from)
        for i, s in enumerate(_list(raw.get('sections'), what + '.sections')):
            s = _dict(s, '%s.sections[%d]', what, i)
            data = s.get('data')
            label = data.get('name') if isinstance(data, dict) and set(data) == set(['name']) else data
            self.sections.append((text(s.get('id')), text(label if label != {} else None),
                                  [text(h) for h in _list(s.get('hosts'), '%s.sections[%d].hosts', what, i)],
                                  _opt(s.get('moved_from'))))
        self.servers = []       # (ip, hosts, [(service, version)], other data, moved_from)
        for i, s in enumerate(_list(raw.get('servers'), what + '.servers')):
            s = _dict(s, '%s.servers[%d]', what, i)
            services = _dict(s.get('services'), '%s.servers[%d].services', what, i)
            hosts = _list(s.get('hosts'), '%s.servers[%d].hosts', what, i)
            data = s.get('data')
            other = dict((k, v) for k, v in data.items() if k != 'services') if isinstance(data, dict) else data
            self.servers.append((text(s.get('ip')), [text(h) for h in hosts],
                                 sorted((text(k), text(v)) for k, v in services.items()),
                                 text(other or None), _opt(s.get('moved_from'))))
        self.servers.sort(key=lambda s: natural_key(s[0]))
        self.versions = []      # (name, routes_here, appended)
        for i, v in enumerate(_list(raw.get('versions'), what + '.versions')):
            v = _dict(v, '%s.versions[%d]', what, i)
            self.versions.append((text(v.get('name')), bool(v.get('routes_here')), bool(v.get('appended'))))
        self.versions.sort(key=lambda v: natural_key(v[0]))
        self.routed = 0         # versions of the whole map that route here

    def section_ids(self):
        return [s[0] for s in self.sections]

    def by_hosts(self):
        """[(hosts tuple, [section ids])] grouped by the CMDB hosts that hold them, hosts in order."""
        raw = {}
        for sid, _label, hosts, _moved in self.sections:
            raw.setdefault(tuple(hosts), []).append(sid)
        groups = {}
        for hosts, ids in raw.items():
            groups.setdefault(tuple(sorted(hosts, key=natural_key)), []).extend(ids)
        return sorted(groups.items(), key=lambda g: (not g[0], natural_key(g[0][0] if g[0] else '')))

    def moved_in(self):
        """{source release: [section ids or server ips]} of items a widen moved here."""
        out = {}
        for sid, _l, _h, moved in self.sections:
            if moved:
                out.setdefault(moved, []).append(sid)
        for ip, _h, _s, _o, moved in self.servers:
            if moved:
                out.setdefault(moved, []).append(ip)
        return sorted(out.items())

    def service_versions(self):
        """[(service, [(version, number of servers)])], the most common version first."""
        table = {}
        for _ip, _hosts, services, _o, _m in self.servers:
            for service, version in services:
                counts = table.setdefault(service, {})
                counts[version] = counts.get(version, 0) + 1
        return [(s, sorted(c.items(), key=lambda vc: (-vc[1], natural_key(vc[0])))) for s, c in sorted(table.items())]


def state_rank(state):
    """A state the list does not know is worse than any it knows: shown, never hidden as fine."""
    return STATE_RANK.get(state, len(STATES))


class Map(object):
    """The document checked and arranged once: releases in reading order, findings by severity,
    which names the findings flag, version routes grouped by target."""

    def __init__(self, doc):
        if not isinstance(doc, dict):
            raise RenderError('the release map must be an object (a dict), not %s' % type(doc).__name__)
        if doc.get('format') != FORMAT:
            raise RenderError('release map format %s is not supported: this renderer reads format %d'
                              % (cut(json.dumps(doc.get('format'), default=str), 40)[0], FORMAT))
        self.title = text(doc.get('title')) or u'(untitled game project)'
        self.generated = _opt(doc.get('generated'))
        self.zookeeper = _opt(doc.get('zookeeper'))
        self.default = _opt(doc.get('default_release'))
        findings = [Finding(f, i) for i, f in enumerate(_list(doc.get('findings'), 'findings'))]
        self.findings = sorted(findings, key=lambda f: (_SEV_RANK[f.severity], f.index))
        self.flag_release, self.flag_item = {}, {}
        for f in self.findings:
            for r in f.releases:
                _worse(self.flag_release, r, f.severity)
            for i in f.items:
                _worse(self.flag_item, i, f.severity)
        releases = [Release(r, i, self.flag_release) for i, r in enumerate(_list(doc.get('releases'), 'releases'))]
        # Reading order: the default release first, then production, gray, review, unregistered.
        releases.sort(key=lambda r: (not (r.is_default or r.name == self.default),
                                     _TYPE_RANK.get(r.type, len(TYPES)), natural_key(r.name)))
        self.releases = releases
        self.by_name = {}
        for i, r in enumerate(releases):
            r.anchor = u'release-%d' % i
            self.by_name.setdefault(r.name, r)
        for f in self.findings:
            for name in f.releases:
                if name in self.by_name:
                    self.by_name[name].findings.append(f)
        self.versions = []      # (name, routes_to, global_url, listed_by)
        for i, v in enumerate(_list(doc.get('versions'), 'versions')):
            v = _dict(v, 'versions[%d]', i)
            self.versions.append((text(v.get('name')), _opt(v.get('routes_to')), _opt(v.get('global_url')),
                                  [text(r) for r in _list(v.get('listed_by'), 'versions[%d].listed_by', i)]))
        self.versions.sort(key=lambda v: natural_key(v[0]))
        for v in self.versions:
            if v[1] in self.by_name:
                self.by_name[v[1]].routed += 1
        self.unowned = []       # (host, inner_ip, section ids)
        for i, h in enumerate(_list(doc.get('hosts_without_owner'), 'hosts_without_owner')):
            h = _dict(h, 'hosts_without_owner[%d]', i)
            self.unowned.append((text(h.get('host')), _opt(h.get('inner_ip')),
                                 [text(s) for s in _list(h.get('section_ids'), 'hosts_without_owner[%d].section_ids', i)]))
        self.sections = sum(len(r.sections) for r in releases)
        self.servers = sum(len(r.servers) for r in releases)
        self._status(_dict(doc.get('status'), 'status'))

    def _status(self, status):
        """The sync state of every section the status flow checked (its worst instance)."""
        self.has_status = bool(status)
        self.status_source = _opt(status.get('source'))
        self.state_counts = {}      # state -> instances
        self.section_state = {}     # section id -> worst state of its instances
        for i, inst in enumerate(_list(status.get('instances'), 'status.instances')):
            inst = _dict(inst, 'status.instances[%d]', i)
            state = text(inst.get('state')) or u'unknown'
            self.state_counts[state] = self.state_counts.get(state, 0) + 1
            sid = _opt(inst.get('section_id'))
            if sid is None:
                continue        # a per-host instance: counted, but it is no section tile
            known = self.section_state.get(sid)
            if known is None or state_rank(state) > state_rank(known):
                self.section_state[sid] = state

    def groups(self):
        """[Group] of the findings by kind: errors first, then in the order the audit gave them."""
        keys, by_key = [], {}
        for f in self.findings:
            key = (f.severity, f.kind)
            if key not in by_key:
                keys.append(key)
                by_key[key] = []
            by_key[key].append(f)
        return [Group(sev, kind, by_key[(sev, kind)]) for sev, kind in keys]

    def severity_counts(self):
        counts = dict((s, 0) for s in SEVERITIES)
        for f in self.findings:
            counts[f.severity] += 1
        return counts

    def routes(self):
        """[(target, global_url, [(first, last, count, marked)])]: versions grouped by the release
        they route to, each group's versions as runs of neighbours in version order."""
        keys, groups = [], {}
        for pos, (name, target, url, _listed) in enumerate(self.versions):
            key = (target, url)
            if key not in groups:
                keys.append(key)
                groups[key] = []
            runs = groups[key]
            marked = name in self.flag_item
            if runs and not marked and not runs[-1][3] and runs[-1][4] == pos - 1:
                runs[-1][1] = name
                runs[-1][2] += 1
                runs[-1][4] = pos
            else:
                runs.append([name, name, 1, marked, pos])
        order = dict((r.name, i) for i, r in enumerate(self.releases))
        keys.sort(key=lambda k: (k[0] is None, order.get(k[0], len(order)), natural_key(k[0] or ''), text(k[1])))
        return [(k[0], k[1], [tuple(r[:4]) for r in groups[k]]) for k in keys]
