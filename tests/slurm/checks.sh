#!/usr/bin/env bash
# checks.sh: the Slurm checks, run by setup-and-run.sh once the cluster is
# up: each program in an allocation of one node and two tasks, where it
# starts its two workers with srun.
#
# Usage: checks.sh TEST-SLURM [PYTHON TEST_SLURM.PY]
#
# SPDX-License-Identifier: MIT

set -euo pipefail

# run_in_allocation LABEL COMMAND [ARG...]
run_in_allocation () {
  local label=$1 start status=0
  shift
  start=$(date +%s%N)
  salloc --nodes=1 --ntasks=2 --quiet "$@" || status=$?
  echo "# slurm: $label in an allocation: $(( ($(date +%s%N) - start) / 1000000 )) ms," \
       "status $status" >&2
  return $status
}

status=0
run_in_allocation "$(basename "$1")" "$1" --tap || status=1
if [ $# -ge 3 ]; then
  run_in_allocation "$(basename "$3")" "$2" "$3" || status=1
fi
exit $status
