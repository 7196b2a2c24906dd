# -*- coding: utf-8 -*-
# Copyright: (c) 2026, GameOps release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters that draw the release-map document (release_audit with_map=true) as HTML or Markdown.

The documentation of each filter is in the YAML file of the same name beside this one.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError
from ansible_collections.gameops.elastic_release.plugins.module_utils._report.render import RenderError, render_html, render_markdown, with_status
from ansible_collections.gameops.elastic_release.plugins.module_utils._report.render_model import grouped_lines


def _draw(render, doc, name, status=None, status_source=None):
    try:
        if status is not None:
            doc = with_status(doc, status, status_source)
        return render(doc)
    except RenderError as exc:
        raise AnsibleFilterError('%s: %s' % (name, exc))


def release_map_html(doc, status=None, status_source=None):
    """One self-contained HTML page of the release map; with `status`, its tiles show sync states."""
    return _draw(render_html, doc, 'release_map_html', status, status_source)


def release_map_markdown(doc):
    """The release map as Markdown tables."""
    return _draw(render_markdown, doc, 'release_map_markdown')


def audit_findings(findings):
    """The audit's findings as lines grouped by kind (count and fix, then the items), errors first."""
    try:
        return grouped_lines(findings or [])
    except RenderError as exc:
        raise AnsibleFilterError('audit_findings: %s' % exc)


class FilterModule(object):
    def filters(self):
        return {
            'release_map_html': release_map_html,
            'release_map_markdown': release_map_markdown,
            'audit_findings': audit_findings,
        }
