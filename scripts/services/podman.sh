#!/usr/bin/env bash
# Starts Podman's Docker-compatible API for dvm's tests on unix:///tmp/dvm-podman.sock (idempotent; installs
# podman when missing) and imports the same local/busybox:1 image the Docker tests use. Storage is vfs under
# /tmp/dvm-podman. This VM's hard limits are below Podman's default ulimits, so containers get explicit ones.
set -euo pipefail
SOCK=/tmp/dvm-podman.sock
DIR=/tmp/dvm-podman
PODMAN=(podman --storage-driver vfs --root "$DIR/root" --runroot "$DIR/run")
if ! command -v podman >/dev/null || ! command -v curl >/dev/null; then
  echo "== installing podman"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq podman busybox-static curl >/dev/null
fi
mkdir -p "$DIR"
printf '[containers]\ndefault_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]\n' >"$DIR/containers.conf"
export CONTAINERS_CONF="$DIR/containers.conf"
# A service started from a directory deleted since (an earlier CI clone) answers, but cannot start containers: conmon
# fails to get its working directory ("write child: broken pipe"). It is stopped, and started again from /.
for pid in $(pgrep -f "system service --time=0 unix://$SOCK" || true); do
  if readlink "/proc/$pid/cwd" 2>/dev/null | grep -q ' (deleted)$'; then
    echo "== restarting the podman API: the directory it was started from is gone"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
  fi
done
if ! curl -sf --unix-socket "$SOCK" http://podman/v1.40/version >/dev/null 2>&1; then
  echo "== starting the podman API on $SOCK"
  rm -f "$SOCK"
  # From /: the service outlives the checkout that started it.
  (cd / && exec nohup "${PODMAN[@]}" system service --time=0 "unix://$SOCK" >"$DIR/service.log" 2>&1) &
  for _ in $(seq 1 30); do
    curl -sf --unix-socket "$SOCK" http://podman/v1.40/version >/dev/null 2>&1 && break
    sleep 0.5
  done
  curl -sf --unix-socket "$SOCK" http://podman/v1.40/version >/dev/null || {
    echo "the podman API did not start; see $DIR/service.log" >&2
    exit 1
  }
fi
if ! "${PODMAN[@]}" image exists local/busybox:1; then
  echo "== importing local/busybox:1 into podman"
  bash "$(dirname "$0")/lib/busybox-rootfs.sh" | "${PODMAN[@]}" import - local/busybox:1 >/dev/null
fi
echo "== podman API ready at unix://$SOCK ($("${PODMAN[@]}" --version))"
