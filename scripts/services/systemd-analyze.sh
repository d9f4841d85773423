#!/usr/bin/env bash
# Makes sure systemd-analyze is installed: the test of examples/agent-deploy/dvm-agent.service verifies the unit
# with it, as an operator would before installing it (Debian's systemd package when missing).
set -euo pipefail
if ! command -v systemd-analyze >/dev/null; then
  echo "== installing systemd (for systemd-analyze)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq systemd >/dev/null
fi
echo "== $(systemd-analyze --version | head -1)"
