# -*- coding: utf-8 -*-
"""The release-map page in a real browser: headless Chromium loads the page written by
_render.render_html, saves a screenshot and dumps the DOM; the page must load without a single
console message (it has no script, so any message is an error: a CSP violation, a blocked load,
a script that escaped escaping), the dumped DOM must have the page's structure, and it must show
every release name. At 1400x1000, the demo's map and a map of 50 releases x 200 sections show the
tile grid and every kind of finding with its fix on the first screen (measured in the browser).

Chromium is required (scripts/setup.sh installs Debian's `chromium`): without it these tests fail.
The screenshots are kept in .build/screenshots/ (paths printed with -s or in the report).
"""

import importlib.util
import os
import shutil

import yaml

import browser
import helpers
import modrun
from mapsample import HOSTILE_NAME, sample_document

from ansible_collections.gameops.elastic_release.plugins.module_utils._host import cmdb as _cmdb
from ansible_collections.gameops.elastic_release.plugins.module_utils._report import render as _render
from ansible_collections.gameops.elastic_release.plugins.modules import release_audit, zk_release_move, zk_release_node

SCREENSHOTS = os.path.join(helpers.BUILD, 'screenshots')


def _load(tmp_path, doc, name, window_size=(1400, 900)):
    page = tmp_path / ('%s.html' % name)
    page.write_text(_render.render_html(doc), encoding='utf-8')
    png = str(tmp_path / ('%s.png' % name))
    result = browser.render(str(page), screenshot=png, window_size=window_size)
    os.makedirs(SCREENSHOTS, exist_ok=True)
    kept = os.path.join(SCREENSHOTS, '%s.png' % name)
    shutil.copyfile(png, kept)
    print('screenshot: %s (copied to %s); page %s, %d bytes' % (png, kept, page, page.stat().st_size))
    return result, kept


def _check_loaded(result, doc, width, height, png):
    assert result.page_messages == [], 'the page logged:\n' + '\n'.join(result.page_messages)
    root, errors = browser.parse(result.dom)
    assert errors == [], errors
    assert root.find('title').text() == 'Release map: %s' % doc['title']
    assert [s.attrs.get('id') for s in root.find('main').find_all('section')][:4] == \
        ['overview', 'findings', 'releases', 'routes']
    assert browser.png_size(png) == (width, height)
    # not a blank page: a white 1400x900 PNG compresses to a few KB
    assert os.path.getsize(png) > 30000
    return root


def test_release_map_in_chromium_at_full_size(tmp_path):
    doc = sample_document(releases=50, sections=200, servers=20, versions=500, findings=True)
    result, png = _load(tmp_path, doc, 'release-map')
    root = _check_loaded(result, doc, 1400, 900, png)
    names = sorted(r['name'] for r in doc['releases'])
    # every release name in the releases table, in the SVG overview and as a detail card
    assert sorted(a.text() for a in root.find('section', id='releases').find_all('a', cls='rname')) == names
    assert sorted(g.attrs['data-release'] for g in root.find('svg').find_all('g', cls='block')
                  if g.attrs['data-release']) == names
    assert sorted(c.find('span', cls='rname').text() for c in root.find_all('details', cls='card')) == names
    # the findings panel names every kind of finding, errors first
    kinds = [g.attrs['data-kind'] for g in root.find('section', id='findings').find_all('div', cls='group')]
    assert sorted(kinds) == sorted(set(f['kind'] for f in doc['findings']))
    assert kinds[:2] == ['section_two_owners', 'version_two_releases']


def test_hostile_names_stay_text_in_chromium(tmp_path):
    """A name holding a <script> would log "xss" on the console if it ever ran, and an
    onerror handler would log "1": the page must stay silent and show the names as text."""
    doc = sample_document(releases=8, sections=30, servers=6, versions=40, findings=True, hostile=True)
    result, png = _load(tmp_path, doc, 'release-map-hostile', window_size=(1400, 1600))
    root = _check_loaded(result, doc, 1400, 1600, png)
    assert not root.find_all('script') and not root.find_all('img')
    shown = [a.text() for a in root.find('section', id='releases').find_all('a', cls='rname')]
    # the bidi override is shown as its code, so the name reads in its true order
    assert HOSTILE_NAME.replace(u'\u202e', u'\\u202e') in shown
    assert sorted(shown) == sorted(r['name'].replace(u'\u202e', u'\\u202e') for r in doc['releases'])


def test_the_error_check_sees_page_errors(tmp_path):
    """The check above is only worth something if a broken page fails it: a script error and a
    load the page's CSP blocks both show up as page messages."""
    page = tmp_path / 'broken.html'
    page.write_text('<!DOCTYPE html><html><head><meta charset="utf-8"><title>broken</title></head><body>'
                    '<p>broken</p><script>console.error("boom"); undefinedFunction();</script></body></html>',
                    encoding='utf-8')
    result = browser.render(str(page))
    assert any('boom' in line for line in result.page_messages), result.stderr[-3000:]
    assert any('undefinedFunction' in line for line in result.page_messages)
    blocked = tmp_path / 'blocked.html'
    blocked.write_text('<!DOCTYPE html><html><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" '
                       'content="%s"><title>b</title></head><body><img src="x.png"></body></html>' % _csp(),
                       encoding='utf-8')
    result = browser.render(str(blocked))
    assert any('Content Security Policy' in line for line in result.page_messages), result.stderr[-3000:]


# --- at a glance: what the first screen shows -------------------------------------------------

FOLD = 1000
MEASURED = ['svg.tiles', '#findings', '#findings .kindline', '#findings .group li', '#findings .cut']


def first_screen(doc, tmp_path, name):
    """Where Chromium draws the page at 1400x1000, as lines a person reads, and the problems: the
    tile grid and every kind of finding (its line with the count and the fix) must end above the
    fold, and no finding may be cut (its fix would be lost)."""
    page = tmp_path / ('%s.html' % name)
    page.write_text(_render.render_html(doc), encoding='utf-8')
    png = os.path.join(SCREENSHOTS, '%s.png' % name)
    os.makedirs(SCREENSHOTS, exist_ok=True)
    boxes = browser.layout(str(page), MEASURED, screenshot=png, window_size=(1400, FOLD))
    assert browser.png_size(png) == (1400, FOLD)
    tiles = boxes['svg.tiles'][0]
    # The fold is the screenshot's height; Chromium's own viewport (reported) is the window less its frame.
    report = ['%s at 1400x%d (screenshot %s; viewport %s):' % (name, FOLD, png, boxes['viewport']),
              '  tile grid: %d-%d px' % (tiles['top'], tiles['bottom'])]
    problems = []
    if tiles['bottom'] > FOLD:
        problems.append('the tile grid ends at %d px, below the first screen' % tiles['bottom'])
    for line in boxes['#findings .kindline']:
        report.append('  %4d-%4d px  %s' % (line['top'], line['bottom'], line['text'][:110]))
        if line['bottom'] > FOLD:
            problems.append('finding line "%s" ends at %d px, below the first screen' % (line['text'][:60], line['bottom']))
        if 'Fix:' not in line['text'] and 'each finding says what to do' not in line['text']:
            problems.append('finding line "%s" names no fix' % line['text'][:60])
    for cut in boxes['#findings .cut']:
        problems.append('a finding is cut: "%s"' % cut['text'])
    print('\n'.join(report))
    return boxes, report, problems


def _demo_module():
    spec = importlib.util.spec_from_file_location('demo', os.path.join(helpers.ROOT, 'scripts', 'demo.py'))
    demo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(demo)
    return demo


def demo_map_document(zk):
    """The map the demo draws (its step 7): the demo's releases published, gray1 widened by 1003 and
    1004, read by release_audit against the example inventory's registry and CMDB export."""
    demo = _demo_module()
    for release, extra in (('production', {'set_default': True}), ('gray1', {'append_versions_to_default': True}),
                           ('appstore_review', {'append_versions_to_default': True})):
        res = modrun.run(zk_release_node, dict(extra, hosts=zk.hosts, release=release, config=demo.CONFIGS[release]))
        assert res['changed'] is True, res
    res = modrun.run(zk_release_move, {'hosts': zk.hosts, 'destination': 'gray1', 'sections': ['1003', '1004']})
    assert res['changed'] is True, res
    with open(os.path.join(helpers.ROOT, 'inventory', 'group_vars', 'all.yml')) as f:
        registry = yaml.safe_load(f)['elastic_release_registry']
    path = os.path.join(helpers.ROOT, 'inventory', 'cmdb.yml')
    with open(path, 'rb') as f:
        _locations, hosts = _cmdb.parse_export(f.read(), path)
    res = modrun.run(release_audit, {'hosts': zk.hosts, 'registry': registry, 'cmdb_hosts': hosts, 'with_map': True,
                                     'title': 'mygame'})
    assert not res.get('failed'), res
    return res['map']


def test_the_demo_map_at_a_glance(zk, tmp_path):
    doc = demo_map_document(zk)
    # global-prod-01 and global-review-01 serve no sections: they are no "host without owner"
    assert doc['hosts_without_owner'] == []
    boxes, report, problems = first_screen(doc, tmp_path, 'release-map-demo-1400x1000')
    assert problems == [], '\n'.join(problems + report)
    # the demo's map has no error: gray1 names the build its widened sections start
    assert not [f for f in doc['findings'] if f['severity'] == 'error'], doc['findings']
    assert len(boxes['svg.tiles']) == 1


def test_fifty_releases_of_two_hundred_sections_at_a_glance(tmp_path):
    doc = sample_document(releases=50, sections=200, servers=20, versions=500, findings=True)
    boxes, report, problems = first_screen(doc, tmp_path, 'release-map-50x200-1400x1000')
    assert problems == [], '\n'.join(problems + report)
    assert len(boxes['#findings .kindline']) == len(set(f['kind'] for f in doc['findings']))


def _csp():
    from ansible_collections.gameops.elastic_release.plugins.module_utils._report.render_html import CSP
    return CSP
