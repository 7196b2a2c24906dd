# -*- coding: utf-8 -*-
# Copyright: (c) 2026, GameOps release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# This module_utils is PRIVATE to gameops.elastic_release; its API may change without notice.
"""Files written whole or not at all: the one atomic file writer.

Packages, deploy records, pid files and summary files are written to a temporary file beside the
final one, flushed to disk, then renamed over it: a reader sees the old file or the new one, never
a part, and an interruption leaves at most a hidden temporary file (named with `prefix`, which
deploy's cleanup recognises). No Ansible imports here.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import tempfile


class AtomicFile(object):
    """`with AtomicFile(path) as out: out.file.write(...)`: renamed over path when the block ends
    (unless `discard()` was called); removed when it raises."""

    def __init__(self, path, mode=0o644, prefix='.write-', suffix=''):
        self.path = path
        self.mode = mode
        self.prefix = prefix
        self.suffix = suffix
        self.file = None
        self.tmp = None
        self._done = False

    def open(self):
        """Create the temporary file (OSError when the directory cannot take it); returns self."""
        if self.file is None:
            fd, self.tmp = tempfile.mkstemp(dir=os.path.dirname(self.path) or '.', prefix=self.prefix,
                                            suffix=self.suffix)
            self.file = os.fdopen(fd, 'wb')
        return self

    def __enter__(self):
        return self.open()

    def discard(self):
        """Keep the file as it is (the new bytes are the old ones, or not wanted)."""
        self._close()
        self._unlink()
        self._done = True

    def __exit__(self, exc_type, exc, tb):
        if self._done:
            return False
        if exc_type is not None:
            self._close()
            self._unlink()
            return False
        try:
            self.file.flush()
            os.fsync(self.file.fileno())
            self._close()
            os.chmod(self.tmp, self.mode)
            os.replace(self.tmp, self.path)
        except BaseException:
            self._close()
            self._unlink()
            raise
        return False

    def _close(self):
        if self.file is not None and not self.file.closed:
            self.file.close()

    def _unlink(self):
        if self.tmp and os.path.lexists(self.tmp):
            os.unlink(self.tmp)


def atomic_write(path, data, mode=0o644, prefix='.write-'):
    """Write bytes to path atomically."""
    with AtomicFile(path, mode, prefix) as out:
        out.file.write(data)
