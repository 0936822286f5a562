#!/usr/bin/env bash
# Benchmarks mpire-glib against a sequential loop, multiprocessing.Pool,
# joblib and GNU parallel, in one run, and prints one table.
#
# Usage: bench/run.sh [--quick | --smoke] [--runs N] [--only tiny,cpu,...]
#                     [--tiny-tasks N] [--cpu-tasks N]
#
#   (none)    the full run: 1,000,000 tiny tasks, 200 CPU-bound tasks,
#             1,000,000 points, a 10,000,000-element map for memory,
#             median of 5 runs (3 for cold pools and GNU parallel); many minutes
#   --quick   the same rows, smaller sizes (100,000 tiny tasks, 20 CPU-bound
#             tasks ...), up to 3 runs (fewer once they took 0.25 s), one
#             retry of a disturbed measurement; about 45 s
#   --smoke   tiny sizes, one run, no GNU parallel: only checks the results
#   --only    workloads: tiny,cpu,numerical,stateful,init,overhead,restart,
#             startup,memory,remote (all by default)
#
# Installs what is missing (scripts/install-deps.sh, then python3-joblib,
# python3-numpy and parallel, with apt-get), builds a release build in _build/bench
# (MPIRE_BENCH_BUILDDIR overrides it), runs the C harness (mpire-bench)
# and the Python one (bench_python.py, with /usr/bin/python3 and the
# build's typelib), then format_table.py. The raw measurements stay in
# BUILDDIR/bench/results-MODE.jsonl and the table in table-MODE.txt.
# Exits non-zero if a build failed or a result was wrong.
#
# MPIRE itself runs too (tiny and CPU-bound Python rows) when MPIRE_SRC
# names a checkout of its source (github.com/sybrenjansen/mpire, 2.10.2);
# without it they are left out.
#
# Run nothing else on the machine meanwhile: the ratios are only as good
# as the machine is quiet (the table says how busy it was).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
src="${MPIRE_BENCH_SRC:-$(dirname "$here")}"
build="${MPIRE_BENCH_BUILDDIR:-$src/_build/bench}"
python=/usr/bin/python3      # the system Python: it has gi and joblib

mode=full
only=""
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) mode=quick; args+=("$1") ;;
    --smoke) mode=smoke; args+=("$1") ;;
    --runs|--only|--tiny-tasks|--cpu-tasks)
      [ $# -ge 2 ] || { echo "run.sh: $1 needs a value" >&2; exit 2; }
      [ "$1" != --only ] || only="$2"
      args+=("$1" "$2"); shift ;;
    -h|--help) sed -n '2,31p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

# ---- packages -------------------------------------------------------------
"$src/scripts/install-deps.sh" python3-joblib python3-numpy python3-tqdm python3-pygments parallel >&2

# ---- build ----------------------------------------------------------------
if [ ! -f "$build/build.ninja" ]; then
  meson setup "$build" "$src" --buildtype=release -Dintrospection=enabled \
    -Dtests=false -Dexamples=false >&2
fi
meson compile -C "$build" >&2

# ---- hosts for the remote workloads -----------------------------------------
# Two network namespaces of this machine, each with an sshd
# (tests/netns-sshd.sh), gone when the script ends; not root: the
# remote rows are skipped and the table says why.
remote_args=()
remote_skipped=""
if [[ -z "$only" || ",$only," == *,remote,* ]]; then
  . "$src/tests/netns-sshd.sh"
  if remote_skipped=$(netns_sshd_check); then
    hosts_dir=$(mktemp -d /tmp/mpire-bench-hosts.XXXXXX)
    trap 'netns_sshd_cleanup; rm -rf "$hosts_dir"' EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    netns_sshd_setup "$hosts_dir" 2 >&2 || { echo "run.sh: could not make the ssh hosts" >&2; exit 1; }
    for address in "${NETNS_ADDRESSES[@]}"; do
      remote_args+=(--ssh-launcher "$(printf '%q ' "${NETNS_SSH[@]}" "$address")")
    done
    # Their CPU time (sessions, workers) is the benchmark's, not others'.
    for pidfile in "$hosts_dir"/sshd_*.pid; do
      remote_args+=(--ours "$(cat "$pidfile")")
    done
  fi
fi

# ---- run ------------------------------------------------------------------
# How quiet the machine is: the CPU time all processes used during the run
# (/proc/stat) minus the CPU time of ours (bash's `times` for children),
# as a share of the CPUs. Other work on the machine makes ratios noisy.
cpu_busy_seconds() {   # user nice system irq softirq, of all CPUs
  awk -v hz="$(getconf CLK_TCK)" '/^cpu /{printf "%.2f\n", ($2+$3+$4+$7+$8)/hz; exit}' /proc/stat
}
children_cpu_seconds() {   # user + system of our finished children
  # (`times` in this shell, not in a $(...) subshell, which has no children)
  times > "$build/bench/.times"
  awk 'NR==2{ s=0; for(i=1;i<=2;i++){ split($i,a,/[ms]/); s+=a[1]*60+a[2] } printf "%.2f\n", s }' \
    "$build/bench/.times"
}

results="$build/bench/results-$mode.jsonl"
table="$build/bench/table-$mode.txt"
: > "$results"
busy0=$(cpu_busy_seconds)
children_cpu_seconds > "$build/bench/.ours0"
started=$(date +%s.%N)
status=0

echo "== C tasks: mpire-bench" >&2
"$build/bench/mpire-bench" "${args[@]}" ${remote_args[@]+"${remote_args[@]}"} >> "$results" \
  || status=1

echo "== Python tasks: bench_python.py" >&2
GI_TYPELIB_PATH="$build/mpire-glib${GI_TYPELIB_PATH:+:$GI_TYPELIB_PATH}" \
LD_LIBRARY_PATH="$build/mpire-glib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
PYTHONDONTWRITEBYTECODE=1 PYTHONPATH="$src/python${PYTHONPATH:+:$PYTHONPATH}" \
  "$python" "$here/bench_python.py" "${args[@]}" >> "$results" || status=1

elapsed=$(awk -v a="$started" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}')
children_cpu_seconds > "$build/bench/.ours1"
others=$(awk -v b0="$busy0" -v b1="$(cpu_busy_seconds)" \
             -v o0="$(cat "$build/bench/.ours0")" -v o1="$(cat "$build/bench/.ours1")" \
             -v t="$elapsed" -v n="$(nproc)" \
             'BEGIN{x=((b1-b0)-(o1-o0))/(t*n)*100; if (x<0) x=0; printf "%.0f", x}')
rm -f "$build/bench/.times" "$build/bench/.ours0" "$build/bench/.ours1"

{
  echo "mpire-glib benchmark ($mode): $(nproc) CPUs, $(uname -m), $(date -u '+%Y-%m-%d %H:%M UTC')," \
       "$(git -C "$src" describe --always --dirty 2>/dev/null || echo 'no git')"
  echo "measured in ${elapsed} s; other processes used ${others}% of the CPUs meanwhile" \
       "(more than a few % makes the ratios noisy: rerun on a quiet machine)"
  echo
} > "$table"
"$python" "$here/format_table.py" "$results" >> "$table" || status=1
if [ -n "$remote_skipped" ]; then
  printf '\n== remote workers over ssh (network namespaces): skipped: %s\n' "$remote_skipped" >> "$table"
fi
cat "$table"

exit $status
