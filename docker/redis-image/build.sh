#!/usr/bin/env bash
# Builds ittd/redis:local for the local compose stack (REDIS_IMAGE=ittd/redis:local) from this machine's
# redis-server and redis-cli (the compose healthcheck runs `redis-cli ping`). Runs as uid 999, no
# persistence: a development cache, not a store. No registry needed.
#
#   docker/redis-image/build.sh [--force]
set -euo pipefail
. "$(dirname "$0")/../rootfs-lib.sh"

IMAGE="${IMAGE:-ittd/redis:local}"
server="$(command -v redis-server)"
cli="$(command -v redis-cli)"

image_lock "$IMAGE"
recipe="$(image_recipe "$(readlink -f "$server")" "$(readlink -f "$cli")" "$0" "$(dirname "$0")/../rootfs-lib.sh")"
if [[ "${1:-}" != "--force" ]] && image_is_current "$IMAGE" "$recipe"; then
  echo "redis-image: $IMAGE is up to date"
  exit 0
fi

rootfs="$(mktemp -d)"
trap 'rm -rf "$rootfs"' EXIT
rootfs_add_binary "$rootfs" "$server" /usr/local/bin/redis-server
rootfs_add_binary "$rootfs" "$cli" /usr/local/bin/redis-cli
rootfs_add_system "$rootfs" redis 999 /data

rootfs_import "$rootfs" "$IMAGE" "$recipe" \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'LABEL org.opencontainers.image.title=ittd/redis' \
  --change 'WORKDIR /data' \
  --change 'USER 999:999' \
  --change 'EXPOSE 6379' \
  --change 'CMD ["redis-server", "--bind", "0.0.0.0", "--protected-mode", "no", "--save", "", "--appendonly", "no"]'
