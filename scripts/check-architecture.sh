#!/usr/bin/env bash
# Checks the import rules of ARCHITECTURE.md; prints each breach and exits 1
# if there is one. Run by scripts/test.sh; fast (grep only).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

status=0
breach() { echo "architecture: $1" >&2; sed 's/^/  /' >&2; status=1; }

# 1. HTTP types stay at the edge: only handlers (routes.rs, routes/), the
#    OpenAI API, http/ and app.rs name AppError or AppState.
found=$(grep -rlnE '\b(AppError|AppState)\b' src \
  | grep -vE '(^|/)routes(\.rs|/)|^src/openai/|^src/http/|^src/app\.rs$' || true)
[ -z "$found" ] || breach "AppError/AppState named outside handlers, openai/, http/ and app.rs:" <<<"$found"

# 2. SRS documents and wireframes do not import each other.
found=$( (grep -rn 'crate::wireframe' src/srs || true; grep -rn 'crate::srs' src/wireframe || true) )
[ -z "$found" ] || breach "srs/ and wireframe/ import each other:" <<<"$found"

# 3. The engine crate depends on no web, storage or configuration crate.
#    (The application is `bacopilot`; the text crate `bacopilot-content` is allowed.)
found=$(grep -nE '^((axum|tower|tower-http|hyper|sqlx|lancedb|toml|reqwest)\b|bacopilot\s*=)' crates/engine/Cargo.toml || true)
[ -z "$found" ] || breach "crates/engine depends on a web, storage or config crate:" <<<"$found"

# 3b. The content crate is plain Rust: no dependency at all.
found=$(awk '/^\[dependencies\]/{f=1; next} /^\[/{f=0} f && NF && !/^#/' crates/content/Cargo.toml)
[ -z "$found" ] || breach "crates/content has dependencies:" <<<"$found"

# 4. Features reach models through src/generation: no feature picks an
#    engine from the registry or submits to one itself.
found=$(grep -rnE 'registry\.(chat|embedding)\(|\bmodel\.submit(_or_return)?\(|\b[a-z_]+\.embed\(&' src \
  | grep -vE '^src/(generation|inference|app\.rs|bench\.rs)|\b(generation|generator)\.embed\(' || true)
[ -z "$found" ] || breach "a feature reaches a model without src/generation:" <<<"$found"

# 4b. Transactions that write start with store::write_tx (BEGIN IMMEDIATE):
#     a deferred BEGIN that reads before it writes gets "database is locked"
#     at once under a concurrent writer instead of waiting.
found=$(grep -rnE '\.begin\(\)|begin_with\(' src | grep -v '^src/store/mod.rs' || true)
[ -z "$found" ] || breach "a transaction begins outside store::write_tx:" <<<"$found"

# 5. No source file outside tests over 500 lines without a reason at its top
#    (a line starting `//! Over 500 lines:`, or `// Over 500 lines:` in the
#    UI's JavaScript, in its first 15 lines).
while IFS= read -r f; do
  n=$(wc -l <"$f")
  if [ "$n" -gt 500 ] && ! head -15 "$f" | grep -qE '^//!? Over 500 lines:'; then
    echo "$f ($n lines)"
  fi
done < <(find src crates -name '*.rs' ! -name 'tests.rs' ! -path '*/tests/*'; find web scripts -type f) >/tmp/long.$$ || true
found=$(cat /tmp/long.$$); rm -f /tmp/long.$$
[ -z "$found" ] || breach "files over 500 lines without a reason at their top:" <<<"$found"

[ "$status" -eq 0 ] && echo "architecture: the import rules hold"
exit "$status"
