#!/bin/bash
# The postgres image's start. On the first start (an empty PGDATA): initdb as POSTGRES_USER with
# POSTGRES_PASSWORD, a server on the socket only that creates POSTGRES_DB and runs
# /docker-entrypoint-initdb.d/*.sql and *.sh, stopped again. Then the server on every interface.
set -Eeuo pipefail
if [ "${1:0:1}" = '-' ]; then set -- postgres "$@"; fi
if [ "$1" != postgres ]; then exec "$@"; fi

if [ "$(id -u)" = 0 ]; then
  mkdir -p "$PGDATA"
  chown postgres:postgres "$PGDATA"
  chmod 700 "$PGDATA"
  exec setpriv --reuid=postgres --regid=postgres --init-groups "${BASH_SOURCE[0]}" "$@"
fi

: "${POSTGRES_USER:=postgres}" "${POSTGRES_DB:=$POSTGRES_USER}" "${POSTGRES_PASSWORD:=}" "${POSTGRES_HOST_AUTH_METHOD:=}"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  if [ -z "$POSTGRES_PASSWORD" ] && [ "$POSTGRES_HOST_AUTH_METHOD" != trust ]; then
    echo 'The database is not initialised and no superuser password is set: set POSTGRES_PASSWORD, or POSTGRES_HOST_AUTH_METHOD=trust to connect without one.' >&2
    exit 1
  fi
  pwfile=$(mktemp)
  printf '%s\n' "$POSTGRES_PASSWORD" > "$pwfile"
  # shellcheck disable=SC2086 # a list of initdb's options
  initdb --username="$POSTGRES_USER" --pgdata="$PGDATA" ${POSTGRES_PASSWORD:+--pwfile="$pwfile"} ${POSTGRES_INITDB_ARGS:-}
  rm -f "$pwfile"
  printf '\nhost all all all %s\n' "${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}" >> "$PGDATA/pg_hba.conf"

  pg_ctl --pgdata="$PGDATA" --options="-c listen_addresses='' -p 5432" --wait start
  psql=(psql -v ON_ERROR_STOP=1 --username="$POSTGRES_USER" --no-password --no-psqlrc)
  if [ "$POSTGRES_DB" != postgres ]; then
    "${psql[@]}" --dbname=postgres --set=db="$POSTGRES_DB" <<< 'CREATE DATABASE :"db";'
  fi
  export PGPASSWORD="${PGPASSWORD:-$POSTGRES_PASSWORD}"
  for file in /docker-entrypoint-initdb.d/*; do
    case "$file" in
      *.sh) echo "running $file"; if [ -x "$file" ]; then "$file"; else . "$file"; fi ;;
      *.sql) echo "running $file"; "${psql[@]}" --dbname="$POSTGRES_DB" -f "$file" ;;
      *.sql.gz) echo "running $file"; gunzip -c "$file" | "${psql[@]}" --dbname="$POSTGRES_DB" ;;
    esac
  done
  unset PGPASSWORD
  pg_ctl --pgdata="$PGDATA" --mode=fast --wait stop
fi

"$@" &
server=$!
# SIGTERM is PostgreSQL's smart shutdown, which waits for every client to disconnect; a container
# that is stopped gets the fast one (SIGINT): clients disconnected, then a clean checkpoint.
trap 'kill -INT "$server"' TERM INT
set +e
wait "$server"
# A trapped signal ends that wait before the server has stopped: wait for the server itself.
wait "$server"
