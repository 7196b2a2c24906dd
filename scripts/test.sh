#!/usr/bin/env bash
# The whole test suite, in order: ansible-lint, ansible-test sanity, pytest (tests/unit,
# tests/integration and tests/reliability against real ZooKeeper servers: standalone, a 3-node
# ensemble, digest auth, TLS), molecule scenarios, and the main job (scripts/demo.sh).
#
#   bash scripts/test.sh                   every step
#   bash scripts/test.sh lint sanity ...   only these steps; also: unit, integration, reliability
#                                          (pytest on one folder), pytest (all three), molecule, demo
#
# Every step runs even when an earlier one failed; the exit status is non-zero if any failed.
# Run scripts/setup.sh first (it installs ZooKeeper, the Python tools and ansible-test's pip
# bootstrap). Tools that write under $HOME are pointed at .build/ instead, except ansible-test,
# which keeps its virtual environments in ~/.ansible/test so that later runs are quick.

# The step_* functions are called through run_step "step_$name": they are not unreachable.
# shellcheck disable=SC2317
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 1

PYTHON=${PYTHON:-$(command -v python || command -v python3)}
PYVER=$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
BUILD=$ROOT/.build
NAMESPACE=gameops
NAME=elastic_release
mkdir -p "$BUILD"

export ANSIBLE_HOME=$BUILD/ansible-home
export XDG_CACHE_HOME=$BUILD/cache          # molecule's ephemeral dirs, ansible-compat's cache
export ANSIBLE_COLLECTIONS_PATH=$BUILD/collections
export ANSIBLE_ROLES_PATH=$ROOT/roles
export PYTHONDONTWRITEBYTECODE=1
if [ "${CI:-}" = true ] || [ ! -t 1 ]; then
    export NO_COLOR=1 ANSIBLE_NOCOLOR=1 PY_COLORS=0
fi

STEP_NAMES=()
STEP_RESULTS=()
STEP_TIMES=()
PYTEST_LOG=$BUILD/pytest.log
rm -f "$PYTEST_LOG"

banner() { printf '\n=== %s ===\n' "$*"; }

# run_step NAME COMMAND...: run it, record PASS/FAIL and the time it took.
run_step() {
    local name=$1 start rc
    shift
    banner "$name: $*"
    start=$(date +%s)
    "$@"
    rc=$?
    STEP_NAMES+=("$name")
    STEP_TIMES+=("$(($(date +%s) - start))s")
    if [ "$rc" -eq 0 ]; then
        STEP_RESULTS+=(PASS)
    else
        STEP_RESULTS+=("FAIL (exit $rc)")
    fi
    return 0
}

# --- ansible-lint -------------------------------------------------------------------------------
step_lint() {
    ansible-lint --offline
}

# --- ansible-test sanity ------------------------------------------------------------------------
# ansible-test insists on running inside .../ansible_collections/<namespace>/<name>/ and resolves
# symlinks (the .build/collections link fails with "No ansible_collections parent directory"), so
# it runs in a copy of the files git knows about (tracked, plus untracked ones not ignored: the
# same list ansible-test would take from git).
sanity_tree() {
    local dest=$BUILD/ansible-test/ansible_collections/$NAMESPACE/$NAME
    rm -rf "$dest"
    mkdir -p "$dest"
    if git -C "$ROOT" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
        git -C "$ROOT" ls-files -z --cached --others --exclude-standard --deduplicate \
            | while IFS= read -r -d '' f; do
                  if [ -e "$f" ] || [ -L "$f" ]; then printf '%s\0' "$f"; fi
              done \
            | tar --null -T - -cf - | tar -xf - -C "$dest" || return 1
    else
        tar --exclude=./.build --exclude=./.git --exclude=./tests/output --exclude=__pycache__ \
            -cf - . | tar -xf - -C "$dest" || return 1
    fi
    # An empty repository of its own: ansible-test takes its file list from the nearest .git up
    # the tree, and the checkout's own repository ignores .build/ (so it would find no target).
    git init -q "$dest" || return 1
    echo "$dest"
}

step_sanity() {
    local dest
    "$PYTHON" "$ROOT/scripts/ansible_test_bootstrap.py" || return 1
    dest=$(sanity_tree) || return 1
    echo "ansible-test runs in $dest"
    # Every default sanity test runs; none needs --skip-test. pslint skips itself: there is no
    # PowerShell here (and no .ps1 file in the collection).
    (cd "$dest" && ansible-test sanity --python "$PYVER" --local --color no)
}

# --- pytest -------------------------------------------------------------------------------------
# Exit code 5 (no test collected) is a failure like any other non-zero code.
run_pytest() {
    local dirs=() d rc
    for d in "$@"; do
        [ -d "$d" ] && dirs+=("$d")
    done
    if ((${#dirs[@]} == 0)); then
        echo "no test folder among: $* (pytest would collect nothing): failing"
        return 5
    fi
    "$PYTHON" -m pytest -p no:cacheprovider -ra "${dirs[@]}" 2>&1 | tee "$PYTEST_LOG"
    rc=${PIPESTATUS[0]}
    [ "$rc" -eq 5 ] && echo "pytest collected no test (exit 5): failing"
    return "$rc"
}
step_pytest() { run_pytest tests/unit tests/integration tests/reliability; }
step_unit() { run_pytest tests/unit; }
step_integration() { run_pytest tests/integration; }
step_reliability() { run_pytest tests/reliability; }

# --- the main job (README): the example project's release flows end to end -----------------------
step_demo() { bash scripts/demo.sh; }

# --- molecule -----------------------------------------------------------------------------------
MOLECULE_DETAILS=()
step_molecule() {
    local scenarios=() f role_dir scenario rc=0 one start
    shopt -s nullglob
    scenarios=(roles/*/molecule/*/molecule.yml)
    shopt -u nullglob
    if ((${#scenarios[@]} == 0)); then
        echo "no molecule scenario (roles/*/molecule/*/molecule.yml): nothing to run"
        MOLECULE_DETAILS+=("none found")
        return 0
    fi
    for f in "${scenarios[@]}"; do
        role_dir=${f%%/molecule/*}
        scenario=$(basename "$(dirname "$f")")
        banner "molecule test -s $scenario (in $role_dir)"
        start=$(date +%s)
        (cd "$role_dir" && molecule test -s "$scenario")
        one=$?
        MOLECULE_DETAILS+=("$role_dir/$scenario: $([ "$one" -eq 0 ] && echo PASS || echo "FAIL (exit $one)") $(($(date +%s) - start))s")
        [ "$one" -eq 0 ] || rc=1
    done
    return "$rc"
}

# --- main ---------------------------------------------------------------------------------------
"$PYTHON" - <<'PY' || true
import sys
from ansible.release import __version__ as core
print('python %s (%s), ansible-core %s' % (sys.version.split()[0], sys.executable, core))
PY
steps=("$@")
if ((${#steps[@]} == 0)); then
    steps=(lint sanity pytest molecule demo)
fi
for step in "${steps[@]}"; do
    case $step in
        lint|sanity|pytest|unit|integration|reliability|molecule|demo) run_step "$step" "step_$step" ;;
        *) echo "unknown step: $step (lint, sanity, pytest, unit, integration, reliability, molecule, demo)" >&2
           exit 2 ;;
    esac
done

banner summary
failed=0
for i in "${!STEP_NAMES[@]}"; do
    printf '  %-12s %-16s %s\n' "${STEP_NAMES[$i]}" "${STEP_RESULTS[$i]}" "${STEP_TIMES[$i]}"
    [ "${STEP_RESULTS[$i]}" = PASS ] || failed=1
done
for detail in "${MOLECULE_DETAILS[@]+"${MOLECULE_DETAILS[@]}"}"; do
    printf '    molecule %s\n' "$detail"
done
if [ "$failed" -ne 0 ]; then
    echo "test.sh: FAILED"
else
    echo "test.sh: all steps passed"
fi
# pytest's own closing line, repeated last so that it is the one a reader (or CI) sees at the end.
if [ -s "$PYTEST_LOG" ]; then
    grep -E '^=+ .* in [0-9.]+s.* =+$' "$PYTEST_LOG" | tail -n 1
fi
exit "$failed"
