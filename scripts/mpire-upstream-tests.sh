#!/usr/bin/env bash
# Runs MPIRE's own test suite (tests/test_pool.py and the public parts of
# tests/test_utils.py, from an MPIRE 2.10.2 checkout) against mpire_glib,
# with only `mpire` changed to `mpire_glib` in the imports.
#
# Usage: scripts/mpire-upstream-tests.sh MPIRE-CHECKOUT [BUILDDIR]
#
# Skipped, and why (they use MPIRE's internals, not its API):
#   test_pool.py ExceptionTest::test_defunct_processes_kill: kills a worker
#     through pool._workers (MPIRE's process list); it hangs without it.
#   test_pool.py CPUPinningTest: patches mpire.pool.set_cpu_affinity.
#   test_utils.py TimeItTest: patches mpire.utils.time.time (it passes
#     with the patch target renamed to mpire_glib.utils.time.time).
#   test_async_result.py: tests MPIRE's AsyncResult internals (its cache,
#     comms constants, exit-result iterators), not the API.
#
# Needs python3-pytest, python3-numpy and python3-tqdm.
#
# SPDX-License-Identifier: MIT
set -euo pipefail
src="$(cd "$(dirname "$0")/.." && pwd)"
mpire="${1:?usage: $0 MPIRE-CHECKOUT [BUILDDIR]}"
build="$(cd "${2:-$src/_build}" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/tests"
cp "$mpire/tests/__init__.py" "$mpire/tests/utils.py" "$mpire/tests/test_pool.py" \
   "$mpire/tests/test_utils.py" "$work/tests/"
sed -i 's/^from mpire\b/from mpire_glib/; s/^import mpire\b/import mpire_glib/' "$work"/tests/*.py
cd "$work"
GI_TYPELIB_PATH="$build/mpire-glib" LD_LIBRARY_PATH="$build/mpire-glib" \
PYTHONPATH="$src/python" PYTHONDONTWRITEBYTECODE=1 \
  /usr/bin/python3 -m pytest -p no:cacheprovider -o faulthandler_timeout=120 -q \
    tests/test_pool.py tests/test_utils.py \
    --deselect tests/test_pool.py::ExceptionTest::test_defunct_processes_kill \
    --deselect tests/test_pool.py::CPUPinningTest \
    --deselect tests/test_utils.py::TimeItTest
