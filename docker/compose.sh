#!/usr/bin/env bash
# Runs Docker Compose with whatever this machine has: the `docker compose` plugin (Compose v2, Docker Desktop
# and docker-ce) or Debian's standalone `docker-compose` (v1.29). Arguments pass through.
#   docker/compose.sh up --build
set -euo pipefail
cd "$(dirname "$0")/.."
if docker compose version >/dev/null 2>&1; then
  exec docker compose "$@"
fi
exec docker-compose "$@"
