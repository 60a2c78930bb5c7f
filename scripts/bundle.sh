#!/usr/bin/env bash
# Makes the offline install bundle: one tarball holding the release binary,
# the default models, config.toml, the systemd unit, the installer
# (deploy/install.sh) and a README (deploy/README.install), with a
# SHA256SUMS the installer checks before it installs anything. With --vendor
# it also holds the sources and every crate they use (`cargo vendor`), so the
# site can rebuild with `cargo build --offline`.
#
#   scripts/bundle.sh [--binary PATH] [--models-dir DIR] [--all-models | --no-models]
#                     [--config FILE] [--vendor] [--fast] [--out FILE]
#
#   --binary PATH     the binary to ship (default: build it with scripts/build.sh)
#   --models-dir DIR  where the models are (default: models/; the default
#                     models are fetched with scripts/fetch-models.sh if missing)
#   --all-models      every model DIR/SHA256SUMS lists, not only those
#                     config.toml loads at start-up ([models] chat and
#                     embedding, and the features' `model` keys)
#   --no-models       no models: the site puts its own in the models directory
#   --config FILE     the configuration to ship (default: config.toml)
#   --vendor          add src/: the sources, vendor/ and .cargo/config.toml
#   --fast            gzip -1 instead of -6 (the models barely compress anyway)
#   --out FILE        default: dist/bacopilot-VERSION-ARCH-linux.tar.gz
#
# Writes FILE.sha256 beside the tarball and prints the tarball's path on its
# last line.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

usage() {
  sed -n '9,22s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2
  exit "${1:-2}"
}
die() { echo "bundle: $*" >&2; exit 1; }
absolute() { case "$1" in /*) echo "$1" ;; *) echo "$PWD/$1" ;; esac; }

binary="" models_dir="$root/models" config="$root/config.toml" out=""
models=roles vendor=0 level=6
while [ $# -gt 0 ]; do
  case "$1" in
    --binary) [ $# -ge 2 ] || usage; binary="$(absolute "$2")"; shift 2 ;;
    --models-dir) [ $# -ge 2 ] || usage; models_dir="$(absolute "$2")"; shift 2 ;;
    --config) [ $# -ge 2 ] || usage; config="$(absolute "$2")"; shift 2 ;;
    --out) [ $# -ge 2 ] || usage; out="$(absolute "$2")"; shift 2 ;;
    --all-models) models=all; shift ;;
    --no-models) models=none; shift ;;
    --vendor) vendor=1; shift ;;
    --fast) level=1; shift ;;
    -h|--help) usage 0 ;;
    *) echo "bundle: unknown option $1" >&2; usage ;;
  esac
done
for tool in tar gzip sha256sum; do
  command -v "$tool" >/dev/null || die "$tool is required"
done
[ -f "$config" ] || die "$config does not exist"

if [ -z "$binary" ]; then
  echo "bundle: building the release binary with scripts/build.sh" >&2
  binary="$("$root/scripts/build.sh" | tail -n 1)"
fi
[ -f "$binary" ] && [ -x "$binary" ] || die "$binary is not an executable file"
version="$("$binary" --version)" || die "$binary --version failed"
version="${version##* }"
name="bacopilot-$version-$(uname -m)-linux"
out="${out:-$root/dist/$name.tar.gz}"

# The model ids `config` loads at start-up: [models] chat and embedding, and
# the `model` of [chat], [srs] and [wireframes] when set.
role_models() {
  awk '
    /^[ \t]*\[/ { section = $0; gsub(/[][ \t]/, "", section); next }
    /^[ \t]*#/ { next }
    (section == "models" && $0 ~ /^[ \t]*(chat|embedding)[ \t]*=/) ||
    (section ~ /^(chat|srs|wireframes)$/ && $0 ~ /^[ \t]*model[ \t]*=/) {
      value = $0
      sub(/^[^"]*"/, "", value); sub(/".*$/, "", value)
      if (value != "") print value
    }' "$1" | sort -u
}

# The id the server gives the model a SHA256SUMS path belongs to
# (src/inference/registry.rs `model_id`): the file or folder name without
# `.gguf`, dots as dashes.
model_id() {
  local n="${1%%/*}"
  n="${n%.gguf}"
  echo "${n//./-}"
}

sums="$models_dir/SHA256SUMS"
[ -f "$sums" ] || sums="$root/models/SHA256SUMS"
selected=() # model files to ship, relative to $models_dir
case "$models" in
  all) mapfile -t selected < <(cut -c67- "$sums") ;;
  roles)
    while IFS= read -r id; do
      # An upstream provider's model ("provider/model") is not a file here.
      [[ "$id" == */* ]] && continue
      found=0
      while IFS= read -r path; do
        if [ "$(model_id "$path")" = "$id" ]; then selected+=("$path"); found=1; fi
      done < <(cut -c67- "$sums")
      [ "$found" -eq 1 ] ||
        die "$config loads the model $id, which $sums does not list (add it there, or use --all-models or --no-models)"
    done < <(role_models "$config")
    ;;
esac

stage_models() { # into $dir/models, checked against $sums
  local f missing=0
  for f in "${selected[@]}"; do [ -f "$models_dir/$f" ] || missing=1; done
  if [ "$missing" -eq 1 ]; then
    echo "bundle: models are missing from $models_dir; fetching them" >&2
    "$root/scripts/fetch-models.sh" "$models_dir" >&2
  fi
  mkdir -p "$dir/models"
  for f in "${selected[@]}"; do
    [ -f "$models_dir/$f" ] || die "$models_dir/$f is missing"
    awk -v f="$f" 'substr($0, 67) == f' "$sums"
  done >"$dir/models/SHA256SUMS"
  for f in "${selected[@]}"; do copy_in "$models_dir/$f" "$dir/models/$f"; done
  local failed # the copies, which are what ships
  if ! failed="$(cd "$dir/models" && sha256sum --check --strict --quiet SHA256SUMS 2>&1)"; then
    die "models in $models_dir do not match $sums:"$'\n'"$failed"
  fi
}

# Copied, not hard-linked, into the staging folder: a hard link shares the
# original's inode, whose change time moves whenever anything else links or
# unlinks it (the tests hard-link the models), and tar then stops with "file
# changed as we read it".
copy_in() {
  mkdir -p "$(dirname "$2")"
  cp --reflink=auto "$1" "$2"
}

# src/: what git would commit from this working tree (what the binary was
# built from), every crate Cargo.lock names, and the configuration that makes
# cargo take them from vendor/.
stage_sources() {
  if ! command -v cargo >/dev/null || ! command -v git >/dev/null; then die "--vendor needs cargo and git"; fi
  local src="$dir/src" f
  mkdir -p "$src"
  (cd "$root" && git ls-files -z --cached --others --exclude-standard) |
    while IFS= read -r -d '' f; do if [ -f "$root/$f" ]; then printf '%s\0' "$f"; fi; done |
    tar -C "$root" --null -T - -cf - | tar -C "$src" -xf -
  echo "bundle: vendoring the crates (cargo vendor)" >&2
  # Its stdout is the configuration to add (--quiet would drop it too).
  if ! (cd "$src" && cargo vendor --locked vendor) >"$stage/vendor.toml" 2>"$stage/vendor.log" ||
     ! grep -q '^replace-with' "$stage/vendor.toml"; then
    tail -n 20 "$stage/vendor.log" >&2
    die "cargo vendor failed (it needs crates.io, or every crate in ~/.cargo/registry)"
  fi
  {
    if [ -f "$src/.cargo/config.toml" ]; then cat "$src/.cargo/config.toml"; echo; fi
    echo "# Added by scripts/bundle.sh --vendor: crates come from vendor/, not crates.io."
    cat "$stage/vendor.toml"
  } >"$stage/cargo-config.toml"
  mkdir -p "$src/.cargo"
  mv "$stage/cargo-config.toml" "$src/.cargo/config.toml"
}

# The bundled binary must accept the bundled configuration and models: a
# config.toml newer than the binary (a key it does not know) fails here, not
# at the site.
check_staged() {
  local models_arg="$dir/models" listed
  if [ ! -d "$models_arg" ]; then models_arg="$stage/no-models"; mkdir -p "$models_arg"; fi
  if ! listed="$("$dir/bin/bacopilot" --config "$dir/config.toml" --models-dir "$models_arg" models list 2>&1)"; then
    die "$binary refuses the bundled configuration or models:"$'\n'"$listed"
  fi
  if [ "$models" != none ]; then sed 's/^/bundle: /' <<<"$listed" >&2; fi
}

readme() {
  echo "BA Copilot $version for Linux $(uname -m), bundled $(date -u +%F) by scripts/bundle.sh."
  if [ ${#selected[@]} -gt 0 ]; then
    echo "Models: $(printf '%s\n' "${selected[@]}" | sed 's|/.*||' | sort -u | paste -sd' ')."
  else
    echo "Models: none (put them in the models directory before starting)."
  fi
  if [ "$vendor" -eq 1 ]; then
    echo "Sources: in src/, with every crate in src/vendor/ (see REBUILDING below);"
    echo "Toolchain where it was bundled: $(rustc --version 2>/dev/null || echo unknown)."
  else
    echo "Sources: not included (make the bundle with --vendor for them)."
  fi
  echo
  cat "$root/deploy/README.install"
}

mkdir -p "$(dirname "$out")"
stage="$(mktemp -d "$(dirname "$out")/.bundle.XXXXXX")"
trap 'rm -rf "$stage"' EXIT
dir="$stage/$name"

copy_in "$binary" "$dir/bin/bacopilot"
if [ "$models" != none ]; then stage_models; fi
cp "$config" "$dir/config.toml"
mkdir -p "$dir/deploy"
cp "$root/deploy/bacopilot.service" "$dir/deploy/bacopilot.service"
cp "$root/deploy/install.sh" "$dir/install.sh"
chmod 0755 "$dir/install.sh"
readme >"$dir/README"
check_staged
if [ "$vendor" -eq 1 ]; then stage_sources; fi

(cd "$dir" && find . ! -type d ! -path ./SHA256SUMS -printf '%P\0' | LC_ALL=C sort -z |
  xargs -0 -r sha256sum --) >"$stage/SHA256SUMS"
mv "$stage/SHA256SUMS" "$dir/SHA256SUMS"

echo "bundle: packing $name (gzip -$level)" >&2
tar -C "$stage" --sort=name --owner=0 --group=0 --numeric-owner --mode='u+rwX,go=rX' \
  -cf - "$name" | gzip "-$level" >"$stage/bundle.tar.gz"
mv "$stage/bundle.tar.gz" "$out"
(cd "$(dirname "$out")" && sha256sum "$(basename "$out")") >"$out.sha256"
echo "bundle: $(du -h "$out" | cut -f1) in $out, SHA-256 in $out.sha256" >&2
echo "$out"
