#!/usr/bin/env bash
# What `meson install` gives a consumer: installs the build into a
# temporary DESTDIR, then builds and runs a C program outside the tree with
# only what pkg-config says, and runs a Python and a GJS script against the
# installed typelib.
# Usage: test-install.sh BUILD-DIR SOURCE-DIR
set -euo pipefail

build="$1"
src="$2"
dest="$(mktemp -d)"
trap 'rm -rf "$dest"' EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }

meson install -C "$build" --destdir "$dest" --no-rebuild --quiet ||
  fail "meson install failed"

# The build's value of the meson option $1.
option() {
  meson introspect "$build" --buildoptions |
    python3 -c 'import json, sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"] == sys.argv[1]))' "$1"
}
# The installation directory option $1 as an absolute path.
install_dir() {
  local dir
  dir="$(option "$1")"
  case "$dir" in /*) echo "$dir" ;; *) echo "$prefix/$dir" ;; esac
}
prefix="$(option prefix)"
libdir="$(install_dir libdir)"
datadir="$(install_dir datadir)"
root="$dest$libdir"

for header in mpire.h mpire-version.h mpire-enum-types.h mpire-worker-pool.h mpire-dashboard.h; do
  [ -f "$dest$prefix/include/mpire-glib-1.0/mpire-glib/$header" ] || fail "$header is not installed"
done
[ -f "$root/pkgconfig/mpire-glib-1.0.pc" ] || fail "the pkg-config file is not installed"
if [ -d "$build/docs/mpire-glib-1.0" ]; then
  [ -f "$dest$datadir/doc/mpire-glib-1.0/index.html" ] || fail "the API reference is not installed"
fi

# C: only pkg-config's flags, from the installed file with its prefix
# moved into DESTDIR (the packages it requires keep theirs).
mkdir "$dest/pkgconfig"
sed "s|^prefix=.*|prefix=$dest$prefix|" "$root/pkgconfig/mpire-glib-1.0.pc" \
  >"$dest/pkgconfig/mpire-glib-1.0.pc"
export PKG_CONFIG_PATH="$dest/pkgconfig"
flags="$(pkg-config --cflags --libs mpire-glib-1.0)" || fail "pkg-config does not know mpire-glib-1.0"
# shellcheck disable=SC2086
cc -std=c11 -Wall -Werror -o "$dest/consumer" "$src/tests/install/consumer.c" $flags \
  -Wl,-rpath,"$root" || fail "the C consumer does not build"
out="$("$dest/consumer")" || fail "the C consumer failed: $out"
echo "$out"
[ "$(grep -c ": 1 4 9 16$" <<<"$out")" -eq 3 ] || fail "the C consumer printed $out"

# Python and GJS: the installed typelib and library.
# The typelib may be in GObject-Introspection's own directory (another prefix).
typelib="$(find "$dest" -name Mpire-1.0.typelib | head -n 1)"
[ -n "$typelib" ] || fail "the typelib is not installed"
export GI_TYPELIB_PATH="$(dirname "$typelib")"
export LD_LIBRARY_PATH="$root"
bindir="$(install_dir bindir)"
"$dest$bindir/mpire-dashboard" --version | grep -q "^mpire-dashboard " ||
  fail "mpire-dashboard is not installed or does not run"
if [ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import gi' 2>/dev/null; then
  /usr/bin/python3 "$src/tests/install/consumer.py" || fail "the Python consumer failed"
  # The mpire_glib package and the Mpire overrides, where meson put them.
  pkg="$(find "$dest" -type d -name mpire_glib -path '*-packages/*' | head -n 1)"
  [ -n "$pkg" ] || fail "the mpire_glib package is not installed"
  [ -f "$(dirname "$pkg")/gi/overrides/Mpire.py" ] || fail "the Mpire overrides are not installed"
  PYTHONPATH="$(dirname "$pkg")" PYTHONDONTWRITEBYTECODE=1 \
    /usr/bin/python3 "$src/tests/install/consumer_mpire_glib.py" ||
    fail "the mpire_glib consumer failed"
fi
if command -v gjs >/dev/null; then
  gjs -m "$src/tests/install/consumer.js" || fail "the GJS consumer failed"
  [ -f "$dest$datadir/gjs-1.0/overrides/Mpire.js" ] || fail "the GJS overrides are not installed"
  GJS_PATH="$dest$datadir/gjs-1.0" gjs -m "$src/tests/install/consumer_plain.js" ||
    fail "the GJS consumer with plain arrays failed"
fi
echo "PASS"
