#!/usr/bin/env bash
# Makes sure the machine can run the RabbitMQ integration tests: they start their own RabbitMQ
# nodes as child processes (see dataplane/test/support/rabbitmq-harness.ts) and only need the
# rabbitmq-server binary. Idempotent: installs Debian's rabbitmq-server only when it is missing,
# and always makes sure no system node (or its epmd) started by the package keeps running.
set -euo pipefail

say() { echo "provision-rabbitmq: $*"; }

can_root=true
if [ "$(id -u)" -eq 0 ]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1; then
  as_root=(sudo)
else
  can_root=false
  as_root=()
fi

# Debian puts rabbitmq-server in /usr/sbin, which is not on every user's PATH.
export PATH="$PATH:/usr/sbin:/sbin"

if command -v rabbitmq-server >/dev/null 2>&1; then
  say "rabbitmq-server already present ($(command -v rabbitmq-server))"
else
  if [ "$can_root" = false ]; then
    echo "provision-rabbitmq: rabbitmq-server is missing and installing it needs root;" \
      "run this script as root or install sudo (Debian package: rabbitmq-server)" >&2
    exit 1
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "provision-rabbitmq: rabbitmq-server is missing and apt-get is not available;" \
      "install RabbitMQ (>= 3.10) by hand so that rabbitmq-server is on PATH" >&2
    exit 1
  fi
  say "installing rabbitmq-server with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  "${as_root[@]}" apt-get update -qq
  "${as_root[@]}" apt-get install -y -qq --no-install-recommends rabbitmq-server >/dev/null
  say "installed rabbitmq-server $(dpkg-query -W -f='${Version}' rabbitmq-server 2>/dev/null || echo '?')"
fi

# The package may start a system node on 5672 (and epmd on 4369). The tests start their own
# nodes on free ports with their own epmd and must never talk to a shared node by mistake.
if [ "$can_root" = false ]; then
  say "not root and no sudo: cannot stop a system RabbitMQ node, if any (skipped)"
  exit 0
fi
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  "${as_root[@]}" systemctl disable --now rabbitmq-server epmd.socket epmd.service >/dev/null 2>&1 || true
fi
# Only the package's node runs as the rabbitmq user; the tests' nodes run as the test user.
# (Checked first: `service rabbitmq-server stop` runs rabbitmqctl, which itself starts an epmd.)
if pgrep -u rabbitmq -f beam.smp >/dev/null 2>&1; then
  if command -v service >/dev/null 2>&1; then
    "${as_root[@]}" service rabbitmq-server stop >/dev/null 2>&1 || true
  fi
  "${as_root[@]}" pkill -KILL -u rabbitmq -f beam.smp || true
  say "stopped the system RabbitMQ node"
else
  say "no system RabbitMQ node running"
fi
# epmd on the default port: only the one the package (or its CLI tools) started.
if pgrep -u rabbitmq -x epmd >/dev/null 2>&1; then
  "${as_root[@]}" pkill -u rabbitmq -x epmd || true
  say "stopped the system epmd on port 4369"
else
  say "no system epmd running"
fi
