#!/usr/bin/env bash
# Runs py-libp2p against py-libp2p over loopback: starts `peer.py listen LISTEN_ARGS`, then
# `peer.py COMMAND ADDRESS COMMAND_ARGS` against its address, then stops the listener by
# closing its stdin. The client's JSON lines go to stdout, the listener's to stderr
# (prefixed "listener: "). Exit status: the client's.
#
#   Interop/py/run-pair.sh [LISTEN_ARGS...] -- dial|bench-setups [COMMAND_ARGS...]
#   e.g. Interop/py/run-pair.sh --key-type rsa -- dial --key-type ecdsa --identify --ping 3
#
# PY selects the interpreter (default: the venv of scripts/setup-interop.sh).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
py=${PY:-$("$here/../../scripts/setup-interop.sh" | tail -n 1)}

listen_args=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do listen_args+=("$1"); shift; done
[ $# -gt 1 ] || { echo "usage: $0 [LISTEN_ARGS...] -- dial|bench-setups [ARGS...]" >&2; exit 2; }
shift
command=$1
shift

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkfifo "$work/stdin"
"$py" "$here/peer.py" listen "${listen_args[@]}" <"$work/stdin" >"$work/events" &
listener=$!
exec {hold}>"$work/stdin"   # the listener runs while this stays open

address=""
for _ in $(seq 1 300); do
  first=$(head -n 1 "$work/events")
  if [ -n "$first" ]; then
    address=$("$py" -c 'import json, sys; print(json.loads(sys.argv[1])["addrs"][0])' "$first")
    break
  fi
  kill -0 "$listener" 2>/dev/null || break
  sleep 0.1
done
[ -n "$address" ] || { echo "error: the listener did not start" >&2; exit 1; }

status=0
"$py" "$here/peer.py" "$command" "$address" "$@" {hold}>&- || status=$?  # only we hold its stdin

exec {hold}>&-   # EOF on the listener's stdin: it stops
wait "$listener" || true
sed 's/^/listener: /' "$work/events" >&2
exit "$status"
