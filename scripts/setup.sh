#!/usr/bin/env bash
# Installs what Traverse needs on a fresh Debian machine and skips what is already there.
# Needs root (or sudo) only when something is missing.
set -euo pipefail

# iproute2 and iptables build the NAT lab (Interop/natlab) the NAT tests run in, as root.
# nats-server is the NATS server the NATS tier tests start (/usr/sbin/nats-server).
packages=(libsodium-dev libuv1-dev libsecp256k1-dev pkg-config iproute2 iptables nats-server)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "== installing ${missing[*]}" >&2
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

command -v swift >/dev/null || { echo "swift not found: Traverse needs the Swift 6 toolchain on PATH" >&2; exit 1; }
