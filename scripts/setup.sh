#!/usr/bin/env bash
# Prepare a Debian 12 machine to build, try and test the collection from this checkout:
#   - Debian packages (apt, as root, only those missing): python3 and python3-venv (stock Debian 12
#     has no `python`, and its python3 refuses pip outside a virtual environment: PEP 668),
#     zookeeper (the tests and the demo start their own servers from its jars), a Java runtime,
#     openssl (TLS test certificates), procps, shellcheck (ansible-test's shellcheck sanity test
#     skips itself without it), chromium (headless rendering of the HTML release map), git;
#   - the virtual environment .venv/ of this checkout, made by Debian's python3, with the packages
#     of requirements-dev.txt (ansible-core, kazoo, pytest, molecule, ansible-lint, ...). Nothing is
#     installed into a system Python. Activate it with `. .venv/bin/activate`; scripts/test.sh,
#     scripts/demo.sh and the tests use it without activation;
#   - the collection link .build/collections/ansible_collections/gameops/elastic_release -> here
#     (ansible.cfg points Ansible at it);
#   - ansible-test's pip bootstrap script (scripts/ansible_test_bootstrap.py: its download host is
#     unreachable from here).
#
#   bash scripts/setup.sh                 SETUP_FORCE=1 redoes the pip step
#   bash scripts/setup.sh apt             only the Debian packages (e.g. a layer of its own in an image)
#   SETUP_PYTHON=/path/to/python3 ...     make .venv from another interpreter (default /usr/bin/python3)
#   SETUP_APT_LOCK_TIMEOUT=600 ...        seconds apt waits for another apt or dpkg holding its lock
#
# Idempotent, and quick (about a second) when nothing changed.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

BASE_PYTHON=${SETUP_PYTHON:-/usr/bin/python3}
VENV=$ROOT/.venv
BUILD=$ROOT/.build
mkdir -p "$BUILD"

log() { printf '[setup] %s\n' "$*"; }
die() { printf '[setup] ERROR: %s\n' "$*" >&2; exit 1; }

# --- Debian packages --------------------------------------------------------------------------
APT_PACKAGES=(python3 python3-venv ca-certificates git zookeeper openssl procps shellcheck chromium)
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
        die "missing Debian packages; as root run: apt-get install --no-install-recommends ${missing[*]}"
    fi
    log "installing Debian packages: ${missing[*]}"
    # Another apt (unattended-upgrades on a fresh machine, a second setup) may hold the dpkg lock:
    # apt waits for it, printing who holds it, instead of stopping with its raw lock error.
    lock_timeout=${SETUP_APT_LOCK_TIMEOUT:-600}
    log "if another apt or dpkg holds the dpkg lock, apt waits for it up to ${lock_timeout}s (SETUP_APT_LOCK_TIMEOUT)"
    export DEBIAN_FRONTEND=noninteractive
    apt_lock=(-o "DPkg::Lock::Timeout=$lock_timeout")
    apt-get "${apt_lock[@]}" update -q \
        || die "apt-get update failed (exit $?): see above; another apt still holding the lock after ${lock_timeout}s? wait for it, then run bash scripts/setup.sh again"
    apt-get "${apt_lock[@]}" install -y -q --no-install-recommends "${missing[@]}" \
        || die "apt-get install failed (exit $?): see above; another apt still holding the lock after ${lock_timeout}s? wait for it, then run bash scripts/setup.sh again"
else
    log "Debian packages present: ${APT_PACKAGES[*]} and java"
fi
if [ "${1:-}" = apt ]; then
    log "done: Debian packages (scripts/setup.sh apt)"
    exit 0
fi

# --- the virtual environment ------------------------------------------------------------------
[ -x "$BASE_PYTHON" ] || die "$BASE_PYTHON not found (SETUP_PYTHON)"
base_version=$("$BASE_PYTHON" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])')
venv_version=$("$VENV/bin/python" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3]) if sys.prefix != sys.base_prefix else None' 2>/dev/null || true)
if [ "$venv_version" != "$base_version" ]; then
    if [ -e "$VENV" ]; then
        log "recreating .venv (it has Python '${venv_version:-broken}', $BASE_PYTHON is $base_version)"
        rm -rf "$VENV"
    fi
    log "creating the virtual environment .venv ($BASE_PYTHON -m venv, Python $base_version)"
    "$BASE_PYTHON" -m venv "$VENV" || die "$BASE_PYTHON -m venv failed (Debian: apt-get install python3-venv)"
fi
PYTHON=$VENV/bin/python
# Everything below runs with the environment's own interpreter: a system Python is never touched.
"$PYTHON" -c 'import sys; sys.exit(sys.prefix == sys.base_prefix)' || die "$PYTHON is not a virtual environment"

# --- Python packages --------------------------------------------------------------------------
# pip takes seconds even to find everything satisfied: skip it while the requirement files and the
# interpreter are unchanged and the tools are there. The stamp lives in .venv: a new venv redoes it.
stamp=$VENV/.setup-requirements.sha256
want=$( { echo "$base_version"; cat requirements.txt requirements-dev.txt; } | sha256sum | cut -d' ' -f1)
tools_ok=true
for tool in ansible ansible-playbook ansible-doc ansible-galaxy ansible-test ansible-lint molecule pytest ansible-builder; do
    [ -x "$VENV/bin/$tool" ] || tools_ok=false
done

# pip's output with the elapsed time in front, and a line every 15 s while pip is quiet (it says
# nothing while it unpacks and installs the packages it downloaded).
show_progress() {
    local start=$SECONDS last=$SECONDS line rc
    while true; do
        line=
        rc=0
        IFS= read -r -t 15 line || rc=$?
        if [ "$rc" -eq 0 ]; then
            printf '[setup] %4ds  %s\n' $((SECONDS - start)) "$line"
            last=$SECONDS
            continue
        fi
        if [ -n "$line" ]; then
            printf '[setup] %4ds  %s\n' $((SECONDS - start)) "$line"
            last=$SECONDS
        fi
        [ "$rc" -gt 128 ] || break          # end of pip's output; above 128: the 15 s passed
        if ((SECONDS - last >= 15)); then
            printf '[setup] %4ds  ... pip is still working\n' $((SECONDS - start))
            last=$SECONDS
        fi
    done
}

if [ "${SETUP_FORCE:-0}" != 1 ] && $tools_ok && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    log "Python requirements in .venv unchanged since the last install"
else
    log "pip install -r requirements-dev.txt into .venv (a few minutes on a fresh machine; progress below)"
    rm -f "$stamp"
    "$PYTHON" -m pip install --disable-pip-version-check --progress-bar off -r requirements-dev.txt 2>&1 \
        | show_progress
    rc=${PIPESTATUS[0]}
    [ "$rc" -eq 0 ] || die "pip install failed (exit $rc): see the lines above"
    echo "$want" > "$stamp"
fi

# --- the collection, without Galaxy -------------------------------------------------------------
"$PYTHON" -c "import sys; sys.path.insert(0, 'tests'); import helpers; print('[setup] collection link in ' + helpers.install_collection())"

# --- ansible-test -------------------------------------------------------------------------------
"$PYTHON" scripts/ansible_test_bootstrap.py

core=$("$PYTHON" -c 'from ansible.release import __version__; print(__version__)')
log "done in ${SECONDS}s: .venv has Python $base_version and ansible-core $core"
log "use it in your shell with: . .venv/bin/activate"
