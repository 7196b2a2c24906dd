# -*- coding: utf-8 -*-
"""Render time and size of the release-map page and its Markdown.

    python benchmarks/render_map.py [--releases 50] [--sections 200] [--servers 20] [--versions 500]
                                    [--runs 7] [--browser]

Builds the sample document of tests/mapsample.py (with findings), renders it --runs times and
prints the median wall and CPU time of render_html and render_markdown, the page size (UTF-8,
and gzip-compressed as a mail or an AWX artifact would carry it) and the Markdown size. The page
is written to .build/bench/release-map.html. With --browser it also times headless Chromium
loading that page and taking a 1400x900 screenshot (tests/browser.py). Not a test: nothing here
asserts a time.
"""

from __future__ import absolute_import, division, print_function

import argparse
import gzip
import os
import statistics
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, 'tests'))

import browser  # noqa: E402
import helpers  # noqa: E402
from mapsample import sample_document  # noqa: E402

sys.path.insert(0, helpers.install_collection())

from ansible_collections.gameops.elastic_release.plugins.module_utils._report import render as _render  # noqa: E402


def timed(func, doc, runs):
    walls, cpus, out = [], [], None
    for _run in range(runs):
        w0, c0 = time.perf_counter(), time.process_time()
        out = func(doc)
        cpus.append(time.process_time() - c0)
        walls.append(time.perf_counter() - w0)
    return statistics.median(walls), statistics.median(cpus), out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n', maxsplit=1)[0])
    parser.add_argument('--releases', type=int, default=50)
    parser.add_argument('--sections', type=int, default=200)
    parser.add_argument('--servers', type=int, default=20)
    parser.add_argument('--versions', type=int, default=500)
    parser.add_argument('--runs', type=int, default=7)
    parser.add_argument('--browser', action='store_true', help='also time Chromium loading the page')
    args = parser.parse_args()

    doc = sample_document(args.releases, args.sections, args.servers, args.versions, findings=True)
    items = sum(len(r['sections']) + len(r['servers']) for r in doc['releases']) + len(doc['versions'])
    html_wall, html_cpu, page = timed(_render.render_html, doc, args.runs)
    md_wall, md_cpu, md = timed(_render.render_markdown, doc, args.runs)
    data = page.encode('utf-8')
    out_dir = os.path.join(helpers.BUILD, 'bench')
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, 'release-map.html')
    with open(path, 'wb') as f:
        f.write(data)

    print('release map: %d releases x %d sections x %d servers, %d client versions, %d findings (%d items)'
          % (args.releases, args.sections, args.servers, args.versions, len(doc['findings']), items))
    print('python %s, median of %d runs' % (sys.version.split()[0], args.runs))
    print('%-18s %10s %10s %12s %12s' % ('rendering', 'wall', 'cpu', 'bytes', 'gzip bytes'))
    row = '%-18s %8.0f ms %7.0f ms %12s %12s'
    print(row % ('render_html', html_wall * 1000, html_cpu * 1000, format(len(data), ','),
                 format(len(gzip.compress(data)), ',')))
    mdata = md.encode('utf-8')
    print(row % ('render_markdown', md_wall * 1000, md_cpu * 1000, format(len(mdata), ','),
                 format(len(gzip.compress(mdata)), ',')))
    print('page written to %s' % path)
    if args.browser:
        png = os.path.join(out_dir, 'release-map.png')
        t0 = time.perf_counter()
        result = browser.render(path, screenshot=png)
        print('chromium load + screenshot + DOM dump: %.1f s (%d page messages); %s'
              % (time.perf_counter() - t0, len(result.page_messages), png))


if __name__ == '__main__':
    main()
