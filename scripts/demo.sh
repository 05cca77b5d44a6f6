#!/usr/bin/env bash
# The main job: set-up, a release build, then a node on 127.0.0.1:4001 with the identity kept
# in ~/.traverse/identity.key (made on first run). It prints its full addresses and logs
# connections until Ctrl-C. Extra arguments go to `traverse listen` (e.g. --json).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
scripts/setup.sh
swift build -c release --product traverse >&2
traverse="$(swift build -c release --show-bin-path)/traverse"
key="${TRAVERSE_HOME:-$HOME/.traverse}/identity.key"
exec "$traverse" listen --key "$key" --listen "${TRAVERSE_LISTEN:-/ip4/127.0.0.1/tcp/4001}" "$@"
