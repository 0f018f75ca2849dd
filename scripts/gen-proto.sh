#!/usr/bin/env bash
# Regenerates the TypeScript types of proto/ into dataplane/src/generated (checked in).
# The .proto files stay the one source of truth: the data plane loads them at run time with
# @grpc/proto-loader using the same options, and `npm run proto:check` fails when these types are stale.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out="$root/dataplane/src/generated"
rm -rf "$out"
cd "$root/dataplane"
# Node's ESM resolution and TypeScript's nodenext need explicit extensions on relative imports.
proto-loader-gen-types cache/v1/cache.proto --longs=Number --enums=String --defaults --oneofs \
  --grpcLib=@grpc/grpc-js --importFileExtension=.ts --outDir=src/generated --includeDirs=../proto >/dev/null
