#!/usr/bin/env bash
# Installs every real service the test suite starts for itself: Redis (Debian packages), RabbitMQ
# (Debian packages), Kafka (jars from Maven Central) and kube-apiserver + etcd (built with Go),
# cached under ~/.cache/cacheplane.
# Idempotent; `npm test` runs it first. Each step prints what it did.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bash "$here/provision-redis.sh"
bash "$here/provision-rabbitmq.sh"
bash "$here/provision-kafka.sh"
# kube-apiserver, etcd and kubectl, built from the Go module proxy and cached (minutes on a fresh machine).
bash "$here/provision-kube.sh"
