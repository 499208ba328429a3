#!/usr/bin/env bash
# Installs dependencies, builds jpledger and runs its main job on the built-in defaults.
# The main job is `jpledger demo`: a generated ministry year (124,000 employees by default)
# appended through the server, then the compliance picture and a full verification. Extra
# arguments go to the demo (e.g. --employees 5000 for a short run).
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc 2>/dev/null || echo 2)"
DIR=${JPLEDGER_DEMO_DIR:-jpledger-demo}
if [ -e "$DIR/ledger" ]; then
  DIR="$DIR-$(date +%Y%m%d-%H%M%S)"
fi
exec build/tools/jpledger demo --dir "$DIR" "$@"
