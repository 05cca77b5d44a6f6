#!/usr/bin/env bash
# Hole-punch trials in the NAT lab (root): a relay, B (traverse listen) with a reservation,
# and N fresh A's (traverse ping through the relay, 12 pings 0.5 s apart, each from its own
# port). Prints, per trial, the tier of the last ping and which ping was the first direct
# one; then the count of trials that ended direct and B's hole-punch events.
#
#   Interop/natlab/trials.sh MODE UNSOLICITED TRIALS [traverse options for A and B...]
#   e.g. Interop/natlab/trials.sh cone rst 5
#
# Uses .build/debug/traverse (swift build first). KEEP=1 leaves the lab up afterwards.
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
lab="$root/Interop/natlab/natlab.sh"
traverse="${TRAVERSE:-$root/.build/debug/traverse}"
mode=${1:?mode}; unsolicited=${2:?drop|rst}; trials=${3:?trials}; shift 3
work=$(mktemp -d)
"$lab" up "$mode" --unsolicited "$unsolicited" >/dev/null
"$lab" exec relay "$traverse" relay --key "$work/relay.key" --listen /ip4/0.0.0.0/tcp/4001 --circuit-rate 1000 --json \
  > "$work/relay.log" 2>&1 &
relay=""
for _ in $(seq 50); do
  relay=$(grep -o '/ip4/203.0.113.10/tcp/4001/p2p/[A-Za-z0-9]*' "$work/relay.log" | head -1)
  [ -n "$relay" ] && break; sleep 0.1
done
"$lab" exec hostB "$traverse" listen --key "$work/b.key" --listen /ip4/0.0.0.0/tcp/4001 --relay "$relay" \
  --public-scope documentation --json "$@" > "$work/b.log" 2>&1 &
circuit=""
for _ in $(seq 50); do
  circuit=$(grep -o '/ip4/203.0.113.10/tcp/4001/p2p/[A-Za-z0-9]*/p2p-circuit/p2p/[A-Za-z0-9]*' "$work/b.log" | head -1)
  [ -n "$circuit" ] && break; sleep 0.1
done
direct=0
for trial in $(seq "$trials"); do
  out=$("$lab" exec hostA "$traverse" ping "$circuit" --count 12 --interval 0.5 --listen "/ip4/0.0.0.0/tcp/$((4200 + trial))" \
    --public-scope documentation --json --timeout 30 "$@" 2>&1)
  last=$(echo "$out" | grep '"seq"' | tail -1 | grep -o '"tier":"[a-z]*"')
  first=$(echo "$out" | grep '"seq"' | grep -n '"tier":"direct"' | head -1 | cut -d: -f1)
  echo "trial $trial: last ping ${last:-none}, first direct ping ${first:-none}"
  [ "$last" = '"tier":"direct"' ] && direct=$((direct + 1))
done
echo "direct $direct/$trials"
grep -o '"event":"hole_punch_[a-z]*"[^}]*' "$work/b.log"
[ -z "${KEEP:-}" ] && "$lab" down
rm -rf "$work"
