#!/usr/bin/env bash
# Builds ittd/node-base:20-local, a local stand-in for node:20-bookworm-slim, from what this machine has:
# its Node 20 binary and the shared libraries `ldd` lists, CA certificates, /etc/passwd + /etc/group with
# `root` and `node` (uid/gid 1000), /tmp (1777) and /home/node. No shell, no package manager: the service
# images add only their bundle on top. Loaded with `docker import` (no registry is needed).
#
#   docker/base-image/build.sh            # builds unless the image of this node + this script is there
#   docker/base-image/build.sh --force    # rebuilds
#   BASE_IMAGE=ittd/node-base:20-local npx nx run applets:docker-build
#
# Env: NODE_BIN (default: `command -v node`), IMAGE (default ittd/node-base:20-local).
set -euo pipefail
. "$(dirname "$0")/../rootfs-lib.sh"

IMAGE="${IMAGE:-ittd/node-base:20-local}"
NODE_BIN="$(readlink -f "${NODE_BIN:-$(command -v node)}")"

node_version="$("$NODE_BIN" --version)"
case "$node_version" in
  v20.*) ;;
  *) echo "base-image: $NODE_BIN is Node $node_version, expected Node 20" >&2; exit 1 ;;
esac

image_lock "$IMAGE"
recipe="$(image_recipe "$NODE_BIN" "$0" "$(dirname "$0")/../rootfs-lib.sh")"
if [[ "${1:-}" != "--force" ]] && image_is_current "$IMAGE" "$recipe"; then
  echo "base-image: $IMAGE is up to date (node $node_version)"
  exit 0
fi

rootfs="$(mktemp -d)"
trap 'rm -rf "$rootfs"' EXIT
# Where node:20 images have it. Debug info and static symbols stripped (-13 MB); the dynamic symbols that
# native addons link against stay.
rootfs_add_binary "$rootfs" "$NODE_BIN" /usr/local/bin/node
if command -v strip >/dev/null 2>&1; then strip --strip-all "$rootfs/usr/local/bin/node"; fi
rootfs_add_system "$rootfs" node 1000 /home/node

rootfs_import "$rootfs" "$IMAGE" "$recipe" \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change "ENV NODE_VERSION=${node_version#v}" \
  --change 'LABEL org.opencontainers.image.title=ittd/node-base' \
  --change 'LABEL org.opencontainers.image.description="Node 20 runtime from the local machine, no shell"' \
  --change 'CMD ["node"]'
