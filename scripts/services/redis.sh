#!/usr/bin/env bash
# Starts a Redis for dvm's tests on 127.0.0.1:56379 (no persistence; idempotent; installs redis-server when missing).
set -euo pipefail
PORT=${DVM_TEST_REDIS_PORT:-56379}
if ! command -v redis-server >/dev/null; then
  echo "== installing redis-server"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq redis-server >/dev/null
fi
if redis-cli -h 127.0.0.1 -p "$PORT" ping >/dev/null 2>&1; then
  echo "== redis already answers on 127.0.0.1:$PORT"
  exit 0
fi
redis-server --bind 127.0.0.1 --port "$PORT" --save '' --appendonly no --daemonize yes --dir /tmp \
  --logfile /tmp/dvm-redis.log --pidfile /tmp/dvm-redis.pid
for _ in $(seq 1 30); do redis-cli -h 127.0.0.1 -p "$PORT" ping >/dev/null 2>&1 && break; sleep 0.5; done
redis-cli -h 127.0.0.1 -p "$PORT" ping >/dev/null
echo "== redis ready on 127.0.0.1:$PORT"
