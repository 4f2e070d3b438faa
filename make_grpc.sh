#!/usr/bin/env bash
# Regenerates Generated/ (protobuf-c) from Protos/, the single source of truth.
# protoc-c 1.4.1 rejects proto3 `optional`; `optional T x = N;` has the same wire
# encoding as `oneof _x { T x = N; }`, so the C generator gets that rewrite of a copy.
set -euo pipefail
cd "$(dirname "$0")"
command -v protoc-c >/dev/null || { echo "make_grpc.sh: protoc-c not found (apt-get install protobuf-c-compiler)" >&2; exit 1; }
include=${PROTOBUF_INCLUDE:-/usr/include}
[ -f "$include/google/protobuf/struct.proto" ] || { echo "make_grpc.sh: $include/google/protobuf/struct.proto not found (apt-get install libprotobuf-dev)" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for proto in Protos/*.proto; do
  sed -E 's/^([[:space:]]*)optional[[:space:]]+([A-Za-z0-9_.]+)[[:space:]]+([A-Za-z0-9_]+)[[:space:]]*=[[:space:]]*([0-9]+);/\1oneof _\3 { \2 \3 = \4; }/' \
    "$proto" > "$work/$(basename "$proto")"
done

out="$work/out"
mkdir -p "$out"
protoc-c -I"$work" -I"$include" --c_out="$out" "$work"/*.proto
protoc-c -I"$include" --c_out="$out" google/protobuf/struct.proto

rm -rf Generated
mkdir -p Generated/include
cp "$out"/*.pb-c.c Generated/
cp "$out"/google/protobuf/struct.pb-c.c Generated/struct.pb-c.c
mkdir -p Generated/include/google/protobuf
cp "$out"/*.pb-c.h Generated/include/
cp "$out"/google/protobuf/struct.pb-c.h Generated/include/google/protobuf/
# The module SwiftPM imports as CModelServiceProto.
cat > Generated/include/module.modulemap <<'H'
module CModelServiceProto {
    header "model_service.pb-c.h"
    header "health.pb-c.h"
    header "google/protobuf/struct.pb-c.h"
    export *
}
H
