#!/bin/bash
# Prints every KAFKA_* variable as a server.properties line, by apache/kafka's rule: the name
# without KAFKA_, in lower case, with `___` read as `-`, `__` as `_` and `_` as `.`
# (KAFKA_SSL_KEY__STORE___TYPE is ssl.key_store-type). The variables that set the JVM's options
# and logging, not the broker's, are the image's own and are left out, as there, and so is
# KAFKA_TOOLS_OPTS, the JVM options of this image's command-line tools (kafka-tool.sh).
# Each value is written so that java.util.Properties reads it back as it was set: a backslash
# doubled (Properties reads `\n` as a line feed, `\\` as one backslash), and a value with a line
# break refused, as it would end its line and start another property. apache/kafka writes values
# unchanged, so there `C:\new` reaches the broker as `C:`, a line feed and `ew`; here as written.
set -euo pipefail
jvm_variables=" KAFKA_VERSION KAFKA_HEAP_OPTS KAFKA_OPTS KAFKA_JVM_PERFORMANCE_OPTS KAFKA_GC_LOG_OPTS KAFKA_LOG4J_OPTS \
KAFKA_JMX_OPTS KAFKA_JMX_PORT KAFKA_JMX_HOSTNAME KAFKA_LOG4J_ROOT_LOGLEVEL KAFKA_LOG4J_LOGGERS KAFKA_TOOLS_LOG4J_LOGLEVEL KAFKA_TOOLS_OPTS "
while IFS= read -r -d '' variable; do
  name=${variable%%=*}
  value=${variable#*=}
  case "$name" in KAFKA_*) ;; *) continue ;; esac
  case "$jvm_variables" in *" $name "*) continue ;; esac
  # A variable's name holds only letters, digits and `_`: `@` stands in for the `_` of `__`.
  key=${name#KAFKA_}
  key=${key,,}
  key=${key//___/-}
  key=${key//__/@}
  key=${key//_/.}
  case "$value" in
    *$'\n'* | *$'\r'*)
      echo "kafka-properties.sh: $name holds a line break, which would end its server.properties line and start another: set it on one line." >&2
      exit 1 ;;
  esac
  printf '%s=%s\n' "${key//@/_}" "${value//\\/\\\\}"
done < <(env -0)
