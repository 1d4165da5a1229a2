#!/bin/bash
# Kafka's command-line tools, by the name they are called with (kafka-topics.sh, ...): the tool's
# class on the broker's and the tools' jars, warnings only, to stderr.
set -euo pipefail
case "$(basename "$0")" in
  kafka-topics.sh) class=org.apache.kafka.tools.TopicCommand ;;
  kafka-broker-api-versions.sh) class=org.apache.kafka.tools.BrokerApiVersionsCommand ;;
  kafka-consumer-groups.sh) class=org.apache.kafka.tools.consumer.group.ConsumerGroupCommand ;;
  kafka-console-producer.sh) class=org.apache.kafka.tools.ConsoleProducer ;;
  kafka-console-consumer.sh) class=org.apache.kafka.tools.consumer.ConsoleConsumer ;;
  kafka-configs.sh) class=kafka.admin.ConfigCommand ;;
  kafka-storage.sh) class=kafka.tools.StorageTool ;;
  kafka-metadata-quorum.sh) class=org.apache.kafka.tools.MetadataQuorumCommand ;;
  kafka-get-offsets.sh) class=org.apache.kafka.tools.GetOffsetShell ;;
  *) echo "kafka-tool.sh: no Kafka tool is called $(basename "$0")" >&2; exit 2 ;;
esac
# A short-lived JVM: the quick compiler and a one-thread collector start it sooner.
# shellcheck disable=SC2086 # a list of JVM flags
exec java ${KAFKA_TOOLS_OPTS:--Xmx256m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC} \
  -Dlog4j2.configurationFile=/opt/kafka/config/tools-log4j2.xml -cp '/opt/kafka/libs/*:/opt/kafka/tools-libs/*' "$class" "$@"
