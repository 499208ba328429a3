#!/usr/bin/env bash
# Durability: kill -9 the appending process at random moments, many times. Every event whose
# result line was printed (acknowledged) must be in the log at its printed seq, `verify` must
# pass after each restart, and re-appending everything afterwards (idempotent retry) must leave
# each event exactly once.
set -u
BIN=$1; WORK=$2
ROUNDS=${CRASH_ROUNDS:-8}; PER_ROUND=${CRASH_EVENTS:-2000}
. "$(dirname "$0")/lib.sh"

L=$WORK/ledger
"$BIN" init --data "$L" >/dev/null || { echo "init failed"; exit 1; }
"$BIN" keygen --name lms --out "$WORK/lms.key" >/dev/null 2>&1
"$BIN" key register --data "$L" --key "$L/keys/admin.key" --vkey "$WORK/lms.key.pub" --role lms >/dev/null || { echo "key register failed"; exit 1; }

gen_events() { # gen_events ROUND FILE
  awk -v r="$1" -v n="$PER_ROUND" 'BEGIN { for (i = 0; i < n; i++)
    printf "{\"type\":\"activity_defined\",\"id\":\"%08x-%04x-4000-8000-%012x\",\"activity_id\":\"R%d-%d\",\"title\":\"crash test\",\"mode\":\"classical\",\"jp_centi\":100,\"issued_at_ms\":1790000000000}\n", r, 0, i, r, i }' > "$2"
}

for round in $(seq 1 "$ROUNDS"); do
  gen_events "$round" "$WORK/events.$round"
  "$BIN" append --data "$L" --key "$WORK/lms.key" --batch 25 --json "$WORK/events.$round" \
    > "$WORK/acks.$round" 2>/dev/null &
  pid=$!
  # kill somewhere between 20 ms and ~600 ms into the run
  sleep "0.$(( (RANDOM % 58) + 2 ))"
  kill -9 "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  "$BIN" read --data "$L" --json > "$WORK/log.$round" || bad "round $round: read failed"
  # every acknowledged (seq, id) pair must be in the log
  missing=$(awk -F'"' '
    FNR == NR { for (i = 1; i < NF; i++) { if ($i == "seq") s = $(i+1); if ($i == "event_id") { id = $(i+2) } }
                gsub(/[:,]/, "", s); if (id != "") ack[s " " id] = 1; next }
    { seq = ""; id = ""
      for (i = 1; i < NF; i++) { if ($i == "seq" && seq == "") { seq = $(i+1) } if ($i == "id" && id == "") id = $(i+2) }
      gsub(/[:,]/, "", seq); have[seq " " id] = 1 }
    END { n = 0; for (k in ack) if (!(k in have)) { n++; print "missing " k > "/dev/stderr" } print n }' \
    "$WORK/acks.$round" "$WORK/log.$round")
  acked=$(wc -l < "$WORK/acks.$round")
  if [ "$missing" = "0" ]; then ok; else bad "round $round: $missing of $acked acknowledged events missing"; fi
  if "$BIN" verify --data "$L" >/dev/null 2>"$WORK/verify.err.$round"; then ok; else bad "round $round: verify: $(cat "$WORK/verify.err.$round")"; fi
  echo "round $round: $acked acknowledged before kill -9, log size $(wc -l < "$WORK/log.$round")"
done

# retry everything: acknowledged or not, each event must end up exactly once
for round in $(seq 1 "$ROUNDS"); do
  "$BIN" append --data "$L" --key "$WORK/lms.key" --batch 500 "$WORK/events.$round" >/dev/null 2>&1 \
    || bad "retry of round $round failed"
done
size=$("$BIN" read --data "$L" | wc -l)
want=$((2 + ROUNDS * PER_ROUND))
if [ "$size" -eq "$want" ]; then ok; else bad "after retries the log has $size entries, want $want"; fi
if "$BIN" verify --data "$L" >/dev/null; then ok; else bad "final verify failed"; fi
echo "crash_kill9: $passes passed, $fails failed"
[ "$fails" -eq 0 ]
