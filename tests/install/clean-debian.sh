#!/usr/bin/env bash
# The "clean Debian 12" check of issue 13, by hand: a manual, slow check
# (about 15 minutes on 2 busy CPUs, 3 GB in ROOT), not part of
# `meson test`. Needs root, debootstrap and a Debian mirror.
#
# It makes a bookworm chroot with debootstrap (minbase), installs git in
# it and nothing else, clones REPO's BRANCH into /root/mpire-glib (SHARED,
# the project's shared notes, is copied beside it as /root/shared),
# and as root there runs what the README says a new user runs:
#   bash scripts/demo.sh; bash scripts/test.sh
# then `meson install -C _build/demo` to the default prefix (/usr/local),
# and, outside the tree in a shell with no environment but PATH and HOME
# (`env -i`): builds a C program with `pkg-config --cflags --libs
# mpire-glib-1.0`, runs a Python script (`gi.repository.Mpire` and
# `mpire_glib`) and a GJS script (tests/install/consumer*), checks that
# LANGUAGE=de alone (no LANG: the C locale) gives the installed library's
# German error message in Python and GJS, and that the API reference is
# installed and gi-docgen has no warning on the installed GIR. The last
# lines of its output say what passed.
#
# Usage: tests/install/clean-debian.sh [REPO [BRANCH [ROOT]]]
#   REPO    a git repository to clone (default: this one's main work
#           tree, also from another work tree of it)
#   BRANCH  its branch (default: main)
#   ROOT    the chroot (default: /var/tmp/cleandeb); must not exist, and
#           stays afterwards (logs in ROOT/root/logs) for a look; remove
#           it with `rm -rf --one-file-system ROOT`.
# Environment: MIRROR (default http://deb.debian.org/debian),
#   SHARED (a directory copied to /root/shared, default REPO/../shared
#   when there is one), SKIP_TESTS=1 skips test.sh.
# Everything mounted in ROOT is unmounted on exit, also on failure or ^C.
set -euo pipefail

here="$(cd "$(dirname "$0")/../.." && pwd)"
repo="${1:-$(dirname "$(git -C "$here" rev-parse --path-format=absolute --git-common-dir)")}"
repo="$(cd "$repo" && pwd)"
branch="${2:-main}"
root="${3:-/var/tmp/cleandeb}"
mirror="${MIRROR:-http://deb.debian.org/debian}"
shared="${SHARED:-$repo/../shared}"

[ "$(id -u)" -eq 0 ] || { echo "clean-debian.sh: needs root" >&2; exit 77; }
command -v debootstrap >/dev/null ||
  { echo "clean-debian.sh: needs debootstrap (apt-get install debootstrap)" >&2; exit 77; }
[ ! -e "$root" ] || { echo "clean-debian.sh: $root exists; remove it first" >&2; exit 1; }

mounted=()
cleanup() {
  local i target
  # What the tests mounted inside (ip netns add: ROOT/run/netns), first.
  findmnt -rn -o TARGET | grep "^$root/" | sort -r | while read -r target; do
    case " ${mounted[*]} " in *" $target "*) ;; *) umount -l "$target" || true ;; esac
  done
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
    umount "${mounted[i]}" 2>/dev/null || umount -l "${mounted[i]}" || true
  done
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mnt() {  # mnt TARGET MOUNT-ARGS...
  mkdir -p "$1"
  mount "${@:2}" "$1"
  mounted+=("$1")
}

debootstrap --variant=minbase bookworm "$root" "$mirror"
cat >"$root/etc/apt/sources.list" <<EOF
deb $mirror bookworm main
deb $mirror bookworm-updates main
deb ${mirror%/debian}/debian-security bookworm-security main
EOF

mnt "$root/proc" -t proc proc
mnt "$root/sys" -t sysfs sysfs
mnt "$root/dev" --bind /dev
mnt "$root/dev/pts" --bind /dev/pts
mnt "$root/dev/shm" -t tmpfs -o mode=1777 shm
mnt "$root/tmp" -t tmpfs -o mode=1777 tmp
mnt "$root/mnt/repo" --bind -o ro "$repo"
if [ -d "$shared" ]; then
  cp -r "$shared" "$root/root/shared"
fi
install -m 755 "$here/tests/install/clean-debian-inside.sh" "$root/root/clean-debian-inside.sh"

# A login as root on the new machine: nothing but PATH, HOME and TERM.
chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
  TERM="${TERM:-dumb}" SKIP_TESTS="${SKIP_TESTS:-}" \
  /bin/bash /root/clean-debian-inside.sh /mnt/repo "$branch"
