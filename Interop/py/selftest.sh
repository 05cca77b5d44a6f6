#!/usr/bin/env bash
# py-libp2p against py-libp2p, for every key type: identify (with a valid signed peer
# record), identify push, ping, a 1 MiB echo, perf 10 MiB up and down, a protocol probe,
# and 50 connection setups. Checks every result line; prints "N passed, N failed".
# PY selects the interpreter (default: the venv of scripts/setup-interop.sh).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export PY=${PY:-$("$here/../../scripts/setup-interop.sh" | tail -n 1)}
passed=0
failed=0
err=$(mktemp)
trap 'rm -f "$err"' EXIT

check() {  # check NAME PYTHON_CONDITION_ON_LINES < JSON_LINES
  if "$PY" -c '
import json, sys
lines = [json.loads(l) for l in sys.stdin if l.strip()]
ops = {l.get("op"): l for l in lines}
sys.exit(0 if eval("(" + sys.argv[1] + ")") else 1)' "$2"; then
    passed=$((passed + 1)); echo "ok: $1" >&2
  else
    failed=$((failed + 1)); echo "FAILED: $1" >&2
  fi
}

mib=$((1024 * 1024))
types=(ed25519 secp256k1 rsa ecdsa)
for i in "${!types[@]}"; do
  listener=${types[$i]}
  dialer=${types[$(((i + 1) % 4))]}
  out=$("$here/run-pair.sh" --key-type "$listener" -- dial --key-type "$dialer" \
    --identify --push-identify --ping 3 --echo $mib \
    --perf-upload $((10 * mib)) --perf-download $((10 * mib)) \
    --protocol-probe /traverse/echo/1.0.0 --protocol-probe /not/supported/1.0.0 2>"$err")
  events=$(sed -n 's/^listener: //p' "$err")
  echo "$out" >&2
  echo "$events" >&2
  check "$listener listener, $dialer dialer: all operations" '
all("error" not in l for l in lines)
and ops["identify"]["signed_peer_record"]["valid"]
and ops["identify"]["signed_peer_record"]["peer_id"] == ops["connect"]["peer_id"]
and ops["identify"]["public_key_matches_peer_id"]
and ops["identify"]["agent_version"] == "py-libp2p/0.8.1"
and ops["identify-push"]["sent"]
and len(ops["ping"]["rtt_ms"]) == 3
and ops["echo"]["identical"] and ops["echo"]["received"] == '$mib'
and ops["perf"]["upload_bytes"] == ops["perf"]["download_bytes"] == '$((10 * mib))'
and [l["supported"] for l in lines if l.get("op") == "probe"] == [True, False]' <<<"$out"
  check "$listener listener, $dialer dialer: the listener's events" '
[l["event"] for l in lines][:2] == ["listening", "connected"]
and any(l["event"] == "identify-push" and l["signed_peer_record"]["valid"] for l in lines)
and any(l["event"] == "echo" and l["bytes"] == '$mib' for l in lines)
and lines[-1] == {"event": "stopping", "reason": "stdin-eof"}' <<<"$events"
done

out=$("$here/run-pair.sh" -- bench-setups --count 50 2>/dev/null)
echo "$out" >&2
check "50 connection setups" 'ops["bench-setups"]["count"] == 50 and ops["bench-setups"]["per_second"] > 0' <<<"$out"

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
