#!/bin/sh
# Run by `meson install`: refreshes the dynamic linker's cache, so that
# programs find the library installed under a prefix such as /usr/local
# at once. Nothing to do for a staged install (DESTDIR) or without root.
set -e
if [ -z "${DESTDIR:-}" ] && [ "$(id -u)" -eq 0 ] && command -v ldconfig >/dev/null; then
  ldconfig
fi
