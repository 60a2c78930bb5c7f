#!/usr/bin/env bash
# Installs llama.cpp through PyPI (scripts/llamacpp-venv.sh: llama-cpp-python compiles it from source)
# into a private virtualenv, builds our shipped (dist profile) binary, and runs both on the
# same GGUF, prompt, token counts and threads, alternating.
#
#   benches/compare-llamacpp.sh [--model-file F] [--prompt-tokens N] [--gen-tokens N] [--threads T] [--runs R] [--concurrency 1,4,8]
#   benches/compare-llamacpp.sh --smoke   # our side only, few tokens, debug build (CI)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/bacopilot-target}"
if [[ " $* " == *" --smoke "* ]]; then
  # --tests: the binary built with the features the test suite unifies, so
  # CI compiles the dependencies once, not twice (LanceDB takes most of an hour).
  cargo build --locked --quiet --tests
  exec python3 benches/compare_llamacpp.py --binary "$CARGO_TARGET_DIR/debug/bacopilot" --models-dir models "$@"
fi
python="$(scripts/llamacpp-venv.sh | tail -n1)"
scripts/fetch-models.sh >/dev/null
cargo build --profile dist --locked --quiet
"$python" benches/compare_llamacpp.py --binary "$CARGO_TARGET_DIR/dist/bacopilot" --models-dir models "$@"
