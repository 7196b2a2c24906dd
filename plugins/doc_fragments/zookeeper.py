# -*- coding: utf-8 -*-
# Copyright: (c) 2026, GameOps release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # The ZooKeeper connection options shared by every module and plugin (DOCUMENTATION), and the
    # env/ini/vars sources the lookup and inventory plugins read them from (PLUGINS).
    DOCUMENTATION = r'''
options:
  hosts:
    description:
      - Comma-separated C(host:port) list of the ZooKeeper ensemble, optionally followed by a
        C(/chroot) (one chroot per game project), for example C(10.0.0.1:2181,10.0.0.2:2181/mygame).
      - When not given, the E(ELASTIC_RELEASE_ZK_HOSTS) environment variable is used.
      - The chroot must exist.
    type: str
  timeout:
    description:
      - Seconds to wait for a connection and, after that, for each ZooKeeper answer.
      - An ensemble without quorum makes the task fail after this long instead of hanging.
    type: float
    default: 10.0
  auth_scheme:
    description:
      - ZooKeeper authentication scheme for O(auth_credential).
    type: str
    choices: [digest]
    default: digest
  auth_credential:
    description:
      - The C(user:password) credential for digest authentication. Never logged.
      - When not given, the E(ELASTIC_RELEASE_ZK_AUTH_CREDENTIAL) environment variable is used.
    type: str
  use_tls:
    description:
      - Connect to the ensemble's TLS client port (C(secureClientPort)).
    type: bool
    default: false
  ca_cert:
    description:
      - PEM file of the CA that signed the servers' certificates (with O(use_tls)).
    type: path
  client_cert:
    description:
      - PEM client certificate for mutual TLS (with O(use_tls)).
    type: path
  client_key:
    description:
      - PEM private key of O(client_cert).
    type: path
  validate_certs:
    description:
      - Verify the servers' certificates against O(ca_cert). Only turn this off for tests.
    type: bool
    default: true
'''

    # The sources plugins read the connection options from; the descriptions come from
    # DOCUMENTATION above (a plugin extends both fragments). The certificate files are strings to
    # plugins: Ansible's config type `path` would turn an empty variable into the current directory.
    PLUGINS = r'''
options:
  hosts:
    env:
      - name: ELASTIC_RELEASE_ZK_HOSTS
    ini:
      - section: elastic_release
        key: zk_hosts
    vars:
      - name: elastic_release_zk_hosts
  timeout:
    env:
      - name: ELASTIC_RELEASE_ZK_TIMEOUT
    ini:
      - section: elastic_release
        key: zk_timeout
    vars:
      - name: elastic_release_zk_timeout
  auth_scheme:
    env:
      - name: ELASTIC_RELEASE_ZK_AUTH_SCHEME
    vars:
      - name: elastic_release_zk_auth_scheme
  auth_credential:
    env:
      - name: ELASTIC_RELEASE_ZK_AUTH_CREDENTIAL
    vars:
      - name: elastic_release_zk_auth_credential
  use_tls:
    env:
      - name: ELASTIC_RELEASE_ZK_USE_TLS
    ini:
      - section: elastic_release
        key: zk_use_tls
    vars:
      - name: elastic_release_zk_use_tls
  ca_cert:
    type: str
    env:
      - name: ELASTIC_RELEASE_ZK_CA_CERT
    ini:
      - section: elastic_release
        key: zk_ca_cert
    vars:
      - name: elastic_release_zk_ca_cert
  client_cert:
    type: str
    env:
      - name: ELASTIC_RELEASE_ZK_CLIENT_CERT
    vars:
      - name: elastic_release_zk_client_cert
  client_key:
    type: str
    env:
      - name: ELASTIC_RELEASE_ZK_CLIENT_KEY
    vars:
      - name: elastic_release_zk_client_key
  validate_certs:
    env:
      - name: ELASTIC_RELEASE_ZK_VALIDATE_CERTS
    vars:
      - name: elastic_release_zk_validate_certs
'''
