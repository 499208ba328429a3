#!/usr/bin/env bash
# Auditor cosignatures end to end, through a real `jpledger serve`: an auditor cosigns the
# latest checkpoint, `checkpoint` (CLI, server) then carries its line after the log's, a repeat
# is idempotent, a later checkpoint is cosigned after a consistency proof from the state file,
# `verify` lists the cosigners. Refused by the server, nothing stored: keys of another role,
# revoked or unregistered; a tampered note; the signature of another checkpoint; garbage.
# Refused by the client, state file unchanged: a rollback, a fork (a copy of the ledger with the
# same log key that went another way), a state file of another log.
set -u
BIN=$1; WORK=$2; RAW=$3
. "$(dirname "$0")/lib.sh"
trap 'kill -9 $(jobs -p) 2>/dev/null' EXIT
serve() { # serve DIR NAME: starts a server on ipc sockets NAME.rep/NAME.pub, sets SERVER
  "$BIN" serve --data "$1" --rep "ipc://$WORK/$2.rep" --pub "ipc://$WORK/$2.pub" 2>>"$WORK/$2.log" &
  SERVER=$!
  wait_up "ipc://$WORK/$2.rep"
}
stop() { kill -TERM "$SERVER"; wait "$SERVER" 2>/dev/null; }
sigs() { grep -c "^— " "$1"; }  # signature lines of a note
emp() { # emp NIP: one employee registration
  echo "{\"type\":\"employee_registered\",\"nip\":\"$1\",\"kind\":\"pns\",\"unit\":\"Biro Umum\"}"
}

L=$WORK/ledger
"$BIN" init --data "$L" >/dev/null || { echo "init failed"; exit 1; }
for k in aud aud2 hr gone outsider; do "$BIN" keygen --name "$k.test" --out "$WORK/$k.key" >/dev/null 2>&1; done
for k in aud aud2 gone; do
  "$BIN" key register --data "$L" --key "$L/keys/admin.key" --vkey "$WORK/$k.key.pub" --role auditor >/dev/null || bad "register $k"
done
"$BIN" key register --data "$L" --key "$L/keys/admin.key" --vkey "$WORK/hr.key.pub" --role hr >/dev/null || bad "register hr"
"$BIN" key revoke --data "$L" --key "$L/keys/admin.key" --vkey "$WORK/gone.key.pub" >/dev/null || bad "revoke gone"
cp -a "$L" "$WORK/fork"   # the same log key and history so far; it will go another way

serve "$L" main
U=(--url "ipc://$WORK/main.rep")
A=(checkpoint --cosign "${U[@]}" --log-key "$L/log.vkey")
ST=$WORK/aud.state

# usage
check "--cosign without --key" 2 "$BIN" checkpoint --cosign "${U[@]}"
check "--cosign without --url" 2 "$BIN" checkpoint --cosign --key "$WORK/aud.key" --data "$L"
check "--state without --cosign" 2 "$BIN" checkpoint "${U[@]}" --state "$ST"
check "--cosign with a missing key file" 16 "$BIN" "${A[@]}" --key "$WORK/nope.key"

# the first cosignature; the state file appears
check "cosign" 0 "$BIN" "${A[@]}" --key "$WORK/aud.key" --state "$ST" --json
contains "cosign answer" "$WORK/out" '"key":"aud.test","duplicate":false'
SIZE1=$(sed -n 's/.*"tree_size":\([0-9]*\).*/\1/p' "$WORK/out")
[ -s "$ST" ] && [ "$(sed -n 2p "$ST")" = "$SIZE1" ] && ok || bad "state file holds checkpoint $SIZE1"
cp "$ST" "$WORK/cosigned-$SIZE1.note"
check "checkpoint through the server" 0 "$BIN" checkpoint "${U[@]}"
[ "$(sigs "$WORK/out")" -eq 2 ] && ok || bad "served checkpoint has the log's line and the cosignature: $(cat "$WORK/out")"
contains "the cosignature is the auditor's" "$WORK/out" "^— aud.test "
cmp -s "$WORK/out" "$ST" && ok || bad "served note is the one the auditor cosigned"
check "checkpoint from the data directory" 0 "$BIN" checkpoint --data "$L"
cmp -s "$WORK/out" "$ST" && ok || bad "local checkpoint shows the cosignature"
check "status shows the cosigned checkpoint" 0 "$BIN" status "${U[@]}" --json
contains "status checkpoint" "$WORK/out" "aud.test "

# idempotent
check "cosign again" 0 "$BIN" "${A[@]}" --key "$WORK/aud.key" --state "$ST" --json
contains "repeat is a duplicate" "$WORK/out" '"duplicate":true'
check "the same request sent raw" 0 "$RAW" "ipc://$WORK/main.rep" --cosign "$ST" "$WORK/aud.key.pub"
"$BIN" checkpoint "${U[@]}" > "$WORK/cp"
[ "$(sigs "$WORK/cp")" -eq 2 ] && ok || bad "a duplicate adds nothing"

# a second auditor, without a state file or log key (trusts the server's key)
check "second auditor" 0 "$BIN" checkpoint --cosign "${U[@]}" --key "$WORK/aud2.key"
contains "no state warning" "$WORK/err" "no --state"
"$BIN" checkpoint "${U[@]}" > "$WORK/cp"
[ "$(sigs "$WORK/cp")" -eq 3 ] && ok || bad "two cosignatures served"

# server-side refusals (no state: the client would refuse a foreign state first)
check "a key of another role" 8 "$BIN" "${A[@]}" --key "$WORK/hr.key"
contains "role message" "$WORK/err" "only auditor keys"
check "a revoked auditor key" 7 "$BIN" "${A[@]}" --key "$WORK/gone.key"
check "an unregistered key" 6 "$BIN" "${A[@]}" --key "$WORK/outsider.key"
sed '3{s/^A/B/;t;s/^./A/}' "$ST" > "$WORK/tampered.note"   # the root line changed
cmp -s "$ST" "$WORK/tampered.note" && bad "tampering changed nothing"
check "a tampered note" 5 "$RAW" "ipc://$WORK/main.rep" --cosign "$WORK/tampered.note" "$WORK/aud.key.pub"
printf 'garbage\n' > "$WORK/garbage.note"
check "a garbage note" 3 "$RAW" "ipc://$WORK/main.rep" --cosign "$WORK/garbage.note" "$WORK/aud.key.pub"
printf '\x5a\x10\x0a\x03abc' > "$WORK/truncated.req"
check "a truncated cosign request" 3 "$RAW" "ipc://$WORK/main.rep" "$WORK/truncated.req"
printf '\x5a\x07\x0a\x01x\x12\x02\x00\x00' > "$WORK/shortkey.req"
check "a cosign request with a 2-byte key" 3 "$RAW" "ipc://$WORK/main.rep" "$WORK/shortkey.req"
"$BIN" checkpoint "${U[@]}" > "$WORK/cp2"
cmp -s "$WORK/cp" "$WORK/cp2" && ok || bad "refused cosignatures changed the checkpoint"

# the log grows; the next cosignature is checked against the state file
emp 198503122009031001 | "$BIN" append "${U[@]}" --key "$WORK/hr.key" >/dev/null 2>&1 || bad "append"
"$BIN" checkpoint "${U[@]}" > "$WORK/cp"
[ "$(sigs "$WORK/cp")" -eq 1 ] && ok || bad "a new checkpoint starts without cosignatures"
# the old checkpoint's cosignature line on the new checkpoint: a signature over another text
{ cat "$WORK/cp"; grep "^— aud.test " "$WORK/cosigned-$SIZE1.note"; } > "$WORK/other.note"
check "the signature of another checkpoint" 5 "$RAW" "ipc://$WORK/main.rep" --cosign "$WORK/other.note" "$WORK/aud.key.pub"
check "cosign the grown log" 0 "$BIN" "${A[@]}" --key "$WORK/aud.key" --state "$ST"
contains "consistency reported" "$WORK/out" "consistent with checkpoint $SIZE1 cosigned before"
SIZE2=$(sed -n 2p "$ST")
[ "$SIZE2" -gt "$SIZE1" ] && ok || bad "state advanced from $SIZE1 to $SIZE2"
check "verify while serving" 0 "$BIN" verify --data "$L"
contains "verify lists the cosigner" "$WORK/out" "latest checkpoint $SIZE2 cosigned by aud.test+"
check "verify --json" 0 "$BIN" verify --data "$L" --json
contains "verify json cosigners" "$WORK/out" '"cosignatures_checked":3,"latest_cosigned_by":\["aud.test+'
stop

# client-side refusals against a fork of the same log (same key, other history)
cp "$ST" "$WORK/state.before"
serve "$WORK/fork" fork
F=(checkpoint --cosign --url "ipc://$WORK/fork.rep" --log-key "$L/log.vkey" --key "$WORK/aud.key" --state "$ST")
check "a rollback is refused" 9 "$BIN" "${F[@]}"
contains "rollback message" "$WORK/err" "rollback"
for n in 2 3 4 5 6; do emp "19850312200903100$n"; done | "$BIN" append --url "ipc://$WORK/fork.rep" --key "$WORK/hr.key" >/dev/null 2>&1 || bad "append to the fork"
check "a fork is refused" 9 "$BIN" "${F[@]}"
contains "fork message" "$WORK/err" "fork: checkpoint .* is not consistent"
check "the fork cosigned with a fresh state" 0 "$BIN" checkpoint --cosign --url "ipc://$WORK/fork.rep" --log-key "$L/log.vkey" --key "$WORK/aud.key" --state "$WORK/fork.state"
stop
cmp -s "$ST" "$WORK/state.before" && ok || bad "refusals changed the state file"

# a state file of another log (another log key, same origin)
O=$WORK/other
"$BIN" init --data "$O" >/dev/null || bad "init other"
"$BIN" key register --data "$O" --key "$O/keys/admin.key" --vkey "$WORK/aud.key.pub" --role auditor >/dev/null || bad "register in other"
serve "$O" other
check "a state file of another log" 9 "$BIN" checkpoint --cosign --url "ipc://$WORK/other.rep" --key "$WORK/aud.key" --state "$ST"
contains "other log message" "$WORK/err" "another log"
check "the other log's checkpoint with the first log's key" 6 "$BIN" checkpoint --cosign --url "ipc://$WORK/other.rep" --key "$WORK/aud.key" --log-key "$L/log.vkey"
LOGKEY=$(cut -d+ -f1,2 "$L/log.vkey")
contains "names the log key it expected" "$WORK/err" "not signed by the log key $LOGKEY"
printf 'not a note\n' > "$WORK/junk.state"
check "a malformed state file" 3 "$BIN" checkpoint --cosign --url "ipc://$WORK/other.rep" --key "$WORK/aud.key" --state "$WORK/junk.state"
stop
cmp -s "$ST" "$WORK/state.before" && ok || bad "the other log changed the state file"

# a cosigner revoked later: its cosignature stays valid; the new latest checkpoint has none
"$BIN" key revoke --data "$L" --key "$L/keys/admin.key" --vkey "$WORK/aud2.key.pub" >/dev/null 2>&1 || bad "revoke aud2"
check "verify after the server stopped" 0 "$BIN" verify --data "$L"
contains "cosignatures still checked" "$WORK/out" "cosignatures: 3 checked; latest checkpoint $((SIZE2 + 1)) not cosigned by any auditor"
echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
