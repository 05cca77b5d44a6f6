#!/usr/bin/env bash
# The main job (until the node lands): set-up, build, then show Traverse's wire formats at
# work — an identity kept in ~/.traverse/identity.key, its peer ID, and the decoding of a
# relayed (circuit) address and of peer IDs in both text forms.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
scripts/setup.sh
swift build -c release --product traverse >&2
traverse="$(swift build -c release --show-bin-path)/traverse"

key="${TRAVERSE_HOME:-$HOME/.traverse}/identity.key"
mkdir -p "$(dirname "$key")"
[ -f "$key" ] || "$traverse" keygen --out "$key" >/dev/null
peer=$("$traverse" id --key "$key")
echo "== identity $key"
"$traverse" id --key "$key" --json
echo "== a circuit address through a relay to this peer"
"$traverse" inspect "/ip4/127.0.0.1/tcp/4001/p2p/12D3KooWBtg3aaRMjxwedh83aGiUkwSxDwUZkzuJcfaqUmo7R3pq/p2p-circuit/p2p/$peer"
echo "== the same peer ID as a CID"
"$traverse" inspect "$("$traverse" id --key "$key" --json | sed 's/.*"peer_id_cid":"\([^"]*\)".*/\1/')"
echo "== a binary multiaddr"
"$traverse" inspect --hex 04c000022a0601bb
