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

# Built for this CPU. On a CPU with AMX tiles the same features are named one
# by one, without AMX: ggml's AMX kernels fault (SIGSEGV) where the kernel or
# the hypervisor does not grant the tile state, as on some cloud VMs.
cmake_args="-DGGML_NATIVE=ON"
flags=" $(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null | cut -d: -f2) "
if [[ "$flags" == *" amx_tile "* ]]; then
  has() { if [[ "$flags" == *" $1 "* ]]; then echo ON; else echo OFF; fi; }
  cmake_args="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=$(has avx2) -DGGML_FMA=$(has fma)"
  cmake_args+=" -DGGML_F16C=$(has f16c) -DGGML_BMI2=$(has bmi2) -DGGML_AVX_VNNI=$(has avx_vnni)"
  cmake_args+=" -DGGML_AVX512=$(has avx512f) -DGGML_AVX512_VBMI=$(has avx512vbmi)"
  cmake_args+=" -DGGML_AVX512_VNNI=$(has avx512_vnni) -DGGML_AVX512_BF16=$(has avx512_bf16)"
  cmake_args+=" -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF"
fi

venv="${BACOPILOT_BENCH_VENV:-$HOME/.cache/bacopilot-bench-venv}"
python="$venv/bin/python"
# What the installed llama.cpp was built with: a change rebuilds it.
stamp="$venv/.llamacpp-build"
want="llama-cpp-python==$LLAMA_CPP_PYTHON_VERSION $cmake_args"
if [ ! -x "$python" ]; then
  echo "llamacpp-venv: creating $venv" >&2
  python3 -m venv "$venv"
fi
if ! "$python" -c "import llama_cpp, gguf, numpy" 2>/dev/null || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "llamacpp-venv: building llama.cpp via llama-cpp-python $LLAMA_CPP_PYTHON_VERSION (several minutes on 2 cores)" >&2
  CMAKE_ARGS="$cmake_args" "$python" -m pip install --quiet --force-reinstall --no-cache-dir --no-deps \
    "llama-cpp-python==$LLAMA_CPP_PYTHON_VERSION" >&2
  "$python" -m pip install --quiet "numpy==$NUMPY_VERSION" "gguf==$GGUF_VERSION" \
    "llama-cpp-python==$LLAMA_CPP_PYTHON_VERSION" >&2
  echo "$want" >"$stamp"
fi
echo "$python"
