#!/usr/bin/env bash
# Installs every real service the test suite starts for itself: Redis (Debian packages), RabbitMQ
# (Debian packages) and Kafka (jars from Maven Central, cached under ~/.cache/cacheplane).
# Idempotent; `npm test` runs it first. Each step prints what it did.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bash "$here/provision-redis.sh"
bash "$here/provision-rabbitmq.sh"
bash "$here/provision-kafka.sh"
