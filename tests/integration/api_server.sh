#!/usr/bin/env bash
# The NNG server as its users meet it: a real `jpledger serve` process; concurrent appends from
# several clients; proofs and status; a subscriber that starts late and one that is killed
# (-9) and restarted mid-stream, both ending with every entry exactly once and in order; wrong
# keys, unauthorised reads, malformed and oversize requests answered while a well-behaved client
# keeps working; a clean stop on SIGTERM.
set -u
BIN=$1; WORK=$2; RAW=$3
. "$(dirname "$0")/lib.sh"
L=$WORK/ledger
REP="ipc://$WORK/rep.ipc"; PUB="ipc://$WORK/pub.ipc"
# never leave a server or subscriber behind (they would hold ctest's output pipe open)
trap 'kill -9 $(jobs -p) 2>/dev/null' EXIT
U=(--url "$REP")

"$BIN" init --data "$L" >/dev/null || { echo "init failed"; exit 1; }
for k in hr lms auditor outsider; do "$BIN" keygen --name "$k.test" --out "$WORK/$k.key" >/dev/null 2>&1; done
for k in hr lms auditor; do
  "$BIN" key register --data "$L" --key "$L/keys/admin.key" --vkey "$WORK/$k.key.pub" --role "$k" >/dev/null || bad "register $k"
done

"$BIN" serve --data "$L" --rep "$REP" --pub "$PUB" >/dev/null 2>"$WORK/serve.log" &
SERVER=$!
wait_up "$REP"
check "status" 0 "$BIN" status "${U[@]}" --json
grep -q '"log_size":4' "$WORK/out" && ok || bad "status shows 4 entries: $(cat "$WORK/out")"

gen() { # gen CLIENT N FILE: N activity definitions with fixed ids and times
  awk -v c="$1" -v n="$2" 'BEGIN { for (i = 0; i < n; i++)
    printf "{\"type\":\"activity_defined\",\"id\":\"%08x-0000-4000-8000-%012x\",\"activity_id\":\"C%d-%d\",\"title\":\"api test\",\"mode\":\"classical\",\"jp_centi\":100,\"issued_at_ms\":1790000000000}\n", c, i, c, i }' > "$3"
}

# a subscriber that is killed and restarted mid-stream, writing to a file that is its position
"$BIN" subscribe "${U[@]}" --pub "$PUB" --from 0 --auth-key "$WORK/auditor.key" --json \
  --out "$WORK/sub-restart.out" 2>/dev/null &
SUB1=$!

# four clients append concurrently
PER=400
for cl in 1 2 3 4; do gen "$cl" "$PER" "$WORK/c$cl.ndjson"; done
pids=()
for cl in 1 2 3 4; do
  "$BIN" append "${U[@]}" --key "$WORK/lms.key" --batch 40 --json "$WORK/c$cl.ndjson" > "$WORK/c$cl.out" 2>"$WORK/c$cl.err" &
  pids+=($!)
  [ "$cl" = 2 ] && { sleep 0.2; kill -9 "$SUB1" 2>/dev/null; wait "$SUB1" 2>/dev/null; }
done
for p in "${pids[@]}"; do wait "$p" || bad "a concurrent append failed: $(cat "$WORK"/c*.err)"; done
TOTAL=$((4 + 4 * PER))
got=$(cat "$WORK"/c*.out | wc -l)
[ "$got" -eq $((4 * PER)) ] && ok || bad "concurrent appends acknowledged $got of $((4 * PER))"

# restart the killed subscriber from its own output file; it must resume, not repeat
"$BIN" subscribe "${U[@]}" --pub "$PUB" --auth-key "$WORK/auditor.key" --json \
  --out "$WORK/sub-restart.out" 2>/dev/null &
SUB2=$!
for _ in $(seq 100); do [ "$(wc -l < "$WORK/sub-restart.out")" -ge "$TOTAL" ] && break; sleep 0.1; done
kill -TERM "$SUB2"; wait "$SUB2" 2>/dev/null

# a late subscriber reads everything from 0
check "late subscriber" 0 "$BIN" subscribe "${U[@]}" --pub "$PUB" --from 0 --auth-key "$WORK/auditor.key" --count "$TOTAL" --json
cp "$WORK/out" "$WORK/sub-late.out"

exactly_once() { # exactly_once FILE: seqs are 0..TOTAL-1, each once, in order
  awk -F'[:,]' -v total="$TOTAL" '{ if ($2 != NR - 1) { print "line " NR ": seq " $2; bad = 1; exit } }
    END { if (!bad && NR != total) { print NR " lines, want " total; bad = 1 } exit bad }' "$1"
}
msg=$(exactly_once "$WORK/sub-late.out") && ok || bad "late subscriber: $msg"
msg=$(exactly_once "$WORK/sub-restart.out") && ok || bad "killed and restarted subscriber: $msg"

# a type-filtered subscriber sees only that type
check "filtered subscriber" 0 "$BIN" subscribe "${U[@]}" --pub "$PUB" --from 0 --type key_registered --auth-key "$WORK/auditor.key" --count 4 --json
[ "$(grep -c '"topic":"entry/key_registered/' "$WORK/out")" -eq 4 ] && ok || bad "type filter"

# reads of personal data need a proven key
check "read without a key" 21 "$BIN" read "${U[@]}" --from 0 --count 1
check "read with an unregistered key" 6 "$BIN" read "${U[@]}" --auth-key "$WORK/outsider.key" --count 1
check "read with an lms key" 8 "$BIN" read "${U[@]}" --auth-key "$WORK/lms.key" --count 1
check "read with an hr key" 0 "$BIN" read "${U[@]}" --auth-key "$WORK/hr.key" --count 1
check "read with the auditor key" 0 "$BIN" read "${U[@]}" --auth-key "$WORK/auditor.key" --from 5 --count 3 --json
[ "$(wc -l < "$WORK/out")" -eq 3 ] && ok || bad "read --count 3 via the server"

check "register a key through the server" 0 "$BIN" key register "${U[@]}" --key "$L/keys/admin.key" --vkey "$WORK/outsider.key.pub" --role auditor
check "the newly registered key reads" 0 "$BIN" read "${U[@]}" --auth-key "$WORK/outsider.key" --count 1
check "key registration signed by hr is refused by the server" 8 "$BIN" key register "${U[@]}" --key "$WORK/hr.key" --vkey "$WORK/outsider.key.pub" --role hr

# key and policy take the shared connection options: --auth-key proves a key first, and a
# connection that fails to prove one appends nothing
"$BIN" keygen --name fresh.test --out "$WORK/fresh.key" >/dev/null 2>&1
size_now() { "$BIN" status "${U[@]}" --json | sed 's/.*"log_size":\([0-9]*\).*/\1/'; }
before=$(size_now)
check "key register with an unregistered --auth-key" 6 "$BIN" key register "${U[@]}" --auth-key "$WORK/fresh.key" --key "$L/keys/admin.key" --vkey "$WORK/fresh.key.pub" --role auditor
check "key register with a missing --auth-key file" 16 "$BIN" key register "${U[@]}" --auth-key "$WORK/nokey.key" --key "$L/keys/admin.key" --vkey "$WORK/fresh.key.pub" --role auditor
check "policy set with an lms --auth-key (no read role)" 8 "$BIN" policy set "${U[@]}" --auth-key "$WORK/lms.key" --key "$L/keys/admin.key" --year 2026
[ "$(size_now)" = "$before" ] && ok || bad "failed authentications appended something"
check "the key refused above is not registered" 6 "$BIN" read "${U[@]}" --auth-key "$WORK/fresh.key" --count 1
check "key register with the admin's --auth-key" 0 "$BIN" key register "${U[@]}" --auth-key "$L/keys/admin.key" --key "$L/keys/admin.key" --vkey "$WORK/fresh.key.pub" --role auditor --json
grep -q '"seq":' "$WORK/out" && ok || bad "key register --json through the server: $(cat "$WORK/out")"
check "the key registered with --auth-key reads" 0 "$BIN" read "${U[@]}" --auth-key "$WORK/fresh.key" --count 1
check "key revoke with --auth-key" 0 "$BIN" key revoke "${U[@]}" --auth-key "$WORK/auditor.key" --key "$L/keys/admin.key" --vkey "$WORK/fresh.key.pub" --reason test
check "the revoked key no longer reads" 7 "$BIN" read "${U[@]}" --auth-key "$WORK/fresh.key" --count 1
check "policy set with --auth-key" 0 "$BIN" policy set "${U[@]}" --auth-key "$WORK/auditor.key" --key "$L/keys/admin.key" --year 2026 --pns-floor 25 --json
check "read the policy through the server" 0 "$BIN" read "${U[@]}" --auth-key "$WORK/auditor.key" --from $((before + 2)) --count 1 --json
grep -q '"pns_floor_jp_centi":2500' "$WORK/out" && ok || bad "policy through the server: $(cat "$WORK/out")"
check "key list has no --url form" 2 "$BIN" key list "${U[@]}"
check "key register --url without a value" 2 "$BIN" key register --key "$L/keys/admin.key" --vkey "$WORK/fresh.key.pub" --role auditor --url

# appends are authorised by their signatures
echo '{"type":"employee_registered","nip":"198503122009031001","kind":"pns","unit":"Biro Umum"}' > "$WORK/emp.ndjson"
check "append signed by a key of a role that issues nothing" 8 "$BIN" append "${U[@]}" --key "$WORK/outsider.key" "$WORK/emp.ndjson"
"$BIN" keygen --name stranger.test --out "$WORK/stranger.key" >/dev/null 2>&1
check "append signed by an unregistered key" 6 "$BIN" append "${U[@]}" --key "$WORK/stranger.key" "$WORK/emp.ndjson"
check "append signed by a key of the wrong role" 8 "$BIN" append "${U[@]}" --key "$WORK/lms.key" "$WORK/emp.ndjson"
check "append by hr" 0 "$BIN" append "${U[@]}" --key "$WORK/hr.key" "$WORK/emp.ndjson"
check "retried append is idempotent through the server" 0 "$BIN" append "${U[@]}" --key "$WORK/lms.key" --json "$WORK/c1.ndjson"
[ "$(grep -c '"duplicate":true' "$WORK/out")" -eq "$PER" ] && ok || bad "duplicates through the server"

# projection queries through the server give what the CLI gives on the data directory
cat > "$WORK/lms-year.ndjson" <<'J'
{"type":"activity_defined","id":"aaaaaaaa-0000-4000-8000-000000000001","activity_id":"PKA-1","title":"Pelatihan","mode":"classical","jp_centi":2400,"issued_at_ms":1790000000000}
{"type":"enrolled","id":"aaaaaaaa-0000-4000-8000-000000000002","nip":"198503122009031001","activity_id":"PKA-1","issued_at_ms":1790000000000}
{"type":"completed","id":"aaaaaaaa-0000-4000-8000-000000000003","nip":"198503122009031001","enrollment_event_id":"aaaaaaaa-0000-4000-8000-000000000002","jp_centi":2400,"evidence_sha256":"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08","completed_at_ms":1750000000000,"issued_at_ms":1790000000000}
J
check "lms events through the server" 0 "$BIN" append "${U[@]}" --key "$WORK/lms.key" "$WORK/lms-year.ndjson"
check "balance without a key" 21 "$BIN" balance 198503122009031001 "${U[@]}" --year 2025
check "balance through the server" 0 "$BIN" balance 198503122009031001 "${U[@]}" --auth-key "$WORK/auditor.key" --year 2025 --json
grep -q '"completed_jp_centi":2400' "$WORK/out" && grep -q '"status":"short"' "$WORK/out" && ok || bad "balance figures through the server: $(cat "$WORK/out")"
check "balance of an unknown NIP through the server" 16 "$BIN" balance 199001012015022003 "${U[@]}" --auth-key "$WORK/auditor.key"
check "report through the server (no key needed)" 0 "$BIN" report "${U[@]}" --year 2026 --json
grep -q '"unit":"Biro Umum"' "$WORK/out" && ok || bad "report through the server"
check "trail with proofs through the server" 0 "$BIN" trail 198503122009031001 "${U[@]}" --auth-key "$WORK/auditor.key" --proofs --json
grep -q '"proof":{"tree_size":' "$WORK/out" && ok || bad "trail rows carry proofs"
check "replay needs an admin connection" 21 "$BIN" replay "${U[@]}" --auth-key "$WORK/auditor.key" --check
check "online replay check" 0 "$BIN" replay "${U[@]}" --auth-key "$L/keys/admin.key" --check --json
grep -q '"match":true' "$WORK/out" && ok || bad "online replay check matches"
check "online replay" 0 "$BIN" replay "${U[@]}" --auth-key "$L/keys/admin.key" --json
check "appends go on after an online replay" 0 "$BIN" append "${U[@]}" --key "$WORK/hr.key" <(echo '{"type":"employee_updated","nip":"198503122009031001","unit":"Biro SDM"}')
check "status shows projection positions" 0 "$BIN" status "${U[@]}" --json
grep -q '"projections":\["balances ' "$WORK/out" && ok || bad "projection positions in status: $(cat "$WORK/out")"

# malformed and oversize requests get errors; the server keeps serving
head -c 300 /dev/urandom > "$WORK/garbage.bin"
check "malformed request" 3 "$RAW" "$REP" "$WORK/garbage.bin"
printf '' > "$WORK/empty.bin"
check "empty request" 3 "$RAW" "$REP" "$WORK/empty.bin"
# a query's unit must be clean UTF-8 of at most 128 bytes, its kind one the server has: bad input
# (exit 3) even before any read key is asked for, and no bytes echoed back
printf '\x4a\x0f\x0a\x06report\x18\xea\x0f\x22\x02\xff\xfe' > "$WORK/q-utf8.bin"
check "a query unit of invalid UTF-8" 3 "$RAW" "$REP" "$WORK/q-utf8.bin"
contains "the unit's bad byte named" "$WORK/out" "field 'unit' is not valid UTF-8 (at byte 0)"
printf '\x4a\x06\x0a\x04frob' > "$WORK/q-kind.bin"
check "an unknown query kind, unauthenticated" 3 "$RAW" "$REP" "$WORK/q-kind.bin"
check "a 129-byte unit" 3 "$BIN" report "${U[@]}" --year 2026 --unit "$(printf 'u%.0s' $(seq 129))"
check "status after bad requests" 0 "$BIN" status "${U[@]}"
check "inclusion proof through the server" 0 "$BIN" prove inclusion "${U[@]}" --seq 7 --json
check "consistency proof through the server" 0 "$BIN" prove consistency "${U[@]}" --from 3 --to 100 --json
check "proof out of range through the server" 3 "$BIN" prove inclusion "${U[@]}" --seq 999999
check "checkpoint through the server" 0 "$BIN" checkpoint "${U[@]}"
grep -q "^jpledger.local/log$" "$WORK/out" && ok || bad "checkpoint text"
check "an older checkpoint through the server" 0 "$BIN" checkpoint "${U[@]}" --size 1
test "$(sed -n 2p "$WORK/out")" = 1 && ok || bad "checkpoint --size 1 through the server: $(cat "$WORK/out")"
check "no such checkpoint through the server" 16 "$BIN" checkpoint "${U[@]}" --size 999999
check "unreachable server" 19 "$BIN" status --url "ipc://$WORK/nobody.ipc"

# clean stop, then the ledger verifies offline with everything acknowledged in it
kill -TERM "$SERVER"; wait "$SERVER"; rc=$?
[ "$rc" -eq 0 ] && ok || bad "serve exited $rc on SIGTERM"
grep -q "stopped" "$WORK/serve.log" && ok || bad "no stop line in the server log"
check "verify after the server stopped" 0 "$BIN" verify --data "$L"

# anonymous reads from local peers, when the operator allows them (TCP loopback)
# (ports below the kernel's ephemeral range, 32768 on, so no client connection holds them)
PORT=$(( 20000 + ($$ % 3000) * 4 ))
"$BIN" serve --data "$L" --rep "tcp://127.0.0.1:$PORT" --pub "tcp://127.0.0.1:$((PORT + 1))" --anonymous-local >/dev/null 2>>"$WORK/serve.log" &
SERVER=$!
wait_up "tcp://127.0.0.1:$PORT"
check "anonymous local read over TCP loopback" 0 "$BIN" read --url "tcp://127.0.0.1:$PORT" --count 2
# an oversize request is refused by the transport and the server keeps serving (over TCP:
# NNG 1.5.2's IPC transport stops serving after a few oversize messages, see PROTOCOL.md)
timeout 20 "$RAW" "tcp://127.0.0.1:$PORT" --size $((17 * 1024 * 1024)) >/dev/null 2>&1; code=$?
[ "$code" -ne 0 ] && ok || bad "an oversize request was accepted"
check "status after an oversize request" 0 "$BIN" status --url "tcp://127.0.0.1:$PORT"
kill -TERM "$SERVER"; wait "$SERVER"

# TLS beyond loopback: the client verifies the server's certificate against --tls-ca
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 \
  -keyout "$WORK/tls.key" -out "$WORK/tls.crt" -subj "/CN=localhost" \
  -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" >/dev/null 2>&1
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 \
  -keyout "$WORK/other.key" -out "$WORK/other.crt" -subj "/CN=localhost" >/dev/null 2>&1
T="tls+tcp://127.0.0.1:$((PORT + 2))"
"$BIN" serve --data "$L" --rep "$T" --pub "tls+tcp://127.0.0.1:$((PORT + 3))" \
  --tls-cert "$WORK/tls.crt" --tls-key "$WORK/tls.key" >/dev/null 2>>"$WORK/serve.log" &
SERVER=$!
wait_up "$T" --tls-ca "$WORK/tls.crt"
check "status over TLS" 0 "$BIN" status --url "$T" --tls-ca "$WORK/tls.crt"
check "authenticated read over TLS" 0 "$BIN" read --url "$T" --tls-ca "$WORK/tls.crt" --auth-key "$WORK/auditor.key" --count 2
check "TLS without a CA is refused" 2 "$BIN" status --url "$T"
check "TLS with the wrong CA fails" 19 "$BIN" status --url "$T" --tls-ca "$WORK/other.crt"
check "policy set over TLS without a CA is refused" 2 "$BIN" policy set --url "$T" --key "$L/keys/admin.key" --year 2027
check "key register over TLS with the wrong CA fails" 19 "$BIN" key register --url "$T" --tls-ca "$WORK/other.crt" --key "$L/keys/admin.key" --vkey "$WORK/stranger.key.pub" --role lms
check "policy set over TLS with --tls-ca and --auth-key" 0 "$BIN" policy set --url "$T" --tls-ca "$WORK/tls.crt" --auth-key "$WORK/auditor.key" --key "$L/keys/admin.key" --year 2027
check "key register over TLS with --tls-ca" 0 "$BIN" key register --url "$T" --tls-ca "$WORK/tls.crt" --key "$L/keys/admin.key" --vkey "$WORK/stranger.key.pub" --role lms
kill -TERM "$SERVER"; wait "$SERVER"
check "serve refuses TLS without a certificate" 19 "$BIN" serve --data "$L" --rep "$T"

echo "api_server: $passes passed, $fails failed"
[ "$fails" -eq 0 ]
