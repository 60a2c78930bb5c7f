#!/usr/bin/env bash
# Sets up and runs the whole test suite: fetches the default models if missing,
# then builds and runs every test (unit and integration, real models, real socket).
#
#   scripts/test.sh [extra cargo test args]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/bacopilot-target}"
command -v cargo >/dev/null || { echo "test: cargo (Rust toolchain) is required: https://rustup.rs" >&2; exit 1; }

scripts/system-deps.sh --tests
scripts/fetch-models.sh
if [ ! -f ../shared/testdata/smollm2-tokens.json ]; then
  echo "test: ../shared/testdata (reference token ids and embeddings) is missing beside the repository" >&2
  exit 1
fi
# Our side of the side-by-side benchmark, in smoke mode (no llama.cpp build),
# first, so the test runner's summary closes the output.
scripts/check-architecture.sh
benches/compare-llamacpp.sh --smoke
# llama.cpp (llama-cpp-python) for the engine's reference tests (crates/engine/tests/llamacpp.rs).
BACOPILOT_LLAMACPP_PYTHON="$(scripts/llamacpp-venv.sh | tail -n1)"
export BACOPILOT_LLAMACPP_PYTHON
cargo test --workspace --locked "$@"
