#!/usr/bin/env bash
# gen, import employees and import xapi as a user runs them: a generated year appended phase by
# phase with each role's key (zero rejections, twice: the second time all duplicates), gen's
# determinism and options; an employee CSV with good and bad rows; the published xAPI vectors
# (invalid ones reported with a reason, none crash), mapped statements imported, re-imported as
# duplicates, voided; and the same import through a server (--url).
set -u
BIN=$1; WORK=$2
. "$(dirname "$0")/lib.sh"
same() { # same DESC A B
  if [ "$2" = "$3" ]; then passes=$((passes+1)); else echo "FAIL: $1: '$2' != '$3'"; fails=$((fails+1)); fi
}
L=$WORK/ledger
check "init" 0 "$BIN" init --data "$L"
for r in hr lms supervisor verifier; do
  check "keygen $r" 0 "$BIN" keygen --name "$r.example" --out "$WORK/$r.key"
  check "register $r" 0 "$BIN" key register --data "$L" --key "$L/keys/admin.key" --vkey "$WORK/$r.key.pub" --role "$r"
done

# ---- gen ----
check "gen is deterministic (1)" 0 "$BIN" gen --employees 300 --seed 11 --quiet
A=$(sha256sum < "$WORK/out")
check "gen is deterministic (2)" 0 "$BIN" gen --employees 300 --seed 11 --quiet
B=$(sha256sum < "$WORK/out")
same "same seed, same bytes" "$A" "$B"
check "gen another seed" 0 "$BIN" gen --employees 300 --seed 12 --quiet
C=$(sha256sum < "$WORK/out")
[ "$A" != "$C" ] && passes=$((passes+1)) || { echo "FAIL: another seed gives the same bytes"; fails=$((fails+1)); }
check "gen --phase employees" 0 "$BIN" gen --employees 300 --seed 11 --phase employees
test "$(wc -l < "$WORK/out")" -eq 300 && passes=$((passes+1)) || { echo "FAIL: 300 employees"; fails=$((fails+1)); }
contains "gen prints a summary" "$WORK/err" "300 employees"
check "gen --shard" 0 "$BIN" gen --employees 300 --seed 11 --phase employees --shard 1/3 --quiet
test "$(wc -l < "$WORK/out")" -eq 100 && passes=$((passes+1)) || { echo "FAIL: a third of the employees"; fails=$((fails+1)); }
check "gen bad phase" 2 "$BIN" gen --phase payroll
check "gen bad shard" 2 "$BIN" gen --shard 3/3
check "gen zero employees" 2 "$BIN" gen --employees 0
check "gen year in the future" 2 "$BIN" gen --year 2100
check "gen --phase with --out-dir" 2 "$BIN" gen --phase plans --out-dir "$WORK/x"
check "gen --out-dir" 0 "$BIN" gen --employees 500 --seed 3 --out-dir "$WORK/year"
test "$(wc -l < "$WORK/out")" -eq 7 && passes=$((passes+1)) || { echo "FAIL: 7 phase files"; fails=$((fails+1)); }
cp "$WORK/out" "$WORK/files"
total=0
while read -r f role n; do
  check "append $(basename "$f") with the $role key" 0 "$BIN" append --data "$L" --key "$WORK/$role.key" --batch 2000 "$f"
  contains "all of $(basename "$f") appended" "$WORK/err" "appended $n events, 0 duplicates"
  total=$((total + n))
done < "$WORK/files"
while read -r f role n; do
  check "append $(basename "$f") again" 0 "$BIN" append --data "$L" --key "$WORK/$role.key" --batch 2000 "$f"
  contains "again: all duplicates" "$WORK/err" "appended 0 events, $n duplicates"
done < "$WORK/files"
check "checkpoint" 0 "$BIN" checkpoint --data "$L"
contains "log size after the year" "$WORK/out" "^$((total + 5))$"
check "verify the generated year" 0 "$BIN" verify --data "$L"
NIP=$(head -1 "$WORK/year/1-employees.hr.ndjson" | sed 's/.*"nip":"\([0-9]*\)".*/\1/')

# ---- import employees ----
cat > "$WORK/emp.csv" <<CSV
NIP,Kind,Unit,Cap_Exempt
198503122009031001,pns,"Biro Umum, Sekretariat Jenderal",
199001012015022003,PPPK,Inspektorat Jenderal,yes
$NIP,pns,"Biro ""Hukum"" dan Humas",
198513122009031001,pns,Biro Umum,
199202022016011004,boss,Biro Umum,
199303032017011005,pns,,
199404042018011006,pns,Biro Umum,maybe
199505052019011007,pns,Biro Umum
199606062020011008,pns,"Biro Umum"x,
199707072021011009,pppk,"Pusat Data
dan Informasi",no
CSV
check "import employees with bad rows" 3 "$BIN" import employees --data "$L" --key "$WORK/hr.key" "$WORK/emp.csv"
contains "registered and updated" "$WORK/out" "registered 2, updated 1, duplicates 0, skipped 7"
contains "bad NIP named with its line" "$WORK/out" "skipped line 5: NIP 198513122009031001: birth date"
contains "bad kind" "$WORK/out" "skipped line 6: kind 'boss'"
contains "empty unit" "$WORK/out" "skipped line 7: unit must be"
contains "bad exemption" "$WORK/out" "skipped line 8: cap_exempt 'maybe'"
contains "missing field" "$WORK/out" "skipped line 9: 3 fields, the header has 4"
contains "text after a quote" "$WORK/out" "skipped line 10: text after a closing quote"
contains "a newline inside quotes is a control character" "$WORK/out" "skipped line 11: field .unit. contains control character"
check "read the imported employees" 0 "$BIN" read --data "$L" --from $((total + 5)) --json
contains "quoted comma kept" "$WORK/out" '"unit":"Biro Umum, Sekretariat Jenderal"'
contains "doubled quotes" "$WORK/out" '"unit":"Biro \\"Hukum\\" dan Humas"'
contains "an existing employee is updated" "$WORK/out" '"type":"employee_updated","id":"[0-9a-f-]*","nip":"'"$NIP"'"'
contains "exemption" "$WORK/out" '"cap_exempt":true'
cat > "$WORK/contract.csv" <<CSV
nip,kind,unit,contract_start
199808082019011010,pppk,Pusat Data dan Informasi,2024-04-01
199001012015022003,pppk,Inspektorat Jenderal,2025-07-01
199909092020011011,pppk,Biro Umum,2025-02-29
199909092020011011,pns,Biro Umum,2025-04-01
199909092020011011,pppk,Biro Umum,1 April 2025
CSV
check "import employees with contract starts" 3 "$BIN" import employees --data "$L" --key "$WORK/hr.key" "$WORK/contract.csv"
contains "a new PPPK and a renewal" "$WORK/out" "registered 1, updated 1, duplicates 0, skipped 3"
contains "not a calendar date" "$WORK/out" "skipped line 4: contract_start '2025-02-29' is not a calendar date"
contains "PPPK only" "$WORK/out" "skipped line 5: contract_start is for PPPK only"
contains "not a date" "$WORK/out" "skipped line 6: contract_start '1 April 2025' is not a date YYYY-MM-DD"
check "read the contract starts" 0 "$BIN" read --data "$L" --from $((total + 5)) --json
contains "contract start registered" "$WORK/out" '"nip":"199808082019011010".*"contract_start":"2024-04-01"'
contains "renewal" "$WORK/out" '"type":"employee_updated".*"nip":"199001012015022003".*"contract_start":"2025-07-01"'
# import keeps the projections current (no replay needed before a query)
check "balance of a PPPK on contract years" 0 "$BIN" balance --data "$L" 199808082019011010 --json
contains "contract year shown" "$WORK/out" '"contract_year_from":"20[0-9][0-9]-04-01"'
check "the projections equal a rebuild after the imports" 0 "$BIN" replay --data "$L" --check
printf 'nip,kind\n198503122009031001,pns\n' > "$WORK/nounit.csv"
check "CSV without a unit column" 3 "$BIN" import employees --data "$L" --key "$WORK/hr.key" "$WORK/nounit.csv"
contains "names the columns" "$WORK/err" "nip, kind and unit"
printf 'nip,kind,unit,salary\n' > "$WORK/extra.csv"
check "CSV with an unknown column" 3 "$BIN" import employees --data "$L" --key "$WORK/hr.key" "$WORK/extra.csv"
check "empty CSV" 3 "$BIN" import employees --data "$L" --key "$WORK/hr.key" /dev/null
check "employees signed by the LMS key" 8 "$BIN" import employees --data "$L" --key "$WORK/lms.key" "$WORK/emp.csv"
check "import without a key" 2 "$BIN" import employees --data "$L" "$WORK/emp.csv"
check "import of something else" 2 "$BIN" import payroll --data "$L" --key "$WORK/hr.key" "$WORK/emp.csv"

# ---- import xapi ----
VEC=$(dirname "$0")/../vectors/xapi_statements.json
python3 - "$VEC" "$WORK" "$NIP" <<'PY'
import json, sys
vec, work, nip = sys.argv[1], sys.argv[2], sys.argv[3]
d = json.load(open(vec))
json.dump([x["statement"] for x in d], open(work + "/vectors.json", "w"))
with open(work + "/mapped.ndjson", "w") as out:
    for x in d:
        s = x["statement"]
        if "voided" not in s["verb"]["id"] if isinstance(s.get("verb"), dict) else True:
            s["actor"] = {"objectType": "Agent", "account": {"homePage": "https://simpeg.example.go.id", "name": nip}}
        out.write(json.dumps(s) + "\n")
    out.write("this is not json\n")
with open(work + "/void.ndjson", "w") as out:
    out.write(json.dumps({"id": "0b2f7c1e-1111-4c3e-9a8b-222233334444", "timestamp": "2016-06-10T00:00:00Z",
        "actor": {"mbox": "mailto:lms-admin@example.go.id"}, "verb": {"id": "http://adlnet.gov/expapi/verbs/voided"},
        "object": {"objectType": "StatementRef", "id": "a2100814-43c0-4857-846b-b5e6a18d0a59"}}) + "\n")
    out.write(json.dumps({"id": "0b2f7c1e-1111-4c3e-9a8b-222233334445", "timestamp": "2016-06-10T00:00:00Z",
        "actor": {"mbox": "mailto:lms-admin@example.go.id"}, "verb": {"id": "http://adlnet.gov/expapi/verbs/voided"},
        "object": {"objectType": "StatementRef", "id": "11111111-2222-4333-8444-555555555555"}}) + "\n")
PY
check "import the published vectors as they are" 3 "$BIN" import xapi --data "$L" --key "$WORK/lms.key" "$WORK/vectors.json"
contains "nothing of them maps" "$WORK/out" "imported 0, duplicates 0, skipped 19"
test "$(grep -c '^skipped statement' "$WORK/out")" -eq 19 && passes=$((passes+1)) || { echo "FAIL: one line per statement"; fails=$((fails+1)); }
contains "invalid: missing actor" "$WORK/out" "skipped statement 12: invalid xAPI statement: 'actor' is required"
contains "invalid: -00:00" "$WORK/out" "skipped statement 17: invalid xAPI statement: 'timestamp'"
contains "invalid: null" "$WORK/out" "skipped statement 19: invalid xAPI statement: 'actor.name' is null"
contains "invalid: 0.9 format" "$WORK/out" "skipped statement 6 (d1eec41f-1e93-4ed6-acbf-5c4bd0c24269): invalid xAPI statement"
contains "mbox actors refused" "$WORK/out" "identified by mbox"
contains "a Group refused" "$WORK/out" "the actor is a Group"
contains "an account that is no NIP" "$WORK/out" "account name is not a NIP"
check "import mapped statements" 3 "$BIN" import xapi --data "$L" --key "$WORK/lms.key" --json "$WORK/mapped.ndjson"
contains "five statements imported" "$WORK/out" '"imported":5,"duplicates":0,"skipped":15'
contains "a line that is not JSON" "$WORK/out" '"skipped":"line 20","reason":"not JSON'
contains "no duration, no known JP" "$WORK/out" "activity's JP is not known"
check "import mapped statements again" 3 "$BIN" import xapi --data "$L" --key "$WORK/lms.key" "$WORK/mapped.ndjson"
contains "all duplicates" "$WORK/out" "imported 0, duplicates 5, skipped 15"
check "read the imported completion" 0 "$BIN" read --data "$L" --json
contains "the statement id is the event id" "$WORK/out" '"type":"completed","id":"a2100814-43c0-4857-846b-b5e6a18d0a59"'
contains "an activity defined from the statement" "$WORK/out" '"title":"Introduction to Geology","mode":"classical"'
contains "attempted is an enrollment" "$WORK/out" '"type":"enrolled","id":"7ccd3322-e1a5-411a-a67d-6a735c76f119"'
check "void a completion" 3 "$BIN" import xapi --data "$L" --key "$WORK/lms.key" "$WORK/void.ndjson"
contains "one voided, one unknown" "$WORK/out" "imported 1, duplicates 0, skipped 1"
contains "the unknown target is named" "$WORK/out" "the event to revoke does not exist"
check "read the revocations" 0 "$BIN" read --data "$L" --json
contains "the completion revoked" "$WORK/out" '"type":"revoked","id":"0b2f7c1e-1111-4c3e-9a8b-222233334444","issued_at_ms":1465516800000,"target_event_id":"a2100814-43c0-4857-846b-b5e6a18d0a59"'
test "$(grep -c '"type":"revoked","id":"[0-9a-f-]*","issued_at_ms":1465516800000' "$WORK/out")" -eq 2 && passes=$((passes+1)) || { echo "FAIL: the completion's enrollment is revoked too"; fails=$((fails+1)); }
check "void again: duplicate" 3 "$BIN" import xapi --data "$L" --key "$WORK/lms.key" "$WORK/void.ndjson"
contains "void re-import is a duplicate" "$WORK/out" "imported 0, duplicates 1, skipped 1"
cat > "$WORK/cat.ndjson" <<J
{"type":"activity_defined","activity_id":"https://lms.example.go.id/k/1","title":"Kursus","mode":"classical","jp_centi":1600}
J
check "catalogue activity" 0 "$BIN" append --data "$L" --key "$WORK/lms.key" "$WORK/cat.ndjson"
cat > "$WORK/own.ndjson" <<J
{"id":"5bdcc531-f44a-46b7-9fa1-7e0fdcdbff64","timestamp":"2025-05-05T09:00:00+07:00","actor":{"account":{"homePage":"https://simpeg.example.go.id","name":"$NIP"}},"verb":{"id":"http://adlnet.gov/expapi/verbs/completed"},"object":{"id":"https://lms.example.go.id/k/1"},"result":{"duration":"PT2H"}}
{"id":"5bdcc531-f44a-46b7-9fa1-7e0fdcdbff65","timestamp":"2025-05-06T09:00:00+07:00","actor":{"account":{"homePage":"https://simpeg.example.go.id","name":"$NIP"}},"verb":{"id":"http://adlnet.gov/expapi/verbs/attended"},"object":{"id":"https://lms.example.go.id/k/2"},"result":{"duration":"PT3H"}}
J
check "activity JP wins over the duration" 0 "$BIN" import xapi --data "$L" --key "$WORK/lms.key" --activities "$WORK/cat.ndjson" --minutes-per-jp 60 "$WORK/own.ndjson"
contains "two imported" "$WORK/out" "imported 2, duplicates 0, skipped 0"
check "read" 0 "$BIN" read --data "$L" --json
contains "the catalogue's 16 JP" "$WORK/out" '"id":"5bdcc531-f44a-46b7-9fa1-7e0fdcdbff64".*"jp_centi":1600'
contains "3 h at 60 minutes a JP" "$WORK/out" '"id":"5bdcc531-f44a-46b7-9fa1-7e0fdcdbff65".*"jp_centi":300,'
check "statements signed by the HR key" 8 "$BIN" import xapi --data "$L" --key "$WORK/hr.key" "$WORK/own.ndjson"
echo '[1, 2' > "$WORK/broken.json"
check "a broken JSON array" 3 "$BIN" import xapi --data "$L" --key "$WORK/lms.key" "$WORK/broken.json"
echo '{"a":1}' | check "a statement on stdin" 3 "$BIN" import xapi --data "$L" --key "$WORK/lms.key" -
check "bad --minutes-per-jp" 2 "$BIN" import xapi --data "$L" --key "$WORK/lms.key" --minutes-per-jp 0 "$WORK/own.ndjson"
check "missing file" 19 "$BIN" import xapi --data "$L" --key "$WORK/lms.key" "$WORK/nothing.json"
check "verify after the imports" 0 "$BIN" verify --data "$L"

# ---- through a server ----
PORT=$((20000 + RANDOM % 12000)) # below the ephemeral range (32768 on)
"$BIN" serve --data "$L" --rep "tcp://127.0.0.1:$PORT" --pub "tcp://127.0.0.1:$((PORT + 1))" 2>"$WORK/serve.log" &
SERVER=$!
wait_up "tcp://127.0.0.1:$PORT"
check "import xapi through the server: duplicates" 3 "$BIN" import xapi --url "tcp://127.0.0.1:$PORT" --key "$WORK/lms.key" "$WORK/mapped.ndjson"
contains "duplicates through the server" "$WORK/out" "imported 0, duplicates 5, skipped 15"
printf 'nip,kind,unit\n199808082022011010,pns,Pusat Data dan Informasi\n199808082022011010,pns,Biro Umum\n' > "$WORK/remote.csv"
check "import employees through the server" 0 "$BIN" import employees --url "tcp://127.0.0.1:$PORT" --key "$WORK/hr.key" "$WORK/remote.csv"
contains "registered, then updated" "$WORK/out" "registered 1, updated 1, duplicates 0, skipped 0"
kill "$SERVER"; wait "$SERVER" 2>/dev/null

echo "cli_import: $passes passed, $fails failed"
[ "$fails" -eq 0 ]
