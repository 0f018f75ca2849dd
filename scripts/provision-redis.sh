#!/usr/bin/env bash
# Makes sure the machine can run the integration tests: they start their own redis-server
# processes (see dataplane/test/support/redis-harness.ts) and need redis-server and redis-cli.
# Idempotent: does nothing when both are already on PATH. Installs Debian's packages otherwise.
set -euo pipefail

say() { echo "provision-redis: $*"; }

if command -v redis-server >/dev/null 2>&1 && command -v redis-cli >/dev/null 2>&1; then
  say "redis-server and redis-cli already present ($(redis-server --version | cut -d' ' -f3))"
  exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1; then
  as_root=(sudo)
else
  echo "provision: redis-server/redis-cli are missing and installing them needs root;" \
    "run this script as root or install sudo (Debian packages: redis-server redis-tools)" >&2
  exit 1
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "provision: redis-server/redis-cli are missing and apt-get is not available;" \
    "install redis-server and redis-cli (Redis >= 7) by hand" >&2
  exit 1
fi

say "installing redis-server and redis-tools with apt-get"
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" apt-get install -y -qq --no-install-recommends redis-server redis-tools >/dev/null
say "installed $(redis-server --version | cut -d' ' -f3)"

# The package may start a system Redis on the default port; the tests start their own servers
# on free ports and must never talk to a shared one by mistake, so stop it.
if command -v service >/dev/null 2>&1; then
  "${as_root[@]}" service redis-server stop >/dev/null 2>&1 || true
fi
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  "${as_root[@]}" systemctl disable --now redis-server >/dev/null 2>&1 || true
fi
if pgrep -f 'redis-server 127.0.0.1:6379' >/dev/null 2>&1; then
  "${as_root[@]}" pkill -f 'redis-server 127.0.0.1:6379' || true
  say "stopped the system redis-server on 127.0.0.1:6379"
else
  say "no system redis-server left running on 127.0.0.1:6379"
fi
