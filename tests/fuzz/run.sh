#!/usr/bin/env bash
# Builds the fuzz targets (clang, ASan + UBSan, libFuzzer) in _build/fuzz
# from scratch and runs each for SECONDS (default 600), one after the
# other, on its corpus. Reproducers of what fails are in
# _build/fuzz/tests/fuzz/runs/artifacts/TARGET/; new inputs in
# _build/fuzz/tests/fuzz/runs/corpus/TARGET/.
# Usage: tests/fuzz/run.sh [SECONDS [TARGET...]]
# Re-run a reproducer (full stacks): ASAN_OPTIONS=fast_unwind_on_malloc=0
#   G_SLICE=always-malloc _build/fuzz/tests/fuzz/fuzz-TARGET FILE
set -uo pipefail
cd "$(dirname "$0")/../.."

seconds=${1:-600}
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(frame message worker result-buffer arrays shared-ring insights)

scripts/install-deps.sh || exit 1
rm -rf _build/fuzz
CC=clang meson setup _build/fuzz -Dwerror=true -Dfuzzing=true -Dfuzz_seconds="$seconds" \
  -Db_sanitize=address,undefined -Db_lundef=false -Dintrospection=disabled \
  -Dexamples=false -Dtests=false -Ddocs=disabled || exit 1
nice -n 10 meson compile -C _build/fuzz || exit 1

status=0
for t in "${targets[@]}"; do
  echo "== fuzz-$t for $seconds s"
  nice -n 10 tests/fuzz/run-target.sh "_build/fuzz/tests/fuzz/fuzz-$t" "$t" tests/fuzz \
    _build/fuzz/tests/fuzz/runs "$seconds" 2>&1 | tee "_build/fuzz/fuzz-$t.log" |
    grep -E '^(INFO: Seed|#[0-9]+[[:space:]]+DONE|stat::|==[0-9]+==ERROR|SUMMARY|fuzz-)'
  [ "${PIPESTATUS[0]}" -eq 0 ] || status=1
done
exit $status
