# -*- coding: utf-8 -*-
"""Fixtures for the reliability suite: a 3-node ensemble that tests may break (and that is healed
between tests), a ZooKeeper with a digest super user, and a ZooKeeper serving TLS with
certificates made here.

ZooKeeper is required: a missing one is an error (zkserver.check_installed), never a skip.
"""

import datetime
import glob
import importlib.util
import ipaddress
import os
import re
import uuid

import pytest

import faultkit
import zkserver

from kazoo.security import make_digest_acl_credential

# Netty, for secureClientPort (ZooKeeper's NIO connection factory has no TLS).
NETTY_JARS = ('netty-buffer', 'netty-codec', 'netty-common', 'netty-handler', 'netty-resolver',
              'netty-transport', 'netty-transport-native-epoll', 'netty-transport-native-unix-common')
NETTY_FACTORY = 'org.apache.zookeeper.server.NettyServerCnxnFactory'

WRITER = ('release_bot', 'S3cr3t-pw-7f1c2a')      # the collection's digest credentials in the tests
SUPER = ('super', 'super-pw-91d0')


def _chroot_name(request):
    name = re.sub(r'[^a-z0-9_]', '_', request.node.name.lower())[:40]
    return '/r_%s_%s' % (name, uuid.uuid4().hex[:8])


class View(object):
    """One test's chroot on a server or ensemble: `hosts` for the modules, raw kazoo for checks."""

    def __init__(self, server_hosts, chroot, auth=None):
        self.server_hosts = server_hosts
        self.chroot = chroot
        self.hosts = server_hosts + chroot
        self.auth = auth

    def client(self, **kwargs):
        """A fresh raw kazoo client in the chroot (a context manager)."""
        if self.auth:
            kwargs.setdefault('auth_data', [('digest', '%s:%s' % self.auth)])
        return faultkit.kazoo(self.hosts, **kwargs)

    def tree(self):
        with self.client() as c:
            return faultkit.dump_tree(c)

    def subtree(self, path):
        with self.client() as c:
            return faultkit.read_subtree(c, path)


def make_chroot(hosts, chroot, auth=None):
    kwargs = {'auth_data': [('digest', '%s:%s' % auth)]} if auth else {}
    with faultkit.kazoo(hosts, **kwargs) as c:
        c.ensure_path(chroot)


# ---- the ensemble ------------------------------------------------------------------------------

@pytest.fixture(scope='session')
def ensemble(tmp_path_factory):
    zkserver.check_installed()
    ens = zkserver.Ensemble(workdir=str(tmp_path_factory.mktemp('ensemble')))
    ens.start()
    yield ens
    ens.stop()


@pytest.fixture
def ens(ensemble, request):
    """A healthy ensemble and a fresh chroot on it; healed again after the test."""
    faultkit.heal(ensemble)
    chroot = _chroot_name(request)
    make_chroot(ensemble.hosts, chroot)
    view = View(ensemble.hosts, chroot)
    view.ensemble = ensemble
    yield view
    faultkit.heal(ensemble)


# ---- digest auth -------------------------------------------------------------------------------

@pytest.fixture(scope='session')
def auth_server(tmp_path_factory):
    """A standalone ZooKeeper with a super user (to look at anything); every server accepts digest."""
    zkserver.check_installed()
    digest = make_digest_acl_credential(*SUPER)
    server = zkserver.Standalone(workdir=str(tmp_path_factory.mktemp('zk-auth')),
                                 jvm_args=['-Dzookeeper.DigestAuthenticationProvider.superDigest=%s' % digest])
    server.start()
    yield server
    server.stop()


@pytest.fixture
def authzk(auth_server, request):
    chroot = _chroot_name(request)
    make_chroot(auth_server.hosts, chroot)
    view = View(auth_server.hosts, chroot)
    view.writer = WRITER
    view.credential = '%s:%s' % WRITER
    view.super = SUPER
    return view


# ---- TLS ---------------------------------------------------------------------------------------

def _key():
    from cryptography.hazmat.primitives.asymmetric import ec
    return ec.generate_private_key(ec.SECP256R1())


def _pem_key(key):
    from cryptography.hazmat.primitives import serialization
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _cert(subject_cn, key, issuer=None, issuer_key=None, ca=False, san=False):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject_cn)])
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (x509.CertificateBuilder()
               .subject_name(name)
               .issuer_name(issuer.subject if issuer is not None else name)
               .public_key(key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(hours=1))
               .not_valid_after(now + datetime.timedelta(days=2))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if ca:
        builder = builder.add_extension(x509.KeyUsage(
            digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
            key_encipherment=False, data_encipherment=False, key_agreement=False, encipher_only=False,
            decipher_only=False), critical=True)
    else:
        builder = builder.add_extension(x509.ExtendedKeyUsage(
            [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
    if san:
        builder = builder.add_extension(x509.SubjectAlternativeName(
            [x509.DNSName('localhost'), x509.IPAddress(ipaddress.ip_address('127.0.0.1'))]), critical=False)
    cert = builder.sign(issuer_key if issuer_key is not None else key, hashes.SHA256())
    return cert, cert.public_bytes(serialization.Encoding.PEM)


def make_certs(directory):
    """A CA, a server and a client certificate signed by it, and an unrelated (wrong) CA."""
    os.makedirs(directory, exist_ok=True)
    paths = {}

    def write(name, data):
        path = os.path.join(directory, name)
        with open(path, 'wb') as f:
            f.write(data)
        os.chmod(path, 0o600)
        paths[name.replace('.', '_')] = path
        return path

    ca_key = _key()
    ca, ca_pem = _cert('elastic-release test CA', ca_key, ca=True)
    write('ca.pem', ca_pem)
    for who in ('server', 'client'):
        key = _key()
        dummy, pem = _cert('elastic-release test %s' % who, key, issuer=ca, issuer_key=ca_key, san=True)
        write('%s.crt' % who, pem)
        write('%s.key' % who, _pem_key(key))
        write('%s_bundle.pem' % who, _pem_key(key) + pem)   # ZooKeeper's PEM key store: key + chain
    wrong_key = _key()
    dummy, wrong_pem = _cert('some other CA', wrong_key, ca=True)
    write('wrongca.pem', wrong_pem)
    # A client certificate that the server's CA did not sign.
    rogue_key = _key()
    dummy, rogue_pem = _cert('rogue client', rogue_key, issuer=None, issuer_key=None, san=True)
    write('rogue.crt', rogue_pem)
    write('rogue.key', _pem_key(rogue_key))
    return paths


def netty_classpath():
    jars = []
    for name in NETTY_JARS:
        path = os.path.join(zkserver.JAVA_DIR, name + '.jar')
        if not os.path.exists(path):
            found = sorted(glob.glob(os.path.join(zkserver.JAVA_DIR, name + '-4*.jar')))
            if not found:
                raise zkserver.ZooKeeperMissing('%s is missing: TLS needs Netty (apt-get install '
                                                'libnetty-java, a dependency of zookeeper)' % path)
            path = found[-1]
        jars.append(path)
    return jars


@pytest.fixture(scope='session')
def tls_server(tmp_path_factory):
    """A standalone ZooKeeper serving TLS on its secure port (client certificates required) and
    plain TCP on its client port (used here only for readiness probes)."""
    zkserver.check_installed()
    workdir = str(tmp_path_factory.mktemp('zk-tls'))
    certs = make_certs(os.path.join(workdir, 'certs'))
    secure_port = zkserver.free_ports(1)[0]
    extra = {
        'secureClientPort': secure_port,
        'secureClientPortAddress': '127.0.0.1',
        'serverCnxnFactory': NETTY_FACTORY,
        'ssl.keyStore.location': certs['server_bundle_pem'],
        'ssl.keyStore.type': 'PEM',
        'ssl.trustStore.location': certs['ca_pem'],
        'ssl.trustStore.type': 'PEM',
        'ssl.clientAuth': 'need',
    }
    server = zkserver.Standalone(workdir=workdir, extra=extra, extra_classpath=netty_classpath(),
                                 jvm_args=['-Dzookeeper.serverCnxnFactory=%s' % NETTY_FACTORY])
    server.start()
    server.secure_hosts = '127.0.0.1:%d' % secure_port
    server.certs = certs
    yield server
    server.stop()


# ---- the flows: the fixtures of tests/integration (packages built once, the inventory copy) ------

def _integration_fixtures():
    path = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'integration', 'conftest.py')
    spec = importlib.util.spec_from_file_location('integration_flow_fixtures', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.packages, module.inventory


packages, inventory = _integration_fixtures()
