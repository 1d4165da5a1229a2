#!/bin/bash
# apache/kafka's start: server.properties from the KAFKA_* variables (kafka-properties.sh), the
# log directories formatted once with CLUSTER_ID, then the broker in the foreground, so that the
# container's SIGTERM reaches the JVM and the broker shuts down in its controlled way.
set -euo pipefail
config=/opt/kafka/config/server.properties
/opt/kafka/bin/kafka-properties.sh > "$config"
# No KAFKA_* setting at all: the official image's single node on localhost:9092.
if [ ! -s "$config" ]; then cp /opt/kafka/config/default.properties "$config"; fi
grep -q '^log\.dirs=' "$config" || echo 'log.dirs=/var/lib/kafka/data' >> "$config"

# Formatting writes meta.properties into every log directory; a restart keeps what is there.
log_dir=$(sed -n 's/^log\.dirs=//p' "$config" | cut -d, -f1)
if [ ! -f "$log_dir/meta.properties" ]; then
  /opt/kafka/bin/kafka-storage.sh format --cluster-id "${CLUSTER_ID:-5L6g3nShT-eMCtK--X86sw}" --config "$config" --ignore-formatted
fi

# shellcheck disable=SC2086 # the options are lists of JVM flags
exec java ${KAFKA_HEAP_OPTS:--Xmx1G -Xms1G} ${KAFKA_JVM_PERFORMANCE_OPTS:--server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:+ExplicitGCInvokesConcurrent} \
  ${KAFKA_OPTS:-} ${KAFKA_LOG4J_OPTS:--Dlog4j2.configurationFile=/opt/kafka/config/log4j2.xml} \
  -cp '/opt/kafka/libs/*' kafka.Kafka "$config"
