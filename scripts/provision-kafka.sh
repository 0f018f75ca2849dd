#!/usr/bin/env bash
# Fetches the Apache Kafka jars the Kafka integration tests run (see
# dataplane/test/support/kafka-harness.ts) from Maven Central, with Maven, into
# ${CACHEPLANE_CACHE:-$HOME/.cache/cacheplane}/kafka-<version>/lib. Idempotent: does nothing when
# they are already there.
#
# Kafka 3.9.x on purpose: Kafka 4 removed the old protocol versions (KIP-896) that kafkajs 2.2.4
# still speaks, and 3.9 runs KRaft without ZooKeeper.
set -euo pipefail

KAFKA_VERSION="3.9.2"
SCALA_VERSION="2.13"
# Kafka 3.9 logs through slf4j 1.7 to log4j 1 (reload4j), as its own distribution does.
SLF4J_VERSION="1.7.36"

say() { echo "provision-kafka: $*"; }

cache_root="${CACHEPLANE_CACHE:-$HOME/.cache/cacheplane}"
kafka_home="$cache_root/kafka-$KAFKA_VERSION"
lib_dir="$kafka_home/lib"
# Written last, so an interrupted run is redone rather than taken for a complete one.
marker="$kafka_home/.complete"

if [ -f "$marker" ] && compgen -G "$lib_dir/kafka_$SCALA_VERSION-$KAFKA_VERSION.jar" >/dev/null; then
  say "Kafka $KAFKA_VERSION already in $lib_dir ($(find "$lib_dir" -name '*.jar' | wc -l) jars)"
  exit 0
fi

if ! command -v java >/dev/null 2>&1; then
  echo "provision-kafka: java is not on PATH; Kafka $KAFKA_VERSION needs Java 11 or newer" >&2
  exit 1
fi
if ! command -v mvn >/dev/null 2>&1; then
  echo "provision-kafka: mvn is not on PATH; install Maven (Debian package: maven)" >&2
  exit 1
fi

work_dir="$(mktemp -d)"
trap 'rm -rf "$work_dir"' EXIT

say "writing a throwaway pom for kafka_$SCALA_VERSION $KAFKA_VERSION in $work_dir"
cat >"$work_dir/pom.xml" <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>dev.cacheplane.provision</groupId>
  <artifactId>kafka-runtime</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka_$SCALA_VERSION</artifactId>
      <version>$KAFKA_VERSION</version>
    </dependency>
    <dependency>
      <groupId>org.slf4j</groupId>
      <artifactId>slf4j-reload4j</artifactId>
      <version>$SLF4J_VERSION</version>
    </dependency>
  </dependencies>
</project>
EOF

say "downloading Kafka $KAFKA_VERSION and its runtime dependencies from Maven Central"
rm -rf "$lib_dir"
mkdir -p "$lib_dir"
# Maven's own output only matters when it fails.
if ! mvn -q -B -f "$work_dir/pom.xml" dependency:copy-dependencies \
  -DincludeScope=runtime -DoutputDirectory="$lib_dir" >"$work_dir/mvn.log" 2>&1; then
  cat "$work_dir/mvn.log" >&2
  echo "provision-kafka: Maven could not fetch Kafka $KAFKA_VERSION (see above)" >&2
  exit 1
fi

if ! compgen -G "$lib_dir/kafka_$SCALA_VERSION-$KAFKA_VERSION.jar" >/dev/null; then
  echo "provision-kafka: kafka_$SCALA_VERSION-$KAFKA_VERSION.jar is missing from $lib_dir after the download" >&2
  exit 1
fi
touch "$marker"
say "installed Kafka $KAFKA_VERSION in $lib_dir ($(find "$lib_dir" -name '*.jar' | wc -l) jars)"
