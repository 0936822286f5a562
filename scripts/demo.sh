#!/usr/bin/env bash
# Builds mpire-glib and runs its demo: a pool of worker processes squares
# numbers while a progress bar advances (on a terminal).
# Usage: scripts/demo.sh [N_TASKS] [spawn|fork|threading|forkserver] [std|rich]
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
[ -d _build/demo ] || meson setup _build/demo --buildtype=release -Dtests=false
meson compile -C _build/demo
exec _build/demo/examples/squares "${1:-2000}" "${2:-spawn}" "${3:-std}"
