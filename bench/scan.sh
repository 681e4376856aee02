#!/usr/bin/env bash
# File-scanning speed against the `yara` command-line tool (Debian package, libyara 4.2) with
# the same rules — every signature-base rule file — over the same tree, in the same run; and
# the false-positive rate of the built-in pack and heuristics on benign web code.
#
#   bench/scan.sh [RUNS=3] [TREE=benign corpus from scripts/benign-corpus.sh]
#
# yara gets the same external variables defined (filename, filepath, extension, filetype,
# owner) and one thread per core (-p), like firewarden.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
tree=${2:-$(scripts/benign-corpus.sh)}
sb=$(realpath ../shared/data/signature-base)
command -v yara >/dev/null || { echo "bench/scan.sh: needs the yara package (apt-get install yara)" >&2; exit 2; }
cargo build --release -q -p firewarden
fw=$(realpath "${CARGO_TARGET_DIR:-target}/release/firewarden")
work=$(mktemp -d /var/tmp/fw-scan-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
cores=$(nproc)
files=$(find "$tree" -type f | wc -l)
mib=$(du -sm "$tree" | cut -f1)
yargs=()
i=0
for f in "$sb"/yara/*.yar "$sb"/yara/*.yara; do yargs+=("ns$i:$f"); i=$((i + 1)); done

. bench/lib.sh
peak() { { /usr/bin/time -f %M "$@" 2>&1 >/dev/null || true; } | tail -1; }

echo "tree: $tree ($files files, $mib MiB); rules: $i signature-base files; $cores cores; median of $runs runs"
printf '%-78s %8s %9s\n' contender "wall s" "peak MiB"
y=$(timeit yara -r -p "$cores" -d filename=x -d filepath=x -d extension=x -d filetype=x -d owner=x "${yargs[@]}" "$tree")
ym=$(peak yara -r -p "$cores" -d filename=x -d filepath=x -d extension=x -d filetype=x -d owner=x "${yargs[@]}" "$tree")
printf '%-78s %8s %9s\n' "yara 4.2 -r -p $cores, all signature-base rule files" "$y" "$((ym / 1024))"
f1=$(timeit "$fw" scan "$tree" --rules "$sb/yara" --no-builtin --no-heuristics --no-tamper --no-dumps --format json -o "$work/a.json")
f1m=$(peak "$fw" scan "$tree" --rules "$sb/yara" --no-builtin --no-heuristics --no-tamper --no-dumps --format json -o "$work/a.json")
printf '%-78s %8s %9s\n' "firewarden scan, same rules only (--no-builtin --no-heuristics --no-tamper --no-dumps)" "$f1" "$((f1m / 1024))"
f2=$(timeit "$fw" scan "$tree" --rules "$sb/yara" --format json -o "$work/b.json")
f2m=$(peak "$fw" scan "$tree" --rules "$sb/yara" --format json -o "$work/b.json")
printf '%-78s %8s %9s\n' "firewarden scan, same rules + built-in pack, heuristics, tampering, dumps" "$f2" "$((f2m / 1024))"
f3=$(timeit "$fw" scan "$tree" --format json -o "$work/c.json")
printf '%-78s %8s %9s\n' "firewarden scan, built-in pack + heuristics only (the default)" "$f3" "-"
echo "speed-up, same rules: $(echo "scale=2; $y / $f1" | bc)x"

# Agreement: the same files matched by the same signature-base rules.
yara -r -p "$cores" -d filename=x -d filepath=x -d extension=x -d filetype=x -d owner=x "${yargs[@]}" "$tree" 2>/dev/null \
  | awk '{print $1" "$2}' | sort -u > "$work/yara.txt"
python3 - "$work/a.json" "$work/yara.txt" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
ours = sorted({f"{f['title'].split(':')[0].replace('YARA ', '')} {f['evidence'][0]['path']}" for f in r['findings'] if f['check'].startswith('scan.yara')})
theirs = sorted({l.strip() for l in open(sys.argv[2]) if l.strip()})
print(f"rule matches: firewarden {len(ours)}, yara {len(theirs)}, in both {len(set(ours) & set(theirs))}")
for x in sorted(set(theirs) - set(ours)): print("  only yara:", x)
for x in sorted(set(ours) - set(theirs)): print("  only firewarden:", x)
PY

# False positives of the default configuration on this benign tree.
python3 - "$work/c.json" "$files" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); n = int(sys.argv[2])
def files_at(levels):
    return sorted({f['evidence'][0]['path'] for f in r['findings'] if f['severity'] in levels and f['check'] != 'scan.dump'})
hi = files_at(('high', 'critical'))
med = files_at(('medium',))
print(f"benign files flagged high/critical by the default scan: {len(hi)} of {n} ({100 * len(hi) / n:.3f} %)")
for p in hi: print("  ", p)
print(f"benign files flagged medium: {len(med)} ({100 * len(med) / n:.3f} %)")
PY
# Detection on our own samples (crates/firewarden-scan/tests/samples).
"$fw" scan crates/firewarden-scan/tests/samples --format json -o "$work/s.json" || true
python3 - "$work/s.json" crates/firewarden-scan/tests/samples <<'PY'
import json, os, sys
r = json.load(open(sys.argv[1]))
names = sorted(os.listdir(sys.argv[2]))
hit = {os.path.basename(f['evidence'][0]['path']) for f in r['findings'] if f['severity'] in ('high', 'critical')}
print(f"own samples detected high/critical: {len([n for n in names if n in hit])} of {len(names)}")
PY
# The same samples with signature-base alone, for comparison.
"$fw" scan crates/firewarden-scan/tests/samples --rules "$sb/yara" --no-builtin --no-heuristics --no-tamper --no-dumps --format json -o "$work/sb.json" || true
python3 - "$work/sb.json" crates/firewarden-scan/tests/samples <<'PY'
import json, os, sys
r = json.load(open(sys.argv[1]))
names = sorted(os.listdir(sys.argv[2]))
hit = {os.path.basename(f['evidence'][0]['path']) for f in r['findings'] if f['severity'] in ('high', 'critical')}
seen = {os.path.basename(f['evidence'][0]['path']) for f in r['findings']}
print(f"own samples, signature-base alone: {len([n for n in names if n in hit])} of {len(names)} high/critical, {len([n for n in names if n in seen])} at any severity")
PY
