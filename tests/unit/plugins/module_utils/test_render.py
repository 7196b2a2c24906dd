# -*- coding: utf-8 -*-
"""The release-map renderings (_render): page structure, escaping of hostile values, ranges,
highlighted findings, Markdown table shape, empty maps, refused documents. Pure: no browser here
(tests/integration/test_render_browser.py loads the page in Chromium)."""

import copy
import re

import pytest

import browser
from mapsample import HOSTILE_NAME, sample_document

from ansible_collections.gameops.elastic_release.plugins.module_utils._report import render as _render
from ansible_collections.gameops.elastic_release.plugins.module_utils._report.render_model import ranges

BIDI = u'\u202e'
LONG = u'L' * 100000
HOSTILE = [
    u'<script>console.error("pwned")</script>',
    u'"><img src=x onerror=alert(1)>',
    u"' onmouseover='alert(1)",
    u'a|b\nc\r\nd',
    u'x' + BIDI + u'gnp.exe',
    u'zero\u200bwidth\u2066isolate\u2069',
    u'nul\x00bell\x07',
    u'lone \ud800 surrogate',
    u'[link](http://evil.example/) ![img](http://evil.example/x.png) <http://evil.example>',
    u'`code` *em* _em_ \\ backslash',
    u'&amp; &lt;already&gt; &#x3c;',
    LONG,
]


def small(**kw):
    args = dict(releases=6, sections=20, servers=4, versions=30)
    args.update(kw)
    return sample_document(**args)


def html_tree(doc):
    page = _render.render_html(doc)
    root, errors = browser.parse(page)
    assert errors == [], errors
    return page, root


def hostile_doc():
    """Every hostile value in every place the document has text."""
    doc = small(findings=True)
    rel = doc['releases'][1]
    for n, value in enumerate(HOSTILE):
        doc['releases'].append({
            'name': value, 'type': value, 'location': value, 'is_default': False, 'global_url': value,
            'package': value, 'updated': value,
            'sections': [{'id': value, 'data': {'name': value, value: [value]}, 'hosts': [value], 'moved_from': value}],
            'servers': [{'ip': value, 'hosts': [value], 'services': {value: value}, 'data': {'k': value},
                         'moved_from': value}],
            'versions': [{'name': value, 'routes_here': True, 'appended': False}]})
        doc['versions'].append({'name': value, 'routes_to': value, 'global_url': value, 'listed_by': [value]})
        doc['findings'].append({'severity': 'error', 'kind': value, 'items': [value], 'releases': [value],
                                'message': value})
        doc['hosts_without_owner'].append({'host': value, 'inner_ip': value, 'section_ids': [value]})
        rel['sections'].append({'id': 'h%d' % n, 'data': {'name': value}, 'hosts': [], 'moved_from': None})
    doc['title'] = HOSTILE[0]
    doc['zookeeper'] = HOSTILE[1]
    doc['generated'] = HOSTILE[4]
    return doc


# --- ranges -------------------------------------------------------------------------------------

def test_consecutive_section_ids_become_ranges():
    assert _render.format_ranges([str(i) for i in range(1001, 1201)]) == '1001-1200'
    assert _render.format_ranges(['1005', '1001', '1002', '1003', 1010, '1011']) == '1001-1003, 1005, 1010, 1011'
    assert _render.format_ranges([]) == ''


def test_ranges_keep_non_numeric_ids_apart_and_drop_duplicates():
    # '0012' is not the number 12 as a znode name: it stays itself, after the numbers.
    assert _render.format_ranges(['12', '13', '14', '0012', 'S10', 'S9', '13']) == '12-14, 0012, S9, S10'


def test_a_marked_id_is_its_own_run():
    runs = ranges(['1001', '1002', '1003', '1004', '1005'], marked={'1003'})
    assert runs == [('1001', '1002', 2, False), ('1003', '1003', 1, True), ('1004', '1005', 2, False)]


def test_version_runs_are_neighbours_not_numeric_ranges():
    doc = small(releases=2, versions=12)
    md = _render.render_markdown(doc)
    # 1.0.0 .. 1.0.9 are neighbours in version order: shown with an ellipsis and a count, never "1.0.0-1.0.9".
    assert u'1.0.0 \u2026 1.0.9 (10)' in md
    assert '1.0.0-' not in md


# --- HTML structure -----------------------------------------------------------------------------

def test_page_structure():
    doc = small()
    page, root = html_tree(doc)
    assert root.doctype.lower() == 'doctype html'
    assert page.startswith('<!DOCTYPE html>')
    csp = root.find('meta', **{'http-equiv': 'Content-Security-Policy'})
    assert csp is not None and "default-src 'none'" in csp.attrs['content'] and 'script-src' not in csp.attrs['content']
    sections = [s.attrs.get('id') for s in root.find_all('section')]
    # the picture first, the findings second: both on the first screen (test_render_browser.py measures it)
    assert sections == ['overview', 'findings', 'releases', 'routes', 'unowned', 'details']
    svg = root.find('svg')
    blocks = [g.attrs['data-release'] for g in svg.find_all('g', cls='block')]
    # one block of tiles per release, the default release first; then the CMDB sections no release owns
    table = [a.text() for a in root.find('section', id='releases').find_all('a', cls='rname')]
    assert blocks == table + [''] and blocks[0] == 'production'
    cards = root.find_all('details', cls='card')
    assert len(cards) == len(doc['releases'])
    first_row = root.find('section', id='releases').find('tbody').find('tr')
    assert first_row.find('a', cls='rname').text() == 'production' and 'default' in first_row.text()
    assert 'default' in cards[0].classes


def test_page_is_self_contained():
    page, root = html_tree(small())
    assert not root.find_all('script') and not root.find_all('link') and not root.find_all('img')
    assert not root.find_all('iframe') and not root.find_all('object')
    for node in root.iter():
        for name, value in node.attrs.items():
            assert not name.startswith('on'), (node.tag, name)
            if name in ('href', 'src', 'xlink:href', 'action'):
                assert value.startswith('#'), (node.tag, name, value)
    assert 'url(' not in page and '@import' not in page


def test_every_release_name_in_both_renderings():
    doc = small(releases=12)
    _page, root = html_tree(doc)
    names = [r['name'] for r in doc['releases']]
    table = [a.text() for a in root.find('section', id='releases').find_all('a', cls='rname')]
    assert sorted(table) == sorted(names)
    assert sorted(g.attrs['data-release'] for g in root.find_all('g', cls='block') if g.attrs['data-release']) \
        == sorted(names)
    md = _render.render_markdown(doc)
    rows = _md_tables(md)['release']
    assert sorted(r[0].strip('*') for r in rows) == sorted(names)


def test_sections_servers_versions_and_routes_shown():
    doc = small(releases=3, sections=30, servers=3, versions=20, findings=False)
    _page, root = html_tree(doc)
    production = root.find('details', id='release-0')
    text = production.text()
    # production's sections as ranges (the widen took 1003-1005 to gray1), per CMDB host
    assert '1001, 1002, 1006-1015, 1026-1040' in root.find('section', id='releases').text()
    assert 'gs-production-01' in text and '1001, 1002, 1006-1010' in text
    # servers with their hosts and running builds
    assert '10.1.0.11' in text and 'gameserver dev.190122.01' in text
    # gray1 shows what the widen moved in and from where
    gray = root.find('details', id='release-1')
    assert 'Moved here by a widen: from production: 1003-1005, 10.1.0.13' in gray.text()
    # routes: every target with its global_url and count
    routes = root.find('section', id='routes').find('tbody')
    rows = [[td.text() for td in tr.find_all('td')] for tr in routes.find_all('tr')]
    assert [r[0].split()[0] for r in rows] == ['production', 'gray1', 'appstore_review']
    assert rows[0][1] == 'http://10.1.0.5:9000' and rows[0][2] == '16'
    assert sum(int(r[2]) for r in rows) == 20


# --- findings -----------------------------------------------------------------------------------

def test_findings_panel_on_top_and_items_highlighted_where_they_appear():
    doc = small(servers=6)
    kinds = [f['kind'] for f in doc['findings']]
    _page, root = html_tree(doc)
    main = root.find('main')
    second = [c for c in main.children if not isinstance(c, str)][1]
    assert second.attrs['id'] == 'findings'
    assert [g.find('code', cls='kind').text() for g in second.find_all('div', cls='group')] == \
        [k for sev in ('error', 'warning', 'info') for f, k in zip(doc['findings'], kinds) if f['severity'] == sev]
    two_owners = doc['findings'][0]
    assert two_owners['kind'] == 'section_two_owners'
    section = two_owners['items'][0]
    for name in two_owners['releases']:
        r = _release_node(root, doc, name)
        # the release: its table row and its card carry the error; its tile of the section is outlined in red
        assert 'sev-error' in r['row'].classes
        assert any(rect.attrs.get('stroke') == '#b91c1c' and section in rect.text()
                   for rect in r['block'].find_all('rect'))
        assert 'sev-error' in r['card'].classes and 'open' in r['card'].attrs
        # the section, wherever the release lists it
        marks = [n.text() for n in r['card'].find_all('span', cls='hl-error')]
        assert section in marks
        assert section in [n.text() for n in r['row'].find_all('span', cls='hl-error')]
    # a server named by a warning: its row in the card
    mixed = [f for f in doc['findings'] if f['kind'] == 'mixed_service_builds'][0]
    row = [tr for tr in root.find_all('tr', cls='sev-warning') if tr.find('td').text() == mixed['items'][0]]
    assert row
    # a version routing nowhere: a red route row, and the first line of the routing beside the tiles
    nowhere = [f for f in doc['findings'] if f['kind'] == 'version_two_releases'][0]['items'][0]
    bad = [tr for tr in root.find('section', id='routes').find('tbody').find_all('tr') if 'nowhere' in tr.text()]
    assert len(bad) == 1 and 'sev-error' in bad[0].classes and nowhere in bad[0].text()
    first_route = root.find('svg').find('g', cls='route')
    assert first_route.attrs['data-release'] == '' and nowhere in first_route.find('title').text()


def test_no_findings_says_so():
    page, root = html_tree(small(findings=False))
    panel = root.find('section', id='findings')
    assert 'none' in panel.classes and 'No findings' in panel.text()
    assert not root.find_all(cls='hl-error') and not root.find_all(cls='hl-warning')
    assert '0 errors' not in page
    assert '## Findings' not in _render.render_markdown(small(findings=False))


def test_findings_about_unknown_releases_or_severities_still_render():
    doc = small(findings=False)
    doc['findings'] = [{'severity': 'fatal', 'kind': 'k', 'items': [], 'releases': ['ghost'], 'message': 'm'}]
    _page, root = html_tree(doc)
    group = root.find('section', id='findings').find('div', cls='group')
    assert 'sev-warning' in group.classes                   # unknown severity: shown as a warning
    assert group.find('span', cls='bad').text() == 'ghost'  # not in the map: no link, marked


def _not_startable(section):
    return {'severity': 'error', 'kind': 'not_startable', 'items': [section], 'releases': ['gray1'],
            'message': 'host gs-prod-02 cannot start gameserver for section %s: no version of gameserver to start: '
                       'read /releases/gray1/sections/%s (holds {"name": "S3"}, no "services"). Add {"services": '
                       '{"gameserver": "<version>"}} to the server node' % (section, section)}


def test_findings_grouped_by_kind_with_the_fix_once():
    """Two findings of one kind with the same advice: one line with the count and the fix, the two
    findings under it saying what is wrong, without repeating the fix. A kind whose messages carry
    no advice takes the fix written for it; a kind without either says each finding says what to do."""
    doc = small(releases=3, findings=False)
    doc['findings'] = [_not_startable('1003'), _not_startable('1004'),
                       {'severity': 'warning', 'kind': 'server_not_in_cmdb', 'items': ['10.9.9.9'], 'releases': ['gray1'],
                        'message': 'server 10.9.9.9 (release gray1) is no host of the CMDB inventory'},
                       {'severity': 'info', 'kind': 'brand_new_kind', 'items': [], 'releases': [],
                        'message': 'something new. Do this about it'},
                       {'severity': 'info', 'kind': 'brand_new_kind', 'items': [], 'releases': [],
                        'message': 'something else. Do that about it'}]
    _page, root = html_tree(doc)
    groups = root.find('section', id='findings').find_all('div', cls='group')
    assert [g.attrs['data-kind'] for g in groups] == ['not_startable', 'server_not_in_cmdb', 'brand_new_kind']
    line = groups[0].find('div', cls='kindline').text()
    assert '2 findings' in line and 'Fix: Add {"services": {"gameserver": "<version>"}} to the server node' in line
    items = [li.text() for li in groups[0].find_all('li')]
    assert len(items) == 2 and all('Add {' not in t for t in items)
    assert items[0].startswith('host gs-prod-02 cannot start gameserver for section 1003')
    assert 'Fix: add the host to the CMDB export' in groups[1].text() and '1 finding ' in groups[1].text()
    # messages with different advice: each shown whole
    assert 'each finding says what to do' in groups[2].text()
    assert [li.text() for li in groups[2].find_all('li')] == [
        'something new. Do this about it ', 'something else. Do that about it ']
    md = _md_tables(_render.render_markdown(doc))
    assert [(r[1], r[2]) for r in md['severity']] == [('not_startable', '2'), ('server_not_in_cmdb', '1'),
                                                      ('brand_new_kind', '2')]
    assert md['severity'][0][3].startswith('Add {"services"') and len(md['kind']) == 5


def test_counts_are_written_in_correct_plurals():
    doc = small(releases=2, sections=1, servers=1, versions=1, findings=False)
    doc['findings'] = [{'severity': 'warning', 'kind': 'k', 'items': [], 'releases': [], 'message': 'm'}]
    page = _render.render_html(doc)
    md = _render.render_markdown(doc)
    for wrong in ('1 sections', '1 warnings', '1 errors', '1 findings', '1 releases', '1 servers', '1 client versions',
                  '1 kinds'):
        assert wrong not in page and wrong not in md, wrong
    assert '1 warning' in page and '0 errors' in page and '1 finding' in page and '1 warning' in md


def _status(*instances):
    keys = ('host', 'inner_ip', 'service', 'per', 'section_id', 'owner', 'expected_build', 'running_release',
            'running_build', 'pid', 'state')
    return {'flow': 'status', 'instances': [dict(zip(keys, i)) for i in instances]}


def _tile_fills(root, release):
    block = [g for g in root.find('svg').find_all('g', cls='block') if g.attrs['data-release'] == release][0]
    return dict((r.find('title').text().split(' \u00b7 ')[0][len('section '):], r.attrs['fill'])
                for r in block.find_all('rect') if r.find('title') is not None and 'stroke' not in r.attrs)


def test_status_colours_each_section_by_its_worst_instance():
    from ansible_collections.gameops.elastic_release.plugins.module_utils._report.render_tiles import STATE_COLOUR, NO_INSTANCE
    doc = small(releases=2, sections=4, servers=1, versions=4, findings=False)
    status = _status(('gs-1', '10.1.0.11', 'gameserver', 'section', '1001', 'production', 'b1', 'production', 'b1', 1,
                      'in_sync'),
                     ('gs-1', '10.1.0.11', 'battle', 'section', '1001', 'production', 'b1', 'production', 'b0', 2,
                      'wrong_build'),
                     ('gs-1', '10.1.0.11', 'gameserver', 'section', '1002', 'production', 'b1', None, None, None,
                      'not_running'),
                     ('gs-1', '10.1.0.11', 'gameserver', 'section', '2001', 'gray1', 'b1', 'gray1', 'b1', 3, 'in_sync'),
                     ('global-1', '10.1.0.5', 'global', 'host', None, None, None, None, None, None, 'not_owned'))
    page, root = html_tree(_render.with_status(doc, status, '/tmp/status.json'))
    fills = _tile_fills(root, 'production')
    assert fills['1001'] == STATE_COLOUR['wrong_build']         # one instance in sync, one not: the worse
    assert fills['1002'] == STATE_COLOUR['not_running']
    assert fills['1004'] == NO_INSTANCE                         # the status checked no instance of it
    assert _tile_fills(root, 'gray1')['2001'] == STATE_COLOUR['in_sync']
    assert 'coloured by sync state' in root.find('section', id='overview').find('h2').text()
    assert '/tmp/status.json' in root.find('header').text() and '2 in sync, 3 not' in root.find('header').text()


@pytest.mark.parametrize('status,message', [
    ({'flow': 'status'}, 'the status summary /x/s.json has no "instances" list: give the summary file that '
                         'playbooks/status.yml -e summary_file=<path> writes'),
    ('{"instances": [', 'the status summary /x/s.json is not JSON'),
    ({'instances': ['x']}, 'status.instances[0] must be an object, not str'),
])
def test_a_status_that_is_no_status_summary_is_refused_by_name(status, message):
    with pytest.raises(_render.RenderError) as exc:
        _render.with_status(small(releases=2), status, '/x/s.json')
    assert message in str(exc.value)


# --- escaping -----------------------------------------------------------------------------------

def test_hostile_values_are_text_in_html():
    doc = hostile_doc()
    page, root = html_tree(doc)
    lower = page.lower()
    assert '<script' not in lower and '<img' not in lower
    for node in root.iter():
        assert not any(a.startswith('on') for a in node.attrs), (node.tag, node.attrs)
        assert node.tag not in ('script', 'img', 'iframe', 'object', 'embed', 'link'), node.tag
    # invisible and bidi characters never reach the page raw; they show as a visible code
    for char in (BIDI, u'\u200b', u'\u2066', u'\x00', u'\x07'):
        assert char not in page
    assert '\\u202e' in page and '\\x00' in page
    # a lone surrogate cannot break the UTF-8 encoding of the page
    page.encode('utf-8')
    # hostile release names are shown as text where release names appear
    names = [a.text() for a in root.find('section', id='releases').find_all('a', cls='rname')]
    assert u'<script>console.error("pwned")</script>' in names
    assert u'"><img src=x onerror=alert(1)>' in names
    # the 100,000-character value is cut, and says so (a finding's message at 1,000 characters, so that
    # its advice is never cut; other values much earlier); the page stays small
    assert 'L' * 1001 not in page and re.search(r'\u2026 99[0-9]{3} more characters', page)
    assert len(page.encode('utf-8')) < 600000


def test_hostile_values_cannot_break_svg_or_attributes():
    _page, root = html_tree(hostile_doc())
    blocks = root.find('svg').find_all('g', cls='block')
    names = set(b.attrs['data-release'] for b in blocks)
    assert u'"><img src=x onerror=alert(1)>' in names
    # a quote inside a name never opens a new attribute
    for node in root.iter():
        assert set(node.attrs) <= set(['class', 'id', 'href', 'title', 'data-release', 'open', 'lang', 'charset',
                                       'http-equiv', 'content', 'name', 'xmlns', 'viewbox', 'width', 'height', 'role',
                                       'aria-label', 'x', 'y', 'rx', 'fill', 'stroke', 'stroke-width',
                                       'stroke-dasharray', 'font-size', 'font-weight', 'text-anchor', 'cx', 'cy', 'r',
                                       'd', 'data-kind', 'data-cell']), (node.tag, node.attrs)


def test_hostile_values_in_markdown():
    md = _render.render_markdown(hostile_doc())
    tables = _md_tables(md)       # asserts every row has its header's number of cells
    assert tables['release'] and tables['routes to'] and tables['severity']
    assert not re.search(r'(?<!\\)<', md)                     # no raw HTML
    assert not re.search(r'(?<!\\)\[link(?<!\\)\]', md)      # no link or image syntax
    assert BIDI not in md and '\\u202e' in md
    assert '\x00' not in md and '\r' not in md
    assert 'L' * 401 not in md and '(+99840 characters)' in md and '(+99600 characters)' in md


def test_markdown_escapes_pipes_and_newlines_in_cells():
    doc = small(releases=2, findings=False)
    doc['releases'][1]['global_url'] = 'http://a|b\nc'
    doc['findings'] = [{'severity': 'error', 'kind': 'k|k', 'items': ['i\ni'], 'releases': ['gray1'],
                        'message': 'line one\nline two | three'}]
    md = _render.render_markdown(doc)
    tables = _md_tables(md)
    assert tables['release'][1][6] == 'http://a\\|b\\x0ac'
    assert tables['kind'][0][3] == 'line one\\x0aline two \\| three'


# --- Markdown shape -----------------------------------------------------------------------------

def test_markdown_tables():
    doc = small(releases=6, sections=20, servers=4, versions=30)
    md = _render.render_markdown(doc)
    tables = _md_tables(md)
    releases = tables['release']
    assert [r[0] for r in releases][0] == '**production**'    # the default first; bold: named by an error
    production = releases[0]
    assert production[1:3] == ['production', 'yes']
    # the widen took 1003-1005; 1030 is also owned by another release (an error): bold, its own run
    assert production[3] == '1001, 1002, 1006-1010, 1021-1029, **1030** (17)'
    assert production[4] == '3'
    assert [r[2] for r in releases].count('yes') == 1
    routes = tables['routes to']
    assert sum(int(r[3]) for r in routes) == 30
    assert routes[-1][0] == '**nowhere**'
    order = ['error', 'warning', 'info']
    assert [r[1] for r in tables['severity']] == [f['kind'] for f in sorted(doc['findings'],
                                                                            key=lambda f: order.index(f['severity']))]
    assert tables['host'][0][0] == 'gs-spare-01'


def test_markdown_stays_compact_at_full_size():
    md = _render.render_markdown(sample_document())
    assert len(_md_tables(md)['release']) == 50
    assert max(len(line) for line in md.splitlines()) < 2000
    assert len(md.encode('utf-8')) < 30000


# --- empty maps and bad documents ---------------------------------------------------------------

def test_empty_map_renders_a_clear_sentence():
    doc = {'format': 1, 'title': 'mygame', 'generated': None, 'zookeeper': '127.0.0.1:2181/mygame',
           'default_release': None, 'releases': [], 'versions': [], 'hosts_without_owner': [], 'findings': []}
    page, root = html_tree(doc)
    assert 'No releases: nothing is published under /releases of mygame.' in root.find('section', id='releases').text()
    assert root.find('svg') is None and not root.find_all('details', cls='card')
    assert 'none' in root.find('header').text()
    md = _render.render_markdown(doc)
    assert 'No releases: nothing is published under /releases of mygame.' in md
    assert '| release |' not in md
    # the smallest document: only the format
    assert 'No releases' in _render.render_html({'format': 1})
    assert 'No releases' in _render.render_markdown({'format': 1})


@pytest.mark.parametrize('doc,message', [
    ([], 'the release map must be an object'),
    ({}, 'release map format null is not supported'),
    ({'format': 2}, 'release map format 2 is not supported'),
    ({'format': 1, 'releases': {}}, 'releases must be a list, not dict'),
    ({'format': 1, 'releases': ['x']}, 'releases[0] must be an object, not str'),
    ({'format': 1, 'releases': [{'name': 'a', 'sections': 'x'}]}, 'releases[0].sections must be a list, not str'),
    ({'format': 1, 'releases': [{'name': 'a', 'servers': [{'services': []}]}]},
     'releases[0].servers[0].services must be an object, not list'),
    ({'format': 1, 'findings': [{'items': 'abc'}]}, 'findings[0].items must be a list, not str'),
])
def test_documents_it_cannot_read_are_refused_by_name(doc, message):
    for render in (_render.render_html, _render.render_markdown):
        with pytest.raises(_render.RenderError) as exc:
            render(copy.deepcopy(doc))
        assert message in str(exc.value)


def test_default_release_missing_from_the_map_is_visible():
    doc = small(releases=2, findings=False)
    doc['default_release'] = None
    for r in doc['releases']:
        r['is_default'] = False
    _page, root = html_tree(doc)
    assert '/default_release is missing or unreadable' in root.find('header').text()
    assert not root.find_all('span', cls='pill')


def test_full_size_page_stays_reasonable():
    doc = sample_document()
    page, root = html_tree(doc)
    assert len(root.find_all('details', cls='card')) == 50
    assert len(page.encode('utf-8')) < 2000000
    # long lists fold away: the 500 versions and every release's per-section rows are behind <details>
    routes = root.find('section', id='routes')
    assert routes.find('details', cls='sub').find('summary').text() == 'All 500 client versions'
    assert all(d.find('details', cls='sub') is not None for d in root.find_all('details', cls='card'))


def test_sample_document_shape():
    doc = sample_document(releases=50, sections=200, servers=20, versions=500)
    assert len(doc['releases']) == 50 and len(doc['versions']) == 500
    assert all(len(r['servers']) in (19, 20, 21) for r in doc['releases'])
    assert sum(1 for r in doc['releases'] if r['is_default']) == 1
    assert len(set(r['name'] for r in doc['releases'])) == 50
    assert sample_document(hostile=True)['releases'][1]['name'] == HOSTILE_NAME


# --- helpers ------------------------------------------------------------------------------------

_CELL_SPLIT = re.compile(r'(?<!\\)\|')


def _md_tables(md):
    """{first header cell: [rows as lists of cells]}; every row must have the header's cell count."""
    tables = {}
    lines = md.splitlines()
    i = 0
    while i < len(lines):
        if lines[i].startswith('| ') and i + 1 < len(lines) and lines[i + 1].startswith('| ---'):
            header = [c.strip() for c in _CELL_SPLIT.split(lines[i])[1:-1]]
            rows = []
            i += 2
            while i < len(lines) and lines[i].startswith('|'):
                cells = [c.strip() for c in _CELL_SPLIT.split(lines[i])[1:-1]]
                assert len(cells) == len(header), (header, lines[i])
                rows.append(cells)
                i += 1
            tables[header[0]] = rows
        else:
            i += 1
    return tables


def _release_node(root, doc, name):
    row = [tr for tr in root.find('section', id='releases').find('tbody').find_all('tr')
           if tr.find('a', cls='rname').text() == name][0]
    anchor = row.find('a', cls='rname').attrs['href'][1:]
    block = [g for g in root.find('svg').find_all('g', cls='block') if g.attrs['data-release'] == name][0]
    return {'row': row, 'card': root.find('details', id=anchor), 'block': block}
