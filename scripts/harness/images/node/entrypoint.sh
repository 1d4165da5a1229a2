#!/bin/sh
# As in the official image: arguments that are not a command (`-e ...`, `app.js`) are node's.
set -e
if [ "${1#-}" != "$1" ] || ! command -v -- "$1" > /dev/null 2>&1; then set -- node "$@"; fi
exec "$@"
