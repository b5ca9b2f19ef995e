#!/usr/bin/env bash
# Builds ittd/node-base:24-local, a local stand-in for node:24-bookworm-slim, from the Node.js release pinned in
# .node-version (the official build, from the npm registry's node-linux-<arch> package via .ci/install-node.sh,
# or the machine's own `node` when it is that release) and the shared libraries `ldd` lists, CA certificates,
# /etc/passwd + /etc/group with `root` and `node` (uid/gid 1000), /tmp (1777) and /home/node. No shell, no
# package manager: the service images add only their bundle on top. Loaded with `docker import` (no registry is
# needed).
#
#   docker/base-image/build.sh            # builds unless the image of this node + this script is there
#   docker/base-image/build.sh --force    # rebuilds
#   BASE_IMAGE=ittd/node-base:24-local npx nx run applets:docker-build
#
# Env: NODE_BIN (default: the pinned node from .ci/install-node.sh; must be that release),
#      IMAGE (default ittd/node-base:<major of .node-version>-local).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
. "$here/../rootfs-lib.sh"

pinned="$(tr -d ' \t\r\n' <"$root/.node-version")"
pinned="${pinned#v}"
IMAGE="${IMAGE:-ittd/node-base:${pinned%%.*}-local}"
NODE_BIN="$(readlink -f "${NODE_BIN:-$(bash "$root/.ci/install-node.sh")/node}")"

node_version="$("$NODE_BIN" --version)"
if [ "$node_version" != "v$pinned" ]; then
  echo "base-image: $NODE_BIN is Node $node_version, expected v$pinned (.node-version)" >&2
  exit 1
fi

image_lock "$IMAGE"
recipe="$(image_recipe "$NODE_BIN" "$0" "$here/../rootfs-lib.sh")"
if [[ "${1:-}" != "--force" ]] && image_is_current "$IMAGE" "$recipe"; then
  echo "base-image: $IMAGE is up to date (node $node_version)"
  exit 0
fi

rootfs="$(mktemp -d)"
trap 'rm -rf "$rootfs"' EXIT
# Where node:24 images have it. Debug info and static symbols stripped; the dynamic symbols that native addons
# link against stay.
rootfs_add_binary "$rootfs" "$NODE_BIN" /usr/local/bin/node
if command -v strip >/dev/null 2>&1; then strip --strip-all "$rootfs/usr/local/bin/node"; fi
rootfs_add_system "$rootfs" node 1000 /home/node

rootfs_import "$rootfs" "$IMAGE" "$recipe" \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change "ENV NODE_VERSION=${node_version#v}" \
  --change 'LABEL org.opencontainers.image.title=ittd/node-base' \
  --change "LABEL org.opencontainers.image.description=\"Node ${node_version#v} (.node-version) runtime, no shell\"" \
  --change "LABEL org.opencontainers.image.version=${node_version#v}" \
  --change 'CMD ["node"]'
