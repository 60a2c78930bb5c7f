#!/usr/bin/env bash
# Sets up and runs the server on the default models: fetches them if missing,
# builds the shipped (dist profile) binary, and serves (default 127.0.0.1:8080).
#
#   scripts/run.sh [serve flags, e.g. --listen 0.0.0.0:8080]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/bacopilot-target}"
command -v cargo >/dev/null || { echo "run: cargo (Rust toolchain) is required: https://rustup.rs" >&2; exit 1; }

scripts/system-deps.sh
scripts/fetch-models.sh
cargo build --profile dist --locked
exec "$CARGO_TARGET_DIR/dist/bacopilot" serve "$@"
