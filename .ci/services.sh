#!/usr/bin/env bash
# Starts the real services the tests need (called by .ci/run; also usable on a developer machine).
set -euo pipefail
cd "$(dirname "$0")/.."
for script in scripts/services/*.sh; do bash "$script"; done
