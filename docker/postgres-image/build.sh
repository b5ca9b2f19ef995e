#!/usr/bin/env bash
# Builds ittd/postgres:local for the local compose stack (POSTGRES_IMAGE=ittd/postgres:local) from this
# machine's PostgreSQL server and client binaries (no JIT), with /bin/sh and grep for the compose stack's
# `sh -c` database setup. The entrypoint creates the cluster on first start; trust auth only: a
# development database. No registry needed.
#
#   docker/postgres-image/build.sh [--force]
set -euo pipefail
. "$(dirname "$0")/../rootfs-lib.sh"

IMAGE="${IMAGE:-ittd/postgres:local}"
PG_BIN="$(pg_config --bindir)"
PG_LIB="$(pg_config --pkglibdir)"
PG_SHARE="$(pg_config --sharedir)"
version="$("$PG_BIN/postgres" --version | grep -oE '[0-9]+(\.[0-9]+)?' | head -n 1)"
tools=(postgres initdb pg_ctl pg_isready psql createdb dropdb pg_dump pg_restore)

image_lock "$IMAGE"
recipe="$(image_recipe "${tools[@]/#/$PG_BIN/}" "$0" "$(dirname "$0")/entrypoint.sh" "$(dirname "$0")/../rootfs-lib.sh")"
if [[ "${1:-}" != "--force" ]] && image_is_current "$IMAGE" "$recipe"; then
  echo "postgres-image: $IMAGE is up to date (PostgreSQL $version)"
  exit 0
fi

rootfs="$(mktemp -d)"
trap 'rm -rf "$rootfs"' EXIT
for tool in "${tools[@]}"; do rootfs_add_binary "$rootfs" "$PG_BIN/$tool" "$PG_BIN/$tool"; done
# Loadable modules (plpgsql, contrib) with their libraries; not the LLVM JIT (hundreds of MB).
for module in "$PG_LIB"/*.so; do
  case "$(basename "$module")" in llvmjit*) continue ;; esac
  rootfs_add_binary "$rootfs" "$module" "$module"
done
mkdir -p "$rootfs$(dirname "$PG_SHARE")" "$rootfs/usr/share"
cp -a "$PG_SHARE" "$rootfs$PG_SHARE"
cp -a /usr/share/zoneinfo "$rootfs/usr/share/zoneinfo"
rootfs_add_binary "$rootfs" "$(command -v dash)" /bin/sh
rootfs_add_binary "$rootfs" "$(command -v grep)" /bin/grep
install -D -m 0755 "$(dirname "$0")/entrypoint.sh" "$rootfs/usr/local/bin/docker-entrypoint.sh"
rootfs_add_system "$rootfs" postgres 999 /var/lib/postgresql
install -d -m 0700 -o 999 -g 999 "$rootfs/var/lib/postgresql/data"
install -d -m 2775 -o 999 -g 999 "$rootfs/var/run/postgresql"

rootfs_import "$rootfs" "$IMAGE" "$recipe" \
  --change "ENV PATH=$PG_BIN:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
  --change 'ENV PGDATA=/var/lib/postgresql/data' \
  --change "LABEL org.opencontainers.image.title=ittd/postgres org.opencontainers.image.version=$version" \
  --change 'USER 999:999' \
  --change 'EXPOSE 5432' \
  --change 'VOLUME /var/lib/postgresql/data' \
  --change 'ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]' \
  --change 'CMD ["postgres"]'
