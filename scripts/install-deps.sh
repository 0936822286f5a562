#!/usr/bin/env bash
# Installs the Debian 12 packages mpire-glib needs to build, test and run
# its demo, and those named as arguments, if any is missing. Needs root
# (or sudo).
# Usage: scripts/install-deps.sh [EXTRA-PACKAGE...]
set -euo pipefail

packages=(
  gcc libc6-dev clang libclang-rt-14-dev meson ninja-build pkg-config gettext gi-docgen
  libglib2.0-dev libgirepository1.0-dev gobject-introspection
  libsoup-3.0-dev libjson-glib-dev
  python3 python3-gi gjs tmux
  python3-tqdm python3-dill python3-numpy
  libgtk-4-dev libadwaita-1-dev xvfb xauth
  chromium
  openssh-server openssh-client iproute2
  slurmctld slurmd slurm-client munge
  "$@"
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  sudo="sudo"
fi

echo "Installing: ${missing[*]}"
$sudo apt-get update
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends \
  -o DPkg::Lock::Timeout=120 "${missing[@]}"
