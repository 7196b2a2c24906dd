#!/usr/bin/env bash
# The main job on one machine: start a local ZooKeeper, then run the release flows of the example
# game project over the example CMDB inventory (build packages, production, gray, review, lookups,
# deploy the packages, start services by release, rollback, widen and narrow by section, the
# release map, audit, retire). See scripts/demo.py for the steps.
#
#   bash scripts/setup.sh && bash scripts/demo.sh   (as root on a fresh Debian machine)
#   bash scripts/demo.sh --keep    leave ZooKeeper running afterwards, with .build/demo/inventory
#                                  pointing at it and the packages in .build/demo/dist (README)
#   bash scripts/demo.sh stop      stop what a --keep run left running
#
# It uses the checkout's virtual environment .venv (made by scripts/setup.sh) without activating it.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
# shellcheck source=scripts/venv.sh
. "$ROOT/scripts/venv.sh"
export ANSIBLE_HOME=$ROOT/.build/ansible-home
export PYTHONDONTWRITEBYTECODE=1

# Stop the ZooKeeper and the game services a --keep run left behind: the services by their pid
# files under .build/demo, ZooKeeper by its configuration file .build/demo/zk/zoo.cfg on its
# command line (nothing else on the machine has that path in its arguments).
stop_kept() {
    "$PYTHON" - "$ROOT" <<'PY'
import os
import signal
import sys
import time

root = sys.argv[1]
sys.path.insert(0, os.path.join(root, 'tests'))
import gameservice  # noqa: E402

work = os.path.join(root, '.build', 'demo')
config = os.path.join(work, 'zk', 'zoo.cfg')
stopped = gameservice.stop_all([work]) if os.path.isdir(work) else []
for pid in stopped:
    print('demo: stopped game service pid %d' % pid)
zookeepers = [int(p) for p in os.listdir('/proc')
              if p.isdigit() and config in (gameservice.cmdline(int(p)) or [])]
for pid in zookeepers:
    os.kill(pid, signal.SIGTERM)
deadline = time.time() + 20
while time.time() < deadline and any(gameservice.alive(p) for p in zookeepers):
    time.sleep(0.1)
for pid in zookeepers:
    if gameservice.alive(pid):
        os.kill(pid, signal.SIGKILL)
    print('demo: stopped ZooKeeper pid %d (%s)' % (pid, config))
PY
}

if [ "${1:-}" = stop ]; then
    stop_kept
    exit 0
fi
# A new run removes .build/demo: first stop what an earlier --keep run left using it.
stop_kept
exec "$PYTHON" scripts/demo.py "$@"
