#!/usr/bin/env bash
# Writes to stdout a tar of the smallest root filesystem the container tests use: busybox with a few applet
# links, /tmp, and directories a non-root user can enter. Import it with `docker import - local/busybox:1`
# (or podman's). Needs /bin/busybox (Debian: busybox-static).
set -euo pipefail
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
mkdir -p "$dir/bin" "$dir/tmp"
chmod 755 "$dir" "$dir/bin"
chmod 1777 "$dir/tmp"
cp /bin/busybox "$dir/bin/busybox"
for tool in sh echo sleep cat ls printf seq true false date; do ln -s busybox "$dir/bin/$tool"; done
tar -C "$dir" -c .
