#!/usr/bin/env bash
# Builds mpire-glib with warnings as errors and runs every test suite
# (unit, integration, bindings, gui), then builds it again under
# AddressSanitizer and UndefinedBehaviorSanitizer and runs the C suites,
# then builds the libFuzzer targets (clang) and runs each for
# MPIRE_FUZZ_SECONDS (15) on its corpus (tests/fuzz/run.sh runs them
# longer). Meson's logs stay in _build/test, _build/asan and _build/fuzz.
set -uo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh || exit 1
status=0

rm -rf _build/test _build/asan _build/fuzz

meson setup _build/test -Dwerror=true || exit 1
meson compile -C _build/test || exit 1
meson test -C _build/test --print-errorlogs || status=1

meson setup _build/asan -Dwerror=true -Db_sanitize=address,undefined -Db_lundef=false \
  -Dintrospection=disabled -Dexamples=false || exit 1
meson compile -C _build/asan || exit 1
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  meson test -C _build/asan --suite unit --suite integration --suite dashboard \
    --no-suite bindings --print-errorlogs || status=1

CC=clang meson setup _build/fuzz -Dwerror=true -Dfuzzing=true \
  -Dfuzz_seconds="${MPIRE_FUZZ_SECONDS:-15}" -Db_sanitize=address,undefined -Db_lundef=false \
  -Dintrospection=disabled -Dexamples=false -Dtests=false -Ddocs=disabled || exit 1
meson compile -C _build/fuzz || exit 1
meson test -C _build/fuzz --suite fuzz --print-errorlogs || status=1

exit $status
