#!/usr/bin/env bash
# Starts a Docker Engine for dvm's tests on unix:///tmp/dvm-docker.sock (idempotent; installs docker.io and
# busybox-static from Debian when missing) and builds the local image local/busybox:1 the tests run.
# No registry is reachable here, so images are imported from local files (see ENVIRONMENT.md).
set -euo pipefail
SOCK=/tmp/dvm-docker.sock
export DOCKER_HOST=unix://$SOCK

if ! command -v dockerd >/dev/null || ! [ -x /bin/busybox ]; then
  echo "== installing docker.io and busybox-static"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq docker.io busybox-static >/dev/null
fi

if ! docker info >/dev/null 2>&1; then
  echo "== starting dockerd on $SOCK"
  rm -f "$SOCK" /tmp/dvm-docker.pid
  # From /: the daemon outlives the checkout that started it.
  (cd / && exec nohup dockerd --storage-driver=vfs --iptables=false --bridge=none \
    -H "unix://$SOCK" --data-root /tmp/dvm-docker --exec-root /tmp/dvm-docker-exec \
    --pidfile /tmp/dvm-docker.pid >/tmp/dvm-docker.log 2>&1) &
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && break
    sleep 1
  done
  docker info >/dev/null 2>&1 || { echo "dockerd did not start; see /tmp/dvm-docker.log" >&2; tail -20 /tmp/dvm-docker.log >&2; exit 1; }
fi

# An image built from a 0700 directory cannot be entered by a non-root user (services that run as postgres):
# rebuild it if so.
if docker image inspect local/busybox:1 >/dev/null 2>&1 &&
  ! docker run --rm --user 65534 --network none local/busybox:1 /bin/true >/dev/null 2>&1; then
  docker rmi -f local/busybox:1 >/dev/null
fi
if ! docker image inspect local/busybox:1 >/dev/null 2>&1; then
  echo "== building local/busybox:1"
  bash "$(dirname "$0")/lib/busybox-rootfs.sh" | docker import - local/busybox:1 >/dev/null
fi
echo "== docker ready at $DOCKER_HOST ($(docker version --format '{{.Server.Version}}'))"
