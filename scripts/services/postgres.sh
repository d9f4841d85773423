#!/usr/bin/env bash
# Starts a PostgreSQL for dvm's tests on 127.0.0.1:55432 (trust authentication, data in /tmp/dvm-pg; idempotent;
# installs Debian's postgresql when missing). PostgreSQL refuses to run as root, so it runs as `postgres`.
set -euo pipefail
PORT=${DVM_TEST_PG_PORT:-55432}
DATA=/tmp/dvm-pg
BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
if [ -z "$BIN" ] || [ ! -x "$BIN/initdb" ]; then
  echo "== installing postgresql"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq postgresql >/dev/null
  BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
fi
as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
if "$BIN/pg_isready" -h 127.0.0.1 -p "$PORT" -q; then
  echo "== postgres already answers on 127.0.0.1:$PORT"
  exit 0
fi
if [ ! -f "$DATA/PG_VERSION" ]; then
  rm -rf "$DATA"
  mkdir -p "$DATA"
  [ "$(id -u)" = 0 ] && chown postgres:postgres "$DATA"
  as_postgres "$BIN/initdb" -D "$DATA" -U postgres --auth=trust -E UTF8 >/dev/null
fi
as_postgres "$BIN/pg_ctl" -D "$DATA" -l "$DATA/server.log" -w -t 60 \
  -o "-c listen_addresses=127.0.0.1 -c port=$PORT -c unix_socket_directories=/tmp -c fsync=on" start >/dev/null
"$BIN/pg_isready" -h 127.0.0.1 -p "$PORT" -t 30
echo "== postgres ready on 127.0.0.1:$PORT"
