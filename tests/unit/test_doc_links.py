# -*- coding: utf-8 -*-
"""Every relative link in README.md, docs/ and the roles' READMEs resolves: the file exists and, when
the link names a heading (`file.md#heading`), the file has that heading (GitHub's anchors)."""

import glob
import os
import re

import helpers

LINK = re.compile(r'!?\[(?:[^\]\\]|\\.)*\]\(([^)\s]+)(?:\s+"[^"]*")?\)')
FENCE = re.compile(r'^\s*(```|~~~)')
HEADING = re.compile(r'^(#{1,6})\s+(.*?)\s*#*\s*$')


def pages():
    out = [os.path.join(helpers.ROOT, 'README.md')]
    out += sorted(glob.glob(os.path.join(helpers.ROOT, 'docs', '*.md')))
    out += sorted(glob.glob(os.path.join(helpers.ROOT, 'roles', '*', 'README.md')))
    return out


def prose(path, code_spans=False):
    """(line number, text) of the lines outside code blocks; inline code left out unless code_spans."""
    inside = False
    with open(path, encoding='utf-8') as f:
        for number, line in enumerate(f, 1):
            if FENCE.match(line):
                inside = not inside
                continue
            if not inside:
                yield number, line if code_spans else re.sub(r'`[^`]*`', '', line)


def anchors(path):
    """The anchors GitHub gives the headings of a Markdown file."""
    seen, out = {}, set()
    for _number, line in prose(path, code_spans=True):
        match = HEADING.match(line)
        if not match:
            continue
        text = re.sub(r'\[([^\]]*)\]\([^)]*\)', r'\1', match.group(2))
        slug = re.sub(r'[^\w\- ]', '', text.lower()).replace(' ', '-')
        out.add(slug if slug not in seen else '%s-%d' % (slug, seen[slug]))
        seen[slug] = seen.get(slug, 0) + 1
    return out


def broken_links():
    problems = []
    for page in pages():
        with open(page, encoding='utf-8') as f:
            raw = f.read()
        # links inside inline code are text, not links; so are those in code blocks
        for number, line in prose(page):
            for target in LINK.findall(line):
                if re.match(r'^[a-z][a-z0-9+.-]*:', target):
                    continue                    # http:, https:, mailto:
                path, _hash, anchor = target.partition('#')
                where = '%s:%d: %s' % (os.path.relpath(page, helpers.ROOT), number, target)
                resolved = os.path.normpath(os.path.join(os.path.dirname(page), path)) if path else page
                if not os.path.exists(resolved):
                    problems.append('%s: no such file %s' % (where, os.path.relpath(resolved, helpers.ROOT)))
                elif anchor and resolved.endswith('.md') and anchor not in anchors(resolved):
                    problems.append('%s: %s has no heading #%s' % (where, os.path.relpath(resolved, helpers.ROOT), anchor))
        assert raw  # a page that reads as empty would hide its links
    return problems


def test_every_relative_link_resolves():
    problems = broken_links()
    assert problems == [], 'broken links:\n' + '\n'.join(problems)


def test_the_link_check_sees_a_broken_link(tmp_path, monkeypatch):
    page = tmp_path / 'README.md'
    page.write_text('# Title\n\n## A heading: with `code`\n\nsee [x](missing.md), [y](#a-heading-with-code), '
                    '[z](#nowhere), `[not a link](gone.md)`\n\n```\n[in a block](gone.md)\n```\n')
    monkeypatch.setattr(helpers, 'ROOT', str(tmp_path))
    problems = broken_links()
    assert [p.split(': ', 1)[1] for p in problems] == [
        'missing.md: no such file missing.md', '#nowhere: README.md has no heading #nowhere']
