# -*- coding: utf-8 -*-
"""The startability check of widen, narrow and promote: which services a host runs per section, and
the refusals for a moved section (pure; the refusal through real ansible is in tests/integration)."""

import json

from ansible_collections.gameops.elastic_release.plugins.module_utils._flow.startable import problems, section_services
from ansible_collections.gameops.elastic_release.plugins.module_utils._release.state import empty_state

SPECS = {'gameserver': {'per': 'section'}, 'gmtool': {'per': 'host'}}


def test_section_services_are_the_per_section_services_the_host_runs():
    assert section_services(SPECS, ['gameserver', 'gmtool']) == ['gameserver']
    assert section_services(SPECS, None) == ['gameserver']
    assert section_services(SPECS, ['gmtool']) == []
    assert section_services('not a mapping', None) == []


def state(services=None, sections=None, servers=None):
    out = empty_state(True)
    out['services'] = json.dumps(services).encode() if services is not None else None
    out['sections'] = dict((k, json.dumps(v).encode()) for k, v in (sections or {}).items())
    out['servers'] = dict((k, json.dumps(v).encode()) for k, v in (servers or {}).items())
    return out


HOST = {'name': 'gs-a', 'inner_ip': '10.3.0.1', 'section_ids': [1001], 'per_section': ['gameserver']}
MOVED = [{'kind': 'sections', 'name': '1001', 'from': 'production', 'to': 'gray1'}]


def test_a_section_with_a_version_in_the_receiver_passes():
    after = {'gray1': state(services={'gameserver': 'v2'}, sections={'1001': {}})}
    assert problems(MOVED, {}, after, [HOST], 'widen') == []
    after = {'gray1': state(sections={'1001': {}}, servers={'10.3.0.1': {'services': {'gameserver': 'v2'}}})}
    assert problems(MOVED, {}, after, [HOST], 'widen') == []


def test_no_version_and_a_foreign_pin_are_refused_naming_the_section():
    after = {'gray1': state(sections={'1001': {}})}
    [msg] = problems(MOVED, {}, after, [HOST], 'widen')
    assert msg.startswith('after this widen section 1001 would have no version of gameserver to start under gray1')
    after = {'gray1': state(services={'gameserver': 'v2'}, sections={'1001': {'services': {'gameserver': 'hotfix'}}})}
    [msg] = problems(MOVED, {}, after, [HOST], 'widen')
    assert msg.startswith('section 1001 pins gameserver hotfix in its node') and 'gray1 starts gameserver v2 on gs-a' in msg
    # A pin that is the receiver's own build, or a section no host runs per section, passes.
    after = {'gray1': state(services={'gameserver': 'v2'}, sections={'1001': {'services': {'gameserver': 'v2'}}})}
    assert problems(MOVED, {}, after, [HOST], 'widen') == []
    assert problems(MOVED, {}, {'gray1': state(sections={'1001': {}})}, [dict(HOST, per_section=[])], 'widen') == []
