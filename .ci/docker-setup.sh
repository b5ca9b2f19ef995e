#!/usr/bin/env bash
# Makes a fresh machine ready for the image tests and builds: the Docker engine installed and running,
# and the local base image (ittd/node-base:24-local) built from the Node of .node-version, since no registry
# is reachable. Idempotent: every step is skipped when already done. Called from .ci/run.
#
#   bash .ci/docker-setup.sh                   # engine + ittd/node-base:24-local
#   bash .ci/docker-setup.sh --compose-images  # also ittd/postgres:local and ittd/redis:local for compose.yaml
#
# Env: DOCKERD_LOG (default /var/log/dockerd.log), DOCKER_WAIT_SECONDS (default 60).
set -euo pipefail
cd "$(dirname "$0")/.."

DOCKERD_LOG="${DOCKERD_LOG:-/var/log/dockerd.log}"
DOCKER_WAIT_SECONDS="${DOCKER_WAIT_SECONDS:-60}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

if ! command -v dockerd >/dev/null 2>&1 || ! command -v docker >/dev/null 2>&1; then
  echo "docker-setup: installing docker.io and docker-compose (Debian packages)"
  $SUDO apt-get update
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y docker.io docker-compose
fi

if ! docker info >/dev/null 2>&1; then
  echo "docker-setup: starting dockerd (log: $DOCKERD_LOG)"
  # setsid + nohup: the engine outlives this script and the CI step that ran it.
  $SUDO setsid nohup dockerd >>"$DOCKERD_LOG" 2>&1 </dev/null &
  for ((waited = 0; waited < DOCKER_WAIT_SECONDS; waited++)); do
    docker info >/dev/null 2>&1 && break
    sleep 1
  done
  if ! docker info >/dev/null 2>&1; then
    echo "docker-setup: dockerd did not answer within ${DOCKER_WAIT_SECONDS}s; last log lines:" >&2
    tail -n 30 "$DOCKERD_LOG" >&2 || true
    exit 1
  fi
fi
docker version --format 'docker-setup: engine {{ .Server.Version }} (API {{ .Server.APIVersion }})'

docker/base-image/build.sh
if [ "${1:-}" = "--compose-images" ]; then
  docker/postgres-image/build.sh
  docker/redis-image/build.sh
fi
