#!/usr/bin/env bash
# Makes sure a C compiler is installed and dvm-spawn is built (the native spawner's tests need it; Debian's gcc
# when missing). `npm install` builds it already where a compiler is; this builds it again and fails if it cannot.
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! command -v cc >/dev/null && ! command -v gcc >/dev/null; then
  echo "== installing gcc"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq gcc libc6-dev >/dev/null
fi
echo "== building dvm-spawn"
npm run --silent build:native
