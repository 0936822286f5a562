#!/usr/bin/env bash
# The demo program, examples/squares: its results on every start method,
# and a clear usage error (exit status 2) for bad arguments.
# Usage: test-squares-example.sh SQUARES-PROGRAM
set -euo pipefail

squares="$1"
fail() { echo "FAIL: $*" >&2; exit 1; }

for method in spawn fork forkserver threading; do
  out="$("$squares" --tasks 50 --start-method "$method")" || fail "$method: exit status $?"
  grep -qx "Done: 50 results, sum of squares 40425" <<<"$out" || fail "$method printed: $out"
done
out="$("$squares" 50 fork)" || fail "the positional form failed"
grep -qx "Done: 50 results, sum of squares 40425" <<<"$out" || fail "positional form printed: $out"

for bad in "10 bogus" "abc" "0" "10 fork std extra" "--tasks"; do
  status=0
  # shellcheck disable=SC2086
  err="$("$squares" $bad 2>&1 >/dev/null)" || status=$?
  [ "$status" -eq 2 ] || fail "“squares $bad” exited with $status, not 2"
  grep -q -- "--help" <<<"$err" || fail "“squares $bad” gave no hint: $err"
done
echo "PASS"
