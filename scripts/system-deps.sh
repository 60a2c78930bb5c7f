#!/usr/bin/env bash
# Installs the Debian packages the build and the tests need, if missing:
#   protobuf-compiler  LanceDB's crates compile .proto files at build time
#   libprotobuf-dev    the well-known .proto files they import (google/protobuf/empty.proto)
#   chromium           the browser tests drive headless Chromium (tests only)
#   poppler-utils      pdftotext reads back the SRS PDF export (tests only)
#   python3-venv, g++  scripts/llamacpp-venv.sh builds llama.cpp for the engine's
#                      reference tests (tests only)
#
#   scripts/system-deps.sh [--tests]
set -euo pipefail

need=()
command -v protoc >/dev/null || need+=(protobuf-compiler)
[ -f /usr/include/google/protobuf/empty.proto ] || need+=(libprotobuf-dev)
if [ "${1:-}" = "--tests" ]; then
  command -v chromium >/dev/null || [ -n "${CHROMIUM:-}" ] || need+=(chromium)
  command -v pdftotext >/dev/null || need+=(poppler-utils)
  python3 -c "import ensurepip" 2>/dev/null || need+=(python3-venv)
  command -v g++ >/dev/null || need+=(g++)
fi
[ ${#need[@]} -eq 0 ] && exit 0

echo "system-deps: installing ${need[*]}" >&2
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
if ! command -v apt-get >/dev/null; then
  echo "system-deps: please install ${need[*]} with your package manager" >&2
  exit 1
fi
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
