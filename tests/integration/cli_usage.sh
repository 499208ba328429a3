#!/usr/bin/env bash
# CLI usage contract: --help works everywhere, unknown commands/options fail with exit code 2.
set -u
BIN=$1
fails=0; passes=0
expect() { # expect CODE DESC -- cmd...
  local want=$1 desc=$2; shift 3
  "$@" >/dev/null 2>&1; local got=$?
  if [ "$got" -eq "$want" ]; then passes=$((passes+1)); else
    echo "FAIL: $desc: exit $got, want $want"; fails=$((fails+1)); fi
}
expect 0 "top-level --help" -- "$BIN" --help
expect 2 "no command" -- "$BIN"
expect 2 "unknown command" -- "$BIN" frobnicate
for c in init serve keygen key policy append read balance trail report subscribe checkpoint \
         prove export verify replay import gen bench demo; do
  expect 0 "$c --help" -- "$BIN" "$c" --help
  out=$("$BIN" "$c" --help); case "$out" in usage:*) passes=$((passes+1));; *) echo "FAIL: $c --help text"; fails=$((fails+1));; esac
done
"$BIN" frobnicate 2>&1 | grep -q "unknown command" && passes=$((passes+1)) || { echo "FAIL: unknown command message"; fails=$((fails+1)); }
echo "cli_usage: $passes passed, $fails failed"
[ "$fails" -eq 0 ]
