#!/usr/bin/env bash
# Sets up and runs the server on the default models: fetches them if missing,
# builds the shipped (dist profile) binary, and serves (default 127.0.0.1:8080).
#
#   scripts/run.sh [serve flags, e.g. --listen 0.0.0.0:8080]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

scripts/fetch-models.sh
binary="$(scripts/build.sh | tail -n1)"
exec "$binary" serve "$@"
