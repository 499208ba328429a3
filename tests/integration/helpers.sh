# Shared by integration scripts (sourced after setting WORK): pass/fail counters and checks.
# ok / bad MESSAGE count a result; check DESC WANT_EXIT CMD... runs CMD with its stdout in
# $WORK/out and stderr in $WORK/err and expects the exit code; contains DESC FILE PATTERN greps.
fails=0; passes=0
ok() { passes=$((passes+1)); }
bad() { echo "FAIL: $*"; fails=$((fails+1)); }
check() { # check DESC WANT_EXIT CMD...
  local desc=$1 want=$2; shift 2
  "$@" >"$WORK/out" 2>"$WORK/err"; local got=$?
  if [ "$got" -eq "$want" ]; then ok; else bad "$desc: exit $got, want $want ($(head -c 300 "$WORK/err"))"; fi
}
contains() { # contains DESC FILE PATTERN
  if grep -q -- "$3" "$2"; then ok; else bad "$1: no '$3' in $2: $(head -c 300 "$2")"; fi
}
