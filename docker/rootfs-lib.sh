# Shared by the local image scripts (base-image, postgres-image, redis-image): a minimal root file system
# made of this machine's binaries and the shared libraries `ldd` lists, loaded with `docker import`.
# Source it: `. "$(dirname "$0")/../rootfs-lib.sh"`.

# rootfs_add_binary <rootfs> <binary> [<path in image>]: the binary (symlinks resolved) and its libraries,
# each library at the path the dynamic loader looks it up.
rootfs_add_binary() {
  local rootfs="$1" binary dest lib
  binary="$(readlink -f "$2")"
  dest="${3:-$2}"
  install -D -m 0755 "$binary" "$rootfs$dest"
  # A module may link nothing beyond its host binary: no path in ldd's output is fine.
  ldd "$binary" | { grep -oE '/[^ ]+' || true; } | sort -u | while read -r lib; do
    [ -e "$rootfs$lib" ] || install -D -m 0755 "$(readlink -f "$lib")" "$rootfs$lib"
  done
}

# rootfs_add_system <rootfs> <user> <uid> <home>: /etc/passwd + group (root and <user>), nsswitch, CA
# certificates, /tmp (1777), /root and the user's home owned by it.
rootfs_add_system() {
  local rootfs="$1" user="$2" uid="$3" home="$4"
  install -d -m 0755 "$rootfs/etc/ssl/certs"
  install -d -m 0700 "$rootfs/root"
  install -d -m 1777 "$rootfs/tmp"
  install -d -m 0755 -o "$uid" -g "$uid" "$rootfs$home"
  install -m 0644 /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/ca-certificates.crt"
  printf 'root:x:0:0:root:/root:/usr/sbin/nologin\n%s:x:%s:%s::%s:/usr/sbin/nologin\n' "$user" "$uid" "$uid" "$home" \
    >"$rootfs/etc/passwd"
  printf 'root:x:0:\n%s:x:%s:\n' "$user" "$uid" >"$rootfs/etc/group"
  printf 'passwd: files\ngroup: files\nhosts: files dns\n' >"$rootfs/etc/nsswitch.conf"
}

# image_lock <image>: one build of <image> at a time on this machine (tests may start two at once); the
# second waits, then finds the image up to date.
image_lock() {
  exec 9>"${TMPDIR:-/tmp}/ittd-image-$(echo "$1" | tr '/:' '__').lock"
  flock 9
}

# image_recipe <file>...: a sha256 over the inputs of an image (binaries, scripts), stored as a label.
image_recipe() {
  cat "$@" | sha256sum | cut -c1-64
}

# image_is_current <image> <recipe>: true when <image> exists and was built from <recipe>.
image_is_current() {
  [[ "$(docker image inspect -f '{{ index .Config.Labels "dev.ittd.base-recipe" }}' "$1" 2>/dev/null || true)" == "$2" ]]
}

# rootfs_import <rootfs> <image> <recipe> [docker import --change args...]: loads the rootfs as <image>;
# same bytes for the same inputs (sorted names, fixed mtime, numeric owners).
rootfs_import() {
  local rootfs="$1" image="$2" recipe="$3"
  shift 3
  tar --sort=name --mtime=@0 --numeric-owner -C "$rootfs" -cf - . |
    docker import --change "LABEL dev.ittd.base-recipe=$recipe" "$@" - "$image" >/dev/null
  echo "$(basename "$(dirname "$0")"): built $image ($(docker image inspect -f '{{ .Size }}' "$image") bytes)"
}
