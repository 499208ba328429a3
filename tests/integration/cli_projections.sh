#!/usr/bin/env bash
# Projections from the command line: balance, trail, report and replay on a small ledger with
# hand-computed figures, their --json forms, the exit codes of bad input, and replay digests.
set -u
BIN=$1; WORK=$2
rm -rf "$WORK"; mkdir -p "$WORK"
fails=0; passes=0
check() { # check DESC WANT_EXIT CMD...
  local desc=$1 want=$2; shift 2
  "$@" >"$WORK/out" 2>"$WORK/err"; local got=$?
  if [ "$got" -eq "$want" ]; then passes=$((passes+1)); else
    echo "FAIL: $desc: exit $got, want $want"; sed 's/^/  /' "$WORK/err" | head -5; fails=$((fails+1)); fi
}
contains() { # contains DESC FILE PATTERN
  if grep -q -- "$3" "$2"; then passes=$((passes+1)); else echo "FAIL: $1: no '$3' in $2"; sed 's/^/  /' "$2" | head -5; fails=$((fails+1)); fi
}
same() { # same DESC A B
  if [ "$2" = "$3" ] && [ -n "$2" ]; then passes=$((passes+1)); else echo "FAIL: $1: '$2' != '$3'"; fails=$((fails+1)); fi
}
L=$WORK/ledger
PNS=198503122009031001   # 12 JP in 2026: short by 8 of 20
PPPK=199001012015022003  # 30 JP in 2026: 24 counted, 6 over
MOVER=198706072012121001 # 10 JP in Biro Umum, moves, 15 JP in Inspektorat: 25, met
check "init" 0 "$BIN" init --data "$L"
for who in hr lms verifier; do
  check "keygen $who" 0 "$BIN" keygen --name "$who.example" --out "$WORK/$who.key"
  check "register $who" 0 "$BIN" key register --data "$L" --key "$L/keys/admin.key" --vkey "$WORK/$who.key.pub" --role "$who"
done
T=1775012400000 # 2026-04-01T03:00Z
cat > "$WORK/hr.ndjson" <<J
{"type":"employee_registered","id":"10000000-0000-4000-8000-000000000001","nip":"$PNS","kind":"pns","unit":"Biro Umum","issued_at_ms":$T}
{"type":"employee_registered","id":"10000000-0000-4000-8000-000000000002","nip":"$PPPK","kind":"pppk","unit":"Pusdatin","issued_at_ms":$T}
{"type":"employee_registered","id":"10000000-0000-4000-8000-000000000003","nip":"$MOVER","kind":"pns","unit":"Biro Umum","issued_at_ms":$T}
J
check "append employees" 0 "$BIN" append --data "$L" --key "$WORK/hr.key" "$WORK/hr.ndjson"
# enrollment n, completion n, of JP for NIP; ids 2000..-n
learn() { # learn N NIP ACT JP
  printf '{"type":"enrolled","id":"20000000-0000-4000-8000-%012d","nip":"%s","activity_id":"%s","issued_at_ms":%s}\n' "$1" "$2" "$3" "$T"
  printf '{"type":"completed","id":"30000000-0000-4000-8000-%012d","nip":"%s","enrollment_event_id":"20000000-0000-4000-8000-%012d","jp_centi":%s,"evidence_sha256":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855","completed_at_ms":%s,"issued_at_ms":%s}\n' "$1" "$2" "$1" "$4" "$T" "$T"
}
recog() { # recog N NIP JP
  printf '{"type":"recognized","id":"40000000-0000-4000-8000-%012d","nip":"%s","completion_event_id":"30000000-0000-4000-8000-%012d","jp_centi":%s,"basis":"classical","issued_at_ms":%s}\n' "$1" "$2" "$1" "$3" "$T"
}
{
  for a in K10:1000 K12:1200 K15:1500 K20:2000; do
    printf '{"type":"activity_defined","id":"50000000-0000-4000-8000-%012d","activity_id":"%s","title":"Pelatihan","mode":"classical","jp_centi":%s}\n' "${a#K*:}" "${a%:*}" "${a#*:}"
  done
  learn 1 $PNS K12 1200; learn 2 $PPPK K20 2000; learn 3 $PPPK K10 1000; learn 4 $MOVER K10 1000
} > "$WORK/lms.ndjson"
check "append lms events" 0 "$BIN" append --data "$L" --key "$WORK/lms.key" "$WORK/lms.ndjson"
{ recog 1 $PNS 1200; recog 2 $PPPK 2000; recog 3 $PPPK 1000; recog 4 $MOVER 1000; } > "$WORK/ver.ndjson"
check "append recognitions" 0 "$BIN" append --data "$L" --key "$WORK/verifier.key" "$WORK/ver.ndjson"
printf '{"type":"employee_updated","id":"10000000-0000-4000-8000-000000000009","nip":"%s","unit":"Inspektorat","issued_at_ms":%s}\n' $MOVER $T > "$WORK/move.ndjson"
check "transfer" 0 "$BIN" append --data "$L" --key "$WORK/hr.key" "$WORK/move.ndjson"
learn 5 $MOVER K15 1500 > "$WORK/lms2.ndjson"
check "append after the transfer" 0 "$BIN" append --data "$L" --key "$WORK/lms.key" "$WORK/lms2.ndjson"
recog 5 $MOVER 1500 > "$WORK/ver2.ndjson"
check "recognize after the transfer" 0 "$BIN" append --data "$L" --key "$WORK/verifier.key" "$WORK/ver2.ndjson"

check "balance PNS" 0 "$BIN" balance $PNS --data "$L" --year 2026
contains "PNS short by 8" "$WORK/out" "short by 8.00 JP"
check "balance PNS json" 0 "$BIN" balance --data "$L" --json $PNS
contains "one year, 2026" "$WORK/out" '"year":2026'
contains "recognized 1200" "$WORK/out" '"recognized_jp_centi":1200'
contains "shortfall 800" "$WORK/out" '"status":"short","shortfall_jp_centi":800'
check "balance PPPK json" 0 "$BIN" balance $PPPK --data "$L" --year 2026 --json
contains "PPPK counted 24" "$WORK/out" '"counted_jp_centi":2400'
contains "PPPK over by 6" "$WORK/out" '"status":"over","excess_jp_centi":600'
check "balance mover" 0 "$BIN" balance $MOVER --data "$L" --year 2026 --json
contains "mover met" "$WORK/out" '"recognized_jp_centi":2500,"counted_jp_centi":2500,"status":"met"'
check "balance of a year without figures" 0 "$BIN" balance $PNS --data "$L" --year 2030 --json
contains "2030 is short by 20" "$WORK/out" '"shortfall_jp_centi":2000'

check "unknown NIP" 16 "$BIN" balance 198503122009031009 --data "$L"
contains "unknown NIP says so" "$WORK/err" "is not in the ledger"
check "malformed NIP" 3 "$BIN" balance 19850312200903100 --data "$L"
check "impossible birth date" 3 "$BIN" balance 198513122009031001 --data "$L"
check "year out of range" 3 "$BIN" balance $PNS --data "$L" --year 1999
check "year not a number" 2 "$BIN" balance $PNS --data "$L" --year twenty
check "no NIP" 2 "$BIN" balance --data "$L"
check "unknown trail NIP" 16 "$BIN" trail 198503122009031009 --data "$L"

check "trail text" 0 "$BIN" trail $MOVER --data "$L"
grep -Eq ' issued 20[0-9]{2}-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-5][0-9]Z recorded 20' "$WORK/out" && passes=$((passes+1)) || { echo "FAIL: trail text times are not UTC date-times: $(head -2 "$WORK/out")"; fails=$((fails+1)); }
check "trail json" 0 "$BIN" trail $MOVER --data "$L" --json
test "$(wc -l < "$WORK/out")" -eq 8 && passes=$((passes+1)) || { echo "FAIL: mover trail has $(wc -l < "$WORK/out") rows, want 8"; fails=$((fails+1)); }
contains "trail names the verifier key" "$WORK/out" '"key":"verifier.example","role":"verifier"'
contains "trail has the transfer" "$WORK/out" '"type":"employee_updated"'
seq=$(head -1 "$WORK/out" | sed 's/.*"seq":\([0-9]*\).*/\1/')
leaf=$(head -1 "$WORK/out" | sed 's/.*"leaf_hash":"\([0-9a-f]*\)".*/\1/')
"$BIN" read --data "$L" --from "$seq" --count 1 --json > "$WORK/read"
same "trail leaf hash is the log's" "$leaf" "$(sed 's/.*"leaf_hash":"\([0-9a-f]*\)".*/\1/' "$WORK/read")"
check "trail text" 0 "$BIN" trail $MOVER --data "$L"
contains "trail text row" "$WORK/out" "employee_registered"

check "report all units" 0 "$BIN" report --year 2026 --data "$L" --json
test "$(wc -l < "$WORK/out")" -eq 3 && passes=$((passes+1)) || { echo "FAIL: want 3 units"; fails=$((fails+1)); }
contains "Biro Umum: PNS + mover, 12 + 10 JP" "$WORK/out" '{"unit":"Biro Umum","year":2026,"headcount_pns":2,"headcount_pppk":0,"pns_met":1,"pns_met_permille":500,"pppk_at_cap":0,"pppk_exempt":0,"movers":1,"recognized_jp_centi":2200,"mean_recognized_jp_centi":1100}'
contains "Inspektorat: mover, 15 JP" "$WORK/out" '"unit":"Inspektorat","year":2026,"headcount_pns":1,"headcount_pppk":0,"pns_met":1,'
contains "Pusdatin: PPPK at the cap" "$WORK/out" '"unit":"Pusdatin","year":2026,"headcount_pns":0,"headcount_pppk":1,"pns_met":0,"pns_met_permille":0,"pppk_at_cap":1'
check "report one unit" 0 "$BIN" report --year 2026 --unit Pusdatin --data "$L"
contains "report text" "$WORK/out" "PPPK at or over the cap: 1"
check "report unknown unit" 16 "$BIN" report --year 2026 --unit "Biro Fiktif" --data "$L"
check "report without a year" 2 "$BIN" report --data "$L"
check "report bad year" 3 "$BIN" report --year 3000 --data "$L"

check "replay --check" 0 "$BIN" replay --check --json --data "$L"
contains "check matches" "$WORK/out" '"projection":"balances".*"match":true,"switched":false'
d1=$(grep '"trail"' "$WORK/out" | sed 's/.*"digest":"\([0-9a-f]*\)".*/\1/')
check "replay" 0 "$BIN" replay --json --data "$L"
contains "replay switched" "$WORK/out" '"match":true,"switched":true'
d2=$(grep '"trail"' "$WORK/out" | sed 's/.*"digest":"\([0-9a-f]*\)".*/\1/')
same "replay digest is the check's" "$d1" "$d2"
check "replay one projection" 0 "$BIN" replay --projection units --data "$L"
contains "replay text" "$WORK/out" "identical"
check "replay unknown projection" 2 "$BIN" replay --projection ledgers --data "$L"
check "balance after replay" 0 "$BIN" balance $PPPK --data "$L" --year 2026 --json
contains "same figures after replay" "$WORK/out" '"excess_jp_centi":600'
check "replay without a ledger" 16 "$BIN" replay --data "$WORK/nothing"

# kill -9 in the middle of replays: the live state stays usable and identical to the log, and
# the half-built generation is dropped by the next replay
B=$WORK/bench
check "a larger ledger (bench replay)" 0 "$BIN" bench replay --events 6000 --dir "$B"
for delay in 0.02 0.1 0.25; do
  "$BIN" replay --data "$B" >/dev/null 2>&1 &
  pid=$!
  sleep "$delay"; kill -9 "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
  check "replay --check after kill -9 at ${delay}s" 0 "$BIN" replay --check --json --data "$B"
  contains "live state matches the log after kill at ${delay}s" "$WORK/out" '"projection":"units".*"match":true'
done
check "balance after the kills" 0 "$BIN" balance 198001012005011001 --data "$B" --year 2025 --json
contains "figures intact" "$WORK/out" '"recognized_jp_centi":'

echo "cli_projections: $passes passed, $fails failed"
[ "$fails" -eq 0 ]
