#!/usr/bin/env bash
# Installs dependencies, builds jpledger and runs its main job on the built-in defaults.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc 2>/dev/null || echo 2)"
exec build/tools/jpledger --help
