#!/usr/bin/env bash
# Runs one libFuzzer target for a while, as the fuzz test suite does.
# Usage: run-target.sh FUZZER NAME SOURCE-DIR WORK-DIR SECONDS [LIBFUZZER-ARG...]
# The target starts from SOURCE-DIR/corpus/NAME and the reproducers in
# SOURCE-DIR/crashes/NAME (each must pass); new inputs go to
# WORK-DIR/corpus/NAME, what fails to WORK-DIR/artifacts/NAME/. Exits
# non-zero on any crash, leak or timeout, with the reproducer's path.
set -uo pipefail

fuzzer=$1 name=$2 srcdir=$3 workdir=$4 seconds=$5
shift 5

corpus=$workdir/corpus/$name
artifacts=$workdir/artifacts/$name
mkdir -p "$corpus" "$artifacts"

dirs=("$corpus" "$srcdir/corpus/$name")
[ -d "$srcdir/crashes/$name" ] && dirs+=("$srcdir/crashes/$name")
dict=()
[ -f "$srcdir/dicts/$name.dict" ] && dict=("-dict=$srcdir/dicts/$name.dict")

export G_SLICE=always-malloc
export G_DEBUG=gc-friendly
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}

"$fuzzer" -max_total_time="$seconds" -timeout=25 -rss_limit_mb=2048 \
  -print_final_stats=1 -artifact_prefix="$artifacts/" "${dict[@]}" "$@" "${dirs[@]}"
status=$?
if [ $status -ne 0 ]; then
  echo "fuzz-$name failed (status $status); reproducer(s) in $artifacts:" >&2
  ls -l "$artifacts" >&2
fi
exit $status
