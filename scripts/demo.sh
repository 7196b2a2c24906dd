#!/usr/bin/env bash
# The main job on one machine: start a local ZooKeeper, then run the release flows of the example
# game project over the example CMDB inventory (build packages, production, gray, review, lookups,
# start services by release, rollback, retire). See scripts/demo.py for the steps.
#
#   bash scripts/setup.sh && bash scripts/demo.sh      (as root on a fresh Debian machine)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
PYTHON=${PYTHON:-$(command -v python || command -v python3)}
export ANSIBLE_HOME=$ROOT/.build/ansible-home
export PYTHONDONTWRITEBYTECODE=1
exec "$PYTHON" scripts/demo.py "$@"
