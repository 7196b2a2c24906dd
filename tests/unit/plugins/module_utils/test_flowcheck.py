# -*- coding: utf-8 -*-
"""The first step's rules (_flowcheck), without Ansible or ZooKeeper."""

import os

import pytest

from ansible_collections.gameops.elastic_release.plugins.module_utils._flow import flowcheck as F

REGISTRY = {'production': {'type': 'production', 'location': 'cn_prod'},
            'gray1': {'type': 'gray', 'location': 'cn_prod'},
            'appstore_review': {'type': 'review', 'location': 'appstore_review'}}
GROUPS = {'all': [], 'location_cn_prod': [], 'location_appstore_review': []}


def names(path, pattern):
    base = os.path.basename(path)
    parts = base[:-len('.tar.gz')].split('-') if base.endswith('.tar.gz') else None
    if not parts or len(parts) != 3:
        raise ValueError('package name %r does not match the pattern' % base)
    return parts[1], parts[2]


def check(flow, registry=None, groups=None, read=None, **params):
    return F.check(F.FlowParams(flow, cwd='/work', **params), REGISTRY if registry is None else registry,
                   GROUPS if groups is None else groups, names, read)


def test_a_good_gray_publish_resolves_the_package_path(tmp_path):
    package = tmp_path / 'mygame-gray1-190122.01.tar.gz'
    package.write_bytes(b'x')
    problems, info = F.check(F.FlowParams('gray', release='gray1', package='mygame-gray1-190122.01.tar.gz',
                                          cwd=str(tmp_path)), REGISTRY, GROUPS, names,
                             lambda path, release, pattern: ('cfg', b'{}'))
    assert problems == []
    assert info['package_path'] == str(package) and info['package'] == package.name and info['build'] == '190122.01'
    assert info['package_release'] == 'gray1' and info['config'] == 'cfg'


@pytest.mark.parametrize('flow,params,message', [
    ('gray', {}, 'missing parameter release: pass -e release=<release name>'),
    ('gray', {'release': 'gray1'}, 'missing parameter package'),
    ('gray', {'release': 'Gray1', 'package': '/p/mygame-Gray1-1.tar.gz'}, "invalid release name 'Gray1'"),
    ('gray', {'release': 'gray9', 'package': '/p/mygame-gray9-1.tar.gz'},
     'release gray9 is not registered in elastic_release_registry (registered: appstore_review, gray1, production)'),
    ('production', {'release': 'gray1', 'package': '/p/mygame-gray1-1.tar.gz'},
     'registered as a gray release, not as a production release: run playbooks/gray.yml'),
    ('gray', {'release': 'gray1', 'package': '/p/mygame-production-1.tar.gz'},
     'is a package of release production, not of release gray1'),
    ('gray', {'release': 'gray1', 'package': 'mygame-gray1-1.tar.gz'},
     'does not exist or is not a file (a relative path is taken from /work'),
    ('retire', {'release': 'production'}, 'the retire flow removes review and gray releases only'),
    ('widen', {'release': 'production', 'sections': '1001'}, 'the widen flow works on gray releases'),
    ('widen', {'release': 'gray1'}, 'nothing to widen'),
    ('widen', {'release': 'gray1', 'sections': ['../x']}, "sections: invalid section id '../x'"),
    # a letter O typed for a zero: invalid, with what was meant; never "owned by no release"
    ('widen', {'release': 'gray1', 'sections': '10O3'},
     "sections: invalid section id '10O3': a section id is the game zone number the CMDB gives a host, 1 to 18 "
     "decimal digits without a leading zero (did you mean 1003? 'O' is a letter, not a digit)"),
    ('widen', {'release': 'gray1', 'steps': '[[1003],'}, 'steps is not valid JSON'),
    ('widen', {'release': 'gray1', 'steps': [[1003], [1003]]}, 'section 1003 is in more than one step'),
    ('widen', {'release': 'gray1', 'steps': [[]]}, 'steps[0] moves nothing'),
    ('widen', {'release': 'gray1', 'steps': [[1003]], 'sections': '1004'}, 'give either steps or sections/servers'),
    ('widen', {'release': 'gray1', 'sections': '1003', 'gate': {'url': 'ftp://x'}}, 'gate_url must be an http'),
    ('widen', {'release': 'gray1', 'sections': '1003', 'gate': {'command': 'check gray1'}},
     'gate_command must be a list of arguments'),
    ('widen', {'release': 'gray1', 'sections': '1003', 'gate': {'timeout': 'soon'}}, 'gate_timeout must be a whole number'),
    ('widen', {'release': 'gray1', 'all_items': True, 'sections': '1003'}, 'use it with the narrow flow'),
    ('promote', {'release': 'gray1', 'package': '/p/mygame-gray1-1.tar.gz'},
     'is a package of release gray1, not of the production release production'),
    ('nope', {'release': 'gray1'}, "unknown flow 'nope'"),
    ('rollback', {'release': 'gray1', 'change': '3f2a1c9e0b7d', 'revision': '3'},
     'give -e change=<id> or -e revision=<revision>, not both'),
])
def test_refusals_name_the_problem(flow, params, message):
    problems, dummy = check(flow, **params)
    assert any(message in p for p in problems), problems


def test_registry_problems():
    registry = dict(REGISTRY, prod2={'type': 'production', 'location': 'cn_prod'}, broken='gray',
                    appstore_review={'type': 'review', 'location': 'elsewhere'})
    groups = {'all': [], 'location_cn_prod': []}
    assert 'more than one production release is registered (prod2, production)' in ' '.join(
        check('production', registry, groups, release='production', package='/p/mygame-production-1.tar.gz')[0])
    assert "release registry entry broken must be a mapping" in ' '.join(
        check('gray', registry, groups, release='broken', package='/p/mygame-broken-1.tar.gz')[0])
    problems = check('review', registry, groups, release='appstore_review', package='/p/mygame-appstore_review-1.tar.gz')[0]
    assert any('must be named after its CMDB deploy location' in p for p in problems)
    assert any('deploy location elsewhere of release appstore_review is not in the CMDB inventory' in p for p in problems)


def test_every_problem_is_named_at_once():
    problems, dummy = check('review')
    assert problems == ['missing parameter release: pass -e release=<release name>',
                        'missing parameter package: pass -e package=<path of the server package>']


def test_steps_and_gate_are_normalised():
    problems, info = check('widen', release='gray1', steps='[[1003],{"sections":[1004],"servers":["10.1.0.12"]}]',
                           gate={'command': '["/bin/check","gray1"]', 'timeout': '30', 'pause': 5})
    assert problems == []
    assert info['steps'] == [{'sections': ['1003'], 'servers': []}, {'sections': ['1004'], 'servers': ['10.1.0.12']}]
    assert info['gate'] == {'url': '', 'command': ['/bin/check', 'gray1'], 'timeout': 30, 'interval': 5, 'pause': 5,
                            'try_timeout': 30, 'follow_redirects': False}
    # The URL comes back masked, and a refused one is named masked too.
    problems, info = check('widen', release='gray1', sections='1003',
                           gate={'url': 'https://bot:S3cret-pw@mon.example/h?token=T0ken-x&env=prod', 'try_timeout': 9,
                                 'follow_redirects': True})
    assert problems == [] and info['gate']['url'] == 'https://***@mon.example/h?token=***&env=***'
    assert info['gate']['try_timeout'] == 9 and info['gate']['follow_redirects'] is True
    problems, info = check('widen', release='gray1', sections='1003', gate={'url': 'https://u:S3cret-pw@h/ x'})
    assert problems and 'S3cret-pw' not in problems[0] and 'https://***@h/ x' in problems[0]
    problems, info = check('narrow', release='gray1', all_items=True)
    assert problems == [] and info['steps'] == [{'sections': [], 'servers': []}]
    problems, info = check('audit')
    assert problems == []


def test_cmdb_hosts():
    hostvars = {'a': {'inner_ip': '10.0.0.1', 'section_ids': [1], 'services': ['gs'], 'deploy_location': 'x'}, 'b': {}}
    assert F.cmdb_hosts(['a', 'b'], hostvars.get) == [
        {'name': 'a', 'inner_ip': '10.0.0.1', 'section_ids': [1], 'deploy_location': 'x', 'services': ['gs']},
        {'name': 'b', 'inner_ip': None, 'section_ids': [], 'deploy_location': None, 'services': []}]


def test_the_size_refusal_names_the_flow_option_and_what_it_gives_up():
    from ansible_collections.gameops.elastic_release.plugins.plugin_utils._flow_plan import too_large
    exc = ValueError('the change to production is 2004 operations in a 1404611-byte request, over the 1000000-byte '
                     'limit of one ZooKeeper transaction (jute.maxbuffer); nothing was written. Set allow_chunked=true '
                     'to write it in several transactions')
    text = too_large(F.FlowParams('production', release='production'), exc)
    assert text.endswith('Run the production flow again with -e allow_chunked=true to write it in several transactions: '
                         'readers may see the release half-written while it runs (its metadata is marked pending); a '
                         'run that fails midway leaves it so until a rerun completes it, or the rollback flow restores '
                         'the revision kept before the first part')
    assert 'Set allow_chunked' not in text
    text = too_large(F.FlowParams('promote', release='gray1'), exc)
    assert 'A promote is one transaction (it removes gray1 in it) and is never split: run the promote flow again with ' \
           '-e allow_chunked=true, which first publishes the production package in parts' in text
    problems, info = check('widen', release='gray1', sections='1003', allow_chunked=True)
    assert problems == ['allow_chunked=true is for the flows that publish a package (production, review, gray, promote), '
                        'not for the widen flow']
