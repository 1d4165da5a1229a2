#!/bin/bash
# Prints every KAFKA_* variable as a server.properties line, by apache/kafka's rule: the name
# without KAFKA_, in lower case, with `___` read as `-`, `__` as `_` and `_` as `.`
# (KAFKA_SSL_KEY__STORE___TYPE is ssl.key_store-type). The variables that set the JVM's options
# and logging, not the broker's, are the image's own and are left out, as there.
set -euo pipefail
jvm_variables=" KAFKA_VERSION KAFKA_HEAP_OPTS KAFKA_OPTS KAFKA_JVM_PERFORMANCE_OPTS KAFKA_GC_LOG_OPTS KAFKA_LOG4J_OPTS \
KAFKA_JMX_OPTS KAFKA_JMX_PORT KAFKA_JMX_HOSTNAME KAFKA_LOG4J_ROOT_LOGLEVEL KAFKA_LOG4J_LOGGERS KAFKA_TOOLS_LOG4J_LOGLEVEL "
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
  printf '%s=%s\n' "${key//@/_}" "$value"
done < <(env -0)
