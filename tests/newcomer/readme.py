# -*- coding: utf-8 -*-
"""The shell commands README.md prints, as a reader copies them: its ```sh code blocks."""

import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
README = os.path.join(ROOT, 'README.md')
SHELLS = ('sh', 'bash', 'shell', 'console')
FENCE = re.compile(r'^```(\S*)\s*$')


def code_blocks(path=README):
    """[(language, text)] of every fenced code block, in order."""
    blocks, lang, lines = [], None, None
    with open(path, encoding='utf-8') as handle:
        for line in handle:
            match = FENCE.match(line.rstrip('\n'))
            if match and lines is None:
                lang, lines = match.group(1), []
            elif match:
                blocks.append((lang, ''.join(lines)))
                lang, lines = None, None
            elif lines is not None:
                lines.append(line)
    if lines is not None:
        raise ValueError('%s: a code block is not closed' % path)
    return blocks


def shell_blocks(path=README):
    """The text of every shell code block, in order."""
    return [text for lang, text in code_blocks(path) if lang in SHELLS]


def commands(block):
    """The commands of a block as a shell reads them: continuation lines joined, comments and
    blank lines dropped (a trailing `# comment` stays: the shell ignores it)."""
    out, pending = [], ''
    for line in block.splitlines():
        if pending:
            line = pending + line.lstrip()
            pending = ''
        stripped = line.strip()
        if not stripped or stripped.startswith('#'):
            continue
        if stripped.endswith('\\'):
            pending = stripped[:-1] + ' '
            continue
        out.append(stripped)
    if pending:
        out.append(pending.strip())
    return out
