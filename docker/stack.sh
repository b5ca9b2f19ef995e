#!/usr/bin/env bash
# `npm run stack`: bundles every service, then runs the whole engine with Docker Compose (compose.yaml).
# Images: the defaults of compose.yaml (postgres:16-bookworm, redis:7-bookworm, node:24-bookworm-slim as the
# services' base) when this machine has them or can pull them; otherwise (no registry reachable, as on our CI
# machines) it builds the local ones from the machine's own binaries once (docker/*-image/build.sh: a few
# seconds each, reused later) and says so in one line. POSTGRES_IMAGE, REDIS_IMAGE and BASE_IMAGE set by the
# caller are used as they are. Extra arguments go to `docker compose up` (default: --build).
#
#   npm run stack                 # or: bash docker/stack.sh --build --detach
#   STACK_PULL_TIMEOUT=30 npm run stack
set -euo pipefail
cd "$(dirname "$0")/.."

. docker/images-lib.sh
require_engine stack

pick POSTGRES_IMAGE postgres:16-bookworm ittd/postgres:local docker/postgres-image/build.sh
pick REDIS_IMAGE redis:7-bookworm ittd/redis:local docker/redis-image/build.sh
pick BASE_IMAGE node:24-bookworm-slim ittd/node-base:24-local docker/base-image/build.sh
if [ "${#LOCAL_BUILT[@]}" -gt 0 ]; then
  echo "stack: default images not available (no registry reachable?); using images built from this machine: ${LOCAL_BUILT[*]}"
fi

npx nx run-many -t bundle --output-style=static
[ "$#" -gt 0 ] || set -- --build
exec bash docker/compose.sh up "$@"
