#!/usr/bin/env bash
# The GTK 4 example (examples/gtk-hashes.c) on an Xvfb display: the
# window as first shown, with its empty state; then, in its automatic
# mode, one run to the end, whose list must hold every result, and one
# run cancelled part-way, after which no worker process may be left. The
# example prints the widgets on screen ("widget:" lines) and its status
# line: Start and Cancel must be in the header bar, the status in words.
# Each saves a screenshot of the window, kept as a test artifact in
# ARTIFACTS-DIR and checked to be a PNG of a drawn window.
# Usage: test-gtk-example.sh GTK-HASHES ARTIFACTS-DIR
set -euo pipefail

example="$1"
artifacts="$2"
if ! command -v xvfb-run >/dev/null; then
  echo "xvfb-run is not installed" >&2
  exit 77
fi
mkdir -p "$artifacts"
rm -f "$artifacts"/gtk-hashes-*.png

# Every process of a run carries this in its environment, the spawned
# workers included: after the run, none may be left.
run_id="mpire-gtk-test-$$-$RANDOM"

fail() { echo "FAIL: $*" >&2; exit 1; }

run_example() {
  # No accessibility bus and the software renderer: nothing but Xvfb is
  # needed. A critical warning fails the run. Generous timeout: the
  # machine may be busy.
  env LC_ALL=C GTK_A11Y=none GSK_RENDERER=cairo G_DEBUG=fatal-criticals \
    MPIRE_GTK_TEST_RUN="$run_id" MPIRE_GTK_HASHES_PRINT_TREE=1 \
    timeout 300 xvfb-run -a "$example" "$@"
}

# Only the lines that are not the widget tree, for the log.
summary() { grep -v "^widget: " <<<"$1" || true; }

# Whether the button labelled $1 is sensitive in the widget tree $2.
button_state() {
  if grep -q "^widget: .*/GtkButton \[$1\].* (insensitive)$" <<<"$2"; then
    echo insensitive
  else
    echo sensitive
  fi
}

# The actions are in the header bar, and nowhere else: Start as the
# suggested action. $2 and $3: whether Start and Cancel are sensitive.
check_header_bar() {
  local out="$1" start="$2" cancel="$3" label line
  grep -q "^widget: .*/AdwHeaderBar/.*/GtkButton \[_Start\].* \.suggested-action" <<<"$out" ||
    fail "no suggested-action Start button in the header bar"
  for label in _Start _Cancel; do
    line="$(grep "^widget: .*/GtkButton \[$label\]" <<<"$out")" || fail "no $label button on screen"
    [ "$(wc -l <<<"$line")" -eq 1 ] || fail "more than one $label button:"$'\n'"$line"
    [[ "$line" == */AdwHeaderBar/* ]] || fail "the $label button is not in the header bar: $line"
  done
  [ "$(button_state _Start "$out")" = "$start" ] || fail "Start should be $start"
  [ "$(button_state _Cancel "$out")" = "$cancel" ] || fail "Cancel should be $cancel"
  ! grep -q "^widget: .*/AdwToastWidget" <<<"$out" || fail "an error toast is on screen"
  echo "header bar: Start ($2, suggested action) and Cancel ($3)"
}

# After a run: the list of results instead of the empty state.
check_results_shown() {
  grep -q "^widget: .*/GtkListView" <<<"$1" || fail "the list of results is not on screen"
  ! grep -q "^widget: .*/AdwStatusPage " <<<"$1" || fail "the empty state is still on screen"
}

left_behind() {
  local f pids=""
  for f in /proc/[0-9]*/environ; do
    if grep -qzx "MPIRE_GTK_TEST_RUN=$run_id" "$f" 2>/dev/null; then
      pids="$pids ${f//[^0-9]/}"
    fi
  done
  echo "$pids"
}

assert_nothing_left() {
  local pids
  for _ in $(seq 1 50); do
    pids="$(left_behind)"
    [ -z "$pids" ] && return 0
    sleep 0.1
  done
  ps -o pid,ppid,stat,args -p ${pids// /,} >&2 || true
  fail "processes of the example left behind after $1:$pids"
}

check_png() {
  local file="$1" magic width height
  [ -s "$file" ] || fail "no screenshot at $file"
  magic="$(head -c 8 "$file" | od -An -tx1 | tr -d ' \n')"
  [ "$magic" = "89504e470d0a1a0a" ] || fail "$file is not a PNG (starts with $magic)"
  # The IHDR chunk comes first: width and height, big-endian, at 16 and 20.
  width=$((16#$(od -An -tx1 -j16 -N4 "$file" | tr -d ' \n')))
  height=$((16#$(od -An -tx1 -j20 -N4 "$file" | tr -d ' \n')))
  [ "$width" -ge 200 ] && [ "$height" -ge 200 ] || fail "$file is only ${width}x${height}"
  [ "$(stat -c %s "$file")" -ge 2000 ] || fail "$file is too small to show a window"
  echo "screenshot $file: ${width}x${height}, $(stat -c %s "$file") bytes"
}

echo "# the window before the first run"
out="$(run_example --screenshot "$artifacts/gtk-hashes-empty.png")" ||
  fail "the example exited with $? showing its window: $out"
summary "$out"
check_header_bar "$out" sensitive insensitive
grep -q '^widget: .*/AdwStatusPage "No Hashes Yet"' <<<"$out" || fail "no empty state"
! grep -q "^widget: .*/GtkListView" <<<"$out" || fail "an empty list instead of the empty state"
grep -qx "status: " <<<"$out" || fail "a status line before any run"
check_png "$artifacts/gtk-hashes-empty.png"
assert_nothing_left "showing the window"

echo "# a run to the end"
out="$(run_example --auto-run --tasks 1000 --screenshot "$artifacts/gtk-hashes-run.png")" ||
  fail "the example exited with $? on a full run: $(summary "$out")"
summary "$out"
grep -q "^complete: 1000 of 1000 results, no error" <<<"$out" || fail "the list is not complete"
grep -Eqx "status: Done: 1,000 hashes in [0-9]+\.[0-9] s" <<<"$out" || fail "not the status of a full run"
check_header_bar "$out" sensitive insensitive
check_results_shown "$out"
check_png "$artifacts/gtk-hashes-run.png"
assert_nothing_left "a full run"

echo "# a run cancelled after 1.5 s"
out="$(run_example --auto-run --tasks 3000 --auto-cancel-after 1.5 \
  --screenshot "$artifacts/gtk-hashes-cancel.png")" ||
  fail "the example exited with $? on a cancelled run: $(summary "$out")"
summary "$out"
grep -q "^complete: .* of 3000 results, Operation was cancelled" <<<"$out" ||
  fail "the run was not cancelled"
grep -Eqx "status: Cancelled after [0-9,]+ of 3,000 hashes" <<<"$out" ||
  fail "not the status of a cancelled run"
check_header_bar "$out" sensitive insensitive
check_results_shown "$out"
grep -q "^children left: 0 " <<<"$out" || fail "worker processes outlived the cancel"
stopped_ms="$(sed -n 's/^cancel stopped the call in \([0-9]*\) ms$/\1/p' <<<"$out")"
[ -n "$stopped_ms" ] && [ "$stopped_ms" -lt 10000 ] ||
  fail "the cancel took ${stopped_ms:-?} ms to stop the call"
check_png "$artifacts/gtk-hashes-cancel.png"
assert_nothing_left "a cancelled run"
echo "ok"
