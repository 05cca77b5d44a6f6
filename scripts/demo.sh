#!/usr/bin/env bash
# The main job: set-up, a release build, then `traverse demo`: a relay, two peers behind NATs,
# a reservation, a relayed connection, the hole punch to direct, and the NATS tier when the
# direct and relay paths are blocked, narrated, with the figures at the end. As root (with
# network namespaces) it runs in the NAT lab of Interop/natlab/natlab.sh and removes it
# afterwards; otherwise on loopback. Extra arguments go to `traverse demo` (e.g. --pings 20,
# --mode loopback).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
scripts/setup.sh
swift build -c release --product traverse >&2
traverse="$(swift build -c release --show-bin-path)/traverse"
exec "$traverse" demo --lab-script "$root/Interop/natlab/natlab.sh" "$@"
