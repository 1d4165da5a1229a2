#!/bin/bash
# The postgres image's start. On the first start (an empty PGDATA): initdb as POSTGRES_USER with
# POSTGRES_PASSWORD, a server on the socket only that creates POSTGRES_DB and runs
# /docker-entrypoint-initdb.d/*.sql and *.sh, stopped again. Then the server on every interface.
set -Eeuo pipefail

# The first initialisation's last step writes this file. A PGDATA with PG_VERSION but without it
# is one whose first start was stopped part-way: POSTGRES_DB, the init scripts' work or the
# superuser's password may be missing, so it is refused rather than served. (The official image
# has no such marker: it starts any PGDATA with PG_VERSION as if its initialisation had finished.)
INITIALISED_MARKER="$PGDATA/docker-entrypoint-initialised"

# As PID 1, a signal without a handler is ignored: `docker stop` would wait for its SIGKILL. So
# from here on a stop before the server runs in the foreground ends the start at once: the
# initialisation's processes and its temporary server stopped, and no marker written.
init_job=
stop_start() {
  trap '' TERM INT
  if [ -n "$init_job" ]; then
    kill -TERM -- "-$init_job" 2> /dev/null || true
    wait "$init_job" 2> /dev/null || true
    pg_ctl --pgdata="$PGDATA" --mode=fast --wait --timeout=5 stop > /dev/null 2>&1 \
      || pg_ctl --pgdata="$PGDATA" --mode=immediate stop > /dev/null 2>&1 || true
    echo "Stopped by $1 during the first initialisation of $PGDATA: it is incomplete and will be refused; remove the data directory before the next start." >&2
  fi
  exit "$2"
}
trap 'stop_start SIGTERM 143' TERM
trap 'stop_start SIGINT 130' INT

if [ "${1:0:1}" = '-' ]; then set -- postgres "$@"; fi
if [ "$1" != postgres ]; then exec "$@"; fi

if [ "$(id -u)" = 0 ]; then
  mkdir -p "$PGDATA"
  chown postgres:postgres "$PGDATA"
  chmod 700 "$PGDATA"
  exec setpriv --reuid=postgres --regid=postgres --init-groups "${BASH_SOURCE[0]}" "$@"
fi

: "${POSTGRES_USER:=postgres}" "${POSTGRES_DB:=$POSTGRES_USER}" "${POSTGRES_PASSWORD:=}" "${POSTGRES_HOST_AUTH_METHOD:=}"

initialise() {
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
  date -u +'initialised %Y-%m-%dT%H:%M:%SZ' > "$INITIALISED_MARKER"
}

if [ -s "$PGDATA/PG_VERSION" ] && [ ! -f "$INITIALISED_MARKER" ]; then
  echo "$PGDATA is half-initialised (PG_VERSION without $(basename "$INITIALISED_MARKER")): its first start was stopped before it finished; remove the data directory (docker compose down -v, or the volume) and start again." >&2
  exit 1
fi
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  if [ -z "$POSTGRES_PASSWORD" ] && [ "$POSTGRES_HOST_AUTH_METHOD" != trust ]; then
    echo 'The database is not initialised and no superuser password is set: set POSTGRES_PASSWORD, or POSTGRES_HOST_AUTH_METHOD=trust to connect without one.' >&2
    exit 1
  fi
  # In the background, in a process group of its own, so that a signal interrupts the wait
  # below at once (a foreground command would hold off the trap until it ended) and reaches
  # every process of the initialisation (stop_start).
  set -m
  initialise &
  init_job=$!
  set +m
  wait "$init_job"
  init_job=
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
