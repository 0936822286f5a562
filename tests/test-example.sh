#!/usr/bin/env bash
# Runs an example and checks that it exits with 0 and prints a line.
# Usage: test-example.sh EXPECTED-LINE COMMAND [ARGUMENT...]
set -euo pipefail

expected="$1"
shift
out="$("$@")" || { echo "FAIL: “$*” exited with $?: $out" >&2; exit 1; }
echo "$out"
grep -qxF -- "$expected" <<<"$out" || { echo "FAIL: no line “$expected”" >&2; exit 1; }
