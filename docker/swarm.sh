#!/usr/bin/env bash
# `npm run swarm -- up|down|status`: the local Docker Swarm the `local-swarm` environment deploys to.
#
#   up      makes this engine a single-node swarm manager when it is not one yet (`docker swarm init
#           --advertise-addr 127.0.0.1`), creates the overlay network ittd-local-swarm and runs Postgres and
#           Redis on it as Swarm services (aliases `postgres` and `redis`, as in compose), from the same images
#           as `npm run stack` (the defaults when present or pullable, else the images built from this
#           machine), and an edge load balancer (HAProxy) publishing every service's port on 127.0.0.1,
#           then creates each service's database and the Docker secrets its local-swarm env
#           references (with the values of its `local` env). Idempotent.
#   down    removes every service, secret, data volume, the network and the deploy records of local-swarm; leaves the swarm when
#           `up` initialised it (a swarm that was there before is left as it was).
#   status  the services of local-swarm and their tasks.
#
# Then: npx nx run-many -t deploy -c local-swarm   (or npx nx deploy applets -c local-swarm)
set -euo pipefail
cd "$(dirname "$0")/.."

ENVIRONMENT=local-swarm
NETWORK="ittd-$ENVIRONMENT"
# Marks a swarm `up` initialised (a node label), so `down` leaves only a swarm it created.
MARK=ittd.local-swarm.initialised

. docker/images-lib.sh
require_engine swarm

swarm_state() { docker info --format '{{.Swarm.LocalNodeState}}'; }

wait_running() { # wait_running SERVICE: until its task runs (healthy), at most 120 s
  for _ in $(seq 1 120); do
    if docker service ps "$1" --filter desired-state=running --format '{{.CurrentState}}' | grep -q '^Running'; then return 0; fi
    sleep 1
  done
  echo "swarm: $1 did not start within 120 s:" >&2
  docker service ps --no-trunc "$1" >&2
  exit 1
}

up() {
  if [ "$(swarm_state)" != active ]; then
    docker swarm init --advertise-addr 127.0.0.1 >/dev/null
    docker node update --label-add "$MARK=true" "$(docker info --format "{{.Swarm.NodeID}}")" >/dev/null
    echo "swarm: this engine is now a single-node swarm manager (docker swarm init)"
  fi
  docker network inspect "$NETWORK" >/dev/null 2>&1 ||
    docker network create --driver overlay --attachable --label "ittd.environment=$ENVIRONMENT" "$NETWORK" >/dev/null
  pick POSTGRES_IMAGE postgres:16-bookworm ittd/postgres:local docker/postgres-image/build.sh
  pick REDIS_IMAGE redis:7-bookworm ittd/redis:local docker/redis-image/build.sh
  # The services' base, as docker-build needs it (the hint below says which one to deploy with).
  pick BASE_IMAGE node:24-bookworm-slim ittd/node-base:24-local docker/base-image/build.sh
  # Endpoint mode dnsrr everywhere: no virtual IPs, which need IPVS in the host's kernel (not every host has it).
  if ! docker service inspect "$ENVIRONMENT-postgres" >/dev/null 2>&1; then
    docker service create --quiet --detach --no-resolve-image --name "$ENVIRONMENT-postgres" --network "name=$NETWORK,alias=postgres" \
      --endpoint-mode dnsrr \
      --mount "type=volume,source=$ENVIRONMENT-postgres-data,target=/var/lib/postgresql/data,volume-label=ittd.environment=$ENVIRONMENT" \
      --label "ittd.environment=$ENVIRONMENT" --env POSTGRES_HOST_AUTH_METHOD=trust \
      --health-cmd 'pg_isready -U postgres' --health-interval 1s --health-retries 60 "$POSTGRES_IMAGE" >/dev/null
  fi
  if ! docker service inspect "$ENVIRONMENT-redis" >/dev/null 2>&1; then
    docker service create --quiet --detach --no-resolve-image --name "$ENVIRONMENT-redis" --network "name=$NETWORK,alias=redis" \
      --endpoint-mode dnsrr \
      --mount "type=volume,source=$ENVIRONMENT-redis-data,target=/data,volume-label=ittd.environment=$ENVIRONMENT" \
      --label "ittd.environment=$ENVIRONMENT" \
      "$REDIS_IMAGE" redis-server --bind 0.0.0.0 --protected-mode no --appendonly yes >/dev/null
  fi
  # The edge: HAProxy publishing every service port on this node (host mode), balancing over the healthy
  # tasks (tools/nx-plugin/src/manifests/swarm-edge.ts says how and why).
  pick EDGE_IMAGE haproxy:2.8 ittd/haproxy:local docker/haproxy-image/build.sh
  local cfg ports config publish=()
  cfg="$(mktemp)"
  ports="$(npx tsx tools/nx-plugin/src/cli/swarm-edge-cli.ts "$ENVIRONMENT" 2>&1 >"$cfg")"
  config="$ENVIRONMENT-edge-$(sha256sum "$cfg" | cut -c1-12)"
  docker config inspect "$config" >/dev/null 2>&1 ||
    docker config create --label "ittd.environment=$ENVIRONMENT" "$config" "$cfg" >/dev/null
  rm -f "$cfg"
  for port in $ports; do publish+=(--publish "mode=host,target=$port,published=$port"); done
  if ! docker service inspect "$ENVIRONMENT-edge" >/dev/null 2>&1; then
    docker service create --quiet --detach --no-resolve-image --name "$ENVIRONMENT-edge" --network "$NETWORK" \
      --label "ittd.environment=$ENVIRONMENT" "${publish[@]}" \
      --config "source=$config,target=/usr/local/etc/haproxy/haproxy.cfg,mode=0444" "$EDGE_IMAGE" >/dev/null
  elif [ "$(docker service inspect "$ENVIRONMENT-edge" --format '{{(index .Spec.TaskTemplate.ContainerSpec.Configs 0).ConfigName}}')" != "$config" ]; then
    docker service update --quiet --detach --config-rm "$(docker service inspect "$ENVIRONMENT-edge" --format '{{(index .Spec.TaskTemplate.ContainerSpec.Configs 0).ConfigName}}')" \
      --config-add "source=$config,target=/usr/local/etc/haproxy/haproxy.cfg,mode=0444" "$ENVIRONMENT-edge" >/dev/null
  fi
  wait_running "$ENVIRONMENT-postgres"
  wait_running "$ENVIRONMENT-redis"
  wait_running "$ENVIRONMENT-edge"
  local container
  container="$(docker ps -q --filter "label=com.docker.swarm.service.name=$ENVIRONMENT-postgres" | head -n 1)"
  # Each service's database; each secret reference of local-swarm gets the value the `local` env has.
  node -e '
    const fs = require("fs");
    for (const dir of fs.readdirSync("apps")) {
      let d; try { d = JSON.parse(fs.readFileSync(`apps/${dir}/service.json`, "utf8")); } catch { continue; }
      const env = (d.env && d.env["local-swarm"]) || {};
      if (typeof env.DATABASE_URL === "string") console.log(`db\t${new URL(env.DATABASE_URL).pathname.slice(1)}`);
      for (const [key, value] of Object.entries(env)) {
        if (value && typeof value === "object") console.log(`secret\t'$ENVIRONMENT'-${dir}-${value.secret}\t${d.env.local[key]}`);
      }
    }' | while IFS=$'\t' read -r kind name value; do
    if [ "$kind" = db ]; then
      docker exec "$container" sh -c "psql -U postgres -tAc \"SELECT 1 FROM pg_database WHERE datname = '$name'\" | grep -q 1 || createdb -U postgres $name"
    elif ! docker secret inspect "$name" >/dev/null 2>&1; then
      printf '%s' "$value" | docker secret create --label "ittd.environment=$ENVIRONMENT" "$name" - >/dev/null
    fi
  done
  echo "swarm: $ENVIRONMENT is up (network $NETWORK; postgres, redis and the edge running); deploy with:"
  echo "  BASE_IMAGE=$BASE_IMAGE npx nx run-many -t deploy -c $ENVIRONMENT --output-style=stream"
}

down() {
  if [ "$(swarm_state)" != active ]; then echo "swarm: not a swarm; nothing to do"; return 0; fi
  local services configs secrets
  services="$(docker service ls -q --filter "label=ittd.environment=$ENVIRONMENT")"
  [ -z "$services" ] || docker service rm $services >/dev/null
  configs="$(docker config ls -q --filter "label=ittd.deploy.environment=$ENVIRONMENT")"
  [ -z "$configs" ] || docker config rm $configs >/dev/null
  secrets="$(docker secret ls -q --filter "label=ittd.environment=$ENVIRONMENT")"
  [ -z "$secrets" ] || docker secret rm $secrets >/dev/null
  for _ in $(seq 1 60); do
    docker network rm "$NETWORK" >/dev/null 2>&1 && break
    docker network inspect "$NETWORK" >/dev/null 2>&1 || break
    sleep 1
  done
  configs="$(docker config ls -q --filter "label=ittd.environment=$ENVIRONMENT")"
  [ -z "$configs" ] || docker config rm $configs >/dev/null
  # The data volumes, once their containers are gone (removing a service removes its containers shortly after).
  local volumes
  for _ in $(seq 1 30); do
    volumes="$(docker volume ls -q --filter "label=ittd.environment=$ENVIRONMENT")"
    [ -z "$volumes" ] && break
    docker volume rm $volumes >/dev/null 2>&1 && break
    sleep 1
  done
  if [ "$(docker node inspect self --format "{{index .Spec.Labels \"$MARK\"}}")" = true ]; then
    docker swarm leave --force >/dev/null
    echo "swarm: removed $ENVIRONMENT and left the swarm swarm.sh had initialised"
  else
    echo "swarm: removed $ENVIRONMENT (the swarm was there before: left as it is)"
  fi
}

status() {
  docker service ls --filter "label=ittd.environment=$ENVIRONMENT"
  for s in $(docker service ls -q --filter "label=ittd.environment=$ENVIRONMENT"); do docker service ps "$s"; done
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) status ;;
  *) echo "usage: npm run swarm -- up|down|status" >&2; exit 64 ;;
esac
