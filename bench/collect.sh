#!/usr/bin/env bash
# Evidence collection cost on this machine, against the baseline a responder would script:
# `tar` + `zstd` over the same file list plus `sha256sum` over it, run in the same script.
#
#   bench/collect.sh [RUNS=3]     (SKIP_LIVE=1, SKIP_THROUGHPUT=1, SKIP_MEMORY=1 leave parts out)
#
# 1. Live `collect` (profile triage) vs tar+zstd+sha256sum over the regular files it stored.
# 2. Hashing/compression throughput on one 1 GiB file: `collect --root` (read, SHA-256, zstd,
#    sign) and `verify` (decompress, SHA-256, signature) vs `sha256sum` and `tar | zstd -3`.
# 3. Peak memory of a live collection, of triage, and of a 1,000,000-file collection.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
cargo build --release -q -p firewarden
fw=$(realpath "${CARGO_TARGET_DIR:-target}/release/firewarden")
work=$(mktemp -d /var/tmp/fw-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
"$fw" keygen -o "$work/k" >/dev/null 2>&1

. bench/lib.sh
timeit_clean() { # timeit_clean CLEANUP-CMD CMD...
  local clean=$1; shift
  for _ in $(seq "$runs"); do
    eval "$clean"
    s=$(date +%s.%N); "$@" >/dev/null 2>&1 || true; e=$(date +%s.%N)
    echo "$e - $s" | bc
  done | median
}

# --- 1. live collection (SKIP_LIVE=1 to run only part 2)
if [ -z "${SKIP_LIVE:-}" ]; then
"$fw" collect --key "$work/k.key" --operator bench -o "$work/live.fwb" >/dev/null 2>&1
zstd -dc "$work/live.fwb" | tar -xOf - manifest.json > "$work/manifest.json"
python3 - "$work/manifest.json" > "$work/list" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
seen = set()
for i in m["items"]:
    c = i.get("content") or {}
    p = i["path"]
    if c.get("member") and not p.startswith("/proc/") and "path_hex" not in i and p not in seen:
        seen.add(p); print(p)
PY
items=$(python3 -c "import json,sys; m=json.load(open(sys.argv[1])); print(len(m['items']))" "$work/manifest.json")
stored=$(wc -l < "$work/list")
size=$(stat -c %s "$work/live.fwb")
baseline_live() { tar -cf - -T "$1" 2>/dev/null | zstd -3 -q > "$2/base.tar.zst"; xargs -d '\n' sha256sum < "$1" > /dev/null 2>&1; }
export -f baseline_live
printf '%-70s %s\n' "contender (median of $runs runs, $(nproc) cores)" "wall s"
printf '%-70s %s\n' "firewarden collect (live, triage profile: $items items, bundle $((size >> 20)) MiB)" \
  "$(timeit_clean "rm -f $work/c.fwb $work/c.fwb.custody" "$fw" collect --key "$work/k.key" --operator bench -o "$work/c.fwb")"
printf '%-70s %s\n' "tar + zstd -3 + sha256sum over its $stored regular files (no metadata, no /proc)" \
  "$(timeit_clean "rm -f $work/base.tar.zst" bash -c "baseline_live $work/list $work")"
printf '%-70s %s\n' "firewarden verify of that bundle" "$(timeit_clean true "$fw" verify "$work/live.fwb" --key "$work/k.pub")"

fi

# --- 2. one 1 GiB file (half random, half text: realistic compressibility; SKIP_THROUGHPUT=1)
if [ -z "${SKIP_THROUGHPUT:-}" ]; then
mkdir -p "$work/root/var/log" "$work/root/etc"
echo 'root:x:0:0:root:/root:/bin/bash' > "$work/root/etc/passwd"
( set +o pipefail; head -c 512M /dev/urandom; yes 'Nov 20 03:00:00 web01 sshd[1]: Accepted publickey for deploy from 198.51.100.10 port 4 ssh2' | head -c 512M ) > "$work/root/var/log/syslog"
cat "$work/root/var/log/syslog" > /dev/null
printf '%-70s %s\n' "firewarden collect --root (1 GiB file: read, SHA-256, zstd -3, sign)" \
  "$(timeit_clean "rm -f $work/g.fwb $work/g.fwb.custody" "$fw" collect --root "$work/root" --max-file-size 2G --key "$work/k.key" --operator bench -o "$work/g.fwb")"
printf '%-70s %s\n' "sha256sum of the same file" "$(timeit_clean true sha256sum "$work/root/var/log/syslog")"
printf '%-70s %s\n' "tar | zstd -3 of the same file" "$(timeit_clean "rm -f $work/t.zst" bash -c "tar -C $work/root -cf - var/log/syslog | zstd -3 -q > $work/t.zst")"
printf '%-70s %s\n' "tar | zstd -3, then sha256sum (the scripted baseline)" "$(timeit_clean "rm -f $work/t.zst" bash -c "tar -C $work/root -cf - var/log/syslog | zstd -3 -q > $work/t.zst; sha256sum $work/root/var/log/syslog")"
printf '%-70s %s\n' "firewarden verify (decompress, SHA-256 every member, signature)" "$(timeit_clean true "$fw" verify "$work/g.fwb" --key "$work/k.pub")"

fi

# --- 3. peak memory (SKIP_MEMORY=1 to leave out): a live collection, triage alone, and a
# collection of a 1,000,000-file tree (made here, removed by the trap). Peak RSS from
# /usr/bin/time -v ("Maximum resident set size"); the target is 256 MiB.
if [ -z "${SKIP_MEMORY:-}" ]; then
peak_mib() { /usr/bin/time -v "$@" 2>&1 >/dev/null | awk '/Maximum resident/ {print int($6 / 1024)}'; }
printf '%-70s %s\n' "peak memory" "MiB"
rm -f "$work/m.fwb" "$work/m.fwb.custody"
printf '%-70s %s\n' "firewarden collect (live, triage profile)" "$(peak_mib "$fw" collect --key "$work/k.key" --operator bench -o "$work/m.fwb")"
printf '%-70s %s\n' "firewarden triage (live)" "$(peak_mib "$fw" triage --format json -o /dev/null)"
mkdir -p "$work/million/www"
python3 - "$work/million/www" <<'PY'
import os, sys
for d in range(1000):
    p = os.path.join(sys.argv[1], f"d{d:04}")
    os.mkdir(p)
    for f in range(1000):
        open(os.path.join(p, f"f{f:04}.txt"), "w").close()
PY
rm -f "$work/m.fwb" "$work/m.fwb.custody"
printf '%-70s %s\n' "firewarden collect --root (1,000,000 files)" "$(peak_mib "$fw" collect --root "$work/million" --key "$work/k.key" --operator bench -o "$work/m.fwb")"
printf '%-70s %s\n' "firewarden verify of that bundle (examiner's side)" "$(peak_mib "$fw" verify "$work/m.fwb" --key "$work/k.pub")"
rm -rf "$work/million"
fi
