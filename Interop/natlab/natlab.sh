#!/usr/bin/env bash
# Traverse's NAT lab: a relay on a public subnet and two hosts, each behind its own Linux
# NAT, in network namespaces (root only). Nothing is created in, or routed to, the root
# namespace: every veth pair is made inside a lab namespace, and the lab's "internet"
# router has no default route.
#
#   natlab.sh up cone|symmetric|blocked [--unsolicited drop|rst]
#                                         build it (cone: MASQUERADE keeps ports;
#                                         symmetric: --random-fully; blocked: the hosts
#                                         reach only port 4222 (NATS) of the relay host;
#                                         rst: a NAT answers unsolicited TCP with a reset)
#   natlab.sh down                        remove it (processes inside are killed)
#   natlab.sh exec relay|hostA|hostB|obs CMD  run CMD in a namespace
#   natlab.sh check                       whether this machine can run the lab (exit 0/1)
#
#   tv-inet  203.0.113.1 (router) ─────── tv-relay 203.0.113.10
#                                    ├─ tv-natA  203.0.113.20 ── 192.168.1.0/24 ── tv-hostA .2
#                                    └─ tv-natB  203.0.113.30 ── 192.168.2.0/24 ── tv-hostB .2
#            198.51.100.1/24, 192.0.2.1/24 ── tv-obs 198.51.100.11, 192.0.2.11 (observers)
# Unsolicited packets to a NAT's public address are dropped (no RST), like most home routers,
# unless --unsolicited rst. With the relay, the observers make three /24s (observer groups):
# enough for a node to confirm its NAT's mapping, or to see that the NAT is symmetric.
set -euo pipefail

NAMESPACES=(tv-inet tv-relay tv-natA tv-natB tv-hostA tv-hostB tv-obs)
RELAY=203.0.113.10
NATS_PORT=4222

in_ns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

prepare() {  # namespace, forwarding
  in_ns "$1" sysctl -qw net.ipv4.ip_forward="$2" net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
  in_ns "$1" ip link set lo up
}

nat() {  # namespace, mode, unsolicited (drop|rst)
  local extra=""
  [ "$2" = symmetric ] && extra="--random-fully"
  in_ns "$1" iptables -t nat -A POSTROUTING -o wan0 -j MASQUERADE $extra
  in_ns "$1" iptables -P FORWARD DROP
  in_ns "$1" iptables -A FORWARD -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
  in_ns "$1" iptables -A FORWARD -m conntrack --ctstate INVALID -j DROP
  if [ "$2" = blocked ]; then
    in_ns "$1" iptables -A FORWARD -i lan0 -o wan0 -d "$RELAY" -p tcp --dport "$NATS_PORT" -j ACCEPT
    in_ns "$1" iptables -A FORWARD -i lan0 -o wan0 -j DROP
  fi
  in_ns "$1" iptables -A FORWARD -i lan0 -o wan0 -j ACCEPT
  in_ns "$1" iptables -A INPUT -i wan0 -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
  in_ns "$1" iptables -A INPUT -i wan0 -p icmp -j ACCEPT
  # An unsolicited SYN to the NAT's public address (no mapping yet): dropped silently, or,
  # with --unsolicited rst, answered with a reset as Linux does by default.
  [ "$3" = rst ] && in_ns "$1" iptables -A INPUT -i wan0 -p tcp -j REJECT --reject-with tcp-reset
  in_ns "$1" iptables -A INPUT -i wan0 -j DROP
}

up() {
  local mode=${1:-cone} unsolicited=drop
  shift || true
  while [ $# -gt 0 ]; do
    case "$1" in
      --unsolicited) unsolicited=${2:-}; shift 2 || { echo "natlab: --unsolicited drop|rst" >&2; exit 2; } ;;
      *) echo "natlab: unknown option $1" >&2; exit 2 ;;
    esac
  done
  case "$mode" in cone|symmetric|blocked) ;; *) echo "natlab: mode cone|symmetric|blocked" >&2; exit 2 ;; esac
  case "$unsolicited" in drop|rst) ;; *) echo "natlab: --unsolicited drop|rst" >&2; exit 2 ;; esac
  down >/dev/null 2>&1 || true
  trap 'down >/dev/null 2>&1 || true' ERR
  for ns in "${NAMESPACES[@]}"; do ip netns add "$ns"; done
  prepare tv-inet 1
  # The router is a real hop between every public host (no shared bridge): each link
  # is routed, and the router answers ARP for the other hosts of 203.0.113.0/24, so a packet
  # from one NAT to another crosses it and loses one TTL, as on the internet.
  local address
  for peer in relay natA natB; do
    ip -n tv-inet link add "p-$peer" type veth peer name "$([ $peer = relay ] && echo eth0 || echo wan0)" netns "tv-$peer"
    case $peer in relay) address=$RELAY ;; natA) address=203.0.113.20 ;; natB) address=203.0.113.30 ;; esac
    in_ns tv-inet ip addr add 203.0.113.1/32 dev "p-$peer"
    in_ns tv-inet ip link set "p-$peer" up
    in_ns tv-inet ip route add "$address/32" dev "p-$peer"
    in_ns tv-inet sysctl -qw "net.ipv4.conf.p-$peer.proxy_arp=1" "net.ipv4.neigh.p-$peer.proxy_delay=0"
  done
  prepare tv-relay 0
  in_ns tv-relay ip addr add "$RELAY/24" dev eth0
  in_ns tv-relay ip link set eth0 up
  in_ns tv-relay ip route add default via 203.0.113.1
  local wan lan
  for side in A B; do
    if [ $side = A ]; then wan=203.0.113.20; lan=192.168.1; else wan=203.0.113.30; lan=192.168.2; fi
    prepare "tv-nat$side" 1
    in_ns "tv-nat$side" ip addr add "$wan/24" dev wan0
    in_ns "tv-nat$side" ip link set wan0 up
    in_ns "tv-nat$side" ip route add default via 203.0.113.1
    ip -n "tv-nat$side" link add lan0 type veth peer name eth0 netns "tv-host$side"
    in_ns "tv-nat$side" ip addr add "$lan.1/24" dev lan0
    in_ns "tv-nat$side" ip link set lan0 up
    nat "tv-nat$side" "$mode" "$unsolicited"
    prepare "tv-host$side" 0
    in_ns "tv-host$side" ip addr add "$lan.2/24" dev eth0
    in_ns "tv-host$side" ip link set eth0 up
    in_ns "tv-host$side" ip route add default via "$lan.1"
  done
  # The observers: two more public /24s behind the router.
  ip -n tv-inet link add p-obs type veth peer name eth0 netns tv-obs
  in_ns tv-inet ip addr add 198.51.100.1/24 dev p-obs
  in_ns tv-inet ip addr add 192.0.2.1/24 dev p-obs
  in_ns tv-inet ip link set p-obs up
  prepare tv-obs 0
  in_ns tv-obs ip addr add 198.51.100.11/24 dev eth0
  in_ns tv-obs ip addr add 192.0.2.11/24 dev eth0
  in_ns tv-obs ip link set eth0 up
  in_ns tv-obs ip route add default via 198.51.100.1
  # A veth's operational state turns UP asynchronously (the kernel's link watch can take
  # a second): wait for every link, so programs that list their interfaces at start (a
  # listener on 0.0.0.0 printing its addresses) see them running.
  local tries=0
  while [ $tries -lt 150 ]; do
    local down_links=0
    for ns in "${NAMESPACES[@]}"; do
      if ip -n "$ns" -o link show | grep -v ' lo:' | grep -qv 'state UP'; then down_links=1; fi
    done
    [ $down_links = 0 ] && break
    tries=$((tries + 1)); sleep 0.02
  done
  trap - ERR
  echo "natlab up: $mode (unsolicited: $unsolicited)"
}

down() {
  for ns in "${NAMESPACES[@]}"; do
    if ip netns list | awk '{print $1}' | grep -qx "$ns"; then
      for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
      ip netns del "$ns"
    fi
  done
}

check() {
  [ "$(id -u)" = 0 ] || { echo "natlab: not root"; exit 1; }
  command -v ip >/dev/null && command -v iptables >/dev/null || { echo "natlab: iproute2 or iptables missing"; exit 1; }
  ip netns add tv-check 2>/dev/null || { echo "natlab: ip netns does not work here"; exit 1; }
  local ok=0
  ip netns exec tv-check iptables -t nat -L >/dev/null 2>&1 || ok=1
  ip netns del tv-check
  [ $ok = 0 ] || { echo "natlab: iptables NAT does not work in a namespace"; exit 1; }
  echo "natlab: available"
}

case "${1:-}" in
  up) shift; up "$@" ;;
  down) down ;;
  exec) shift; host=${1:?host}; shift; in_ns "tv-$host" "$@" ;;
  check) check ;;
  *) sed -n '2,22p' "$0"; exit 2 ;;
esac
