#!/usr/bin/env bash
# Prepare a Debian 12 machine (as root) to build and test the collection, from nothing:
#   - Debian packages: zookeeper (the tests start their own servers from its jars), openssl (TLS
#     test certificates), procps, shellcheck (ansible-test's shellcheck sanity test skips itself
#     without it), a Java runtime if none is there;
#   - Python packages from requirements-dev.txt;
#   - the collection link .build/collections/ansible_collections/gameops/elastic_release -> here;
#   - ansible-test's pip bootstrap script (scripts/ansible_test_bootstrap.py: its download host is
#     unreachable from here).
# Idempotent, and quick when everything is already there. SETUP_FORCE=1 redoes the pip step.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

PYTHON=${PYTHON:-$(command -v python || command -v python3)}
BUILD=$ROOT/.build
mkdir -p "$BUILD"

log() { printf '[setup] %s\n' "$*"; }

# --- Debian packages --------------------------------------------------------------------------
APT_PACKAGES=(zookeeper openssl procps shellcheck)
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$pkg")
    fi
done
if ! command -v java >/dev/null 2>&1; then
    missing+=(default-jre-headless)
fi
if ((${#missing[@]})); then
    if [ "$(id -u)" -ne 0 ]; then
        log "need root to install: ${missing[*]}" >&2
        exit 1
    fi
    log "installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q --no-install-recommends "${missing[@]}"
else
    log "Debian packages present: ${APT_PACKAGES[*]}"
fi

# --- Python packages --------------------------------------------------------------------------
# pip itself takes ~3 s to find everything satisfied: skip it while the requirement files and the
# interpreter are unchanged and the tools are on PATH.
stamp=$BUILD/setup-pip.stamp
want=$( { "$PYTHON" -c 'import sys; print(sys.executable, sys.version)'; cat requirements.txt requirements-dev.txt; } \
        | sha256sum | cut -d' ' -f1)
tools_ok=true
for tool in ansible ansible-playbook ansible-test ansible-lint molecule; do
    command -v "$tool" >/dev/null 2>&1 || tools_ok=false
done
if [ "${SETUP_FORCE:-0}" != 1 ] && $tools_ok && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    log "Python requirements unchanged since the last install"
else
    log "pip install -r requirements-dev.txt ($PYTHON)"
    PIP_ROOT_USER_ACTION=ignore "$PYTHON" -m pip install --disable-pip-version-check -q -r requirements-dev.txt
    echo "$want" > "$stamp"
fi

# --- the collection, without Galaxy -------------------------------------------------------------
"$PYTHON" -c "import sys; sys.path.insert(0, 'tests'); import helpers; print('[setup] collection link in ' + helpers.install_collection())"

# --- ansible-test -------------------------------------------------------------------------------
"$PYTHON" scripts/ansible_test_bootstrap.py

log "done"
