# Sourced by docker/stack.sh and docker/swarm.sh: the engine check and the choice of each infrastructure image.
#
# require_engine NAME: exits 1 with a hint when no Docker engine answers.
# pick VAR DEFAULT LOCAL BUILD_SCRIPT: exports VAR as DEFAULT when this machine has it or can pull it within
#   ${STACK_PULL_TIMEOUT:-20} seconds, else builds LOCAL with BUILD_SCRIPT (from this machine's binaries, once)
#   and exports that, adding it to LOCAL_BUILT. A VAR set by the caller is used as it is.

LOCAL_BUILT=()

require_engine() {
  if ! docker info >/dev/null 2>&1; then
    echo "$1: no Docker engine answers (docker info failed); start one, or run: bash .ci/docker-setup.sh" >&2
    exit 1
  fi
}

has_or_pulls() {
  docker image inspect "$1" >/dev/null 2>&1 && return 0
  timeout "${STACK_PULL_TIMEOUT:-20}" docker pull --quiet "$1" >/dev/null 2>&1
}

pick() {
  local var="$1" default="$2" local_image="$3" build="$4"
  if [ -n "${!var:-}" ]; then return 0; fi
  if has_or_pulls "$default"; then
    export "$var=$default"
  else
    bash "$build" >/dev/null
    export "$var=$local_image"
    LOCAL_BUILT+=("$local_image")
  fi
}
