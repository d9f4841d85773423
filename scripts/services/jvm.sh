#!/usr/bin/env bash
# Makes sure a JDK (java, javac, jcmd) is installed for the jvm.* tests (Debian's default-jdk-headless when missing).
set -euo pipefail
if command -v javac >/dev/null && command -v jcmd >/dev/null; then
  echo "== JDK present ($(javac -version 2>&1))"
  exit 0
fi
echo "== installing default-jdk-headless"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq default-jdk-headless >/dev/null
echo "== JDK installed ($(javac -version 2>&1))"
