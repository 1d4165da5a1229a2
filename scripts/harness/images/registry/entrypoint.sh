#!/bin/bash
# apicurio/apicurio-registry's start. Quarkus reads its settings from the environment itself
# (APICURIO_STORAGE_KIND is apicurio.storage.kind), the same as the native registry's JVM does;
# JAVA_OPTS and JAVA_OPTS_APPEND add JVM options, as in the official image.
# shellcheck disable=SC2086 # lists of JVM flags
exec java ${JAVA_OPTS:--XX:MaxRAMPercentage=50.0} ${JAVA_OPTS_APPEND:-} -jar /deployments/quarkus-run.jar "$@"
