#!/usr/bin/env bash
# export and verify --export as an auditor runs them: a generated year with every signing role,
# a policy and a key revocation, exported from DIR and through a server (--url), verified with
# nothing but the log key; an older checkpoint (--size); an existing file refused unless
# --force, a directory or a pipe always; damaged bundles (a flipped byte in an entry past the
# first chunk, in its encoding, in the origin record, in the checkpoint, truncation, trailing bytes, entries beyond the checkpoint, another key, a missing file) each
# fail with their exit code and position; a cosigned checkpoint exports with its cosignature.
# Bundles forged with the log key (an entry signed by a revoked key, ...) are built and checked
# in tests/unit/test_bundle.c.
set -u
BIN=$1; WORK=$2
. "$(dirname "$0")/lib.sh"
json_field() { sed -n "s/.*\"$2\":\"\{0,1\}\([^,\"}]*\).*/\1/p" "$1"; }
# entry FILE SEQ: "OFFSET LENGTH" of entry SEQ's record (records: origin, key, checkpoint, entries)
entry() {
  od -An -v -tu1 -w1 "$1" | awk -v want=$(( $2 + 3 )) '
    BEGIN { off = 12; r = 0 }
    { i = NR - 1
      if (i >= off && i < off + 5) {
        h[i - off] = $1
        if (i == off + 4) {
          len = h[1] * 16777216 + h[2] * 65536 + h[3] * 256 + h[4]
          if (r == want) { print off, len; exit }
          off += 5 + len; r++
        }
      } }'
}
flip() { # flip SRC OFFSET DST: DST is SRC with the byte at OFFSET XORed with 1
  cp "$1" "$3"
  local b; b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
  printf "$(printf '\\%03o' $(( b ^ 1 )))" | dd of="$3" bs=1 seek="$2" conv=notrunc status=none
}
L=$WORK/ledger
K=$L/log.vkey

# ---- a year with every role, a policy and a revoked key ----
check "init" 0 "$BIN" init --data "$L"
for r in hr lms supervisor verifier auditor; do
  "$BIN" keygen --name "$r.example" --out "$WORK/$r.key" >/dev/null 2>&1
  check "register $r" 0 "$BIN" key register --data "$L" --key "$L/keys/admin.key" --vkey "$WORK/$r.key.pub" --role "$r"
done
check "gen" 0 "$BIN" gen --employees 500 --seed 5 --out-dir "$WORK/year"
cp "$WORK/out" "$WORK/files"
while read -r f role n; do
  check "append $(basename "$f")" 0 "$BIN" append --data "$L" --key "$WORK/$role.key" --batch 2000 "$f"
done < "$WORK/files"
check "policy" 0 "$BIN" policy set --data "$L" --key "$L/keys/admin.key" --year 2026 --pns-floor 30
check "revoke the supervisor key" 0 "$BIN" key revoke --data "$L" --key "$L/keys/admin.key" --vkey "$WORK/supervisor.key.pub"
"$BIN" checkpoint --data "$L" > "$WORK/cp"
N=$(sed -n 2p "$WORK/cp")
[ "$N" -gt 4096 ] && ok || bad "the year should span more than one verify chunk (4096), has $N"

# ---- export and verify ----
B=$WORK/year.jplx
check "export --json" 0 "$BIN" export --data "$L" --out "$B" --json
contains "export json" "$WORK/out" "\"ok\":true,\"file\":\"$B\",\"size\":$N,"
[ ! -s "$WORK/err" ] && ok || bad "export printed on a non-terminal stderr: $(head -c 200 "$WORK/err")"
[ "$(stat -c %a "$B")" = 600 ] && ok || bad "bundle mode $(stat -c %a "$B"), want 600"
[ "$(ls "$WORK" | grep -c '^year.jplx')" -eq 1 ] && ok || bad "temporary files left: $(ls "$WORK")"
EXPORT_ROOT=$(json_field "$WORK/out" root)
check "verify --export" 0 "$BIN" verify --export "$B" --log-key "$K"
contains "verify text" "$WORK/out" "^ok: $B: $N entries verified against the checkpoint of size $N"
check "verify --export --json, key as text with --key" 0 "$BIN" verify --export "$B" --key "$(cat "$K")" --json
contains "verify json" "$WORK/out" "\"ok\":true,\"file\":\"$B\",\"size\":$N,\"entries_checked\":$N,\"checkpoints_checked\":1"
BUNDLE_ROOT=$(json_field "$WORK/out" root)
check "verify the ledger" 0 "$BIN" verify --data "$L" --json
LEDGER_ROOT=$(json_field "$WORK/out" root)
[ -n "$BUNDLE_ROOT" ] && [ "$BUNDLE_ROOT" = "$LEDGER_ROOT" ] && [ "$BUNDLE_ROOT" = "$EXPORT_ROOT" ] && ok || bad "roots differ: bundle $BUNDLE_ROOT ledger $LEDGER_ROOT export $EXPORT_ROOT"
check "verify --export --threads 1" 0 "$BIN" verify --export "$B" --log-key "$K" --threads 1

# ---- usage and refusals ----
check "export without --out" 2 "$BIN" export --data "$L"
check "export with --url and --data" 2 "$BIN" export --data "$L" --url ipc:///nowhere --out "$WORK/x.jplx"
check "verify --export needs the key" 2 "$BIN" verify --export "$B"
contains "and says which" "$WORK/err" "needs --log-key"
check "verify --export with --data" 2 "$BIN" verify --export "$B" --data "$L" --log-key "$K"
SUM=$(sha256sum < "$B")
check "export onto an existing file" 17 "$BIN" export --data "$L" --out "$B"
contains "says --force" "$WORK/err" "already exists: not replaced (export --force replaces it)"
[ "$(sha256sum < "$B")" = "$SUM" ] && ok || bad "the refused export changed the file"
check "export --force" 0 "$BIN" export --data "$L" --out "$B" --force
[ "$(sha256sum < "$B")" = "$SUM" ] && ok || bad "the same log exports to the same bytes"
mkdir "$WORK/adir"; mkfifo "$WORK/fifo"
check "export onto a directory" 19 "$BIN" export --data "$L" --out "$WORK/adir"
contains "says it is a directory" "$WORK/err" "adir is a directory, not a file: not replaced"
check "export --force onto a directory" 19 "$BIN" export --data "$L" --out "$WORK/adir" --force
check "export --force onto a pipe" 19 "$BIN" export --data "$L" --out "$WORK/fifo" --force
contains "says it is not a file" "$WORK/err" "fifo is a device, pipe or socket, not a file"
[ -d "$WORK/adir" ] && [ -p "$WORK/fifo" ] && ok || bad "a refused export replaced a directory or a pipe"
[ -z "$(ls "$WORK" | grep -E '^(adir|fifo)\.')" ] && ok || bad "a refused export left $(ls "$WORK")"
check "export an older checkpoint" 0 "$BIN" export --data "$L" --out "$WORK/b3.jplx" --size 3
check "verify it" 0 "$BIN" verify --export "$WORK/b3.jplx" --log-key "$K" --json
contains "of size 3" "$WORK/out" '"size":3,"entries_checked":3'
check "export a size with no checkpoint" 16 "$BIN" export --data "$L" --out "$WORK/none.jplx" --size $((N + 7))
[ -z "$(ls "$WORK" | grep '^none.jplx')" ] && ok || bad "a failed export left $(ls "$WORK" | grep '^none')"

# ---- damaged bundles ----
"$BIN" keygen --name jpledger.local/log --out "$WORK/other.key" >/dev/null 2>&1
check "another log key of the same name" 5 "$BIN" verify --export "$B" --log-key "$WORK/other.key.pub"
contains "names both keys" "$WORK/err" "not of the given key"
check "a malformed key" 3 "$BIN" verify --export "$B" --log-key "not+a+key"
check "a missing file" 16 "$BIN" verify --export "$WORK/missing.jplx" --log-key "$K"
check "not a bundle" 3 "$BIN" verify --export "$WORK/files" --log-key "$K"
check "a directory" 19 "$BIN" verify --export "$WORK/adir" --log-key "$K"
contains "says it is a directory" "$WORK/err" "adir is a directory, not a file"
read -r OFF LEN < <(entry "$B" 4200)
flip "$B" $((OFF + 5 + LEN - 1)) "$WORK/sig.jplx"
check "a flipped byte in entry 4200's signature" 5 "$BIN" verify --export "$WORK/sig.jplx" --log-key "$K" --json
contains "names seq 4200" "$WORK/out" '"first_bad_seq":4200,"error":"bad_signature","message":"seq 4200: signature does not verify"'
read -r COFF CLEN < <(entry "$B" -1)   # record 2: the checkpoint
ORIGIN_LEN=$(head -1 "$WORK/cp" | wc -c)
flip "$B" $((COFF + 5 + ORIGIN_LEN)) "$WORK/cp.jplx"
check "a flipped byte in the checkpoint's size" 5 "$BIN" verify --export "$WORK/cp.jplx" --log-key "$K"
contains "the checkpoint fails" "$WORK/err" "the checkpoint does not verify"
flip "$B" $((COFF + 5 + CLEN - 4)) "$WORK/cpsig.jplx"
check "a flipped byte in the checkpoint's signature" 5 "$BIN" verify --export "$WORK/cpsig.jplx" --log-key "$K"
read -r OFF LEN < <(entry "$B" 4200)
flip "$B" $((OFF + 5)) "$WORK/tag.jplx"   # the entry's first protobuf tag: it no longer decodes
check "an entry that does not decode is damage" 18 "$BIN" verify --export "$WORK/tag.jplx" --log-key "$K" --json
contains "names seq 4200" "$WORK/out" '"first_bad_seq":4200,"error":"corrupt","message":"seq 4200: log entry does not decode'
flip "$B" 18 "$WORK/origin.jplx"          # the origin record's payload starts at byte 17
check "a flipped byte in the origin record" 18 "$BIN" verify --export "$WORK/origin.jplx" --log-key "$K"
contains "compares it with the key's name" "$WORK/err" "the origin record \"j.ledger.local/log\" is not the log key's name \"jpledger.local/log\""
read -r OFF LEN < <(entry "$B" 100)
head -c $((OFF + 10)) "$B" > "$WORK/cut.jplx"
check "a truncated bundle" 18 "$BIN" verify --export "$WORK/cut.jplx" --log-key "$K"
contains "names seq 100" "$WORK/err" "seq 100: byte $OFF: the bundle is truncated"
{ cat "$B"; echo "trailing"; } > "$WORK/trail.jplx"
check "trailing bytes" 18 "$BIN" verify --export "$WORK/trail.jplx" --log-key "$K"
contains "after the end" "$WORK/err" "bytes after the end record"
# the head of the size-3 bundle (its checkpoint) with every entry of the whole log
read -r OFF3 _ < <(entry "$WORK/b3.jplx" 0)
read -r OFFN _ < <(entry "$B" 0)
{ head -c "$OFF3" "$WORK/b3.jplx"; tail -c +$((OFFN + 1)) "$B"; } > "$WORK/beyond.jplx"
check "entries beyond the checkpoint" 18 "$BIN" verify --export "$WORK/beyond.jplx" --log-key "$K"
contains "names seq 3" "$WORK/err" "seq 3: an entry beyond the checkpoint's size"

# ---- through a server ----
REP="ipc://$WORK/rep.ipc"; PUB="ipc://$WORK/pub.ipc"
trap 'kill -9 $(jobs -p) 2>/dev/null' EXIT
"$BIN" serve --data "$L" --rep "$REP" --pub "$PUB" >/dev/null 2>"$WORK/serve.log" &
SERVER=$!
wait_up "$REP"
check "export --url without a read key" 21 "$BIN" export --url "$REP" --out "$WORK/r.jplx"
[ -z "$(ls "$WORK" | grep '^r.jplx')" ] && ok || bad "a refused export left $(ls "$WORK" | grep '^r.jplx')"
check "export --url" 0 "$BIN" export --url "$REP" --auth-key "$WORK/auditor.key" --out "$WORK/r.jplx"
cmp -s "$B" "$WORK/r.jplx" && ok || bad "the server's bundle differs from the local one"
check "export --url --size 3" 0 "$BIN" export --url "$REP" --auth-key "$WORK/auditor.key" --out "$WORK/r3.jplx" --size 3 --json
cmp -s "$WORK/b3.jplx" "$WORK/r3.jplx" && ok || bad "the server's size-3 bundle differs"
check "export --url of a size with no checkpoint" 16 "$BIN" export --url "$REP" --auth-key "$WORK/auditor.key" --out "$WORK/r9.jplx" --size $((N + 7))
check "append through the server" 0 "$BIN" policy set --url "$REP" --key "$L/keys/admin.key" --year 2027
check "export --url after the append" 0 "$BIN" export --url "$REP" --auth-key "$WORK/auditor.key" --out "$WORK/r2.jplx" --json
contains "one more entry" "$WORK/out" "\"size\":$((N + 1)),"
check "export --data beside the server" 0 "$BIN" export --data "$L" --out "$WORK/l2.jplx"
cmp -s "$WORK/l2.jplx" "$WORK/r2.jplx" && ok || bad "local and remote exports of the same log differ"
check "verify the server's bundle" 0 "$BIN" verify --export "$WORK/r2.jplx" --log-key "$K"
# a cosigned checkpoint travels with its cosignature and still verifies with the log key alone
check "an auditor cosigns the checkpoint" 0 "$BIN" checkpoint --cosign --url "$REP" --key "$WORK/auditor.key" --log-key "$K"
check "export the cosigned checkpoint" 0 "$BIN" export --url "$REP" --auth-key "$WORK/auditor.key" --out "$WORK/cosigned.jplx"
grep -aq "^— auditor.example " "$WORK/cosigned.jplx" && ok || bad "the bundle's checkpoint lacks the cosignature"
check "verify the cosigned bundle" 0 "$BIN" verify --export "$WORK/cosigned.jplx" --log-key "$K"
kill "$SERVER"; wait "$SERVER" 2>/dev/null

echo "cli_export: $passes passed, $fails failed"
[ "$fails" -eq 0 ]
