#!/bin/sh
# Entrypoint of ittd/postgres:local: creates the cluster on first start (trust auth, UTF8, C locale),
# listening on all interfaces of the container, then runs the command (postgres by default).
set -e
: "${PGDATA:=/var/lib/postgresql/data}"
auth="${POSTGRES_HOST_AUTH_METHOD:-trust}"
if [ "$auth" != trust ]; then
  echo "ittd/postgres:local supports POSTGRES_HOST_AUTH_METHOD=trust only (local development)" >&2
  exit 64
fi
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  initdb -D "$PGDATA" -U "${POSTGRES_USER:-postgres}" --auth=trust --encoding=UTF8 --locale=C >/dev/null
  echo "listen_addresses = '*'" >>"$PGDATA/postgresql.conf"
  echo "host all all all trust" >>"$PGDATA/pg_hba.conf"
fi
exec "$@"
