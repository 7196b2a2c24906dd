# -*- coding: utf-8 -*-
"""The release-map page in a real browser: headless Chromium loads the page written by
_render.render_html, saves a screenshot and dumps the DOM; the page must load without a single
console message (it has no script, so any message is an error: a CSP violation, a blocked load,
a script that escaped escaping), the dumped DOM must have the page's structure, and it must show
every release name.

Chromium is required (scripts/setup.sh installs Debian's `chromium`): without it these tests fail.
The screenshots are kept in .build/screenshots/ (paths printed with -s or in the report).
"""

import os
import shutil

import browser
import helpers
from mapsample import HOSTILE_NAME, sample_document

from ansible_collections.gameops.elastic_release.plugins.module_utils._report import render as _render

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
        ['findings', 'overview', 'releases', 'routes']
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
    assert sorted(g.attrs['data-release'] for g in root.find('svg').find_all('g', cls='rbox')) == names
    assert sorted(c.find('span', cls='rname').text() for c in root.find_all('details', cls='card')) == names
    # the findings panel names every finding, errors first
    kinds = [li.find('code', cls='kind').text() for li in root.find('section', id='findings').find_all('li')]
    assert sorted(kinds) == sorted(f['kind'] for f in doc['findings'])
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


def _csp():
    from ansible_collections.gameops.elastic_release.plugins.module_utils._report.render_html import CSP
    return CSP
