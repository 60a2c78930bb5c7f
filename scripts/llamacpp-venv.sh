#!/usr/bin/env bash
# Creates (once) the private virtualenv with llama.cpp (through llama-cpp-python,
# compiled from source for this CPU), numpy and gguf, used by the side-by-side
# benchmark and by the engine's llama.cpp reference tests. Idempotent: installs
# only when the imports fail. Prints the venv's python path as its last line.
#
#   python="$(scripts/llamacpp-venv.sh | tail -n1)"
set -euo pipefail

# Pinned: 0.3.36 bundles a llama.cpp that reads the gemma3, qwen2 and qwen3
# architectures; gguf is the Python package of the same llama.cpp tree.
LLAMA_CPP_PYTHON_VERSION=0.3.36
GGUF_VERSION=0.19.0
NUMPY_VERSION=2.4.6

venv="${BACOPILOT_BENCH_VENV:-$HOME/.cache/bacopilot-bench-venv}"
python="$venv/bin/python"
if [ ! -x "$python" ]; then
  echo "llamacpp-venv: creating $venv" >&2
  python3 -m venv "$venv"
fi
if ! "$python" -c "import llama_cpp, gguf, numpy" 2>/dev/null; then
  echo "llamacpp-venv: building llama.cpp via llama-cpp-python $LLAMA_CPP_PYTHON_VERSION (several minutes on 2 cores)" >&2
  CMAKE_ARGS="-DGGML_NATIVE=ON" "$python" -m pip install --quiet \
    "llama-cpp-python==$LLAMA_CPP_PYTHON_VERSION" \
    "numpy==$NUMPY_VERSION" \
    "gguf==$GGUF_VERSION" >&2
fi
echo "$python"
