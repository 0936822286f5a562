#!/usr/bin/env bash
# shellcheck disable=SC2317 # cleanup() and its helpers run from a trap
# setup-and-run.sh: a one-node Slurm cluster on this machine, for as long
# as a command runs, then gone.
#
# Usage: tests/slurm/setup-and-run.sh COMMAND [ARG...]
#
# As root: makes a temporary directory with its own munge key, munged
# socket, slurm.conf (this host as the only node, with its real CPUs and
# memory; no cgroups: proctrack/linuxproc, task/none), state, spool and
# log directories and two free ports; starts munged, slurmctld and slurmd
# on them, waits until the node is idle, then runs COMMAND with SLURM_CONF
# pointing at that slurm.conf (srun, salloc and sinfo use it). On every
# way out it cancels the jobs, stops the daemons, checks that no process
# of the cluster is left and removes the directory. Nothing under
# /etc/slurm or /etc/munge is read or written.
#
# The exit status is COMMAND's; 77 (skipped, for meson) when not root or
# when slurmctld, slurmd, srun or munged is missing, or Slurm does not
# come up on this machine (Debian: slurmctld
# slurmd slurm-client munge, which scripts/install-deps.sh installs).
#
# SPDX-License-Identifier: MIT

set -euo pipefail

skip () {
  echo "SKIP: $*" >&2
  exit 77
}

[ $# -ge 1 ] || { echo "usage: $0 COMMAND [ARG...]" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || skip "the Slurm test runs slurmctld, slurmd and munged: it needs root"
for program in slurmctld slurmd slurmstepd srun salloc sinfo squeue scancel munged mungekey; do
  command -v "$program" > /dev/null ||
    skip "$program is missing (Debian packages slurmctld slurmd slurm-client munge)"
done

say () {
  echo "# slurm: $*" >&2
}

started=$(date +%s%N)
elapsed () {
  local ms=$(( ($(date +%s%N) - started) / 1000000 ))
  printf '%d.%03d' $((ms / 1000)) $((ms % 1000))
}

tmp=$(mktemp -d /tmp/mpire-slurm.XXXXXX)
pids=()
command_pid=

# Every process of this cluster: the daemons, slurmstepd and the jobs'
# tasks all inherit SLURM_CONF (or name the directory on their command
# line).
cluster_processes () {
  local environ pid
  for environ in /proc/[0-9]*/environ; do
    pid=${environ#/proc/}
    pid=${pid%/environ}
    [ "$pid" != $$ ] || continue
    if grep -qsF "SLURM_CONF=$tmp/slurm.conf" "$environ" ||
       grep -qsF "$tmp" "/proc/$pid/cmdline"; then
      echo "$pid"
    fi
  done
}

# Whether child PID still runs (an ended one is a zombie until waited for).
running () {
  local state
  state=$(ps -o stat= -p "$1" 2> /dev/null) && [ "${state:0:1}" != Z ]
}

# stop PID [GROUP]: SIGTERM to PID (to its process group with GROUP), and
# SIGKILL if it still runs 20 s later.
stop () {
  local target=$1
  [ $# -lt 2 ] || target=-$1
  kill -TERM -- "$target" 2> /dev/null
  for _ in $(seq 1 100); do
    running "$1" || break
    sleep 0.2
  done
  kill -KILL -- "$target" 2> /dev/null
  wait "$1" 2> /dev/null
}

cleanup () {
  local status=$? left pid i
  trap - EXIT INT TERM HUP
  set +e
  # Stopped by a signal: the command and what it started go first (salloc
  # ignores SIGTERM, but not its allocation's end).
  [ -z "$command_pid" ] || kill -TERM -- "-$command_pid" 2> /dev/null
  if [ ${#pids[@]} -gt 0 ]; then
    # Jobs next, while slurmctld and slurmd can still end them.
    scancel --full --quiet --user=root > /dev/null 2>&1
    for _ in $(seq 1 100); do
      [ -z "$(squeue --noheader 2> /dev/null)" ] && break
      sleep 0.2
    done
  fi
  [ -z "$command_pid" ] || stop "$command_pid" group
  # slurmd, slurmctld, munged: in the reverse order of their start.
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    stop "${pids[i]}"
  done
  left=$(cluster_processes)
  if [ -n "$left" ]; then
    echo "FAIL: processes of the test cluster still running after it stopped:" >&2
    for pid in $left; do
      echo "  $pid $(tr '\0' ' ' < "/proc/$pid/cmdline" 2> /dev/null)" >&2
    done
    # shellcheck disable=SC2086
    kill -KILL $left 2> /dev/null
    [ "$status" -ne 0 ] || status=1
  fi
  if [ "$status" -ne 0 ] && [ "$status" -ne 77 ] && [ -d "$tmp/log" ]; then
    for log in "$tmp"/log/*.log; do
      echo "--- last lines of $(basename "$log")" >&2
      tail -n 25 "$log" >&2
    done
  fi
  rm -rf "$tmp"
  say "stopped after $(elapsed) s in all, status $status"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

mkdir -p "$tmp"/{munge,state,spool,log,run}
chmod 700 "$tmp"/munge

# Two free TCP ports for slurmctld and slurmd.
read -r ctld_port slurmd_port < <(
  /usr/bin/python3 -c '
import socket
socks = [socket.socket() for _ in range(2)]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(*(s.getsockname()[1] for s in socks))')

mungekey --create --keyfile="$tmp/munge/munge.key" --force
setsid munged --foreground --force \
  --key-file="$tmp/munge/munge.key" \
  --socket="$tmp/munge/munge.socket" \
  --pid-file="$tmp/run/munged.pid" \
  --seed-file="$tmp/munge/munged.seed" \
  --log-file="$tmp/log/munged.log" > "$tmp/log/munged.out" 2>&1 &
pids+=($!)

# slurmd -C: this host as Slurm sees it ("NodeName=vm CPUs=2 ... RealMemory=24105").
node=$(hostname -s)
node_line=$(slurmd -C | head -n 1)
node_line="NodeName=$node ${node_line#* }"

cat > "$tmp/slurm.conf" << EOF
ClusterName=mpiretest
SlurmctldHost=$node(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$tmp/munge/munge.socket
StateSaveLocation=$tmp/state
SlurmdSpoolDir=$tmp/spool
SlurmctldPidFile=$tmp/run/slurmctld.pid
SlurmdPidFile=$tmp/run/slurmd.pid
SlurmctldLogFile=$tmp/log/slurmctld.log
SlurmdLogFile=$tmp/log/slurmd.log
PlugStackConfig=$tmp/plugstack.conf
MailProg=/bin/true
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SwitchType=switch/none
MpiDefault=none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
KillWait=5
$node_line NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=test Nodes=$node Default=YES MaxTime=INFINITE State=UP
EOF
: > "$tmp/plugstack.conf"
export SLURM_CONF="$tmp/slurm.conf"

setsid slurmctld -D -c -f "$SLURM_CONF" > "$tmp/log/slurmctld.out" 2>&1 &
pids+=($!)
setsid slurmd -D -f "$SLURM_CONF" -N "$node" > "$tmp/log/slurmd.out" 2>&1 &
pids+=($!)

# Until the node is idle (a slow machine may take a while). Slurm that
# cannot run on this machine (a container without what slurmd needs, a
# daemon that exits) is a skip, with the daemons' logs: no mpire-glib
# code runs before the node is idle.
daemons_failed () {
  tail -n 20 "$tmp"/log/*.log "$tmp"/log/*.out >&2 2> /dev/null || true
  skip "Slurm does not run on this machine: $*"
}
for _ in $(seq 1 600); do
  state=$(sinfo --noheader --nodes="$node" --format=%t 2> /dev/null || true)
  [ "$state" = idle ] && break
  for pid in "${pids[@]}"; do
    kill -0 "$pid" 2> /dev/null || daemons_failed "a daemon exited (pid $pid)"
  done
  sleep 0.2
done
[ "$state" = idle ] || daemons_failed "node $node not idle after 120 s (state '$state')"
say "node $node idle after $(elapsed) s: $node_line"

# In a session of its own, so that cleanup() can end all of it; waited
# for with `wait`, which a signal interrupts (bash runs a trap only once
# its foreground command is done).
setsid "$@" &
command_pid=$!
status=0
wait "$command_pid" || status=$?
command_pid=
exit "$status"
