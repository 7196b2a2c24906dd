#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, GameOps release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: server_start
short_description: Start, stop or restart a game service with the release that owns its host or section
version_added: 0.1.0
description:
  - Finds the release that owns the host's O(inner_ip), or the game O(section_id), by walking the
    children of C(/releases) in ZooKeeper (the same lookup as M(gameops.elastic_release.release_lookup)),
    reads the service's version from the C(services) mapping of the owning node's data, and starts
    C({install_root}/version/{service}/{version}/bin/{service} --release {release}), plus
    C(--section {section_id}) when a section is known.
  - 'The owning server or section node holds for example C({"services": {"gameserver": "dev.190122.01"}}).
    A node without a version for O(service) fails the task and starts nothing.'
  - A host or section owned by no release (or by two) fails the task and starts nothing.
  - When the controller already resolved the release (the C(server_start) role does, with one ZooKeeper
    read for the whole fleet), pass O(release), O(version) and O(global_url); the module then does not
    connect to ZooKeeper at all.
  - The command is an argument list run without a shell. Each placeholder fills exactly one argument,
    so a value can neither add arguments nor run anything. Section ids, IPs, versions and release
    names are validated before anything is read or started.
  - With O(instances) (as the C(server_start) role calls it), every instance of the host at once -
    one per section the CMDB gives the host for a service run per section, one per host otherwise -
    each resolved by the controller and brought to O(state) with its own pid file; O(service),
    O(section_id), O(release), O(version), O(global_url) and O(command) then come from each instance,
    and ZooKeeper is not read (unless an instance has neither an owner nor an error, with
    C(elastic_release_resolve=host)). One instance that fails does not keep the others from their
    state; the task fails afterwards, naming each failure.
  - The service runs as a daemon in its own session, with stdin from C(/dev/null) and stdout and
    stderr appended to a log file, and is tracked by a pid file and a small state file (the command
    line it was started with) in O(run_dir).
  - A process counts as this service only when the pid file names a live process whose C(/proc/<pid>/cmdline)
    is the command recorded at start, or the command template with another release or build. A pid
    file naming any other program fails the task, and that process is never signalled.
author:
  - GameOps release engineering (@gameops)
extends_documentation_fragment:
  - gameops.elastic_release.zookeeper
  - gameops.elastic_release.instances
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Looks the release up (reads only) and reports what it would start, stop or restart; starts nothing.
  diff_mode:
    support: none
  platform:
    platforms: posix
    details: Needs Linux's C(/proc) to recognise the running process.
options:
  service:
    description:
      - Name of the service, which is also the name of its directory under C(version/) and of its
        program under C(bin/), for example C(gameserver).
      - 1-64 letters, digits, C(_), C(.) or C(-); no C(/).
      - Required unless O(instances) or O(plan) is given.
    type: str
  prune:
    description: With O(instances), stop the instances of sections the host no longer serves (see O(served)).
    type: bool
    default: false
  install_root:
    description:
      - Absolute path where server packages are unpacked; the service's program is
        C({install_root}/version/{service}/{version}/bin/{service}).
    type: path
    required: true
  section_id:
    description:
      - Game section (zone) id this service serves. When given, the release that owns the section
        is looked up (instead of the one owning O(inner_ip)) and C(--section {section_id}) is added
        to the default command.
      - A host running several sections gets one pid file per section.
    type: str
  inner_ip:
    description:
      - The host's inner IP, as listed under C(/releases/{release}/servers). The role passes the
        host's C(inner_ip) inventory variable.
      - One of O(section_id) and O(inner_ip) is needed unless O(release) is given.
    type: str
  state:
    description:
      - V(started) starts the service unless it already runs with the expected command.
      - V(restarted) always stops and starts it again.
      - V(stopped) sends SIGTERM to the service's process group, waits O(stop_timeout) seconds, then
        sends SIGKILL, and removes the pid file. Stopping does not read ZooKeeper.
    type: str
    choices: [started, stopped, restarted]
    default: started
  command:
    description:
      - The command as a list of arguments, each one a template with the placeholders C({release}),
        C({section_id}), C({inner_ip}), C({version}), C({global_url}), C({install_root}), C({service})
        and C({port}) (O(ready_port)).
        Write a literal brace as C({{) or C(}}).
      - Only bare placeholder names are allowed (no attribute access, conversions or format specs);
        a placeholder without a value (for example C({section_id}) when no section is known) is an error.
      - The first argument must be an absolute path (there is no C(PATH) search).
      - Defaults to C(["{install_root}/version/{service}/{version}/bin/{service}", "--release", "{release}"])
        plus C(["--section", "{section_id}"]) when O(section_id) is given.
    type: list
    elements: str
  restart_on_change:
    description:
      - When the service runs with another command than the expected one (the owning release or the
        version changed), restart it. Otherwise it is left running with a warning, and the task reports no change.
    type: bool
    default: false
  ready_port:
    description:
      - TCP port the service listens on. After starting, wait until C(127.0.0.1:ready_port) accepts
        connections (a service bound to C(0.0.0.0) accepts there too).
      - Before starting, a port that already accepts connections is an error (another process holds it).
    type: int
  ready_timeout:
    description:
      - Seconds to wait for O(ready_port). A service that does not listen in time is stopped again and
        the task fails with the end of its log.
    type: float
    default: 30
  ready_delay:
    description:
      - Without O(ready_port), seconds the new process must stay alive to count as started. A process
        that exits earlier fails the task with the end of its log.
    type: float
    default: 0.5
  stop_timeout:
    description:
      - Seconds between SIGTERM and SIGKILL when stopping.
    type: float
    default: 30
  run_dir:
    description:
      - Directory of the pid file (C({service}.pid), or C({service}-{section_id}.pid)), the state file
        and the log file (C({service}.log)).
      - Defaults to C({install_root}/run).
    type: path
  version:
    description:
      - The version to run instead of the one the owning node names.
      - Required with O(release).
    type: str
  release:
    description:
      - The owning release, resolved beforehand (for example by the C(gameops.elastic_release.release)
        lookup on the controller). With O(release) and O(version) the module does not read ZooKeeper.
    type: str
  global_url:
    description:
      - The owning release's global URL, resolved beforehand, for the C({global_url}) placeholder.
    type: str
  owner_error:
    description:
      - Why the owning release could not be resolved beforehand (the C(server_start) role passes the reason
        the C(gameops.elastic_release.release) lookup gave for this host). When set, the module fails with
        this message, whatever the other options say, and reads, starts and stops nothing.
    type: str
notes:
  - Requires the C(kazoo) Python library on the managed host unless O(release) is given or O(state=stopped).
  - The service gets the module's environment without C(ANSIBLE_*) and C(ELASTIC_RELEASE_ZK_*)
    variables (no ZooKeeper credentials leak into game services). Its working directory is its
    version directory.
seealso:
  - module: gameops.elastic_release.release_lookup
  - plugin: gameops.elastic_release.release
    plugin_type: lookup
  - plugin: gameops.elastic_release.zookeeper
    plugin_type: inventory
'''

EXAMPLES = r'''
- name: Start the game server with the release that owns this host
  gameops.elastic_release.server_start:
    hosts: 10.0.0.1:2181/mygame
    service: gameserver
    install_root: /data/game
    inner_ip: "{{ inner_ip }}"
    ready_port: 7001

- name: Start the server of section 1001 (adds --section 1001)
  gameops.elastic_release.server_start:
    service: gameserver
    install_root: /data/game
    section_id: "1001"

- name: Start with a resolved release and a custom command (no ZooKeeper read)
  gameops.elastic_release.server_start:
    service: gameserver
    install_root: /data/game
    inner_ip: "{{ inner_ip }}"
    release: gray1
    version: dev.190122.01
    global_url: http://10.0.0.5:9000
    command:
      - "{install_root}/version/{service}/{version}/bin/{service}"
      - --release={release}
      - --global
      - "{global_url}"
    restart_on_change: true

- name: Stop it
  gameops.elastic_release.server_start:
    service: gameserver
    install_root: /data/game
    state: stopped

# Ad hoc, with the connection from the environment (ELASTIC_RELEASE_ZK_HOSTS):
# ansible game -m gameops.elastic_release.server_start -a 'service=gameserver install_root=/data/game inner_ip={{ inner_ip }}'
'''

RETURN = r'''
action:
  description:
    - What the task did (or, in check mode, would do) - V(started), V(restarted), V(stopped), V(none),
      or V(drift) when the service runs with another command and was left running.
  returned: always
  type: str
  sample: started
pid:
  description: Pid of the running service, or null when none runs (after O(state=stopped), the pid that was stopped).
  returned: always
  type: int
  sample: 4711
cmd:
  description: The expected command line (for O(state=stopped), the one recorded at start), or null.
  returned: always
  type: list
  elements: str
  sample: ["/data/game/version/gameserver/dev.190122.01/bin/gameserver", "--release", "gray1"]
running_cmd:
  description: The command line of the running process as C(/proc) shows it, when one runs.
  returned: always
  type: list
  elements: str
release:
  description: The owning release (for O(state=stopped), the release the stopped process was started with).
  returned: always
  type: str
  sample: gray1
version:
  description: The service's version that is (or would be) started.
  returned: always
  type: str
  sample: dev.190122.01
global_url:
  description: The owning release's global URL, or null.
  returned: always
  type: str
section_id:
  description: The section id, or null.
  returned: always
  type: str
inner_ip:
  description: The inner IP, or null.
  returned: always
  type: str
source:
  description: ZooKeeper path the release and version were read from, or V(given) when they were passed in.
  returned: unless O(state=stopped)
  type: str
  sample: /releases/gray1/servers/10.1.2.3
log_file:
  description: The service's log file (stdout and stderr).
  returned: always
  type: str
  sample: /data/game/run/gameserver.log
pid_file:
  description: The service's pid file.
  returned: always
  type: str
  sample: /data/game/run/gameserver.pid
instances:
  description:
    - With O(instances), one result per instance - the keys of RV(summary), plus C(changed), C(failed),
      C(msg) (the error), C(cmd), C(running_cmd), C(pid_file) and C(log_file).
  returned: when O(instances) is given
  type: list
  elements: dict
summary:
  description: What a fleet report shows for the host - RV(service), RV(action), RV(pid), RV(release), RV(version), RV(section_id) and RV(inner_ip).
  returned: unless O(instances) is given
  type: dict
  sample: {"service": "gameserver", "action": "started", "pid": 4711, "release": "gray1", "version": "dev.190122.01",
           "section_id": null, "inner_ip": "10.1.2.3"}
service:
  description: The service.
  returned: always
  type: str
  sample: gameserver
signal:
  description: The signal that ended the stopped process (V(SIGTERM), or V(SIGKILL) after O(stop_timeout)).
  returned: when a process was stopped
  type: str
'''

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.gameops.elastic_release.plugins.module_utils._zk.options import OptionAdapter, argument_spec
from ansible_collections.gameops.elastic_release.plugins.module_utils._host import fleet as _fleet
from ansible_collections.gameops.elastic_release.plugins.module_utils._host import process as _process
from ansible_collections.gameops.elastic_release.plugins.module_utils._host import service as _service
from ansible_collections.gameops.elastic_release.plugins.module_utils._zk.base import ZkError


def main():
    module = AnsibleModule(
        argument_spec=argument_spec(
            service=dict(type='str'),
            prune=dict(type='bool', default=False),
            install_root=dict(type='path', required=True),
            section_id=dict(type='str'),
            inner_ip=dict(type='str'),
            state=dict(type='str', default='started', choices=list(_service.STATES)),
            command=dict(type='list', elements='str'),
            restart_on_change=dict(type='bool', default=False),
            ready_timeout=dict(type='float', default=30.0),
            ready_delay=dict(type='float', default=0.5),
            stop_timeout=dict(type='float', default=30.0),
            run_dir=dict(type='path'),
            version=dict(type='str'),
            release=dict(type='str'),
            global_url=dict(type='str'),
            owner_error=dict(type='str'),
            **_fleet.INSTANCE_SPEC
        ),
        required_by={'release': 'version'},
        required_one_of=[('service', 'instances', 'plan')],
        supports_check_mode=True,
    )
    p = module.params
    if p['plan'] is not None:
        p['owner_error'] = p['owner_error'] or _fleet.from_plan(p)
    if p['instances'] is not None or p['plan'] is not None:
        p['instances'] = p['instances'] or []
        _instances(module)
    try:
        request = _service.Request(p)
        result = _process.execute(request, OptionAdapter.from_module(module).session, module.check_mode)
    except (_service.ServiceError, ZkError) as exc:
        module.fail_json(msg=str(exc), service=p['service'], section_id=p['section_id'], inner_ip=p['inner_ip'],
                         changed=getattr(exc, 'changed', False))
    for warning in result.pop('warnings'):
        module.warn(warning)
    module.exit_json(**result)


def _instances(module):
    p = module.params
    if p['owner_error']:
        module.fail_json(msg=p['owner_error'], changed=False, instances=[])
    try:
        results, errors = _fleet.run(p, p['state'], module.check_mode, OptionAdapter.from_module(module).session)
    except _service.ServiceError as exc:
        module.fail_json(msg=str(exc), changed=False)
    changed = any(r.get('changed') for r in results)
    for result in results:
        for warning in result.pop('warnings', []):
            module.warn(warning)
    if errors:
        module.fail_json(msg='; '.join(errors), changed=changed, instances=results)
    module.exit_json(changed=changed, instances=results)


if __name__ == '__main__':
    main()
