#!/usr/bin/env bash
# The ledger as a user drives it from the command line: init, keys, append (good, bad,
# duplicate), read, checkpoint, prove, verify, and tampering found by verify.
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
L=$WORK/ledger
NIP=198503122009031001
check "init" 0 "$BIN" init --data "$L"
contains "init prints the log key" "$WORK/out" "jpledger.local/log+"
check "init twice refuses" 17 "$BIN" init --data "$L"
contains "init twice says why" "$WORK/err" "already holds a ledger"
test "$(stat -c %a "$L/log.key")" = 600 && passes=$((passes+1)) || { echo "FAIL: log.key mode"; fails=$((fails+1)); }

check "init with an invalid origin" 3 "$BIN" init --data "$WORK/bad-origin" --origin "evil origin"
test ! -e "$WORK/bad-origin" && passes=$((passes+1)) || { echo "FAIL: failed init left a directory"; fails=$((fails+1)); }
mkdir -p "$WORK/busy" && touch "$WORK/busy/notes.txt"
check "init into a non-empty directory" 17 "$BIN" init --data "$WORK/busy"
check "keygen hr" 0 "$BIN" keygen --name hr.example --out "$WORK/hr.key"
test "$(stat -c %a "$WORK/hr.key")" = 600 && passes=$((passes+1)) || { echo "FAIL: hr.key mode"; fails=$((fails+1)); }
check "keygen refuses to overwrite" 17 "$BIN" keygen --name hr.example --out "$WORK/hr.key"
check "keygen bad name" 3 "$BIN" keygen --name "bad name" --out "$WORK/bad.key"
check "keygen lms" 0 "$BIN" keygen --name lms.example --out "$WORK/lms.key"
check "register hr" 0 "$BIN" key register --data "$L" --key "$L/keys/admin.key" --vkey "$WORK/hr.key.pub" --role hr
check "register with bad role" 2 "$BIN" key register --data "$L" --key "$L/keys/admin.key" --vkey "$WORK/lms.key.pub" --role boss
check "register signed by hr is forbidden" 8 "$BIN" key register --data "$L" --key "$WORK/hr.key" --vkey "$WORK/lms.key.pub" --role lms
check "register lms" 0 "$BIN" key register --data "$L" --key "$L/keys/admin.key" --vkey "$WORK/lms.key.pub" --role lms
check "key list" 0 "$BIN" key list --data "$L"
contains "key list shows hr" "$WORK/out" "hr.example"

check "a verifier key where a private key belongs" 3 "$BIN" append --data "$L" --key "$WORK/hr.key.pub" /dev/null
contains "says which key is needed" "$WORK/err" "verifier (public) key"
check "a private key where a verifier key belongs" 3 "$BIN" verify --data "$L" --log-key "$L/log.key"
chmod 644 "$WORK/hr.key"
check "world-readable private key is refused" 8 "$BIN" append --data "$L" --key "$WORK/hr.key" /dev/null
contains "refusal says chmod" "$WORK/err" "chmod 600"
chmod 600 "$WORK/hr.key"

cat > "$WORK/emp.ndjson" <<J
{"type":"employee_registered","id":"11111111-1111-4111-8111-111111111111","nip":"$NIP","kind":"pns","unit":"Biro Umum","issued_at_ms":1790000000000}

{"type":"employee_updated","id":"22222222-2222-4222-8222-222222222222","nip":"$NIP","unit":"Biro SDM","expected_version":1,"issued_at_ms":1790000000001}
J
check "append employees" 0 "$BIN" append --data "$L" --key "$WORK/hr.key" --json "$WORK/emp.ndjson"
contains "append prints seq" "$WORK/out" '"seq":4'
contains "append prints leaf hash" "$WORK/out" '"leaf_hash":"'
check "append again is idempotent" 0 "$BIN" append --data "$L" --key "$WORK/hr.key" --json "$WORK/emp.ndjson"
contains "duplicate flagged" "$WORK/out" '"duplicate":true'
contains "duplicate answers the original seq" "$WORK/out" '"seq":4'

echo '{"type":"employee_exited","nip":"'$NIP'","expected_version":0}' > "$WORK/stale.ndjson"
check "stale expected_version" 10 "$BIN" append --data "$L" --key "$WORK/hr.key" "$WORK/stale.ndjson"
contains "stale message names the line" "$WORK/err" "line 1"
echo '{"type":"employee_exited","nip":"'$NIP'"' > "$WORK/broken.ndjson"
check "malformed JSON" 3 "$BIN" append --data "$L" --key "$WORK/hr.key" "$WORK/broken.ndjson"
echo '{"type":"employee_registered","nip":"198513122009031001","kind":"pns","unit":"X"}' > "$WORK/badnip.ndjson"
check "invalid NIP" 3 "$BIN" append --data "$L" --key "$WORK/hr.key" "$WORK/badnip.ndjson"
echo '{"type":"enrolled","nip":"'$NIP'","activity_id":"A1"}' > "$WORK/role.ndjson"
check "hr may not enroll" 8 "$BIN" append --data "$L" --key "$WORK/hr.key" "$WORK/role.ndjson"
printf '%s\n%s\n' '{"type":"employee_registered","nip":"199001012015022003","kind":"pppk","unit":"X"}' \
  '{"type":"employee_updated","nip":"199202022016011004","unit":"Y"}' > "$WORK/half.ndjson"
check "half-bad batch fails" 11 "$BIN" append --data "$L" --key "$WORK/hr.key" "$WORK/half.ndjson"
contains "and names line 2" "$WORK/err" "line 2"

check "policy set by hr is forbidden" 8 "$BIN" policy set --data "$L" --key "$WORK/hr.key" --year 2025 --pns-floor 30
check "policy with a bad amount" 2 "$BIN" policy set --data "$L" --key "$L/keys/admin.key" --year 2025 --pns-floor 30.123
check "policy with a bad year" 2 "$BIN" policy set --data "$L" --key "$L/keys/admin.key" --year 1999
check "policy without a year" 2 "$BIN" policy set --data "$L" --key "$L/keys/admin.key"
check "policy set" 0 "$BIN" policy set --data "$L" --key "$L/keys/admin.key" --year 2025 --pns-floor 30 --json
check "read the policy" 0 "$BIN" read --data "$L" --from 5 --json
contains "policy event with the new floor and default cap" "$WORK/out" '"pns_floor_jp_centi":3000,"pppk_cap_jp_centi":2400,"minutes_per_jp":45'

check "read" 0 "$BIN" read --data "$L" --json
test "$(wc -l < "$WORK/out")" -eq 6 && passes=$((passes+1)) || { echo "FAIL: log should have 6 entries (the failed batch wrote nothing)"; fails=$((fails+1)); }
contains "read has entry bytes" "$WORK/out" '"entry_b64":"'
contains "read decodes events" "$WORK/out" '"type":"employee_updated"'
check "read past the end" 16 "$BIN" read --data "$L" --from 99
check "read bad --from" 2 "$BIN" read --data "$L" --from -1

check "checkpoint" 0 "$BIN" checkpoint --data "$L"
contains "checkpoint origin" "$WORK/out" "^jpledger.local/log$"
contains "checkpoint size" "$WORK/out" "^6$"
contains "checkpoint signature line" "$WORK/out" "^— jpledger.local/log "
check "the kept checkpoint of size 1 (init's)" 0 "$BIN" checkpoint --data "$L" --size 1
contains "its size" "$WORK/out" "^1$"
contains "its signature line" "$WORK/out" "^— jpledger.local/log "
check "no checkpoint of a size no group ended at" 16 "$BIN" checkpoint --data "$L" --size 99
check "checkpoint --size 0" 2 "$BIN" checkpoint --data "$L" --size 0

check "prove inclusion" 0 "$BIN" prove inclusion --data "$L" --seq 3 --json
contains "inclusion json" "$WORK/out" '"tree_size":6'
check "prove inclusion out of range" 3 "$BIN" prove inclusion --data "$L" --seq 6
check "prove inclusion beyond log" 16 "$BIN" prove inclusion --data "$L" --seq 1 --size 7
check "prove consistency" 0 "$BIN" prove consistency --data "$L" --from 2 --to 6 --json
contains "consistency json" "$WORK/out" '"root_from":"'
check "prove consistency from 0" 3 "$BIN" prove consistency --data "$L" --from 0 --to 6
check "prove without a kind" 2 "$BIN" prove --data "$L"

check "verify" 0 "$BIN" verify --data "$L"
check "verify --json" 0 "$BIN" verify --data "$L" --json
contains "verify json ok" "$WORK/out" '"ok":true'
"$BIN" keygen --name jpledger.local/log --out "$WORK/other.key" >/dev/null 2>&1
check "verify with the wrong log key" 5 "$BIN" verify --data "$L" --log-key "$WORK/other.key.pub"
check "verify with a malformed log key" 3 "$BIN" verify --data "$L" --log-key "not+a+key"
check "open a missing ledger" 16 "$BIN" read --data "$WORK/nothing"
echo "cli_ledger: $passes passed, $fails failed"
[ "$fails" -eq 0 ]
