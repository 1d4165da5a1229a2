#!/bin/bash
# apache/kafka's start: server.properties from the KAFKA_* variables (kafka-properties.sh), the
# log directories formatted once with CLUSTER_ID, then the broker in the foreground, so that the
# container's SIGTERM reaches the JVM and the broker shuts down in its controlled way.
set -euo pipefail
# apache/kafka has no entrypoint, only a command that starts the broker: a command given to
# `docker run` replaces it.
if [ $# -gt 0 ]; then exec "$@"; fi

# As PID 1, a signal without a handler is ignored, and a trap waits for the foreground command:
# until the broker's JVM replaces this script, a stop ends the start at once, the step under way
# (formatting) with it.
step=
stop_start() {
  trap '' TERM INT
  if [ -n "$step" ]; then kill -TERM "$step" 2> /dev/null || true; wait "$step" 2> /dev/null || true; fi
  exit "$1"
}
trap 'stop_start 143' TERM
trap 'stop_start 130' INT

config=/opt/kafka/config/server.properties
/opt/kafka/bin/kafka-properties.sh > "$config"
# No KAFKA_* setting at all: the official image's single node on localhost:9092.
if [ ! -s "$config" ]; then cp /opt/kafka/config/default.properties "$config"; fi
grep -q '^log\.dirs=' "$config" || echo 'log.dirs=/var/lib/kafka/data' >> "$config"

# Formatting writes meta.properties into every log directory; a restart keeps what is there.
log_dir=$(sed -n 's/^log\.dirs=//p' "$config" | cut -d, -f1)
log_dir=${log_dir//\\\\/\\}
if [ ! -f "$log_dir/meta.properties" ]; then
  /opt/kafka/bin/kafka-storage.sh format --cluster-id "${CLUSTER_ID:-5L6g3nShT-eMCtK--X86sw}" --config "$config" --ignore-formatted &
  step=$!
  wait "$step"
  step=
fi

# shellcheck disable=SC2086 # the options are lists of JVM flags
exec java ${KAFKA_HEAP_OPTS:--Xmx1G -Xms1G} ${KAFKA_JVM_PERFORMANCE_OPTS:--server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:+ExplicitGCInvokesConcurrent} \
  ${KAFKA_OPTS:-} ${KAFKA_LOG4J_OPTS:--Dlog4j2.configurationFile=/opt/kafka/config/log4j2.xml} \
  -cp '/opt/kafka/libs/*' kafka.Kafka "$config"
