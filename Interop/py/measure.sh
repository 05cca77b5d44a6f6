#!/usr/bin/env bash
# py-libp2p's own figures over loopback, py against py, medians of RUNS (default 3):
# perf on one stream, 64 MiB up then 64 MiB down (MB/s = 10^6 bytes per second, from stream
# open to the server's end of stream), and sequential connection setups (TCP + Noise +
# Yamux + one ping stream, COUNT setups, default 500). One ed25519 listener serves all.
# PY selects the interpreter (default: the venv of scripts/setup-interop.sh).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
py=${PY:-$("$here/../../scripts/setup-interop.sh" | tail -n 1)}
runs=${RUNS:-3}
count=${COUNT:-500}
bytes=$((64 * 1024 * 1024))

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkfifo "$work/stdin"
"$py" "$here/peer.py" listen --quiet <"$work/stdin" >"$work/events" &
listener=$!
exec {hold}>"$work/stdin"
for _ in $(seq 1 300); do [ -s "$work/events" ] && break; sleep 0.1; done
address=$("$py" -c 'import json, sys; print(json.loads(sys.stdin.readline())["addrs"][0])' <"$work/events")

for _ in $(seq 1 "$runs"); do
  "$py" "$here/peer.py" dial "$address" --perf-upload "$bytes" --perf-download 0 {hold}>&- | grep '"perf"' >>"$work/up"
  "$py" "$here/peer.py" dial "$address" --perf-upload 0 --perf-download "$bytes" {hold}>&- | grep '"perf"' >>"$work/down"
  "$py" "$here/peer.py" bench-setups "$address" --count "$count" {hold}>&- >>"$work/setups"
done
exec {hold}>&-
wait "$listener" || true

"$py" - "$work" <<'EOF'
import json, pathlib, statistics, sys
work = pathlib.Path(sys.argv[1])
def values(name, key):
    return [json.loads(line)[key] for line in (work / name).read_text().splitlines()]
for name, key, label in [("up", "mb_per_s", "perf 64 MiB upload, MB/s"),
                         ("down", "mb_per_s", "perf 64 MiB download, MB/s"),
                         ("setups", "per_second", "connection setups per second")]:
    v = values(name, key)
    print(json.dumps({"figure": label, "median": statistics.median(v), "runs": v}))
EOF
