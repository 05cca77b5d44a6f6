#!/usr/bin/env bash
# Installs the py-libp2p peer's Python environment for the interop tests and benchmarks:
# a venv with the pinned libp2p==0.8.1 (Interop/py/requirements.txt, versions of its
# dependencies fixed by Interop/py/constraints.txt). Idempotent: a venv that already
# imports the pinned libp2p from the same pin files is kept as it is.
#
# Environment:
#   TRAVERSE_PY_VENV   where the venv lives (default ~/.cache/traverse/py-libp2p-0.8.1)
#   TRAVERSE_PYTHON    the interpreter that creates it (default python3; 3.10 or newer)
#
# On Debian it installs with apt-get what a venv and the one C extension built from
# source (fastecdsa) need, when missing: python3-venv python3-dev libgmp-dev build-essential
# (as root, or through sudo). The venv's python is printed on the last line of stdout;
# everything else goes to stderr.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv=${TRAVERSE_PY_VENV:-$HOME/.cache/traverse/py-libp2p-0.8.1}
python=${TRAVERSE_PYTHON:-python3}
requirements="$root/Interop/py/requirements.txt"
constraints="$root/Interop/py/constraints.txt"
stamp="$venv/.traverse-pins"
pins=$(cat "$requirements" "$constraints" | sha256sum | cut -d' ' -f1)

venv_is_good() {
  [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$pins" ] &&
    "$venv/bin/python" -c 'import libp2p, sys; sys.exit(libp2p.__version__ != "0.8.1")' 2>/dev/null
}

if venv_is_good; then
  echo "== py-libp2p 0.8.1 venv already good: $venv" >&2
  echo "$venv/bin/python"
  exit 0
fi

command -v "$python" >/dev/null || { echo "error: $python not found (set TRAVERSE_PYTHON)" >&2; exit 1; }

# Debian packages: venv support, and what pip needs to build fastecdsa (no wheel on PyPI).
if command -v dpkg-query >/dev/null; then
  missing=()
  for package in python3-venv python3-dev libgmp-dev build-essential; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    if [ -n "$sudo" ] && ! command -v sudo >/dev/null; then
      echo "warning: missing ${missing[*]} and not root; trying without them" >&2
    else
      echo "== installing ${missing[*]}" >&2
      $sudo apt-get update -qq
      DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
    fi
  fi
fi

echo "== creating $venv with $("$python" --version 2>&1)" >&2
if [ -e "$venv" ]; then
  # Only ever replace a venv (one that lost its pins or its libp2p), never another directory.
  [ -f "$venv/pyvenv.cfg" ] || { echo "error: $venv exists and is not a venv" >&2; exit 1; }
  rm -rf "$venv"
fi
mkdir -p "$(dirname "$venv")"
"$python" -m venv "$venv" >&2
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
  -r "$requirements" -c "$constraints" >&2
"$venv/bin/python" -c 'import libp2p; assert libp2p.__version__ == "0.8.1", libp2p.__version__' >&2
echo "$pins" > "$stamp"
echo "== py-libp2p 0.8.1 installed in $venv" >&2
echo "$venv/bin/python"
