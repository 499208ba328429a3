#!/usr/bin/env bash
# Installs dependencies, builds jpledger and runs its main job on the built-in defaults.
# Until `jpledger demo` exists (issue 6), the main job is the walkthrough of the ledger on the
# example events in docs/examples.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc 2>/dev/null || echo 2)"
build/tools/jpledger --help
bash tools/walkthrough.sh build/tools/jpledger
