#!/usr/bin/env bash
# Builds mpire-glib with warnings as errors and runs every test suite
# (unit, integration, bindings, gui), then builds it again under
# AddressSanitizer and UndefinedBehaviorSanitizer and runs the C suites.
# Meson's logs stay in _build/test and _build/asan.
set -uo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh || exit 1
status=0

rm -rf _build/test _build/asan

meson setup _build/test -Dwerror=true || exit 1
meson compile -C _build/test || exit 1
meson test -C _build/test --print-errorlogs || status=1

meson setup _build/asan -Dwerror=true -Db_sanitize=address,undefined -Db_lundef=false \
  -Dintrospection=disabled -Dexamples=false || exit 1
meson compile -C _build/asan || exit 1
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  meson test -C _build/asan --suite unit --suite integration --suite dashboard \
    --no-suite bindings --print-errorlogs || status=1

exit $status
