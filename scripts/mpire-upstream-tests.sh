#!/usr/bin/env bash
# Runs MPIRE's own test suite (tests/test_pool.py and the public parts of
# tests/test_utils.py and tests/test_async_result.py, from an MPIRE 2.10.2
# checkout) against mpire_glib,
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
#   test_async_result.py: all but test_get_timeout set or read MPIRE's
#     private state (_set, _ready_event, _success, _value, _timeout, the
#     patched job_counter) or test its internal classes
#     (UnorderedAsyncResultIterator, AsyncResultWithExceptionGetter,
#     UnorderedAsyncExitResultIterator, with mpire.comms' constants). Its
#     import line is cut to AsyncResult, the one public name it uses, so
#     that the module loads without those internals.
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
   "$mpire/tests/test_utils.py" "$mpire/tests/test_async_result.py" "$work/tests/"
sed -i 's/^from mpire\b/from mpire_glib/; s/^import mpire\b/import mpire_glib/' "$work"/tests/*.py
# test_async_result.py: import AsyncResult only (see above).
/usr/bin/python3 - "$work/tests/test_async_result.py" <<'PY'
import re, sys
path = sys.argv[1]
text = open(path).read()
text = re.sub(r'^from mpire_glib\.async_result import \([^)]*\)\n', 'from mpire_glib.async_result import AsyncResult\n', text, flags=re.M)
text = re.sub(r'^from mpire_glib\.comms import .*\n', '', text, flags=re.M)
open(path, 'w').write(text)
PY
cd "$work"
GI_TYPELIB_PATH="$build/mpire-glib" LD_LIBRARY_PATH="$build/mpire-glib" \
PYTHONPATH="$src/python" PYTHONDONTWRITEBYTECODE=1 \
  /usr/bin/python3 -m pytest -p no:cacheprovider -o faulthandler_timeout=120 -q \
    tests/test_pool.py tests/test_utils.py tests/test_async_result.py \
    --deselect tests/test_pool.py::ExceptionTest::test_defunct_processes_kill \
    --deselect tests/test_pool.py::CPUPinningTest \
    --deselect tests/test_utils.py::TimeItTest \
    --deselect tests/test_async_result.py::UnorderedAsyncResultIteratorTest \
    --deselect tests/test_async_result.py::AsyncResultWithExceptionGetterTest \
    --deselect tests/test_async_result.py::UnorderedAsyncExitResultIteratorTest \
    $(for t in init ready successful get_value get_error set_success set_exception \
               set_delete_from_cache callback_success callback_error; do
        echo --deselect "tests/test_async_result.py::AsyncResultTest::test_$t"; done)
