# shellcheck shell=bash
# Sourced by scripts/test.sh and scripts/demo.sh once they have set ROOT (the checkout): they use
# the checkout's virtual environment .venv, made by scripts/setup.sh, without activating it.
VENV=$ROOT/.venv
PYTHON=$VENV/bin/python
if [ ! -x "$PYTHON" ]; then
    echo "$(basename "$0"): no virtual environment in $VENV: run bash scripts/setup.sh first" >&2
    exit 2
fi
# Its tools (ansible-playbook, ansible-test, ansible-lint, molecule, ...) come first on PATH.
export VIRTUAL_ENV=$VENV
export PATH=$VENV/bin:$PATH
