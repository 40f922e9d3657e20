#!/usr/bin/env bash
# Test hosts on one machine: Linux network namespaces joined by a bridge, and an
# ssh-like launcher agent so that mpirun starts its daemons "on" them. For the
# multi-host tests (tests/e2e/multihost/) and for trying multi-node runs by hand.
#
#   hosts.sh up N                   # switch/head "hsw" + hosts h1..hN (needs root)
#   hosts.sh head jobs/multinode.sh --hostfile HF --net 10.77.0.0/24 --no-bind cfg.yaml
#   hosts.sh mpirun -np 2 --host h1,h2 build/dtrain train cfg.yaml   # plain, TCP only
#   hosts.sh exec h2 ip addr        # a command inside host h2 (hostname h2)
#   hosts.sh link h2 down|up        # pull/plug h2's cable (its port on the switch)
#   hosts.sh bytes h2               # "RX TX" bytes of h2's interface
#   hosts.sh pids h2 [NAME]         # process ids in h2 (optionally only NAME)
#   hosts.sh down                   # kill everything inside, remove all of it
#
# Topology: namespace <P>-hsw holds bridge br0 (SUBNET.254/24), where mpirun runs;
# host K is namespace <P>-hK with one veth end mpi0 (SUBNET.K/24, fixed MAC
# 02:d7:<id>:00:K:01), the other end pK in <P>-hsw on br0. Nothing is created in
# the root namespace: both veth ends are made directly inside their namespaces.
# Names h1..hN and hsw resolve inside the namespaces only, from
# /etc/netns/<ns>/hosts (bind-mounted over /etc/hosts by `ip netns exec`). Every
# namespace gets the fail-fast TCP settings of docs/multinode.md (net.ipv4.
# tcp_retries2, tcp_syn_retries), as an administrator would set them on nodes.
#
# `head` runs a command in <P>-hsw with OMPI_MCA_plm_rsh_agent="hosts.sh agent", so
# any mpirun inside starts its daemons through the agent: `hosts.sh agent HOST
# CMD...` runs CMD (a remote-shell command line, as ssh would get it) inside
# HOST's namespace under its own hostname (a UTS namespace: Open MPI keys its
# session directory on the hostname). The agent is local, so the ranks inherit
# this environment, unlike over ssh.
#
# Environment: DTRAIN_MH_PREFIX (namespace prefix, default dtmh): machine-wide
# names, so runs in parallel need different prefixes. DTRAIN_MH_SUBNET (first
# three octets, default 10.77.0; private to the namespaces). DTRAIN_MH_TCP_RETRIES2
# (default 5) and DTRAIN_MH_TCP_SYN_RETRIES (default 2); "kernel" keeps the
# kernel's values (15 and 6).
set -euo pipefail

self=$(readlink -f "${BASH_SOURCE[0]}")
prefix=${DTRAIN_MH_PREFIX:-dtmh}
subnet=${DTRAIN_MH_SUBNET:-10.77.0}
retries2=${DTRAIN_MH_TCP_RETRIES2:-5}
syn_retries=${DTRAIN_MH_TCP_SYN_RETRIES:-2}
sw=$prefix-hsw

die() { echo "hosts.sh: error: $*" >&2; exit 2; }
ns_of() {
  case $1 in
    hsw) echo "$sw" ;;
    h[1-9]|h[1-9][0-9]) echo "$prefix-$1" ;;
    *) die "unknown host '$1' (hsw, h1, h2, ...)" ;;
  esac
}
our_namespaces() { ip netns list | awk '{print $1}' | grep -E "^${prefix}-(hsw|h[0-9]+)\$" || true; }
# One byte of the MAC from the prefix, so two prefixes on one machine differ.
mac_id() { printf '%02x' $(( $(printf '%s' "$prefix" | cksum | cut -d' ' -f1) % 256 )); }

in_ns() {  # in_ns HOST CMD...: CMD inside HOST's namespace, with hostname HOST
  local host=$1; shift
  # shellcheck disable=SC2016  # $0 and $@ are the inner shell's
  exec ip netns exec "$(ns_of "$host")" unshare --uts -- sh -c 'hostname "$0"; exec "$@"' "$host" "$@"
}

set_tcp() {  # set_tcp NS
  [ "$retries2" = kernel ] || ip netns exec "$1" sysctl -q -w net.ipv4.tcp_retries2="$retries2"
  [ "$syn_retries" = kernel ] || ip netns exec "$1" sysctl -q -w net.ipv4.tcp_syn_retries="$syn_retries"
}

cmd_up() {
  local n=${1:-}
  [[ $n =~ ^[1-9][0-9]?$ ]] || die "up needs a host count 1..99, got '${n}'"
  [ "$(id -u)" -eq 0 ] || die "creating network namespaces needs root"
  [ -z "$(our_namespaces)" ] || die "namespaces with prefix $prefix exist already (run: hosts.sh down)"
  local id; id=$(mac_id)
  local hosts_file="127.0.0.1 localhost
$subnet.254 hsw"
  local k
  for k in $(seq 1 "$n"); do hosts_file+=$'\n'"$subnet.$k h$k"; done

  ip netns add "$sw"
  ip -n "$sw" link set lo up
  ip -n "$sw" link add br0 address "02:d7:$id:00:00:fe" type bridge
  ip -n "$sw" link set br0 type bridge stp_state 0 forward_delay 0
  ip -n "$sw" addr add "$subnet.254/24" dev br0
  ip -n "$sw" link set br0 up
  set_tcp "$sw"
  for k in $(seq 1 "$n"); do
    local ns=$prefix-h$k
    ip netns add "$ns"
    ip -n "$ns" link set lo up
    ip link add name mpi0 netns "$ns" address "02:d7:$id:00:$(printf %02x "$k"):01" type veth \
      peer name "p$k" netns "$sw" address "02:d7:$id:00:$(printf %02x "$k"):02"
    ip -n "$sw" link set "p$k" master br0
    ip -n "$sw" link set "p$k" up
    ip -n "$ns" addr add "$subnet.$k/24" dev mpi0
    ip -n "$ns" link set mpi0 up
    set_tcp "$ns"
  done
  for ns in $(our_namespaces); do
    mkdir -p "/etc/netns/$ns"
    printf '%s\n' "$hosts_file" > "/etc/netns/$ns/hosts"
  done
  # Every host reachable from the head: a TCP connect to a closed port is refused
  # (an RST came back) rather than timing out. No ping needed.
  for k in $(seq 1 "$n"); do
    local tries=0
    until [[ $(ip netns exec "$sw" timeout 1 bash -c "exec 3<>/dev/tcp/$subnet.$k/9" 2>&1) == *refused* ]]; do
      tries=$((tries + 1)); [ "$tries" -lt 20 ] || die "host h$k does not answer on $subnet.$k"
      sleep 0.1
    done
  done
}

cmd_down() {
  local namespaces ns pid tries
  namespaces=$(our_namespaces)
  # Processes left inside keep a namespace (and its addresses) alive: kill them.
  for tries in $(seq 1 50); do
    local left=""
    for ns in $namespaces; do
      for pid in $(ip netns pids "$ns" 2>/dev/null); do left+=" $pid"; kill -9 "$pid" 2>/dev/null || true; done
    done
    [ -n "$left" ] || break
    sleep 0.1
  done
  for ns in $namespaces; do
    ip netns del "$ns" 2>/dev/null || true
    rm -rf "/etc/netns/${ns:?}"
  done
  rmdir /etc/netns 2>/dev/null || true  # only if empty: it may hold others' files
}

# head CMD...: CMD in the head namespace, where mpirun must run (the daemons
# connect back to it), with the agent and the two settings fake hosts need in
# the environment (Open MPI reads OMPI_MCA_*): no tree spawn (every daemon is
# started from here), ranks yield when idle (the hosts share this machine's cores).
cmd_head() {
  export OMPI_MCA_plm_rsh_agent="$self agent" OMPI_MCA_plm_rsh_no_tree_spawn=1 OMPI_MCA_mpi_yield_when_idle=1
  [ "$(id -u)" -ne 0 ] || export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
  in_ns hsw "$@"
}

[ $# -ge 1 ] || { sed -n '2,38p' "$self" | sed 's/^# \{0,1\}//'; exit 2; }
sub=$1; shift
case $sub in
  up) cmd_up "$@" ;;
  down) cmd_down ;;
  agent)
    # As ssh: HOST then the remote command, which Open MPI writes for a remote
    # shell (quoting, `VAR=...; export VAR;`), so it is joined and given to sh.
    [ $# -ge 2 ] || die "agent needs HOST CMD..."
    host=$1; shift
    exec ip netns exec "$(ns_of "$host")" unshare --uts -- sh -c "hostname $host; $*" ;;
  exec) [ $# -ge 2 ] || die "exec needs HOST CMD..."; in_ns "$@" ;;
  head) [ $# -ge 1 ] || die "head needs CMD..."; cmd_head "$@" ;;
  mpirun)
    # shellcheck disable=SC2054  # the commas are in option values
    cmd_head mpirun --mca pml ob1 --mca btl tcp,self --mca btl_tcp_if_include "$subnet.0/24" \
      --mca oob_tcp_if_include "$subnet.0/24" --bind-to none "$@" ;;
  link)
    if [ $# -ne 2 ] || ! [[ $2 =~ ^(up|down)$ ]]; then die "link needs HOST up|down"; fi
    [[ $1 =~ ^h([0-9]+)$ ]] || die "link: '$1' is not a host hK"
    ip -n "$sw" link set "p${BASH_REMATCH[1]}" "$2" ;;
  bytes)
    [ $# -eq 1 ] || die "bytes needs HOST"
    ns=$(ns_of "$1")
    echo "$(ip netns exec "$ns" cat /sys/class/net/mpi0/statistics/rx_bytes)" \
         "$(ip netns exec "$ns" cat /sys/class/net/mpi0/statistics/tx_bytes)" ;;
  pids)
    [ $# -ge 1 ] || die "pids needs HOST [NAME]"
    ns=$(ns_of "$1")
    for pid in $(ip netns pids "$ns"); do
      if [ $# -lt 2 ] || [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$2" ]; then echo "$pid"; fi
    done ;;
  -h|--help|help) sed -n '2,38p' "$self" | sed 's/^# \{0,1\}//' ;;
  *) die "unknown command '$sub'" ;;
esac
