#!/usr/bin/env bash
# The main job on a small year: `jpledger demo` creates the ledger, serves it, appends a
# generated year through the API from concurrent clients while a subscriber follows, prints the
# compliance picture, verifies the log; the data directory stays usable for every other command.
set -u
BIN=$1; WORK=$2
. "$(dirname "$0")/lib.sh"
D=$WORK/demo
"$BIN" demo --employees 300 --dir "$D" > "$WORK/out" 2> "$WORK/err"; rc=$?
[ "$rc" -eq 0 ] && ok || bad "demo exited $rc: $(tail -5 "$WORK/err")"
for want in "Compliance 2025" "PNS meeting the floor" "units with the most PNS short" \
            "Verified with the log key jpledger.demo/log+" "in order, exactly once" "append "; do
  grep -q "$want" "$WORK/out" && ok || bad "demo output lacks '$want'"
done
# the machine reference: a positive rate and the total as a positive multiple of its time
grep -Eq "one core checks [1-9][0-9]* Ed25519 signatures/s" "$WORK/out" &&
  grep -Eq "the total is [0-9]+\.[0-9]+ x the [0-9]+\.[0-9] s one core needs" "$WORK/out" && ok ||
  bad "demo output lacks the machine reference: $(grep -A1 'machine reference' "$WORK/out")"
"$BIN" verify --data "$D/ledger" > "$WORK/verify" 2>&1 && ok || bad "verify of the demo ledger"
# the auditor cosigned the checkpoint it verified: served with both lines, checked by verify
"$BIN" checkpoint --data "$D/ledger" | grep -q "^— auditor.demo " && ok || bad "the demo checkpoint lacks the auditor's cosignature"
grep -q "cosigned by auditor.demo+" "$WORK/verify" && ok || bad "verify does not list the demo auditor: $(cat "$WORK/verify")"
"$BIN" report --data "$D/ledger" --year 2025 --json > "$WORK/report" 2>/dev/null && ok || bad "report on the demo ledger"
[ "$(wc -l < "$WORK/report")" -ge 10 ] && ok || bad "the demo year fills at least 10 units"
"$BIN" replay --data "$D/ledger" --check >/dev/null 2>&1 && ok || bad "replay --check of the demo ledger"
size=$("$BIN" read --data "$D/ledger" | wc -l)
[ "$(wc -l < "$D/feed.ndjson")" -eq "$size" ] && ok || bad "the subscriber's feed has every entry"
# every entry checked exactly once, whether partly during the append or all after it
checked=$(sed -n 's/.* entries checked during it, \([0-9]*\) after.*/\1/p' "$WORK/out")
during=$(sed -n 's/.*(\([0-9]*\) entries checked during it.*/\1/p' "$WORK/out")
[ -n "$checked" ] && [ $((checked + during)) -eq "$size" ] && ok || bad "live and later checks should add up to $size: $during + $checked"
"$BIN" demo --employees 300 --dir "$WORK/after" --verify-after > "$WORK/out2" 2>&1; rc=$?
[ "$rc" -eq 0 ] && grep -q "(0 entries checked during it, $size after)" "$WORK/out2" && ok || bad "--verify-after checks everything after the append (rc $rc): $(grep 'verify the' "$WORK/out2")"
"$BIN" demo --employees 300 --dir "$D" >/dev/null 2>&1; rc=$?
[ "$rc" -eq 17 ] && ok || bad "a second demo into the same directory should refuse (exit 17), got $rc"
"$BIN" demo --employees 300 --clients 17 --dir "$WORK/x" >/dev/null 2>&1; rc=$?
[ "$rc" -eq 2 ] && ok || bad "--clients 17 should be a usage error, got $rc"
"$BIN" demo --employees 0 >/dev/null 2>&1; rc=$?
[ "$rc" -eq 2 ] && ok || bad "--employees 0 should be a usage error, got $rc"
echo "demo_small: $passes passed, $fails failed"
[ "$fails" -eq 0 ]
