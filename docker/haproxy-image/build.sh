#!/usr/bin/env bash
# Builds ittd/haproxy:local, the edge load balancer of the local swarm (`npm run swarm -- up`), from this
# machine's HAProxy (Debian's `haproxy` package, installed here when missing). For users with a registry
# the default is the official haproxy:2.8 image, which reads the same /usr/local/etc/haproxy/haproxy.cfg.
# No registry needed.
#
#   docker/haproxy-image/build.sh [--force]
set -euo pipefail
. "$(dirname "$0")/../rootfs-lib.sh"

IMAGE="${IMAGE:-ittd/haproxy:local}"
if ! command -v haproxy >/dev/null 2>&1 && [ -x /usr/sbin/haproxy ]; then PATH="$PATH:/usr/sbin"; fi
if ! command -v haproxy >/dev/null 2>&1; then
  echo "haproxy-image: installing Debian's haproxy package (its binary goes into the image)" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q haproxy >/dev/null
  PATH="$PATH:/usr/sbin"
fi
binary="$(command -v haproxy)"

image_lock "$IMAGE"
recipe="$(image_recipe "$(readlink -f "$binary")" "$0" "$(dirname "$0")/../rootfs-lib.sh")"
if [[ "${1:-}" != "--force" ]] && image_is_current "$IMAGE" "$recipe"; then
  echo "haproxy-image: $IMAGE is up to date"
  exit 0
fi

rootfs="$(mktemp -d)"
trap 'rm -rf "$rootfs"' EXIT
rootfs_add_binary "$rootfs" "$binary" /usr/local/sbin/haproxy
rootfs_add_system "$rootfs" haproxy 99 /var/lib/haproxy
mkdir -p "$rootfs/usr/local/etc/haproxy"

rootfs_import "$rootfs" "$IMAGE" "$recipe" \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'LABEL org.opencontainers.image.title=ittd/haproxy' \
  --change 'USER 99:99' \
  --change 'CMD ["haproxy", "-W", "-db", "-f", "/usr/local/etc/haproxy/haproxy.cfg"]'
