# -*- coding: utf-8 -*-
"""A realistic release-map document (docs/release-map.md) of any size, for tests and benchmarks.

    sample_document(releases=50, sections=200, servers=20, versions=500, findings=True, hostile=False)

The first release is the default production release; the others cycle through gray releases
(sharing the production location, some sections moved to them from production by a widen), review
releases (named after their store location) and, with findings, one release missing from the
registry. Sections are numbered 1001.. per release block of 1000 (production has a gap, so it shows
two ranges); each server holds an equal share of its release's sections. Client versions: the
newest ones route to the non-default releases (appended to production, as the review and gray flows
do), the rest to production. With findings=True the document carries the inconsistencies an audit
reports (a section owned twice, a version listed by two non-default releases, a server missing from
the CMDB, mixed service builds, a CMDB section no release owns, an unregistered release) and their
findings, worded as the audit words them.
hostile=True puts markup, quotes, bidi overrides and very long strings into node data and one
release name, as a tree written by some other tool could hold.
"""

from __future__ import absolute_import, division, print_function

STORES = ['appstore', 'googleplay', 'huawei', 'xiaomi', 'oppo', 'vivo', 'samsung', 'taptap', 'bilibili', 'tencent']
HOSTILE_NAME = u'evil"><script>console.error("xss")</script>\u202egnp.exe'
HOSTILE_TEXT = u'<img src=x onerror="console.error(1)"> \'quoted\' & "double" \u202eEVIL\u202c ' + u'W' * 3000


def _names(count):
    names = ['production']
    gray = review = 0
    while len(names) < count:
        if len(names) % 2:
            gray += 1
            names.append('gray%d' % gray)
        else:
            store = STORES[review % len(STORES)]
            names.append('%s%s_review' % (store, review // len(STORES) + 1 if review >= len(STORES) else ''))
            review += 1
    return names


def _version(k):
    return '%d.%d.%d' % (1 + k // 100, (k // 10) % 10, k % 10)


def sample_document(releases=50, sections=200, servers=20, versions=500, findings=True, hostile=False):
    names = _names(releases)
    unregistered = names[-1] if findings and releases > 2 else None
    if unregistered:
        names[-1] = 'legacy_test'
        unregistered = 'legacy_test'
    if hostile and releases > 1:
        names[1] = HOSTILE_NAME
    docs = []
    for i, name in enumerate(names):
        if name == 'production':
            rtype, location = 'production', 'cn_prod'
        elif name.startswith('gray') or name == HOSTILE_NAME:
            rtype, location = 'gray', 'cn_prod'
        elif name.endswith('_review'):
            rtype, location = 'review', name[:-len('_review')]
        else:
            rtype, location = None, None
        base = 1001 + i * 1000
        ids = [base + k for k in range(sections)]
        if name == 'production' and sections > 10:
            ids = ids[:sections // 2] + [base + 10 + k for k in range(sections // 2, sections)]
        net = '10.%d.%d' % (1 + i // 200, i % 200)
        hosts = ['gs-%s-%02d' % (name if name != HOSTILE_NAME else 'evil', j + 1) for j in range(servers)]
        build = 'dev.190122.01' if i == 0 else 'dev.1902%02d.%02d' % (1 + i % 28, 1 + i % 5)
        rel = {
            'name': name, 'type': rtype, 'location': location, 'is_default': i == 0,
            'global_url': 'http://%s.5:9000' % net,
            'package': 'mygame-%s-%s.tar.gz' % (name if name != HOSTILE_NAME else 'evil', build[4:]),
            'updated': '2026-11-%02dT%02d:%02d:00Z' % (1 + i % 28, i % 24, (7 * i) % 60),
            'sections': [], 'servers': [], 'versions': [],
        }
        for k, sid in enumerate(ids):
            owner = hosts[k * servers // len(ids)] if servers else None
            data = {'name': 'S%d' % (sid - base + 1)}
            if hostile and k == 0:
                data = {'name': HOSTILE_TEXT}
            rel['sections'].append({'id': str(sid), 'data': data, 'hosts': [owner] if owner else [],
                                    'moved_from': None})
        for j in range(servers):
            services = {'gameserver': build, 'battle': build}
            if j == 0:
                services['global'] = build
            data = {'services': dict(services)}
            if hostile and j == 0:
                data['note'] = HOSTILE_TEXT
            rel['servers'].append({'ip': '%s.%d' % (net, 11 + j), 'hosts': [hosts[j]], 'services': services,
                                   'data': data, 'moved_from': None})
        docs.append(rel)
    production = docs[0]
    # Widen: the first gray release took three production sections and one production server.
    if releases > 1 and sections >= 10 and servers >= 2:
        gray = docs[1]
        for sec in production['sections'][2:5]:
            gray['sections'].append(dict(sec, moved_from='production'))
        del production['sections'][2:5]
        gray['servers'].append(dict(production['servers'][-1], moved_from='production'))
        del production['servers'][-1]
    # Versions: the newest ones route to the non-default releases, the rest to production.
    specials = docs[1:]
    per_special = 2 if versions >= 4 * len(specials) else (1 if versions >= 2 * len(specials) else 0)
    plain = versions - per_special * len(specials)
    table = []
    for k in range(versions):
        name = _version(k)
        if k < plain or not specials:
            target = production
        else:
            target = specials[(k - plain) // per_special]
        listed_by = [target['name']]
        target['versions'].append({'name': name, 'routes_here': True, 'appended': False})
        if target is not production:
            production['versions'].append({'name': name, 'routes_here': False, 'appended': True})
            listed_by.append('production')
        table.append({'name': name, 'routes_to': target['name'], 'global_url': target['global_url'],
                      'listed_by': sorted(listed_by)})
    doc = {
        'format': 1, 'title': 'mygame', 'generated': '2026-11-30T08:00:00Z', 'zookeeper': '10.0.0.1:2181/mygame',
        'default_release': 'production', 'releases': docs, 'versions': table, 'hosts_without_owner': [],
        'findings': [],
    }
    if findings:
        _add_findings(doc, docs, table, unregistered, hostile)
    return doc


def _add_findings(doc, docs, table, unregistered, hostile):
    """The findings as the audit words them (a kind it does not know, mixed_service_builds, shows
    how the page handles findings without a fix of their kind)."""
    out = doc['findings']
    production = docs[0]
    if len(docs) > 2 and production['sections']:
        sec = production['sections'][-1]
        docs[2]['sections'].append(dict(sec))
        out.append({'severity': 'error', 'kind': 'section_two_owners', 'items': [sec['id']],
                    'releases': sorted(['production', docs[2]['name']]),
                    'message': 'section id %s is owned by 2 releases: %s; lookups and starts of it fail. Keep it in '
                               'one (zk_release_move, or republish the others without it)'
                               % (sec['id'], ', '.join(sorted(['production', docs[2]['name']])))})
    specials = [d for d in docs[1:] if d['versions']]
    if len(specials) > 3:
        first, other = specials[1], specials[3]
        version = first['versions'][0]['name']
        other['versions'].append({'name': version, 'routes_here': False, 'appended': False})
        for row in table:
            if row['name'] == version:
                row['routes_to'] = None
                row['global_url'] = None
                row['listed_by'] = sorted(row['listed_by'] + [other['name']])
        out.append({'severity': 'error', 'kind': 'version_two_releases', 'items': [version],
                    'releases': sorted([first['name'], other['name']]),
                    'message': 'version %s is listed by 2 non-default releases: %s; VMS cannot route it. Remove it '
                               'from all but one (republish, or narrow/retire a release)'
                               % (version, ', '.join(sorted([first['name'], other['name']])))})
    if len(docs) > 4 and docs[4]['servers']:
        server = docs[4]['servers'][-1]
        server['hosts'] = []
        out.append({'severity': 'warning', 'kind': 'server_not_in_cmdb', 'items': [server['ip']],
                    'releases': [docs[4]['name']],
                    'message': 'server %s (release %s) is no host of the CMDB inventory' % (server['ip'], docs[4]['name'])})
    if len(production['servers']) > 3:
        server = production['servers'][3]
        server['services'] = dict(server['services'], gameserver='dev.190121.03')
        server['data'] = {'services': dict(server['services'])}
        out.append({'severity': 'warning', 'kind': 'mixed_service_builds', 'items': [server['ip']],
                    'releases': ['production'],
                    'message': 'production runs two gameserver builds: dev.190122.01 on most servers, '
                               'dev.190121.03 on %s (%s)' % (server['ip'], ', '.join(server['hosts']))})
    doc['hosts_without_owner'].append({'host': 'gs-spare-01', 'inner_ip': '10.9.9.9', 'section_ids': ['1999']})
    out.append({'severity': 'warning', 'kind': 'section_without_owner', 'items': ['1999'], 'releases': [],
                'message': 'section 1999 of CMDB host gs-spare-01 (10.9.9.9) is owned by no release. Publish a '
                           'release that lists it, or remove it from the host in the CMDB'})
    if unregistered:
        out.append({'severity': 'warning', 'kind': 'unregistered_release', 'items': [],
                    'releases': [unregistered],
                    'message': 'release %s is under /releases but not in the release registry '
                               '(elastic_release_registry): no flow may write it. Register it, or retire it'
                               % unregistered})
    if hostile:
        out.append({'severity': 'error', 'kind': 'hostile<kind>', 'items': [HOSTILE_NAME],
                    'releases': [HOSTILE_NAME], 'message': HOSTILE_TEXT})
