#!/usr/bin/env bash
# Regenerates Core/Protobuf/Generated/*.pb.swift from Core/Protobuf/Definitions/**/*.proto.
#
# The generated code is committed: CI and normal builds never run this script (building the
# protoc-gen-swift plugin takes minutes). Run it after changing a .proto file.
# Needs: protoc (Debian `protobuf-compiler`). The plugin is built from the swift-protobuf
# version Package.swift pins, unless PROTOC_GEN_SWIFT points at one already.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

command -v protoc >/dev/null || { echo "protoc not found: apt-get install protobuf-compiler" >&2; exit 1; }

plugin=${PROTOC_GEN_SWIFT:-}
if [ -z "$plugin" ]; then
  swift package resolve >/dev/null
  checkout="$root/.build/checkouts/swift-protobuf"
  [ -d "$checkout" ] || { echo "swift-protobuf checkout missing at $checkout" >&2; exit 1; }
  scratch="$root/.build-protoc-gen-swift"
  swift build -c release --package-path "$checkout" --scratch-path "$scratch" --product protoc-gen-swift >&2
  plugin="$scratch/release/protoc-gen-swift"
fi

definitions=Core/Protobuf/Definitions
output=Core/Protobuf/Generated
rm -f "$output"/*.pb.swift
mkdir -p "$output"
( cd "$definitions" && find . -name '*.proto' | sed 's|^\./||' | sort ) | while read -r proto; do
  protoc --plugin=protoc-gen-swift="$plugin" \
    -I "$definitions" \
    --swift_opt=Visibility=Internal \
    --swift_opt=FileNaming=PathToUnderscores \
    --swift_out="$output" \
    "$definitions/$proto"
done
ls "$output"
