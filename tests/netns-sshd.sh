# netns-sshd.sh: throw-away "hosts" for tests and benchmarks of workers
# launched over ssh, sourced by tests/test-netns-ssh.sh and bench/run.sh.
#
# netns_sshd_check                  prints why hosts cannot be made here
#                                   (not root, ip or sshd missing) and
#                                   returns 1, or returns 0
# netns_sshd_setup DIR N            makes N network namespaces, each
#                                   reached from this one over a veth pair
#                                   on an address of its own, each with an
#                                   sshd listening there; a host key and a
#                                   client key under DIR (an empty
#                                   directory of the caller's). Sets
#                                   NETNS_NAMES, NETNS_ADDRESSES,
#                                   NETNS_SSH (the ssh command's options
#                                   before the address, one per line)
# netns_sshd_cleanup                kills every process in the namespaces
#                                   and deletes them (their veth pairs go
#                                   with them); safe to call twice, and
#                                   after a setup that failed half-way
#
# Nothing outside DIR and the namespaces changes: no file in /etc/ssh or
# ~/.ssh is read or written (ssh -F /dev/null, sshd -f DIR/...), except
# /run/sshd, the empty directory Debian's sshd needs for privilege
# separation, made if missing (as the ssh service would) and left.
# The addresses are in 10.213.0.0/16, on links that only this machine's
# namespaces see: no packet leaves the machine.
#
# SPDX-License-Identifier: MIT

NETNS_NAMES=()
NETNS_ADDRESSES=()
NETNS_SSH=()
_netns_made=()

netns_sshd_check() {
  if [ "$(id -u)" -ne 0 ]; then
    echo "needs root (ip netns add, an sshd per namespace)"
    return 1
  fi
  if ! command -v ip > /dev/null; then
    echo "needs ip (Debian package iproute2)"
    return 1
  fi
  if [ ! -x /usr/sbin/sshd ] || ! command -v ssh > /dev/null || ! command -v ssh-keygen > /dev/null; then
    echo "needs sshd, ssh and ssh-keygen (Debian packages openssh-server, openssh-client)"
    return 1
  fi
  # A container may forbid namespaces even to root, and in a chroot
  # `ip netns exec` cannot remount / (not a mount point there).
  local probe="mpire-probe-$$" why
  if ! why=$(ip netns add "$probe" 2>&1); then
    echo "cannot create network namespaces here (ip netns add: $why)"
    return 1
  fi
  if ! why=$(ip netns exec "$probe" true 2>&1); then
    ip netns del "$probe"
    echo "cannot run programs in a network namespace here (ip netns exec: $why)"
    return 1
  fi
  ip netns del "$probe"
  return 0
}

netns_sshd_setup() {
  local dir="$1" n="$2" i tries
  # One /30 per namespace, in 10.213.B.0/24 for B from base on: base
  # from our pid, moved on past any subnet in use (runs at the same time).
  local base=$(( ($$ * n) % (250 - n) ))
  for tries in $(seq 250); do
    local used=0
    for i in $(seq 0 $((n - 1))); do
      ip -4 -o addr show | grep -q " 10\.213\.$((base + i))\." && used=1
    done
    [ $used -eq 0 ] && break
    base=$(( (base + n) % (250 - n) ))
  done

  ssh-keygen -q -t ed25519 -N '' -f "$dir/host_key" -C mpire-test-host || return 1
  ssh-keygen -q -t ed25519 -N '' -f "$dir/client_key" -C mpire-test-client || return 1
  cp "$dir/client_key.pub" "$dir/authorized_keys"
  mkdir -p /run/sshd

  for i in $(seq 1 "$n"); do
    local ns="mpire-$$-$i" outer="mpo$$-$i" inner="mpi$$-$i"
    local net="10.213.$(( base + i - 1 ))"

    ip netns add "$ns" || return 1
    _netns_made+=("$ns")
    ip link add "$outer" type veth peer name "$inner" || return 1
    ip link set "$inner" netns "$ns" || return 1
    ip addr add "$net.1/30" dev "$outer" || return 1
    ip link set "$outer" up || return 1
    ip -n "$ns" addr add "$net.2/30" dev "$inner" || return 1
    ip -n "$ns" link set "$inner" up || return 1
    ip -n "$ns" link set lo up || return 1

    # SetEnv SHLVL=1: the shell that runs a command for sshd (bash, for
    # root) reads ~/.bashrc only at shell level 1, and this machine's
    # root's may be slow, print or read standard input: a test host is a
    # fresh machine, whose shell runs the command and nothing else.
    cat > "$dir/sshd_config_$i" <<EOF
ListenAddress $net.2
Port 22
HostKey $dir/host_key
PidFile $dir/sshd_$i.pid
AuthorizedKeysFile $dir/authorized_keys
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PrintMotd no
PrintLastLog no
LogLevel ERROR
SetEnv SHLVL=1
EOF
    ip netns exec "$ns" /usr/sbin/sshd -f "$dir/sshd_config_$i" -E "$dir/sshd_$i.log" || return 1
    NETNS_NAMES+=("$ns")
    NETNS_ADDRESSES+=("$net.2")
  done

  NETNS_SSH=(ssh -F /dev/null -i "$dir/client_key" -o IdentitiesOnly=yes -o BatchMode=yes
             -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR
             -o ConnectTimeout=20 -l root)

  # Each sshd answers once it listens (bounded: 60 s on a busy machine).
  local address tries
  for address in "${NETNS_ADDRESSES[@]}"; do
    tries=0
    until "${NETNS_SSH[@]}" "$address" true < /dev/null; do
      tries=$((tries + 1))
      if [ "$tries" -ge 120 ]; then
        echo "netns-sshd: the sshd at $address does not answer" >&2
        cat "$dir"/sshd_*.log >&2 2> /dev/null
        return 1
      fi
      sleep 0.5
    done
  done
}

netns_sshd_cleanup() {
  local i ns pids tries
  for i in "${!_netns_made[@]}"; do
    ns="${_netns_made[$i]}"
    # Until none is left: a session may be forking as we kill.
    for tries in 1 2 3 4 5 6 7 8 9 10; do
      pids=$(ip netns pids "$ns" 2> /dev/null)
      [ -n "$pids" ] || break
      kill -9 $pids 2> /dev/null
      sleep 0.1
    done
    ip netns del "$ns" 2> /dev/null
  done
  _netns_made=()
  NETNS_NAMES=()
  NETNS_ADDRESSES=()
}
