#!/usr/bin/env bash
# Installs BA Copilot from the offline bundle this script sits in (made by
# scripts/bundle.sh). It uses no network: everything it installs is in the
# bundle, and every file of the bundle is checked against the bundle's
# SHA256SUMS before anything is written. Running it again with the same
# options gives the same installation (an upgrade replaces the binary and the
# models, and keeps a configuration someone has edited).
#
#   ./install.sh [--prefix DIR] [--data-dir DIR]
#       As any user: the binary, models and config.toml into DIR (default
#       ~/bacopilot), records into the data directory (default DIR/data).
#       Writes DIR/bin/bacopilot-serve, which starts the server on them.
#   sudo ./install.sh --system [--prefix DIR] [--data-dir DIR]
#       As a systemd service, where deploy/bacopilot.service looks: the binary
#       into DIR/bin (default /opt/bacopilot) linked from the unit's ExecStart
#       path, the configuration, models and records at the paths the unit's
#       Environment= lines name, the unit's user created if missing.
#       --data-dir moves the records elsewhere with a drop-in for the unit.
set -euo pipefail

bundle="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

usage() {
  sed -n '9,18s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2
  exit "${1:-2}"
}
die() { echo "install: $*" >&2; exit 1; }

system=0 prefix="" data=""
while [ $# -gt 0 ]; do
  case "$1" in
    --system) system=1; shift ;;
    --prefix) [ $# -ge 2 ] || usage; prefix="$2"; shift 2 ;;
    --prefix=*) prefix="${1#*=}"; shift ;;
    --data-dir) [ $# -ge 2 ] || usage; data="$2"; shift 2 ;;
    --data-dir=*) data="${1#*=}"; shift ;;
    -h|--help) usage 0 ;;
    *) echo "install: unknown option $1" >&2; usage ;;
  esac
done

# Every file the bundle holds must be listed in SHA256SUMS and match it; a
# missing, altered or added file means a damaged or tampered bundle.
verify_bundle() {
  local failed unlisted
  [ -f "$bundle/SHA256SUMS" ] || die "$bundle/SHA256SUMS is missing; nothing was installed"
  if ! failed="$(cd "$bundle" && sha256sum --check --strict --quiet SHA256SUMS 2>&1)"; then
    echo "install: the bundle does not match its SHA256SUMS; nothing was installed:" >&2
    sed 's/^/  /' <<<"$failed" >&2
    exit 1
  fi
  unlisted="$(cd "$bundle" && comm -23 \
    <(find . ! -type d ! -path ./SHA256SUMS | sed 's|^\./||' | LC_ALL=C sort) \
    <(cut -c67- SHA256SUMS | LC_ALL=C sort))"
  if [ -n "$unlisted" ]; then
    echo "install: the bundle holds files its SHA256SUMS does not list; nothing was installed:" >&2
    sed 's/^/  /' <<<"$unlisted" >&2
    exit 1
  fi
}

# The bundled binary must start here (libc, architecture) before it replaces
# anything. It is built for x86-64-v3 (.cargo/config.toml); on an older CPU
# the matrix kernels would stop with an illegal instruction.
check_binary() {
  local version
  version="$("$bundle/bin/bacopilot" --version 2>&1)" ||
    die "the bundled binary does not run on this machine: $version"
  if [ "$(uname -m)" = x86_64 ] && [ -r /proc/cpuinfo ] &&
     ! grep -qw avx2 /proc/cpuinfo; then
    echo "install: warning: this CPU lacks AVX2; a binary built for x86-64-v3 will fail." >&2
    echo "install: rebuild from a --vendor bundle with RUSTFLAGS=\"-C target-cpu=x86-64\"." >&2
  fi
  echo "install: $version, bundle verified"
}

# The installed binary reads the installed configuration and lists the
# models it will serve; a configuration it refuses is reported here.
check_installed() {
  local binary="$1" config="$2" models="$3" listed
  if ! listed="$("$binary" --config "$config" --models-dir "$models" models list 2>&1)"; then
    echo "install: installed, but $binary refuses $config or the models in $models:" >&2
    sed 's/^/  /' <<<"$listed" >&2
    exit 1
  fi
  sed 's/^/  /' <<<"$listed"
}

pending="" # the temporary file being written, removed if the script stops
trap '[ -z "$pending" ] || rm -f "$pending"' EXIT

# Puts `src` at `dest` with `mode`: written beside it and renamed into place,
# so a running server keeps its binary and an interrupted copy never sits
# under the real name; an identical file is left alone.
place() {
  local src="$1" dest="$2" mode="$3"
  if [ -f "$dest" ] && [ ! -L "$dest" ] && cmp -s "$src" "$dest"; then
    chmod "$mode" "$dest"
    return
  fi
  mkdir -p "$(dirname "$dest")"
  pending="$(dirname "$dest")/.$(basename "$dest").partial"
  cp "$src" "$pending"
  chmod "$mode" "$pending"
  mv -f "$pending" "$dest"
  pending=""
}

# The configuration is the operator's once installed. It is replaced only
# while nobody has edited it: when it is still the default the last install
# put there (kept as PREFIX/config.toml.default); an edited one is kept and
# the bundle's default is put beside it as config.toml.new.
place_config() {
  local dest="$1" mode="$2" last="$prefix/config.toml.default"
  if [ ! -f "$dest" ] || cmp -s "$bundle/config.toml" "$dest" ||
     { [ -f "$last" ] && cmp -s "$last" "$dest"; }; then
    place "$bundle/config.toml" "$dest" "$mode"
    rm -f "$dest.new"
  else
    place "$bundle/config.toml" "$dest.new" "$mode"
    echo "install: kept the edited $dest; the bundle's default is $dest.new"
  fi
  place "$bundle/config.toml" "$last" 0644
}

# Copies the bundled models into `dest`, leaving models already there that
# the bundle does not hold (pulled ones) alone.
place_models() {
  local dest="$1" file
  mkdir -p "$dest"
  [ -d "$bundle/models" ] || { echo "install: the bundle holds no models; put them in $dest"; return; }
  while IFS= read -r -d '' file; do
    place "$bundle/models/$file" "$dest/$file" 0644
  done < <(cd "$bundle/models" && find . -type f -printf '%P\0')
}

# An absolute path for `dir`, which need not exist yet.
absolute() {
  case "$1" in
    /*) echo "$1" ;;
    *) echo "$PWD/$1" ;;
  esac
}

install_user() {
  prefix="$(absolute "${prefix:-$HOME/bacopilot}")"
  data="$(absolute "${data:-$prefix/data}")"
  place "$bundle/bin/bacopilot" "$prefix/bin/bacopilot" 0755
  place_config "$prefix/config.toml" 0644
  place_models "$prefix/models"
  place "$bundle/README" "$prefix/README" 0644
  mkdir -p "$data"
  local launcher
  launcher="$(mktemp)"
  {
    echo '#!/usr/bin/env bash'
    echo '# Written by install.sh: serves with this installation'"'"'s configuration,'
    echo '# models and data. Extra arguments go to `bacopilot serve` (e.g. --listen).'
    printf 'exec %q --config %q --models-dir %q --data-dir %q serve "$@"\n' \
      "$prefix/bin/bacopilot" "$prefix/config.toml" "$prefix/models" "$data"
  } >"$launcher"
  place "$launcher" "$prefix/bin/bacopilot-serve" 0755
  rm -f "$launcher"
  echo "install: installed into $prefix (records in $data); models:"
  check_installed "$prefix/bin/bacopilot" "$prefix/config.toml" "$prefix/models"
  echo "install: start it with:"
  echo "  $prefix/bin/bacopilot-serve"
}

# The value of `key=` in the [Service] section of the unit (all of them,
# one a line, for keys given more than once).
unit_value() {
  awk -v key="$1" '/^\[/{s=$0} s=="[Service]" && index($0, key "=")==1 {print substr($0, length(key)+2)}' \
    "$bundle/deploy/bacopilot.service"
}
unit_env() { unit_value Environment | sed -n "s/^$1=//p"; }

install_system() {
  [ "$(id -u)" -eq 0 ] || die "--system needs root: sudo $0 --system"
  local unit_dir=/etc/systemd/system exec_path user config models state
  exec_path="$(unit_value ExecStart | awk '{print $1}')"
  user="$(unit_value User)"
  config="$(unit_env BACOPILOT_CONFIG)"
  models="$(unit_env BACOPILOT_MODELS_DIR)"
  state="$(unit_value StateDirectory)"
  [ -n "$exec_path" ] && [ -n "$user" ] && [ -n "$config" ] && [ -n "$models" ] && [ -n "$state" ] ||
    die "deploy/bacopilot.service lacks ExecStart, User, BACOPILOT_CONFIG, BACOPILOT_MODELS_DIR or StateDirectory"
  state="/var/lib/$state"
  prefix="$(absolute "${prefix:-/opt/bacopilot}")"

  if ! id "$user" >/dev/null 2>&1; then
    command -v useradd >/dev/null || die "create the system user $user (useradd is missing)"
    useradd --system --user-group --home-dir "$state" \
      --shell "$(command -v nologin || echo /usr/sbin/nologin)" "$user"
    echo "install: created the system user $user"
  fi
  place "$bundle/bin/bacopilot" "$prefix/bin/bacopilot" 0755
  place "$bundle/README" "$prefix/README" 0644
  if [ "$exec_path" != "$prefix/bin/bacopilot" ]; then
    mkdir -p "$(dirname "$exec_path")"
    ln -sfn "$prefix/bin/bacopilot" "$exec_path"
  fi
  mkdir -p "$(dirname "$config")"
  place_config "$config" 0640
  chgrp "$user" "$config"
  place_models "$models"
  mkdir -p "$state"
  chown "$user:$user" "$state"
  chown -R "$user:$user" "$models"
  place "$bundle/deploy/bacopilot.service" "$unit_dir/bacopilot.service" 0644

  # Records elsewhere than the unit's BACOPILOT_DATA_DIR: a drop-in points
  # the service there and lets it write there (ProtectSystem=strict).
  if [ -n "$data" ]; then
    data="$(absolute "$data")"
    mkdir -p "$data"
    chown "$user:$user" "$data"
    local dropin
    dropin="$(mktemp)"
    printf '# Written by install.sh --data-dir.\n[Service]\nEnvironment=BACOPILOT_DATA_DIR=%s\nReadWritePaths=%s\n' \
      "$data" "$data" >"$dropin"
    place "$dropin" "$unit_dir/bacopilot.service.d/data-dir.conf" 0644
    rm -f "$dropin"
  fi
  if [ -d /run/systemd/system ]; then
    systemctl daemon-reload
  fi
  echo "install: installed into $prefix, $exec_path, $config and $models; models:"
  check_installed "$exec_path" "$config" "$models"
  echo "install: start it (and at every boot) with:"
  echo "  systemctl enable --now bacopilot"
  if [ -d /run/systemd/system ] && systemctl is-active --quiet bacopilot; then
    echo "install: it is running the previous binary: systemctl restart bacopilot"
  fi
}

verify_bundle
check_binary
if [ "$system" -eq 1 ]; then install_system; else install_user; fi
