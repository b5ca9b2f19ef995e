#!/usr/bin/env bash
# Builds ittd/node-base:20-local, a local stand-in for node:20-bookworm-slim, from what this machine has:
# its Node 20 binary and the shared libraries `ldd` lists, CA certificates, /etc/passwd + /etc/group with
# `root` and `node` (uid/gid 1000), /tmp (1777) and /home/node. No shell, no package manager: the service
# images add only their bundle on top. Loaded with `docker import` (no registry is needed).
#
#   docker/base-image/build.sh            # builds unless an image for this Node binary is already there
#   docker/base-image/build.sh --force    # rebuilds
#   BASE_IMAGE=ittd/node-base:20-local npx nx run applets:docker-build
#
# Env: NODE_BIN (default: `command -v node`), IMAGE (default ittd/node-base:20-local).
set -euo pipefail

IMAGE="${IMAGE:-ittd/node-base:20-local}"
NODE_BIN="$(readlink -f "${NODE_BIN:-$(command -v node)}")"
FORCE="${1:-}"

node_version="$("$NODE_BIN" --version)"
case "$node_version" in
  v20.*) ;;
  *) echo "base-image: $NODE_BIN is Node $node_version, expected Node 20" >&2; exit 1 ;;
esac
# The image is up to date when built from this node binary by this very script.
recipe="$(cat "$NODE_BIN" "${BASH_SOURCE[0]}" | sha256sum | cut -c1-64)"

if [[ "$FORCE" != "--force" ]] &&
  [[ "$(docker image inspect -f '{{ index .Config.Labels "dev.ittd.base-recipe" }}' "$IMAGE" 2>/dev/null || true)" == "$recipe" ]]; then
  echo "base-image: $IMAGE is up to date (node $node_version)"
  exit 0
fi

rootfs="$(mktemp -d)"
trap 'rm -rf "$rootfs"' EXIT

# The binary where node:20 images have it, and each library at the path the dynamic loader looks it up.
# Debug info and static symbols stripped (-13 MB); the dynamic symbols native addons link against stay.
install -D -m 0755 "$NODE_BIN" "$rootfs/usr/local/bin/node"
if command -v strip >/dev/null 2>&1; then strip --strip-all "$rootfs/usr/local/bin/node"; fi
ldd "$NODE_BIN" | grep -oE '/[^ ]+' | sort -u | while read -r lib; do
  install -D -m 0755 "$(readlink -f "$lib")" "$rootfs$lib"
done

install -d -m 0755 "$rootfs/etc/ssl/certs" "$rootfs/root"
install -d -m 1777 "$rootfs/tmp"
install -d -m 0755 -o 1000 -g 1000 "$rootfs/home/node"
install -m 0644 /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/ca-certificates.crt"
printf 'root:x:0:0:root:/root:/usr/sbin/nologin\nnode:x:1000:1000::/home/node:/usr/sbin/nologin\n' >"$rootfs/etc/passwd"
printf 'root:x:0:\nnode:x:1000:\n' >"$rootfs/etc/group"
printf 'passwd: files\ngroup: files\nhosts: files dns\n' >"$rootfs/etc/nsswitch.conf"

# Same bytes for the same inputs: sorted names, fixed mtime, numeric owners.
tar --sort=name --mtime=@0 --numeric-owner -C "$rootfs" -cf - . |
  docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change "ENV NODE_VERSION=${node_version#v}" \
    --change "LABEL dev.ittd.base-recipe=$recipe" \
    --change 'LABEL org.opencontainers.image.title=ittd/node-base' \
    --change 'LABEL org.opencontainers.image.description="Node 20 runtime from the local machine, no shell"' \
    --change 'CMD ["node"]' \
    --message "node $node_version from $NODE_BIN" \
    - "$IMAGE" >/dev/null

echo "base-image: built $IMAGE (node $node_version, $(docker image inspect -f '{{ .Size }}' "$IMAGE") bytes)"
