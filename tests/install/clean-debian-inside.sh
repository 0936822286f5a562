#!/bin/bash
# The part of tests/install/clean-debian.sh that runs inside the fresh
# chroot, as root with an empty environment: installs git, clones, runs
# the README's two commands, installs, and checks the consumers. Each
# step's output is in /root/logs; the last lines say what passed.
# Usage (in the chroot): clean-debian-inside.sh REPO BRANCH
set -uo pipefail

repo="$1"
branch="$2"
logs=/root/logs
mkdir -p "$logs"
failed=()

step() {  # step NAME COMMAND...: runs it, logs it, times it
  local name="$1" start status
  shift
  echo "== $name: $*"
  start=$(date +%s)
  "$@" >"$logs/$name.log" 2>&1
  status=$?
  echo "== $name: exit $status in $(($(date +%s) - start)) s (log: $logs/$name.log)"
  [ $status -eq 0 ] || failed+=("$name")
  return $status
}

export DEBIAN_FRONTEND=noninteractive
step apt-git sh -c 'apt-get update && apt-get install -y --no-install-recommends git' || exit 1
step clone git clone --branch "$branch" "file://$repo" /root/mpire-glib || exit 1
cd /root/mpire-glib || exit 1
git log -1 --format='== commit %h %s'

# The README's two commands, as it gives them.
step demo bash scripts/demo.sh
tail -n 5 "$logs/demo.log"
if [ -z "${SKIP_TESTS:-}" ]; then
  step test nice -n 10 bash scripts/test.sh
  grep -E '^(Ok|Fail|Skipped|Timeout|Expected Fail|Unexpected Pass):' "$logs/test.log" |
    awk -F: '{ n[$1] += $2 } END {
      printf "== test.sh: %d passed, %d failed, %d skipped\n",
        n["Ok"] + n["Expected Fail"], n["Fail"] + n["Timeout"] + n["Unexpected Pass"], n["Skipped"] }'
  grep -E '^ *[0-9]+/[0-9]+ .* (FAIL|TIMEOUT|SKIP) ' "$logs/test.log"
fi

step install meson install -C _build/demo

# A consumer outside the tree, in a fresh shell with nothing set.
mkdir -p /root/consumer
cp tests/install/consumer.c tests/install/consumer.py tests/install/consumer_mpire_glib.py \
  tests/install/consumer.js /root/consumer/
cd /root/consumer || exit 1
clean() { env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root "$@"; }
# shellcheck disable=SC2016
step consumer-c clean sh -c \
  'cc -std=c11 -Wall -Werror -o consumer consumer.c $(pkg-config --cflags --libs mpire-glib-1.0) && ./consumer'
step consumer-python clean /usr/bin/python3 consumer.py
step consumer-mpire-glib clean /usr/bin/python3 consumer_mpire_glib.py
step consumer-gjs clean gjs -m consumer.js
# The installed library's German messages (an invalid n-jobs), from
# LANGUAGE alone: no LANG, and Python never calls setlocale().
cat >german.py <<'EOF'
import gi
gi.require_version('Mpire', '1.0')
from gi.repository import GLib, Mpire

task = Mpire.Task.new('square', lambda ctx, x: GLib.Variant('x', x.get_int64() ** 2))
try:
    Mpire.WorkerPool.new(-1, Mpire.StartMethod.THREADING).map(task, GLib.Variant('ax', [1]), None, None)
except GLib.Error as e:
    print(e.message)
    raise SystemExit(0 if e.message.startswith('Ein Pool braucht mindestens einen Worker') else 1)
raise SystemExit(1)
EOF
cat >german.js <<'EOF'
import GLib from 'gi://GLib';
import Mpire from 'gi://Mpire';
import System from 'system';

const task = Mpire.Task.new('square', (ctx, x) => new GLib.Variant('x', x.get_int64() ** 2));
try {
    Mpire.WorkerPool.new(-1, Mpire.StartMethod.THREADING).map(task, new GLib.Variant('ax', [1]), null, null);
    System.exit(1);
} catch (e) {
    print(e.message);
    System.exit(e.message.startsWith('Ein Pool braucht mindestens einen Worker') ? 0 : 1);
}
EOF
step german-python clean LANGUAGE=de /usr/bin/python3 german.py
step german-gjs clean LANGUAGE=de gjs -m german.js
# The API reference: installed, and gi-docgen has no warning on the
# installed GIR with the project's pages.
step docs-installed test -f /usr/local/share/doc/mpire-glib-1.0/index.html
step docs-warnings bash -c 'set -o pipefail
  gi-docgen generate --fatal-warnings --no-namespace-dir \
    --config=/root/mpire-glib/_build/demo/docs/mpire-glib.toml \
    --content-dir=/root/mpire-glib/docs --output-dir=/tmp/docs \
    /usr/local/share/gir-1.0/Mpire-1.0.gir 2>&1 | tee /tmp/docs.log &&
  ! grep -qi warn /tmp/docs.log && test -f /tmp/docs/index.html'

for log in consumer-c consumer-python consumer-mpire-glib consumer-gjs german-python german-gjs; do
  sed "s/^/   $log: /" "$logs/$log.log"
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "== FAILED: ${failed[*]}"
  exit 1
fi
echo "== all passed"
