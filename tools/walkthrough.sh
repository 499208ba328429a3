#!/usr/bin/env bash
# A short tour of the ledger on the example events in docs/examples: creates a ledger, registers
# an HR, an LMS and a verifier key, appends their events, then proves and verifies the history,
# and exports it for an auditor who verifies the file offline.
#   tools/walkthrough.sh [JPLEDGER_BINARY] [DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-build/tools/jpledger}
DIR=${2:-$(mktemp -d)/walkthrough}
L=$DIR/ledger
mkdir -p "$DIR"
step() { printf '\n== %s\n$ %s\n' "$1" "${*:2}"; "${@:2}"; }

step "create a ledger (prints the log's verifier key)" "$BIN" init --data "$L"
for who in hr lms verifier; do
  "$BIN" keygen --name "$who.example" --out "$DIR/$who.key" >/dev/null 2>&1
  step "admin registers the $who key" "$BIN" key register --data "$L" --key "$L/keys/admin.key" \
    --vkey "$DIR/$who.key.pub" --role "$who"
done
step "HR registers two employees" "$BIN" append --data "$L" --key "$DIR/hr.key" docs/examples/employees.ndjson
step "the LMS defines a course, enrolls and completes" "$BIN" append --data "$L" --key "$DIR/lms.key" docs/examples/lms.ndjson
step "the verifier recognizes 20 JP" "$BIN" append --data "$L" --key "$DIR/verifier.key" docs/examples/verifier.ndjson
printf '\n== a second recognition of the same completion is refused (exit 13)\n'
sed 's/0c01/0c02/' docs/examples/verifier.ndjson > "$DIR/second-recognition.ndjson"
echo "\$ $BIN append --data $L --key $DIR/verifier.key $DIR/second-recognition.ndjson"
"$BIN" append --data "$L" --key "$DIR/verifier.key" "$DIR/second-recognition.ndjson" || echo "exit code $?"
step "the log" "$BIN" read --data "$L"
step "the latest signed checkpoint" "$BIN" checkpoint --data "$L"
step "proof that entry 8 is in the log" "$BIN" prove inclusion --data "$L" --seq 8 --json
step "an auditor verifies everything against the log key" "$BIN" verify --data "$L" --log-key "$L/log.vkey"
step "the log is exported to one file for an auditor" "$BIN" export --data "$L" --out "$DIR/audit.jplx"
step "who verifies it offline with nothing but the log key" "$BIN" verify --export "$DIR/audit.jplx" \
  --log-key "$(cat "$L/log.vkey")"
echo
echo "walkthrough done; the ledger is in $L"
