#!/usr/bin/env python
# -*- coding: utf-8 -*-
"""The main job, end to end on one machine: a game project's releases, from packaging to rollback.

    python scripts/demo.py [--keep]

What it does, each step a real `ansible-playbook` (or `ansible`) run over the example CMDB
inventory, against a ZooKeeper it starts itself on a free 127.0.0.1 port:

 1. start a standalone ZooKeeper (Debian's zookeeper package) and create the project's chroot;
 2. build the server packages of the two deploy locations (playbooks/build_packages.yml);
 3. production flow, then the gray and the App Store review flows (each with its summary file);
 4. answer VMS's questions with release_lookup (by section, inner IP and client version);
 5. deploy the packages onto the example hosts (playbooks/deploy.yml: each package to the hosts of
    its release's deploy location, checked there and unpacked beside the other releases' builds),
    start the game service on each with the release that owns the host (playbooks/start.yml), ask
    every service which release it serves, rerun: nothing changes;
 6. publish a new gray build, list the gray release's revisions, roll it back;
 7. widen the gray release by game section, one section per step with a health gate between the
    steps (playbooks/widen.yml); status.yml shows the two moved sections' processes still on
    production, sync.yml restarts them with gray1; draw the release map (playbooks/map.yml), narrow
    it back (the abort) with -e sync=true, which restarts them with production, and audit the whole
    map (playbooks/audit.yml): one owner for every section and server;
 8. publish a second gray release and promote it: production takes its sections and versions and
    the gray release is removed, in one transaction (playbooks/promote.yml);
 9. stop the services and retire the review release;
10. audit the final map, print the ZooKeeper tree and stop ZooKeeper.

Each flow's impact (which sections, servers and client versions change owner) is printed as a table,
its findings grouped by kind with their fix; the whole summary is in the file the command names.

Every step checks its own outcome; the script exits non-zero at the first surprise. Its files
are under .build/demo/ (removed at the start of each run; --keep leaves ZooKeeper running).
"""

from __future__ import print_function

import argparse
import json
import os
import re
import shlex
import shutil
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, 'tests'))

import gameservice  # noqa: E402  (tests/gameservice.py: the example game service)
import helpers  # noqa: E402  (tests/helpers.py: the collection linked from this checkout)
import zkserver  # noqa: E402  (tests/zkserver.py: ZooKeeper from Debian's package)

sys.path.insert(0, helpers.install_collection())
# The impact table the flows print, and the audit's findings grouped by kind as the map page groups them.
from ansible_collections.gameops.elastic_release.plugins.module_utils._report.render_model import grouped_lines  # noqa: E402
from ansible_collections.gameops.elastic_release.plugins.module_utils._write.impact import table  # noqa: E402

WORK = os.path.join(ROOT, '.build', 'demo')
PAGE = os.path.join(WORK, 'release-map.html')
PROJECT = 'mygame'
CHROOT = '/' + PROJECT
SERVICE_VERSION = 'dev.190122.01'
SERVERS = {'services': {'gameserver': SERVICE_VERSION}}
CONFIGS = {
    'production': {
        'global_url': 'http://10.1.0.5:9000',
        'versions': ['1.2.0', '1.2.1'],
        'sections': {'1001': {'name': 'S1'}, '1002': {'name': 'S2'}, '1003': {'name': 'S3'},
                     '1004': {'name': 'S4'}},
        'servers': {'10.1.0.11': SERVERS, '10.1.0.12': SERVERS},
    },
    'gray1': {
        'global_url': 'http://10.1.0.6:9000',
        'versions': ['1.3.0'],
        'sections': {'1901': {'name': 'Gray'}},
        'servers': {'10.1.0.21': SERVERS},
        # What a production host starts for the sections a widen gives gray1 (step 7): gray1 lists
        # no server node of those hosts, so its release-wide version is the one they start.
        'services': {'gameserver': SERVICE_VERSION},
    },
    # A second gray release (registered in the demo's copy of the inventory), promoted in step 8.
    'gray2': {
        'global_url': 'http://10.1.0.7:9000',
        'versions': ['1.5.0'],
        'sections': {'1950': {'name': 'Canary'}},
    },
    'appstore_review': {
        'global_url': 'http://10.2.0.5:9000',
        'versions': ['1.4.0'],
        'sections': {'2001': {'name': 'Review'}},
        'servers': {'10.2.0.11': SERVERS},
    },
}
GRAY_NEXT = dict(CONFIGS['gray1'], versions=['1.3.0', '1.3.1'], sections={'1901': {'name': 'Gray'}, '1902': {}})
# The production package of the build gray2 runs lists what production and gray2 serve (step 8 promotes it).
PRODUCTION_NEXT = dict(CONFIGS['production'], versions=CONFIGS['production']['versions'] + CONFIGS['gray2']['versions'],
                       sections=dict(CONFIGS['production']['sections'], **CONFIGS['gray2']['sections']))
# The game-server hosts of inventory/example.cmdb.yml and the release each must end up serving.
HOSTS = {'gs-prod-01': ('10.1.0.11', 'production'), 'gs-prod-02': ('10.1.0.12', 'production'),
         'gs-gray-01': ('10.1.0.21', 'gray1'), 'gs-review-01': ('10.2.0.11', 'appstore_review')}
# The game sections the CMDB gives those hosts: the demo runs the game service once per section.
SECTIONS = {'1001': 'gs-prod-01', '1002': 'gs-prod-01', '1003': 'gs-prod-02', '1004': 'gs-prod-02',
            '1901': 'gs-gray-01', '2001': 'gs-review-01'}


class DemoFailed(Exception):
    pass


def say(text):
    print('\n==> %s' % text, flush=True)


def check(condition, what, detail=''):
    if not condition:
        raise DemoFailed('%s%s' % (what, ('\n' + detail) if detail else ''))
    print('    ok: %s' % what, flush=True)


def run(cmd, expect_rc=0):
    """Run an ansible command as an ops engineer would, show it, and return its result."""
    shown = ' '.join(shlex.quote(a) for a in cmd)   # as it can be pasted into a shell
    print('    $ %s' % shown.replace(ROOT + '/', ''), flush=True)
    t0 = time.time()
    res = helpers.run(cmd, env={'ANSIBLE_STDOUT_CALLBACK': 'default'})
    print('      (%.1f s, exit %d)' % (time.time() - t0, res.rc), flush=True)
    # The length of each command's default output, measured for docs/flows.md and held to its figure there.
    lines = len(res.stdout.splitlines())
    with open(os.path.join(WORK, 'output-lines.tsv'), 'a') as f:
        f.write('%d\t%d\t%s\n' % (lines, res.rc, shown.replace(ROOT + '/', '')))
    playbook = next((os.path.basename(a) for a in cmd if a.endswith('.yml') and '/playbooks/' in a), None)
    limit = output_limits().get(playbook)
    if limit is not None and lines > limit:
        raise DemoFailed('%s printed %d lines, docs/flows.md ("What a flow prints") records at most %d:\n%s'
                         % (playbook, lines, limit, res.stdout))
    if res.rc != expect_rc:
        raise DemoFailed('%s exited %d, expected %d:\n%s' % (cmd[0], res.rc, expect_rc, res))
    return res


def output_limits():
    """{playbook: most lines its default output may have}: the demo's table of docs/flows.md."""
    with open(os.path.join(ROOT, 'docs', 'flows.md')) as f:
        text = f.read()
    table = text[text.index('| demo command |'):]
    table = table[:table.index('\n\n')]
    return dict((name, int(limit)) for name, limit in re.findall(r'(?m)^\| `([a-z_]+\.yml)`[^|]*\|[^|]*\|[^|]*\| (\d+) \|$', table))


def recap(res):
    """PLAY RECAP counters per host: {host: {'ok': n, 'changed': n, ...}}."""
    out = {}
    for line in res.stdout.splitlines():
        parts = line.split(' : ')
        if len(parts) == 2 and 'ok=' in parts[1]:
            out[parts[0].strip()] = dict((k, int(v)) for k, v in
                                         (f.split('=') for f in parts[1].split()))
    return out


def flow(inventory, name, vars_file=None, **extra):
    summary = os.path.join(WORK, 'summary-%s-%d.json' % (name, int(time.time() * 1000)))
    cmd = ['ansible-playbook', '-i', inventory, os.path.join(ROOT, 'playbooks', name + '.yml')]
    if vars_file:
        cmd += ['-e', '@' + vars_file]
    for key, value in sorted(extra.items()):
        cmd += ['-e', '%s=%s' % (key, value)]
    cmd += ['-e', 'summary_file=%s' % summary]
    res = run(cmd)
    with open(summary) as f:
        doc = json.load(f)
    show(doc)
    return res, doc


def show(summary):
    """What a flow did, as a person reads it: its impact table, what it wrote, its findings. The
    whole summary is in its file (the path is in the command above)."""
    written = summary.get('revisions_written') or {}
    if summary.get('write_outcome') and (summary.get('changed_nodes') or summary.get('revisions')):
        print('      %s: %s%s' % (summary['write_outcome'], plural(summary.get('changed_nodes') or 0, 'node operation'),
                                  ' in %s (%s)' % (plural(summary.get('transactions') or 0, 'transaction'),
                                                   ', '.join('%s %s' % kv for kv in sorted(written.items())))
                                  if written else ''))
    if summary.get('impact'):
        print('      impact:')
        for line in table(summary['impact']):
            print('        %s' % line)
    for host, what in sorted((summary.get('hosts') or {}).items()) if isinstance(summary.get('hosts'), dict) else ():
        kept = ', '.join(what.get('kept') or []) or '-'
        print('      %-16s %s build %s (kept: %s)' % (host, what.get('action'), what.get('build'), kept))
    if 'findings' in summary:
        show_findings(summary['findings'])
    for step in summary.get('next') or []:
        print('      next: %s' % step.replace(ROOT + '/', ''))


def show_findings(findings):
    """Grouped by kind, as the audit flow prints them: one line with the count and the fix, the items under it."""
    for line in grouped_lines(findings):
        print('      %s' % line)


def plural(count, word):
    return '%d %s%s' % (count, word, '' if count == 1 else 's')


def make_inventory(zk_hosts):
    inv = os.path.join(WORK, 'inventory')
    shutil.copytree(os.path.join(ROOT, 'inventory'), inv)
    path = os.path.join(inv, 'group_vars', 'all.yml')
    with open(path) as f:
        lines = f.read().splitlines(True)
    lines = ['elastic_release_zk_hosts: %s\n' % zk_hosts if line.startswith('elastic_release_zk_hosts:') else line
             for line in lines]
    # The release registry gets gray2 (the example's registry has production, gray1 and appstore_review).
    registry = lines.index('elastic_release_registry:\n')
    lines[registry + 1:registry + 1] = ['  gray2:\n', '    type: gray\n', '    location: cn_prod\n']
    # The game service runs once per section (one process per section id the CMDB gives a host, with
    # the release that owns that section), so a widen of one section moves one process's release.
    lines += ['\n# The demo runs the game service per section (docs/starting-services.md).\n',
              'elastic_release_services:\n', '  gameserver:\n', '    per: section\n']
    with open(path, 'w') as f:
        f.writelines(lines)
    return inv


def make_source():
    """A server source tree as the build pipeline leaves it: lib/ and version/gameserver/<v>/."""
    src = os.path.join(WORK, 'src')
    os.makedirs(os.path.join(src, 'lib'))
    with open(os.path.join(src, 'lib', 'dk-server.jar'), 'wb') as f:
        f.write(b'shared server library\n')
    gameservice.install(src, SERVICE_VERSION)
    configs = os.path.join(WORK, 'configs')
    os.makedirs(configs)
    for release, config in CONFIGS.items():
        with open(os.path.join(configs, release + '.config.zoo'), 'w') as f:
            json.dump(config, f, indent=2, sort_keys=True)
    return src, configs


def build(inventory, src, configs, location, build_id, dest):
    run(['ansible-playbook', '-i', inventory, os.path.join(ROOT, 'playbooks', 'build_packages.yml'),
         '-e', 'elastic_release_location=%s' % location, '-e', 'elastic_release_build=%s' % build_id,
         '-e', 'elastic_release_project=%s' % PROJECT, '-e', 'elastic_release_package_src=%s' % src,
         '-e', 'elastic_release_package_dest=%s' % dest, '-e', 'elastic_release_configs_dir=%s' % configs])


def lookup(inventory, **question):
    args = dict(question)
    res = run(['ansible', 'localhost', '-i', inventory, '-m', 'gameops.elastic_release.release_lookup',
               '-a', json.dumps(dict(args, hosts='{{ elastic_release_zk_hosts }}'))])
    text = res.stdout
    doc = json.loads(text[text.index('{'):])
    return doc


def tree(client, path='/', indent=''):
    for name in sorted(client.get_children(path)):
        child = path.rstrip('/') + '/' + name
        if child in ('/zookeeper', '/elastic_release/history'):
            print('%s%s/ ...' % (indent, name))
            continue
        data = client.get(child)[0]
        shown = (' = ' + data.decode('utf-8', 'replace')[:60]) if data else ''
        print('%s%s%s' % (indent, name, shown))
        tree(client, child, indent + '  ')


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--keep', action='store_true', help='leave ZooKeeper and the services running')
    opts = parser.parse_args()

    from kazoo.client import KazooClient

    if os.path.exists(WORK):
        gameservice.stop_all([WORK])
        shutil.rmtree(WORK)
    os.makedirs(WORK)
    started = time.time()

    say('1. Start a standalone ZooKeeper on 127.0.0.1 and create the project chroot %s' % CHROOT)
    # --keep: ZooKeeper outlives this script (`bash scripts/demo.sh stop` ends it).
    zk = zkserver.Standalone(workdir=os.path.join(WORK, 'zk'), detach=opts.keep).start()
    # ZooKeeper answers "ruok" (what start() waits for) as soon as its port listens, but closes
    # sessions ("ZooKeeperServer not running") until it serves; kazoo would print each closed
    # attempt as "Connection dropped: socket connection broken". Connect once srvr reports a mode.
    deadline = time.time() + 60
    while zk.node.mode() is None and time.time() < deadline:
        time.sleep(0.1)
    hosts_up = []
    try:
        admin = KazooClient(hosts=zk.hosts, timeout=10)
        admin.start(timeout=30)
        admin.ensure_path(CHROOT)
        zk_hosts = zk.hosts + CHROOT
        check(admin.exists(CHROOT) is not None, 'ZooKeeper answers at %s' % zk_hosts)
        client = KazooClient(hosts=zk_hosts, timeout=10)
        client.start(timeout=30)
        inventory = make_inventory(zk_hosts)
        src, configs = make_source()
        dist = os.path.join(WORK, 'dist')

        say('2. Build the server packages of both deploy locations (WallE cross-packaging)')
        build(inventory, src, configs, 'cn_prod', '190122.01', dist)
        build(inventory, src, configs, 'appstore_review', '190122.01', dist)
        packages = sorted(os.listdir(dist))
        check(packages == ['mygame-appstore_review-190122.01.tar.gz', 'mygame-gray1-190122.01.tar.gz',
                           'mygame-gray2-190122.01.tar.gz', 'mygame-production-190122.01.tar.gz'],
              'one package per registered release: %s'
              % ', '.join(packages))

        def package(release, build_id='190122.01'):
            return os.path.join(dist, '%s-%s-%s.tar.gz' % (PROJECT, release, build_id))

        say('3. Production, gray and review flows')
        res, summary = flow(inventory, 'production', package=package('production'), release='production')
        check(json.loads(client.get('/default_release')[0]) == {'name': 'production'},
              '/default_release names production')
        res, summary = flow(inventory, 'gray', package=package('gray1'), release='gray1')
        res, summary = flow(inventory, 'review', package=package('appstore_review'), release='appstore_review')
        versions = sorted(client.get_children('/releases/production/versions'))
        check(versions == ['1.2.0', '1.2.1', '1.3.0', '1.4.0'],
              'the default release lists the gray and review versions too: %s' % versions)
        res, summary = flow(inventory, 'production', package=package('production'), release='production')
        check(summary.get('changed_nodes') == 0, 'rerunning the production flow writes nothing',
              json.dumps(summary))

        say('4. VMS questions, answered by release_lookup')
        for question, release in ((dict(section_id='1901'), 'gray1'), (dict(inner_ip='10.2.0.11'), 'appstore_review'),
                                  (dict(version='1.2.1'), 'production'), (dict(section_id='1003'), 'production')):
            doc = lookup(inventory, **question)
            check(doc.get('release') == release, '%s is owned by %s (global_url %s)'
                  % (question, doc.get('release'), doc.get('global_url')), json.dumps(doc))

        say('5. Deploy the packages onto the example hosts, start the game service by section and release')
        ports = dict(zip(sorted(SECTIONS), zkserver.free_ports(len(SECTIONS))))
        hosts_up = [os.path.join(WORK, 'hosts', ip) for ip, dummy in HOSTS.values()]
        extra = os.path.join(WORK, 'start-vars.yml')
        with open(extra, 'w') as f:
            json.dump({'server_start_install_root': WORK + '/hosts/{{ inner_ip }}',
                       'server_start_ports': ports,
                       'server_start_command': ['{install_root}/version/{service}/{version}/bin/{service}',
                                                '--release', '{release}', '--section', '{section_id}',
                                                '--port', '{port}']}, f)
        for release in ('production', 'gray1', 'appstore_review'):
            res, summary = flow(inventory, 'deploy', vars_file=extra, package=package(release))
            hosts = summary.get('hosts') or {}
            check(hosts and all(h.get('build') == '190122.01' for h in hosts.values()),
                  '%s deployed on %s' % (os.path.basename(package(release)), ', '.join(sorted(hosts))),
                  json.dumps(summary))
        start = ['ansible-playbook', '-i', inventory, os.path.join(ROOT, 'playbooks', 'start.yml'),
                 '-e', 'target=service_gameserver', '-e', '@' + extra]
        res = run(start)
        for section, host in sorted(SECTIONS.items()):
            answer = gameservice.query(ports[section])
            check(answer['release'] == HOSTS[host][1] and answer['section'] == section,
                  '%s runs gameserver --release %s --section %s, pid %s'
                  % (host, answer['release'], section, answer['pid']), json.dumps(answer))
        res = run(start)
        counts = recap(res)
        check(all(c.get('changed') == 0 for c in counts.values()), 'rerunning start.yml changes nothing',
              json.dumps(counts))

        say('6. A new gray build: publish it, list the revisions, roll back')
        for name, config in (('gray1', GRAY_NEXT), ('production', PRODUCTION_NEXT)):
            with open(os.path.join(configs, '%s.config.zoo' % name), 'w') as f:
                json.dump(config, f)
        build(inventory, src, configs, 'cn_prod', '190123.01', dist)
        flow(inventory, 'gray', package=package('gray1', '190123.01'), release='gray1')
        check(sorted(client.get_children('/releases/gray1/sections')) == ['1901', '1902'],
              'gray1 now has sections 1901 and 1902')
        res = run(['ansible-playbook', '-i', inventory, os.path.join(ROOT, 'playbooks', 'rollback.yml'),
                   '-e', 'release=gray1', '-e', 'list_revisions=true'])
        # Section 1902 came with the build: undoing it leaves 1902 with no owner, given up by name.
        flow(inventory, 'rollback', release='gray1', release_items='1902')
        check(sorted(client.get_children('/releases/gray1/sections')) == ['1901'],
              'gray1 is back to section 1901 only')

        say('7. Widen gray1 by game section with a health gate, draw the map, narrow it back, audit')
        record = os.path.join(WORK, 'gate-answers.jsonl')
        gate = json.dumps([sys.executable, os.path.join(ROOT, 'tests', 'gate.py'), zk_hosts, record,
                           'section_id=1003', 'section_id=1004'], separators=(',', ':'))
        res, summary = flow(inventory, 'widen', release='gray1', steps='[[1003],[1004]]', gate_command=gate,
                            gate_interval=1, gate_timeout=30)
        check('production -> gray1' in res.stdout, 'the impact table shows sections 1003 and 1004 moving from '
              'production to gray1')
        with open(record) as f:
            answers = [json.loads(line)['answers'] for line in f]
        check(answers == [{'section_id=1003': 'gray1', 'section_id=1004': 'production'},
                          {'section_id=1003': 'gray1', 'section_id=1004': 'gray1'}],
              'the gate, asked after each step, saw 1003 move first, then 1004', json.dumps(answers))
        check(lookup(inventory, section_id='1003').get('release') == 'gray1', 'section 1003 is now served by gray1')
        # The tree moved; the processes of 1003 and 1004 still run production until something restarts them.
        status = ['ansible-playbook', '-i', inventory, os.path.join(ROOT, 'playbooks', 'status.yml'),
                  '-e', 'target=service_gameserver', '-e', '@' + extra]
        res, summary = flow(inventory, 'status', vars_file=extra, target='service_gameserver')
        drift = sorted((i['section_id'], i['state']) for i in summary['instances'] if i['state'] != 'in_sync')
        check(drift == [('1003', 'wrong_release'), ('1004', 'wrong_release')],
              'status.yml: the processes of 1003 and 1004 still run production (wrong_release)', json.dumps(drift))
        res, summary = flow(inventory, 'sync', vars_file=extra, target='service_gameserver', package_dir=dist)
        check(sorted((a['section_id'], a['action'], a['release']) for a in summary['actions'])
              == [('1003', 'restarted', 'gray1'), ('1004', 'restarted', 'gray1')],
              'sync.yml restarted exactly those two, with --release gray1', json.dumps(summary['actions']))
        run(status + ['-e', 'fail_on_drift=true'])
        page = PAGE
        res, summary = flow(inventory, 'map', map_file=page)
        errors = [f['message'] for f in summary.get('findings') or [] if f.get('severity') == 'error']
        check(os.path.isfile(page) and not errors, 'the release map %s is drawn, and has no error'
              % os.path.relpath(page, ROOT), '\n'.join(errors))
        res, summary = flow(inventory, 'narrow', vars_file=extra, release='gray1', all='true', sync='true',
                            package_dir=dist)
        check(sorted(client.get_children('/releases/gray1/sections')) == ['1901'],
              'narrow all=true gave 1003 and 1004 back to production')
        restarted = sorted((i['section_id'], i['release']) for step in summary.get('steps') or []
                           for i in (step.get('synced') or {}).get('instances') or [])
        check(restarted == [('1003', 'production'), ('1004', 'production')]
              and all(gameservice.query(ports[s])['release'] == 'production' for s in ('1003', '1004')),
              'with -e sync=true the narrow restarted 1003 and 1004 with production',
              json.dumps(restarted))
        res, summary = flow(inventory, 'audit')
        errors = [f for f in summary.get('findings') or [] if f.get('severity') == 'error']
        check(summary.get('counts', {}).get('error') == 0 and not errors,
              'the audit finds one owner for every section, server and version', json.dumps(errors))

        say('8. A second gray release, gray2: publish it, then promote it into production')
        flow(inventory, 'gray', package=package('gray2', '190123.01'), release='gray2')
        check(lookup(inventory, section_id='1950').get('release') == 'gray2', 'section 1950 is served by gray2')
        res, summary = flow(inventory, 'promote', release='gray2', package=package('production', '190123.01'))
        check(summary.get('transactions') == 1 and sorted(summary.get('revisions_written') or {}) == ['gray2', 'production'],
              'one transaction wrote production and removed gray2 (a revision of each)', json.dumps(summary))
        check(client.exists('/releases/gray2') is None, '/releases/gray2 is gone')
        for question in (dict(section_id='1950'), dict(version='1.5.0')):
            doc = lookup(inventory, **question)
            check(doc.get('release') == 'production', '%s is now served by production' % question, json.dumps(doc))

        say('9. Stop the services, retire the review release')
        res = run(start + ['-e', 'elastic_release_state=stopped'])
        check(not any(gameservice.alive(gameservice.read_pid(p) or 0)
                      for root in hosts_up for p in gameservice.pid_files(root)), 'every game service stopped')
        flow(inventory, 'retire', release='appstore_review', release_items='all')
        check(client.exists('/releases/appstore_review') is None, '/releases/appstore_review is gone')
        run(['ansible-playbook', '-i', inventory, os.path.join(ROOT, 'playbooks', 'retire.yml'),
             '-e', 'release=production'], expect_rc=2)
        check(client.exists('/releases/production') is not None, 'retiring the default release is refused')

        say('10. Audit the final map; the ZooKeeper tree of %s (under the chroot %s)' % (PROJECT, CHROOT))
        res, summary = flow(inventory, 'audit')
        check(summary.get('counts', {}).get('error') == 0, 'the final map has no error; the registry still lists the '
              'releases the demo promoted and retired (remove them from elastic_release_registry after a promote or '
              'a retire), and the versions they appended route to production until its next publish')
        tree(client)
        client.stop()
        admin.stop()
        print('\nDemo finished in %.0f s: every step checked.' % (time.time() - started))
        print('The release map of step 7: %s (open it in a browser).' % os.path.relpath(PAGE, ROOT))
        return 0
    except DemoFailed as exc:
        print('\nDEMO FAILED: %s' % exc, file=sys.stderr)
        print('ZooKeeper log tail:\n%s' % zk.node.tail(), file=sys.stderr)
        return 1
    finally:
        if not opts.keep:
            gameservice.stop_all([WORK])
            zk.stop()
            print('ZooKeeper and the game services are stopped. To try the flows yourself on the demo\'s tree, run '
                  '`bash scripts/demo.sh --keep`: it leaves ZooKeeper running (README.md, "Try it yourself").')
        else:
            print('ZooKeeper left running at %s (pid %s); .build/demo/inventory points at it: try the flows of '
                  'README.md ("Try it yourself"). Stop it with: bash scripts/demo.sh stop' % (zk.hosts, zk.node.pid))


if __name__ == '__main__':
    sys.exit(main())
