#!/usr/bin/env bash
# Installs dependencies, builds jpledger, and runs the whole test suite twice: a normal build and
# an AddressSanitizer+UndefinedBehaviorSanitizer build. Exits non-zero if any test fails.
#   tools/test.sh            both builds
#   tools/test.sh --quick    normal build only
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
JOBS=$(nproc 2>/dev/null || echo 2)

run_suite() { # run_suite BUILD_DIR CMAKE_ARGS...
  local dir=$1; shift
  cmake -S . -B "$dir" -DJPL_WERROR=ON "$@" >/dev/null
  cmake --build "$dir" -j "$JOBS"
  (cd "$dir" && ctest --output-on-failure -j "$JOBS" -LE bench)
}

echo "== normal build =="
run_suite build -DCMAKE_BUILD_TYPE=RelWithDebInfo
if [ "${1:-}" != "--quick" ]; then
  echo "== AddressSanitizer + UndefinedBehaviorSanitizer build =="
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
    run_suite build-asan -DCMAKE_BUILD_TYPE=Debug -DJPL_SANITIZE=ON
fi
echo "test.sh: all suites passed"
