#!/usr/bin/env bash
# py-libp2p through a py-libp2p circuit relay v2, over loopback: `peer.py relay`, a
# `peer.py listen --relay` that reserves on it, and `peer.py dial` to the listener's
# circuit address. Checks every line of the three peers; prints how long each case took
# and "N passed, N failed".
#
#   1-2. ping, a 1 MiB echo (identical), perf 1 MiB up and down, identify, for two mixes
#        of key types (the second dials with --no-reserve);
#   3.   a relay with --limit-data 65536: a 1 MiB echo must fail (and py's relay keeps
#        the circuit's slot: a second circuit is refused);
#   4.   a relay with --limit-duration 1: a 64 MiB perf upload must fail;
#   5.   a circuit to a peer without a reservation: CONNECT refused, NO_RESERVATION;
#   6.   a relay with --max-reservations 0: the listener's reservation is refused, exit 1.
#
# PY selects the interpreter (default: the venv of scripts/setup-interop.sh).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export PY=${PY:-$("$here/../../scripts/setup-interop.sh" | tail -n 1)}
peer="$here/peer.py"
passed=0
failed=0
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT

check() {  # check NAME PYTHON_CONDITION < JSON_LINES; `lines`, `ops` and `events` are there
  if "$PY" -c '
import json, sys
lines = [json.loads(l) for l in sys.stdin if l.strip()]
ops = {l.get("op"): l for l in lines if "op" in l}
events = {}
for l in lines:
    events.setdefault(l.get("event"), []).append(l)
sys.exit(0 if eval("(" + sys.argv[1] + ")") else 1)' "$2"; then
    passed=$((passed + 1)); echo "ok: $1" >&2
  else
    failed=$((failed + 1)); echo "FAILED: $1" >&2
  fi
}

field() {  # field FILE EVENT KEY [INDEX]: a field of the first line with that event
  "$PY" -c '
import json, sys
for l in open(sys.argv[1]):
    j = json.loads(l)
    if j.get("event") == sys.argv[2]:
        v = j.get(sys.argv[3])
        print(v[int(sys.argv[4])] if len(sys.argv) > 4 else v)
        break' "$@"
}

start() {  # start NAME ARGS...: a peer with a held stdin; lines in $work/NAME.out
  local name=$1
  shift
  mkfifo "$work/$name.in"
  "$PY" "$peer" "$@" <"$work/$name.in" >"$work/$name.out" 2>"$work/$name.err" &
  pids+=($!)
  eval "${name}_pid=$!"
  exec {fd}>"$work/$name.in"
  eval "${name}_fd=$fd"
}

wait_for() {  # wait_for NAME EVENT [SECONDS]: until a line with that event (or an error, or exit)
  local name=$1 event=$2 tries=$((${3:-20} * 10)) pid_var="${1}_pid"
  for _ in $(seq 1 "$tries"); do
    grep -q "\"event\":\"$event\"" "$work/$name.out" 2>/dev/null && return 0
    kill -0 "${!pid_var}" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

stop() {  # stop NAME: EOF on its stdin, then its exit status in NAME_status
  local fd_var="${1}_fd" pid_var="${1}_pid"
  eval "exec ${!fd_var}>&-"
  wait "${!pid_var}"
  eval "${1}_status=$?"
}

now() { date +%s.%N; }
took() { "$PY" -c 'import sys; print(f"{float(sys.argv[2]) - float(sys.argv[1]):.2f} s")' "$1" "$(now)"; }

run_case() {  # run_case RELAY_ARGS LISTEN_ARGS DIAL_ARGS [DIAL2_ARGS]: lines in $work/dial.out (dial2.out)
  rm -f "$work"/*.in "$work"/*.out "$work"/*.err
  local relay_args=$1 listen_args=$2 dial_args=$3
  # shellcheck disable=SC2086
  start relay relay $relay_args
  wait_for relay listening || { echo "relay did not start" >&2; cat "$work/relay.err" >&2; }
  relay_addr=$(field "$work/relay.out" listening addrs 0)
  relay_id=$(field "$work/relay.out" listening peer_id)
  # shellcheck disable=SC2086
  start listener listen --relay "$relay_addr" $listen_args
  wait_for listener reserved || true
  listener_id=$(field "$work/listener.out" listening peer_id)
  circuit=$(field "$work/listener.out" reserved addrs 0)
  [ -n "$circuit" ] && [ "$circuit" != None ] || circuit="$relay_addr/p2p-circuit/p2p/$listener_id"
  dial_start=$(now)
  # shellcheck disable=SC2086
  "$PY" "$peer" dial "$circuit" $dial_args >"$work/dial.out" 2>"$work/dial.err" {relay_fd}>&- {listener_fd}>&-
  dial_status=$?
  dial_took=$(took "$dial_start")
  sleep "${SETTLE:-0.5}"  # let the relay and the listener see the circuit end
  if [ -n "${4:-}" ]; then  # a second dial, after the first
    # shellcheck disable=SC2086
    "$PY" "$peer" dial "$circuit" $4 >"$work/dial2.out" 2>"$work/dial2.err" {relay_fd}>&- {listener_fd}>&-
    dial2_status=$?
    echo "--- second dial (exit $dial2_status):" >&2; cat "$work/dial2.out" >&2
  fi
  stop listener
  stop relay
  echo "--- dial (exit $dial_status, $dial_took):" >&2; cat "$work/dial.out" >&2
  echo "--- listener (exit $listener_status):" >&2; cat "$work/listener.out" >&2
  echo "--- relay (exit $relay_status):" >&2; cat "$work/relay.out" >&2
}

mib=$((1024 * 1024))

# 1-2. The happy path, two mixes of key types.
mixes=("ed25519 secp256k1 ecdsa" "rsa ecdsa ed25519 --no-reserve")
for mix in "${mixes[@]}"; do
  read -r rt lt dt extra <<<"$mix"
  t0=$(now)
  run_case "--key-type $rt" "--key-type $lt" \
    "--key-type $dt ${extra:-} --identify --ping 3 --echo $mib --perf-upload $mib --perf-download $mib"
  name="relay $rt, listener $lt, dialer $dt${extra:+ $extra}"
  check "$name: the dialer" '
all("error" not in l for l in lines)
and ops["connect"]["relayed"] and ops["connect"]["peer_id"] == "'"$listener_id"'"
and ops["connect"]["relay"] == "'"$relay_id"'"
and ops["connect"]["limit"] == {"duration": 3600, "data": 1073741824}
and ops["connect"].get("reserved", True)
and ops["identify"]["relayed"] and ops["identify"]["signed_peer_record"]["valid"]
and ops["identify"]["signed_peer_record"]["peer_id"] == "'"$listener_id"'"
and "/p2p-circuit" in ops["identify"]["observed_addr"]
and ops["ping"]["relayed"] and len(ops["ping"]["rtt_ms"]) == 3
and ops["echo"]["relayed"] and ops["echo"]["identical"] and ops["echo"]["received"] == '$mib'
and ops["perf"]["relayed"] and ops["perf"]["upload_bytes"] == ops["perf"]["download_bytes"] == '$mib'
and '"$dial_status"' == 0' <"$work/dial.out"
  dialer_id=$(grep -o '"local_peer_id":"[^"]*"' "$work/dial.out" | cut -d'"' -f4)
  check "$name: the listener" '
lines[0]["event"] == "listening"
and events["reserved"][0]["relay"] == "'"$relay_id"'"
and events["reserved"][0]["addrs"] == ["'"$relay_addr"'/p2p-circuit/p2p/'"$listener_id"'"]
and events["reserved"][0]["voucher"]["valid"]
and events["reserved"][0]["limit"] == {"duration": 3600, "data": 1073741824}
and 3590 <= events["reserved"][0]["ttl_seconds"] <= 3600
and events["stop"][0] == {"event": "stop", "relay": "'"$relay_id"'", "peer_id": "'"$dialer_id"'",
                          "type": "CONNECT", "limit": {"duration": 3600, "data": 1073741824}}
and {"event": "connected", "peer_id": "'"$dialer_id"'", "relayed": True} in lines
and {"event": "echo", "peer_id": "'"$dialer_id"'", "bytes": '$mib', "relayed": True} in lines
and {"event": "stopping", "reason": "stdin-eof"} in lines
and '"$listener_status"' == 0' <"$work/listener.out"
  check "$name: the relay" '
lines[0]["limits"]["max_reservations"] == 4
and any(e["peer_id"] == "'"$listener_id"'" and not e["renewal"] for e in events["reservation"])
and (len(events["reservation"]) == 2) == ("'"${extra:-}"'" == "")
and events["circuit-opened"] == [{"event": "circuit-opened", "src_peer_id": "'"$dialer_id"'",
                                  "dst_peer_id": "'"$listener_id"'"}]
and lines[-1]["event"] in ("stopping", "circuit-closed")
and '"$relay_status"' == 0' <"$work/relay.out"
  echo "time: $name: whole case $(took "$t0"), dial process $dial_took" >&2
done

# 3. The data limit: the relay resets the circuit once it would pass 64 KiB. With one
#    circuit allowed per reservation, a second dial afterwards shows py's relay keeping
#    the reset circuit's slot (see the README: a local Yamux reset does not wake the
#    relay's other copying task).
t0=$(now)
SETTLE=1 run_case "--limit-data 65536 --max-circuits 1" "" "--ping 3 --echo $mib --timeout 20" "--ping 1"
check "data limit 64 KiB: the dialer's echo fails (exit 1)" '
ops["connect"]["limit"] == {"duration": 3600, "data": 65536}
and len(ops["ping"]["rtt_ms"]) == 3
and "error" in ops["echo"] and "received" not in ops["echo"]
and '"$dial_status"' == 1' <"$work/dial.out"
check "data limit 64 KiB: the relay closes the circuit for the limit" '
events["circuit-closed"][0]["reason"] == "RESOURCE_LIMIT_EXCEEDED: Data transfer limit exceeded"
and events["circuit-closed"][0]["bytes"] > 65536' <"$work/relay.out"
check "data limit 64 KiB: the listener echoed less than 1 MiB, its relayed connection ends" '
all(e["bytes"] < '$mib' for e in events.get("echo", []))
and any(l["event"] == "disconnected" and l.get("relayed") for l in lines)
and '"$listener_status"' == 0' <"$work/listener.out"
check "data limit 64 KiB: py's relay still holds the reset circuit's slot (NO_RESERVATION)" '
ops["connect"]["status"] == 204 and '"$dial2_status"' == 1' <"$work/dial2.out"
echo "time: data limit case $(took "$t0"), dial process $dial_took" >&2

# 4. The duration limit (py checks it each time data arrives).
t0=$(now)
SETTLE=1 run_case "--limit-duration 1" "" "--ping 1 --perf-upload $((64 * mib)) --perf-download 0 --timeout 30"
check "duration limit 1 s: a 64 MiB upload fails" '
ops["connect"]["limit"] == {"duration": 1, "data": 1073741824}
and "error" in ops["perf"] and '"$dial_status"' == 1' <"$work/dial.out"
check "duration limit 1 s: the relay closes the circuit after 1 s" '
events["circuit-closed"][0]["reason"] == "RESOURCE_LIMIT_EXCEEDED: Circuit duration limit exceeded"
and events["circuit-closed"][0]["seconds"] >= 1.0' <"$work/relay.out"
echo "time: duration limit case $(took "$t0"), dial process $dial_took" >&2

# 5. No reservation for the target: the relay refuses CONNECT with NO_RESERVATION.
t0=$(now)
rm -f "$work"/*.in "$work"/*.out "$work"/*.err
start relay relay
wait_for relay listening
relay_addr=$(field "$work/relay.out" listening addrs 0)
nobody=12D3KooWBsY8W46WxZpvqiApzFnmrSNaKGwLy6rDea5rpcUos4Mk
"$PY" "$peer" dial "$relay_addr/p2p-circuit/p2p/$nobody" --ping 1 >"$work/dial.out" 2>"$work/dial.err" {relay_fd}>&-
dial_status=$?
stop relay
cat "$work/dial.out" "$work/relay.out" >&2
check "no reservation: CONNECT refused with NO_RESERVATION (exit 1)" '
ops["connect"]["status"] == 204 and ops["connect"]["status_name"] == "NO_RESERVATION"
and list(ops) == ["connect"] and '"$dial_status"' == 1' <"$work/dial.out"
check "no reservation: the relay reports the refusal" '
events["circuit-refused"][0]["dst_peer_id"] == "'"$nobody"'" and events["circuit-refused"][0]["status"] == 204
' <"$work/relay.out"
echo "time: no-reservation case $(took "$t0")" >&2

# 6. The relay takes no reservation: the listener prints an error line and exits 1.
t0=$(now)
rm -f "$work"/*.in "$work"/*.out "$work"/*.err
start relay relay --max-reservations 0
wait_for relay listening
relay_addr=$(field "$work/relay.out" listening addrs 0)
start listener listen --relay "$relay_addr"
wait "$listener_pid"
listener_status=$?
eval "exec $listener_fd>&-"
stop relay
cat "$work/listener.out" "$work/relay.out" >&2
check "reservation refused: the listener's error line and exit 1" '
lines[0]["event"] == "listening"
and events["reserved"][0]["status"] == 201
and events["reserved"][0]["error"] == "reservation refused: RESOURCE_LIMIT_EXCEEDED"
and "addrs" not in events["reserved"][0] and lines[-1]["event"] == "reserved"
and '"$listener_status"' == 1' <"$work/listener.out"
echo "time: refused reservation case $(took "$t0")" >&2

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
