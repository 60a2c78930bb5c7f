#!/usr/bin/env bash
# Builds the shipped binary (dist profile) after installing what the build
# needs. scripts/run.sh, the Dockerfiles and the install bundle all build
# through this script, so there is one recipe.
#
#   scripts/build.sh           # CPU build
#   scripts/build.sh --cuda    # NVIDIA GPU build (needs the CUDA toolkit)
#
# Prints the binary's path on its last line.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/bacopilot-target}"
command -v cargo >/dev/null || { echo "build: cargo (Rust toolchain) is required: https://rustup.rs" >&2; exit 1; }

features=()
if [ "${1:-}" = "--cuda" ]; then
  command -v nvcc >/dev/null || { echo "build: --cuda needs the CUDA toolkit (nvcc)" >&2; exit 1; }
  features=(--features cuda)
fi
scripts/system-deps.sh
cargo build --profile dist --locked "${features[@]}" >&2
echo "$CARGO_TARGET_DIR/dist/bacopilot"
