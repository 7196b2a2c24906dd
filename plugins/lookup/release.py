# -*- coding: utf-8 -*-
# Copyright: (c) 2026, GameOps release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
name: release
short_description: Find the releases that own sections, inner IPs or client versions, on the controller
version_added: 0.1.0
description:
  - Answers the questions of M(gameops.elastic_release.release_lookup) on the controller - which release
    owns a game section, a server's inner IP, or where a client version routes - with the same rules.
  - One question costs about three pipelined ZooKeeper round trips. Several questions in one call
    (many terms, or lists in O(section_id), O(inner_ip) and O(version)) load the whole membership of
    C(/releases) once and answer every question from memory; this is how the C(server_start) role
    resolves a whole fleet with one tree read.
  - Returns one answer per question, in order - the terms first, then O(section_id), O(inner_ip)
    and O(version). Called with C(lookup) and one question, the answer itself is returned; use
    C(query) or C(wantlist=true) to always get a list.
author:
  - GameOps release engineering (@gameops)
extends_documentation_fragment:
  - gameops.elastic_release.zookeeper.plugins
  - gameops.elastic_release.zookeeper
options:
  _terms:
    description:
      - Questions written as C(section_id=1001), C(inner_ip=10.1.2.3) or C(version=1.2.1) (a term
        may hold several of them separated by spaces), or as mappings with one key, such as
        C(section_id) mapped to C(1001). A list of terms counts as its elements.
      - Mappings keep a value with spaces or other odd characters whole, so that it is refused (or,
        with O(fail_on_missing=false), answered with an error) as one value.
    type: list
    elements: raw
    required: false
  section_id:
    description:
      - A section id, or a list of them.
    type: raw
  inner_ip:
    description:
      - An inner IP, or a list of them.
    type: raw
  version:
    description:
      - A client version, or a list of them.
    type: raw
  service:
    description:
      - Also read this service's version from each owning server or section node (C(data.services[service]))
        into RV(_raw[].service_version). Version questions ignore it.
    type: str
  fail_on_missing:
    description:
      - Fail when a question has no answer (a section or IP owned by no release, or by two; an
        invalid name; with O(service), a node without a version for it).
      - When false, such an answer has RV(_raw[].release=null) (a version still routes to the default
        release), RV(_raw[].found=false) and the reason in RV(_raw[].error); the other answers are unaffected.
    type: bool
    default: true
notes:
  - The connection options come from the lookup's keyword arguments, then from the
    C(elastic_release_zk_*) variables, C(ELASTIC_RELEASE_ZK_*) environment variables and the
    C([elastic_release]) section of C(ansible.cfg).
  - Runs on the controller, which needs the C(kazoo) Python library.
seealso:
  - module: gameops.elastic_release.release_lookup
  - module: gameops.elastic_release.server_start
'''

EXAMPLES = r'''
- name: Which release serves section 1001?
  ansible.builtin.debug:
    msg: "{{ lookup('gameops.elastic_release.release', section_id='1001').release }}"
  vars:
    elastic_release_zk_hosts: 10.0.0.1:2181/mygame

- name: Same question written as a term
  ansible.builtin.debug:
    msg: "{{ lookup('gameops.elastic_release.release', 'section_id=1001') }}"

- name: Owners of every host of the play, with one tree read
  ansible.builtin.set_fact:
    owners: >-
      {{ query('gameops.elastic_release.release',
               inner_ip=ansible_play_hosts | map('extract', hostvars, 'inner_ip') | list,
               service='gameserver', fail_on_missing=false) }}
  run_once: true

- name: Where does client version 1.2.1 route?
  ansible.builtin.debug:
    msg: "{{ lookup('gameops.elastic_release.release', version='1.2.1').release }}"
'''

RETURN = r'''
_raw:
  description: One answer per question.
  type: list
  elements: dict
  contains:
    question:
      description: 'The question, for example C({"inner_ip": "10.1.2.3"}).'
      type: dict
    release:
      description: The owning release (for a version, the release it routes to), or null.
      type: str
      sample: gray1
    found:
      description: Whether the item's node exists in RV(_raw[].release).
      type: bool
    is_default:
      description: Whether RV(_raw[].release) is the default release.
      type: bool
    default_release:
      description: The release named by C(/default_release), or null.
      type: str
    global_url:
      description: The owning release's global URL, or null.
      type: str
    data:
      description: The item node's data (a JSON object; empty when the node holds none).
      type: dict
      sample: {"services": {"gameserver": "dev.190122.01"}}
    path:
      description: ZooKeeper path of the item in the owning release, or null.
      type: str
      sample: /releases/gray1/servers/10.1.2.3
    service_version:
      description: With O(service), the service's version named by the node, or null.
      type: str
      sample: dev.190122.01
    error:
      description: With O(fail_on_missing=false), why the question has no answer; null otherwise.
      type: str
'''

from ansible.errors import AnsibleLookupError
from ansible.module_utils.common.text.converters import to_native
from ansible.plugins.lookup import LookupBase
from ansible_collections.gameops.elastic_release.plugins.module_utils._report.lookup import (KEYS, LookupFailed, answer_all,
                                                                                             questions_from)
from ansible_collections.gameops.elastic_release.plugins.module_utils._zk.options import VAR_PREFIX, OptionAdapter
from ansible_collections.gameops.elastic_release.plugins.module_utils._host.service import ServiceError, answer_version
from ansible_collections.gameops.elastic_release.plugins.module_utils._zk.session import ZkError


def _version_of(answer, service):
    try:
        return answer_version(answer, service)
    except ServiceError as exc:
        raise LookupFailed(str(exc))


class LookupModule(LookupBase):

    def run(self, terms, variables=None, **kwargs):
        # Option values taken from variables arrive as written ("{{ zk.hosts }}" in group_vars):
        # template the connection variables, and only those, before reading them.
        var_options = {}
        for name in variables or {}:
            if name.startswith(VAR_PREFIX):
                var_options[name] = self._templar.template(variables[name])
        self.set_options(var_options=var_options, direct=kwargs)
        options = dict((key, self.get_option(key)) for key in KEYS)
        try:
            asked = questions_from(terms, options)
            with OptionAdapter.from_plugin(self).session() as session:
                return answer_all(session, asked, self.get_option('service'), self.get_option('fail_on_missing'),
                                  version_of=_version_of)
        except (LookupFailed, ServiceError, ZkError) as exc:
            raise AnsibleLookupError(to_native(exc))
