#!/usr/bin/env bash
# Workers on other hosts through ssh, on this machine: two network
# namespaces, each with an sshd on an address of its own (a throw-away
# host key and client key in a temporary directory), then
# test-netns-ssh (the C test, which is also the worker program) with
# pools whose workers run there through `ssh ... ADDRESS` launchers.
# Everything goes when the script ends, however it ends: the namespaces,
# the daemons and their sessions, the temporary directory.
#
# Usage: test-netns-ssh.sh TEST-NETNS-SSH LIBDIR [GTEST-ARGS...]
# Exits 77 (skipped) when not root, or ip, sshd or namespaces are missing
# (or programs cannot run in one, as in a chroot).
#
# SPDX-License-Identifier: MIT
set -u

test_exe="$1"
libdir="$2"
shift 2

. "$(dirname "$0")/netns-sshd.sh"

if ! reason=$(netns_sshd_check); then
  echo "SKIP: $reason"
  exit 77
fi

dir=$(mktemp -d /tmp/mpire-netns-ssh.XXXXXX)
cleanup() {
  netns_sshd_cleanup
  rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

netns_sshd_setup "$dir" 2 || { echo "could not set up the hosts" >&2; exit 1; }
echo "hosts: ${NETNS_ADDRESSES[*]} (namespaces ${NETNS_NAMES[*]})"

MPIRE_TEST_SSH="$(printf '%q ' "${NETNS_SSH[@]}")" \
MPIRE_TEST_HOSTS="${NETNS_ADDRESSES[*]}" \
MPIRE_TEST_NETNS="${NETNS_NAMES[*]}" \
MPIRE_TEST_LIBDIR="$libdir" \
  "$test_exe" "$@"
status=$?
if [ $status -ne 0 ]; then
  echo "--- sshd logs" >&2
  cat "$dir"/sshd_*.log >&2 2> /dev/null
fi
exit $status
