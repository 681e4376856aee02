#!/usr/bin/env bash
# Retrains the webshell models (crates/firewarden-scan/models/webshell-{php,asp,jsp}.tsv) and
# prints their leave-one-collection-out cross-validation: every file scored by a model that
# never saw its collection. Deterministic: the same corpus gives the same weights.
#
#   scripts/train-webshell-model.sh [--check] [WEBSHELLS=../shared/data/webshells] [FLAGGED_DIR]
#
# --check retrains into a temporary directory (keeping the committed thresholds) and fails
# when the weights differ from the committed ones. FLAGGED_DIR, when given, holds
# flag-LANG.txt: the files the YARA rules flag (bench/webshells.sh writes them), to show the
# scan as a whole.
set -euo pipefail
cd "$(dirname "$0")/.."
check=false
if [ "${1:-}" = --check ]; then check=true; shift; fi
corpus=${1:-../shared/data/webshells}
[ -d "$corpus/php" ] || { echo "train-webshell-model: no labelled corpus at $corpus" >&2; exit 2; }
benign=$(scripts/benign-corpus.sh)
models=crates/firewarden-scan/models
run() { cargo run --quiet --release -p firewarden-scan --example train_webshell_model -- "$@"; }
if $check; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  cp "$models"/webshell-*.tsv "$tmp"/
  run --webshells "$corpus" --benign "$benign" --no-cv --write "$tmp" >/dev/null
  diff -r "$models" "$tmp" && echo "train-webshell-model: retraining reproduces the committed weights"
  exit
fi
args=(--webshells "$corpus" --benign "$benign" --write "$models")
[ -n "${2:-}" ] && args+=(--flagged-dir "$2")
run "${args[@]}"
