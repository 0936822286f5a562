#!/usr/bin/env bash
# The terminal progress bar as a user sees it: the demo runs in a tmux
# pane, whose screen is then read; with standard error not a terminal, it
# writes plain lines, with no control character.
# Usage: test-progress-bar-tty.sh DEMO-PROGRAM
set -euo pipefail

demo="$1"
if ! command -v tmux >/dev/null; then
  echo "tmux is not installed" >&2
  exit 77
fi

socket="mpire-test-$$"
out="$(mktemp -d)"
trap 'tmux -L "$socket" kill-server 2>/dev/null || true; rm -rf "$out"' EXIT

tmux -L "$socket" new-session -d -s bar -x 120 -y 30 \
  "LANG=C.UTF-8 '$demo' 600 fork; echo EXIT=\$?; sleep 60"
screen=""
for _ in $(seq 1 600); do
  screen="$(tmux -L "$socket" capture-pane -p -t bar)"
  grep -q "^EXIT=" <<<"$screen" && break
  sleep 0.1
done
echo "$screen"

fail() { echo "FAIL: $*" >&2; exit 1; }
grep -q "^EXIT=0$" <<<"$screen" || fail "the demo did not exit with 0"
bars="$(grep -c "Squaring:" <<<"$screen" || true)"
[ "$bars" -eq 1 ] || fail "expected one bar line, found $bars (the bar must redraw in place)"
bar="$(grep "Squaring:" <<<"$screen")"
grep -q "100%|" <<<"$bar" || fail "the bar did not end at 100%: $bar"
grep -q "| 600/600 \[" <<<"$bar" || fail "the bar does not count 600/600: $bar"
grep -q "numbers/s\]" <<<"$bar" || fail "the bar shows no rate: $bar"
grep -q "^Done: 600 results" <<<"$screen" || fail "the demo printed no result line"
# Nothing but the demo's lines: title, bar, six results, done, exit.
lines="$(grep -c . <<<"$screen")"
[ "$lines" -eq 10 ] || fail "expected 10 lines on screen, found $lines"

# Standard error to a file: plain lines of progress, the last at 100%,
# with no carriage return or escape.
"$demo" 200 fork >"$out/stdout" 2>"$out/stderr"
if LC_ALL=C grep -q $'[\r\033]' "$out/stderr" "$out/stdout"; then
  fail "control characters written when standard error is not a terminal"
fi
grep -q "^Done: 200 results" "$out/stdout" || fail "no result line without a terminal"
tail -n 1 "$out/stderr" | grep -q "^Squaring: 100%|.*| 200/200 \[" ||
  fail "no final progress line in the log: $(cat "$out/stderr")"
echo "ok"
