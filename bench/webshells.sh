#!/usr/bin/env bash
# Webshell detection on the labelled development corpus (../shared/data/webshells): recall and
# false positives of the default `firewarden scan` per language and per source collection, and
# the honest estimate for collections nobody tuned on: leave-one-collection-out
# cross-validation of the learned model (scripts/train-webshell-model.sh prints it), combined
# with the rules and heuristics.
#
#   bench/webshells.sh [CORPUS=../shared/data/webshells]
#
# Also times the default scan of each language directory. The corpus holds live webshells:
# they are only read.
set -euo pipefail
cd "$(dirname "$0")/.."
corpus=$(realpath "${1:-../shared/data/webshells}")
runs=${RUNS:-3}
[ -d "$corpus/php" ] || { echo "bench/webshells.sh: no labelled corpus at $corpus" >&2; exit 2; }
cargo build --release -q -p firewarden
fw=$(realpath "${CARGO_TARGET_DIR:-target}/release/firewarden")
work=$(mktemp -d /var/tmp/fw-webshells.XXXXXX)
trap 'rm -rf "$work"' EXIT
. bench/lib.sh

echo "default scan on the development corpus (every file the model was also trained on: in-sample)"
printf '%-6s %8s %22s %22s\n' lang "wall s" "recall" "false positives"
for lang in php asp jsp; do
  t=$(timeit "$fw" scan "$corpus/$lang" --no-dumps --min-severity medium --format jsonl --color never -o "$work/$lang.jsonl")
  "$fw" scan "$corpus/$lang" --no-heuristics --no-dumps --min-severity medium --format jsonl --color never -o "$work/rules-$lang.jsonl" || true
  python3 - "$corpus/$lang" "$work/$lang.jsonl" "$work/rules-$lang.jsonl" "$work/flag-$lang.txt" "$lang" "$t" <<'PY'
import csv, json, sys
root, scan, rules, flag_out, lang, t = sys.argv[1:]
root += "/"
def flagged(path):
    out = set()
    for line in open(path):
        r = json.loads(line)
        if r.get("type") != "finding" or r["severity"] not in ("medium", "high", "critical"):
            continue
        for e in r.get("evidence", []):
            p = e.get("path") or ""
            if p.startswith(root):
                out.add(p[len(root):])
    return out
flag = flagged(scan)
# What the rules alone flag: the cross-validation adds the heuristics and a held-out model.
open(flag_out, "w").write("\n".join(sorted(flagged(rules))) + "\n")
rows = list(csv.DictReader(open(root + "labels.csv")))
b = [r for r in rows if r["label"] == "black"]
w = [r for r in rows if r["label"] == "white"]
tp = sum(r["file"] in flag for r in b)
fp = sum(r["file"] in flag for r in w)
print(f"{lang:6} {t:>8} {f'{tp}/{len(b)} = {100*tp/len(b):.1f}%':>22} {f'{fp}/{len(w)} = {100*fp/len(w):.2f}%':>22}")
PY
done
echo
echo "held out: every file scored by a model trained without its collection, with the rules and heuristics"
cargo run --quiet --release -p firewarden-scan --example train_webshell_model -- \
  --webshells "$corpus" --benign "$(scripts/benign-corpus.sh)" --flagged-dir "$work" \
  | grep -E '^==|\*|^held-out|^  (black|white|debian)'
