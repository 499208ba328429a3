#!/usr/bin/env bash
# Bad input as a newcomer gives it: repeated options, a directory where a file belongs, a failed
# keygen or init, options a command does not have, a damaged database directory, subscriber
# positions that are not positions. Each gets a clear error and its documented exit code, and
# leaves the ledger (and the file system) as it was.
set -u
BIN=$1; WORK=$2
. "$(dirname "$0")/lib.sh"
L=$WORK/ledger
EX=$(cd "$(dirname "$0")/../../docs/examples" && pwd)
REP="ipc://$WORK/rep.ipc"; PUB="ipc://$WORK/pub.ipc"
trap 'kill -9 $(jobs -p) 2>/dev/null' EXIT
size() { "$BIN" checkpoint --data "$L" | sed -n 2p; }

"$BIN" init --data "$L" >/dev/null || { echo "init failed"; exit 1; }
for k in hr lms auditor; do
  "$BIN" keygen --name "$k.test" --out "$WORK/$k.key" >/dev/null 2>&1
  "$BIN" key register --data "$L" --key "$L/keys/admin.key" --vkey "$WORK/$k.key.pub" --role "$k" >/dev/null || bad "register $k"
done
check "employees" 0 "$BIN" append --data "$L" --key "$WORK/hr.key" "$EX/employees.ndjson"
check "the xAPI example imports" 0 "$BIN" import xapi --data "$L" --key "$WORK/lms.key" "$EX/xapi.ndjson"
contains "both statements" "$WORK/out" "imported 2, duplicates 0, skipped 0"
before=$(size)

# keygen and init leave nothing behind when they fail
touch "$WORK/half.key.pub"
check "keygen onto an existing .pub" 17 "$BIN" keygen --name half --out "$WORK/half.key"
test ! -e "$WORK/half.key" && ok || bad "a failed keygen left the private key half.key"
check "init with a '/' in the admin name" 3 "$BIN" init --data "$WORK/l2" --admin-name ../../escaped
contains "says what is wrong with the name" "$WORK/err" "no '/'"
test ! -e "$WORK/l2" && ok || bad "a refused init left $WORK/l2"
check "init afterwards" 0 "$BIN" init --data "$WORK/l2"
check "init under a missing directory" 19 "$BIN" init --data "$WORK/no/such/l3"
contains "names the missing parent" "$WORK/err" "its parent directory does not exist"

# an option given twice is refused, not silently the last one
check "policy with --year twice" 2 "$BIN" policy set --data "$L" --key "$L/keys/admin.key" --year 2026 --year=2027
contains "names the option" "$WORK/err" "option --year is given twice"
test "$(size)" = "$before" && ok || bad "a refused policy changed the log: $before -> $(size)"
check "--conversion may repeat" 0 "$BIN" policy set --data "$L" --key "$L/keys/admin.key" --year 2030 \
  --conversion seminar:4:6 --conversion workshop:5:7
before=$(size)
check "read with --from twice" 2 "$BIN" read --data "$L" --from 1 --from 2

# options a command does not have are named; key list has no --url form
check "key with an unknown option" 2 "$BIN" key list --data "$L" --frob
contains "names it" "$WORK/err" "unknown option or missing value: --frob"
check "key list --url" 2 "$BIN" key list --url "$REP"
contains "says key list reads DIR" "$WORK/err" "no --url form"
check "report --unit ''" 2 "$BIN" report --data "$L" --year 2026 --unit ""

# a directory where a file belongs
mkdir -p "$WORK/adir"
check "append from a directory" 19 "$BIN" append --data "$L" --key "$WORK/hr.key" "$WORK/adir"
contains "says it is a directory" "$WORK/err" "is a directory"
check "import employees from a directory" 19 "$BIN" import employees --data "$L" --key "$WORK/hr.key" "$WORK/adir"
check "import xapi from a directory" 19 "$BIN" import xapi --data "$L" --key "$WORK/lms.key" "$WORK/adir"
check "import xapi --activities a directory" 19 "$BIN" import xapi --data "$L" --key "$WORK/lms.key" --activities "$WORK/adir" "$EX/xapi.ndjson"
check "append from a missing file" 19 "$BIN" append --data "$L" --key "$WORK/hr.key" "$WORK/nothing.ndjson"
contains "says why" "$WORK/err" "No such file"
check "a directory as the key" 19 "$BIN" append --data "$L" --key "$WORK/adir" "$EX/employees.ndjson"
lacks "no chmod advice for a directory" "$WORK/err" "chmod"
check "a directory as the verifier key" 19 "$BIN" key register --data "$L" --key "$L/keys/admin.key" --vkey "$WORK/adir" --role hr
contains "says it is a directory" "$WORK/err" "is a directory"

# minutes per JP: one limit for the CLI, the JSON and the ledger
check "policy --minutes-per-jp 601" 2 "$BIN" policy set --data "$L" --key "$L/keys/admin.key" --year 2031 --minutes-per-jp 601
echo '{"type":"policy_set","effective_year":2031,"pns_floor_jp_centi":2000,"pppk_cap_jp_centi":2400,"minutes_per_jp":601}' > "$WORK/p.ndjson"
check "policy_set with minutes_per_jp 601" 3 "$BIN" append --data "$L" --key "$L/keys/admin.key" "$WORK/p.ndjson"
contains "names the field and the range" "$WORK/err" "'minutes_per_jp' must be in 1..600"

test "$(size)" = "$before" && ok || bad "the refusals above changed the log: $before -> $(size)"
check "verify after the refusals" 0 "$BIN" verify --data "$L"

# a database directory that is damaged is not "no ledger, run init"
cp -a "$L" "$WORK/damaged"; rm "$WORK/damaged/db/CURRENT"
check "database without CURRENT" 18 "$BIN" read --data "$WORK/damaged"
lacks "does not advise init" "$WORK/err" "run 'jpledger init'"
echo garbage > "$WORK/damaged/db/CURRENT"
check "database with a garbage CURRENT" 18 "$BIN" verify --data "$WORK/damaged"
mkdir -p "$WORK/nodb/db"
check "an empty db directory is no ledger" 16 "$BIN" read --data "$WORK/nodb"
cp -a "$L" "$WORK/locked"; chmod 000 "$WORK/locked"
AS=(); [ "$(id -u)" = 0 ] && AS=(setpriv --reuid=65534 --regid=65534 --clear-groups) # root reads all
if [ "$(id -u)" != 0 ] || command -v setpriv >/dev/null; then
  check "a ledger we may not read" 19 "${AS[@]}" "$BIN" read --data "$WORK/locked"
  contains "says permission denied" "$WORK/err" "Permission denied"
fi
chmod 700 "$WORK/locked"

# demo: a future year is refused before anything is created, at once
check "demo --year in the future" 2 timeout 20 "$BIN" demo --employees 10 --year 2099 --dir "$WORK/demo"
test ! -e "$WORK/demo" && ok || bad "a refused demo created $WORK/demo"

# the subscriber's positions
"$BIN" serve --data "$L" --rep "$REP" --pub "$PUB" >/dev/null 2>"$WORK/serve.log" &
SERVER=$!
wait_up "$REP"
S=(--url "$REP" --pub "$PUB" --auth-key "$WORK/auditor.key")
check "subscribe from beyond the log" 16 timeout 20 "$BIN" subscribe "${S[@]}" --from 100000 --count 1
check "subscribe with --out and --position-file" 2 timeout 20 "$BIN" subscribe "${S[@]}" --out "$WORK/o" --position-file "$WORK/p"
printf 'not a position\n' > "$WORK/garbage.pos"
check "subscribe from a garbage position file" 3 timeout 20 "$BIN" subscribe "${S[@]}" --position-file "$WORK/garbage.pos" --count 1
contains "the file is left as it was" "$WORK/garbage.pos" "not a position"
check "subscribe from a new position file" 0 timeout 20 "$BIN" subscribe "${S[@]}" --position-file "$WORK/new.pos" --from 0 --count 2
test "$(cat "$WORK/new.pos")" = 2 && ok || bad "position file holds $(cat "$WORK/new.pos"), want 2"
printf 'my notes\nthe last line, no newline' > "$WORK/notes.txt"; cp "$WORK/notes.txt" "$WORK/notes.orig"
check "--out onto a file subscribe did not write" 3 timeout 20 "$BIN" subscribe "${S[@]}" --out "$WORK/notes.txt" --from 0 --count 1
cmp -s "$WORK/notes.txt" "$WORK/notes.orig" && ok || bad "subscribe --out changed a file it did not write: $(cat "$WORK/notes.txt")"
printf '0 key_regis' > "$WORK/crashed.out" # the start of a first line: a crash mid-write
check "--out after a crash in the first line" 0 timeout 20 "$BIN" subscribe "${S[@]}" --out "$WORK/crashed.out" --from 0 --count 2
test "$(cut -d' ' -f1 "$WORK/crashed.out" | tr '\n' ' ')" = "0 1 " && ok || bad "crashed.out: $(cat "$WORK/crashed.out")"
check "a position file that cannot be written" 19 timeout 20 "$BIN" subscribe "${S[@]}" --position-file "$WORK/no/such/dir/pos" --from 0 --count 2
contains "says so" "$WORK/err" "cannot save the position"
check "read without a read key" 21 "$BIN" read --url "$REP" --count 1
contains "says which option proves one" "$WORK/err" "give --auth-key FILE"
kill -TERM "$SERVER"; wait "$SERVER"

# what a mistyped argument is called: neither a key nor a file, no ledger, no usable demo dir
before=$(size)
check "--vkey that is neither a key nor a file" 3 "$BIN" key register --data "$L" --key "$L/keys/admin.key" --vkey garbage --role lms
contains "says so" "$WORK/err" "'garbage' is neither a verifier key"
test "$(size)" = "$before" && ok || bad "a refused key register changed the log"
check "verify of no ledger" 16 "$BIN" verify --data "$WORK/no-such-ledger"
contains "names the missing ledger" "$WORK/err" "no ledger database"
check "demo in a directory that cannot be made" 19 "$BIN" demo --employees 10 --dir "$WORK/no/such/dir"
contains "says why" "$WORK/err" "cannot create"
touch "$WORK/plainfile"
check "demo in a file" 19 "$BIN" demo --employees 10 --dir "$WORK/plainfile"
contains "says it is no directory" "$WORK/err" "is not a directory"

echo "cli_bad_input: $passes passed, $fails failed"
[ "$fails" -eq 0 ]
