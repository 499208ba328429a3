# Sourced by integration tests once BIN and WORK are set: a fresh scratch directory WORK, pass and
# fail counts (ok, bad), check (a command's exit code; its output is left in $WORK/out and
# $WORK/err), contains and lacks (a pattern in a file), wait_up (a server answers status). A test ends with
#   echo "NAME: $passes passed, $fails failed"; [ "$fails" -eq 0 ]
rm -rf "$WORK"; mkdir -p "$WORK"
fails=0; passes=0
ok() { passes=$((passes+1)); }
bad() { echo "FAIL: $*"; fails=$((fails+1)); }
check() { # check DESC WANT_EXIT CMD...
  local desc=$1 want=$2; shift 2
  "$@" >"$WORK/out" 2>"$WORK/err"; local got=$?
  if [ "$got" -eq "$want" ]; then ok; else bad "$desc: exit $got, want $want ($(head -c 300 "$WORK/err"))"; fi
}
contains() { # contains DESC FILE PATTERN
  if grep -q -- "$3" "$2"; then ok; else bad "$1: no '$3' in $(head -c 300 "$2")"; fi
}
lacks() { # lacks DESC FILE PATTERN
  if grep -q -- "$3" "$2"; then bad "$1: '$3' in $(head -c 300 "$2")"; else ok; fi
}
wait_up() { # wait_up URL [OPTIONS...]: until a server answers status (10 s), else a failure
  local i
  for i in $(seq 100); do
    "$BIN" status --url "$@" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  bad "no server answers on $1 after 10 s"
  return 1
}
