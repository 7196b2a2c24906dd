# -*- coding: utf-8 -*-
"""A real browser for tests: headless Chromium (Debian's `chromium` package) renders a page to a
PNG and dumps its DOM; plus a small HTML tree parser to check what the DOM holds.

    result = browser.render('/path/page.html', screenshot='/tmp/out.png')
    result.page_messages        # console lines the page produced (errors, CSP violations, ...)
    tree = browser.parse(result.dom)
    tree.find_all('details', cls='card')
    boxes = browser.layout('/path/page.html', ['svg.tiles', '#findings .kindline'], screenshot='/tmp/out.png')
    boxes['svg.tiles'][0]['bottom']   # where each element is drawn, in CSS pixels from the top of the page

Chromium is required: `find_chromium()` raises ChromiumMissing (a test error, never a skip) with the
install command. setup.sh installs it.
"""

from __future__ import absolute_import, division, print_function

import os
import re
import shutil
import subprocess
import tempfile
from html.parser import HTMLParser

CANDIDATES = ('chromium', 'chromium-browser', 'google-chrome')
# Flags for a quiet, offline, reproducible run as root in a container: no sandbox (root), no GPU,
# nothing that phones home, no first-run UI, a throw-away profile.
BASE_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
              '--disable-component-update', '--disable-sync', '--no-first-run', '--hide-scrollbars',
              '--enable-logging=stderr', '--v=0']
# What the page itself says on the console (Chromium prefixes it with CONSOLE), plus failed loads.
# Chromium's own noise (D-Bus, GPU probing, the Debian wrapper's shell warning) is not the page's.
PAGE_LINE = re.compile(r':CONSOLE[:(]|Failed to load resource|net::ERR_|Uncaught ')
VOID = frozenset(['area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'link', 'meta', 'param', 'source',
                  'track', 'wbr'])
# Elements that end an open <p> in the HTML parsing algorithm: inside a <p> they silently break
# the page's structure, so the checker reports them.
CLOSES_P = frozenset(['address', 'article', 'aside', 'blockquote', 'details', 'div', 'dl', 'fieldset', 'figure',
                      'footer', 'form', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'header', 'hr', 'main', 'nav', 'ol',
                      'p', 'pre', 'section', 'table', 'ul'])


class ChromiumMissing(AssertionError):
    """No Chromium on PATH: the browser tests fail (they never skip)."""


def find_chromium():
    for name in CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    raise ChromiumMissing('no headless browser found (looked for %s on PATH): install Debian\'s chromium with '
                          '`apt-get install -y --no-install-recommends chromium` (scripts/setup.sh does)'
                          % ', '.join(CANDIDATES))


class Rendered(object):
    def __init__(self, command, returncode, dom, stderr, screenshot):
        self.command = command
        self.returncode = returncode
        self.dom = dom
        self.stderr = stderr
        self.screenshot = screenshot
        self.page_messages = [line for line in stderr.splitlines() if PAGE_LINE.search(line)]


def render(path, screenshot=None, window_size=(1400, 900), timeout=180, extra_args=()):
    """Load a local file in headless Chromium; dump its DOM and, with `screenshot`, save a PNG.

    One browser run does both. Raises AssertionError when Chromium fails or writes no screenshot.
    """
    chromium = find_chromium()
    profile = tempfile.mkdtemp(prefix='chromium-profile-')
    try:
        cmd = [chromium] + BASE_FLAGS + ['--user-data-dir=%s' % profile,
                                         '--window-size=%d,%d' % tuple(window_size)]
        if screenshot:
            if os.path.exists(screenshot):
                os.unlink(screenshot)
            cmd.append('--screenshot=%s' % screenshot)
        cmd += list(extra_args) + ['--dump-dom', 'file://' + os.path.abspath(path)]
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout, check=False)
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    stderr = proc.stderr.decode('utf-8', 'replace')
    if proc.returncode != 0:
        raise AssertionError('chromium exited %d: %s\n%s' % (proc.returncode, ' '.join(cmd), stderr[-4000:]))
    if screenshot and not (os.path.exists(screenshot) and os.path.getsize(screenshot) > 0):
        raise AssertionError('chromium wrote no screenshot to %s:\n%s' % (screenshot, stderr[-4000:]))
    return Rendered(cmd, proc.returncode, proc.stdout.decode('utf-8', 'replace'), stderr, screenshot)


# Measures where elements are drawn: appended to a copy of the page (whose Content-Security-Policy
# would forbid it), it writes the boxes into a hidden element that --dump-dom then carries out.
_MEASURE = u"""<script>(function () {
  var out = {viewport: [window.innerWidth, window.innerHeight], boxes: {}};
  SELECTORS.forEach(function (sel) {
    out.boxes[sel] = Array.prototype.map.call(document.querySelectorAll(sel), function (e) {
      var r = e.getBoundingClientRect();
      return {top: Math.round(r.top + window.scrollY), bottom: Math.round(r.bottom + window.scrollY),
              left: Math.round(r.left), right: Math.round(r.right), text: e.textContent.slice(0, 160)};
    });
  });
  var pre = document.createElement('pre');
  pre.id = 'measured-layout';
  pre.hidden = true;
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
})();</script>"""


def layout(path, selectors, screenshot=None, window_size=(1400, 1000)):
    """{selector: [{top, bottom, left, right, text}]} of the page as Chromium lays it out at
    `window_size`, plus 'viewport': [width, height]. The page is measured through a copy that
    carries a measuring script (and not the page's CSP); nothing else differs, so a screenshot
    taken in the same run shows the same layout."""
    import json
    with open(path, encoding='utf-8') as f:
        page = f.read()
    page = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', '', page, count=1)
    script = _MEASURE.replace('SELECTORS', json.dumps(list(selectors)))
    measured = path + '.measured.html'
    with open(measured, 'w', encoding='utf-8') as f:
        f.write(page.replace('</body>', script + '</body>', 1))
    result = render(measured, screenshot=screenshot, window_size=window_size)
    root, _errors = parse(result.dom)
    node = root.find('pre', id='measured-layout')
    if node is None:
        raise AssertionError('the measuring script wrote nothing (chromium stderr):\n' + result.stderr[-3000:])
    data = json.loads(node.text())
    out = dict(data['boxes'])
    out['viewport'] = data['viewport']
    return out


def png_size(path):
    """(width, height) read from a PNG header."""
    with open(path, 'rb') as f:
        head = f.read(24)
    if head[:8] != b'\x89PNG\r\n\x1a\n':
        raise AssertionError('%s is not a PNG' % path)
    return int.from_bytes(head[16:20], 'big'), int.from_bytes(head[20:24], 'big')


# --- a small HTML tree ---------------------------------------------------------------------------

class Node(object):
    def __init__(self, tag, attrs, parent):
        self.tag = tag
        self.attrs = dict(attrs)
        self.parent = parent
        self.children = []      # Nodes and text strings, in order

    @property
    def classes(self):
        return (self.attrs.get('class') or '').split()

    def text(self):
        return ''.join(c if isinstance(c, str) else c.text() for c in self.children)

    def iter(self):
        for c in self.children:
            if isinstance(c, Node):
                yield c
                yield from c.iter()

    def find_all(self, tag=None, cls=None, **attrs):
        return [n for n in self.iter() if (tag is None or n.tag == tag) and (cls is None or cls in n.classes)
                and all(n.attrs.get(k) == v for k, v in attrs.items())]

    def find(self, tag=None, cls=None, **attrs):
        found = self.find_all(tag, cls, **attrs)
        return found[0] if found else None

    def ancestors(self):
        node = self.parent
        while node is not None:
            yield node
            node = node.parent


class TreeParser(HTMLParser):
    """Builds a Node tree and lists structural problems: a closing tag that does not match, an
    element left open, a block element inside <p>, an id used twice."""

    def __init__(self):
        HTMLParser.__init__(self, convert_charrefs=True)
        self.root = Node('#document', [], None)
        self.node = self.root
        self.errors = []
        self.ids = {}
        self.doctype = None

    def handle_decl(self, decl):
        self.doctype = decl

    def _open(self, tag, attrs):
        if tag in CLOSES_P and any(n.tag == 'p' for n in [self.node] + list(self.node.ancestors())):
            self.errors.append('<%s> inside <p> at line %d' % (tag, self.getpos()[0]))
        node = Node(tag, attrs, self.node)
        self.node.children.append(node)
        if node.attrs.get('id') is not None:
            if node.attrs['id'] in self.ids:
                self.errors.append('id %r used twice' % node.attrs['id'])
            self.ids[node.attrs['id']] = node
        return node

    def handle_starttag(self, tag, attrs):
        node = self._open(tag, attrs)
        if tag not in VOID:
            self.node = node

    def handle_startendtag(self, tag, attrs):
        self._open(tag, attrs)

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if self.node.tag != tag:
            self.errors.append('</%s> closes <%s> at line %d' % (tag, self.node.tag, self.getpos()[0]))
            # recover: close up to the matching element if there is one
            for n in [self.node] + list(self.node.ancestors()):
                if n.tag == tag:
                    self.node = n.parent
                    break
            return
        self.node = self.node.parent

    def handle_data(self, data):
        self.node.children.append(data)

    def close(self):
        HTMLParser.close(self)
        if self.node is not self.root:
            path = list(reversed([self.node] + list(self.node.ancestors())))[1:]
            self.errors.append('left open: %s' % ' > '.join(n.tag for n in path))


def parse(html):
    """(root Node, [structural errors])."""
    parser = TreeParser()
    parser.feed(html)
    parser.close()
    parser.root.doctype = parser.doctype
    return parser.root, parser.errors
