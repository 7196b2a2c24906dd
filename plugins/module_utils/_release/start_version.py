# -*- coding: utf-8 -*-
# Copyright: (c) 2026, GameOps release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# This module_utils is PRIVATE to gameops.elastic_release; its API may change without notice.
"""Which version of a service a host starts: the start-version order.

1. the section node, when the service is started for a section: ``{"services": {"gameserver": "v"}}``;
2. the host's server node in the release that owns the section (or the host): the same shape;
3. the release-wide ``services`` of that release's config.zoo (kept in the release node's metadata).

The first that names the service wins. The configs this collection builds and publishes give
servers their services, so sections may stay ``{"name": "S1"}`` or ``{}``. No Ansible imports here.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from .names import InvalidName, validate_item


class NoStartVersion(ValueError):
    """No node names a version for the service; the message lists what was read and what to add."""


def _services(data):
    services = data.get('services') if isinstance(data, dict) else None
    return services if isinstance(services, dict) else None


def _short(value):
    text = json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= 80 else text[:77] + '...'


def version_for(service, steps):
    """steps: [(where, data)] in the order above (data None when the node does not exist).

    Returns (version, where). A node that names the service with an invalid version is an error
    of that node, not a reason to look further.
    """
    read = []
    for where, data in steps:
        if data is None:
            read.append('%s (no such node)' % where)
            continue
        services = _services(data)
        version = services.get(service) if services is not None else None
        if version in (None, ''):
            read.append('%s (%s)' % (where, 'names no version for %s' % service if services is not None
                                     else 'holds %s, no "services"' % _short(data)))
            continue
        try:
            return validate_item('versions', version), where
        except (InvalidName, TypeError) as exc:
            raise NoStartVersion('%s names an invalid version of %s: %s' % (where, service, exc))
    raise NoStartVersion('no version of %s to start: read %s. Add {"services": {"%s": "<version>"}} to the '
                         'server node (the "servers" entry of config.zoo), to the section node, or a release-wide '
                         '"services": {"%s": "<version>"} to config.zoo'
                         % (service, '; '.join(read) or 'nothing', service, service))
