#!/usr/bin/env bash
# Makes sure the openssl command is installed: the TLS tests of `dvm serve` make their certificate with it, as an
# operator would (Debian's openssl when missing).
set -euo pipefail
if ! command -v openssl >/dev/null; then
  echo "== installing openssl"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq openssl >/dev/null
fi
echo "== $(openssl version)"
