#!/usr/bin/env bash
# EVTX hunting speed and memory: `firewarden hunt` with every SigmaHQ Windows rule over
# evtx-attack-samples (277 files, 36 MiB, 8,255 records), and over the same corpus copied ten
# times; against Chainsaw and Hayabusa in the same run when they are on PATH.
#
#   bench/hunt.sh [RUNS=5]
#
# Chainsaw: `chainsaw hunt DIR -s RULES --mapping $CHAINSAW_MAPPING` (set CHAINSAW_MAPPING to its
# sigma-event-logs-all.yml). Hayabusa: `hayabusa csv-timeline -d DIR -r $HAYABUSA_RULES` (its
# converted rules directory). Neither is packaged for Debian or on crates.io; the issue's figures
# for them were measured on a machine of the same kind.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
data=$(realpath ../shared/data)
samples="$data/evtx-attack-samples"
sigma_win="$data/sigma/rules/windows"
all_rules=(--sigma "$sigma_win" --sigma "$data/sigma/rules-emerging-threats" --sigma "$data/sigma/rules-threat-hunting")
cargo build --release -q -p firewarden
fw=$(realpath "${CARGO_TARGET_DIR:-target}/release/firewarden")
work=$(mktemp -d /var/tmp/fw-hunt-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT

. bench/lib.sh
peak() { { /usr/bin/time -f %M "$@" 2>&1 >/dev/null || true; } | tail -1; }
row() { printf '%-74s %8s %9s\n' "$1" "$2" "$(($3 / 1024))"; }

# The corpus copied ten times, for throughput.
for i in $(seq 10); do mkdir -p "$work/x10/$i" && cp -r "$samples"/. "$work/x10/$i/"; done
mib1=$(du -sm --apparent-size "$samples" | cut -f1)
mib10=$(du -sm --apparent-size "$work/x10" | cut -f1)
records=$("$fw" hunt "$samples" --no-builtin --format json -o "$work/n.json" >/dev/null 2>&1 || true; grep -o '"records": [0-9]*' "$work/n.json" | head -1 | tr -dc 0-9)

echo "corpus: $samples ($mib1 MiB, $records records); x10: $mib10 MiB; $(nproc) cores; median of $runs runs"
printf '%-74s %8s %9s\n' contender "wall s" "peak MiB"
t=$(timeit "$fw" hunt "$samples" --sigma "$sigma_win" --format json -o "$work/a.json")
row "firewarden hunt, sigma/rules/windows + built-in checks" "$t" "$(peak "$fw" hunt "$samples" --sigma "$sigma_win" --format json -o "$work/a.json")"
t=$(timeit "$fw" hunt "$samples" "${all_rules[@]}" --format json -o "$work/b.json")
row "firewarden hunt, windows + emerging-threats + threat-hunting rules" "$t" "$(peak "$fw" hunt "$samples" "${all_rules[@]}" --format json -o "$work/b.json")"
t=$(timeit "$fw" hunt "${all_rules[@]}" --unsupported -o "$work/u.txt")
row "  of which: loading and compiling the rules (--unsupported, no logs)" "$t" "$(peak "$fw" hunt "${all_rules[@]}" --unsupported -o "$work/u.txt")"
t10=$(timeit "$fw" hunt "$work/x10" "${all_rules[@]}" --format json -o "$work/c.json")
row "firewarden hunt, all rules, corpus x10" "$t10" "$(peak "$fw" hunt "$work/x10" "${all_rules[@]}" --format json -o "$work/c.json")"
echo "firewarden x10 throughput: $(echo "scale=1; $mib10 / $t10" | bc) MiB/s, $(echo "scale=0; $records * 10 / $t10" | bc) records/s"

# One large log: every chunk of the corpus, four times, in a single 89 MiB file (chunks are
# self-contained), to show one big Security.evtx-like file spread over the cores.
python3 - "$samples" "$work/big.evtx" <<'PY'
import glob, sys
files = sorted(glob.glob(sys.argv[1] + "/**/*.evtx", recursive=True))
with open(sys.argv[2], "wb") as out:
    out.write(open(files[0], "rb").read(4096))
    for _ in range(4):
        for f in files:
            d = open(f, "rb").read()
            for off in range(4096, len(d) - 65535, 65536):
                if d[off:off + 8] == b"ElfChnk\0":
                    out.write(d[off:off + 65536])
PY
bigmib=$(du -m --apparent-size "$work/big.evtx" | cut -f1)
t1=$(timeit "$fw" hunt "$work/big.evtx" --sigma "$sigma_win" --threads 1 --format json -o "$work/d.json")
row "firewarden hunt, one ${bigmib} MiB log, rules/windows, 1 thread" "$t1" "$(peak "$fw" hunt "$work/big.evtx" --sigma "$sigma_win" --threads 1 --format json -o "$work/d.json")"
t2=$(timeit "$fw" hunt "$work/big.evtx" --sigma "$sigma_win" --format json -o "$work/d.json")
row "firewarden hunt, one ${bigmib} MiB log, rules/windows, all cores" "$t2" "$(peak "$fw" hunt "$work/big.evtx" --sigma "$sigma_win" --format json -o "$work/d.json")"

if command -v chainsaw >/dev/null && [ -n "${CHAINSAW_MAPPING:-}" ]; then
  t=$(timeit chainsaw hunt "$samples" -s "$sigma_win" --mapping "$CHAINSAW_MAPPING" --json -o "$work/cs.json")
  row "chainsaw hunt, sigma/rules/windows" "$t" "$(peak chainsaw hunt "$samples" -s "$sigma_win" --mapping "$CHAINSAW_MAPPING" --json -o "$work/cs.json")"
else
  echo "chainsaw: not installed here (issue's figures on this kind of machine: 11-18 s, 225 MiB; x10 107 s)"
fi
if command -v hayabusa >/dev/null && [ -n "${HAYABUSA_RULES:-}" ]; then
  t=$(timeit hayabusa csv-timeline -d "$samples" -r "$HAYABUSA_RULES" -o "$work/hb.csv" -q -C)
  row "hayabusa csv-timeline" "$t" "$(peak hayabusa csv-timeline -d "$samples" -r "$HAYABUSA_RULES" -o "$work/hb.csv" -q -C)"
else
  echo "hayabusa: not installed here (issue's figures on this kind of machine: 9.1 s, 533 MiB; x10 84 s)"
fi
