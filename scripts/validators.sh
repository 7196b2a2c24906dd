#!/usr/bin/env bash
# The Ansible ecosystem's own validators, run on this checkout as Galaxy, Automation Hub and the
# docs site would run them; every one must pass without an error or a warning:
#
#   1. galaxy-importer (what Galaxy and Automation Hub run on upload) on the collection tarball
#      built from this checkout: its ansible-doc pass, ansible-lint pass, every role's README and
#      galaxy_info description. Run offline: no Galaxy, no container (its ansible-test pass needs one,
#      and `bash scripts/test.sh sanity` runs ansible-test here);
#   2. antsibull-docs lint-collection-docs --plugin-docs: the markup of every plugin's and role's
#      documentation (O(...) must name an option that exists, and so on);
#   3. antsibull-changelog lint: the changelog fragments and changelogs/config.yaml.
#
#   bash scripts/validators.sh          all three; exit 0 only when all are clean
#   bash scripts/validators.sh galaxy   one of: galaxy, docs, changelog
#
# The tools come from requirements-dev.txt (scripts/setup.sh installs them into .venv). Their files
# go under .build/validators/ (HOME and ANSIBLE_HOME redirected there: nothing is written to ~).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
# shellcheck source=scripts/venv.sh
. "$ROOT/scripts/venv.sh"
BIN=$(dirname "$PYTHON")
WORK=$ROOT/.build/validators
mkdir -p "$WORK/home" "$WORK/tmp"
export HOME=$WORK/home ANSIBLE_HOME=$WORK/home/.ansible ANSIBLE_LOCAL_TEMP=$WORK/tmp PATH="$BIN:$PATH"
export PYTHONDONTWRITEBYTECODE=1

log() { printf '[validators] %s\n' "$*"; }
failed=()

# A tool's output, shown; the step fails on the tool's exit code and on any line matching $2.
run_step() {
    local name=$1 bad=$2
    shift 2
    local out=$WORK/$name.log start=$SECONDS rc=0
    log "$name: $*"
    "$@" >"$out" 2>&1 || rc=$?
    sed 's/^/    /' "$out"
    if [ "$rc" -ne 0 ] || grep -Eq "$bad" "$out"; then
        log "$name: FAILED (exit $rc; $(grep -Ec "$bad" "$out" || true) error or warning lines) in $((SECONDS - start))s; full output: ${out#"$ROOT"/}"
        failed+=("$name")
    else
        log "$name: clean in $((SECONDS - start))s"
    fi
}

galaxy() {
    local version tarball
    version=$("$PYTHON" -c 'import yaml; print(yaml.safe_load(open("galaxy.yml"))["version"])')
    rm -rf "$WORK/dist"
    ansible-galaxy collection build --force --output-path "$WORK/dist" . >/dev/null
    tarball=$WORK/dist/gameops-elastic_release-$version.tar.gz
    # galaxy-importer reads its settings from this file (else /etc/galaxy-importer/): no ansible-test
    # (it needs a container runtime), ansible-lint offline, its temporary files under .build.
    cat >"$WORK/galaxy-importer.cfg" <<EOF
[galaxy-importer]
RUN_ANSIBLE_TEST = False
RUN_ANSIBLE_LINT = True
OFFLINE_ANSIBLE_LINT = True
RUN_FLAKE8 = False
CHECK_REQUIRED_TAGS = False
ANSIBLE_LOCAL_TMP = $WORK/tmp
TMP_ROOT_DIR = $WORK/tmp
EOF
    # run in .build/validators: it writes importer_result.json into the directory it runs in
    cd "$WORK"
    GALAXY_IMPORTER_CONFIG=$WORK/galaxy-importer.cfg run_step galaxy-importer '^(ERROR|WARNING)|[Ee]rror:' \
        "$PYTHON" -m galaxy_importer.main "$tarball"
    cd "$ROOT"
}

docs() {
    run_step antsibull-docs '(ERROR|WARNING|[^ ]+:[0-9]+:[0-9]+: )' \
        antsibull-docs lint-collection-docs --plugin-docs .
}

changelog() {
    run_step antsibull-changelog '(ERROR|WARNING|[^ ]+:[0-9]+:[0-9]+: )' antsibull-changelog lint
}

steps=("$@")
[ ${#steps[@]} -gt 0 ] || steps=(galaxy docs changelog)
for step in "${steps[@]}"; do
    case $step in
        galaxy|docs|changelog) "$step" ;;
        *) log "unknown step $step (known: galaxy, docs, changelog)"; exit 2 ;;
    esac
done
if [ ${#failed[@]} -gt 0 ]; then
    log "FAILED: ${failed[*]}"
    exit 1
fi
log "all clean: ${steps[*]}"
