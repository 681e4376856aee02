#!/usr/bin/env bash
# Auth-log analysis throughput: firewarden against the shell pipeline responders run
# (`grep 'Failed password' | awk | sort | uniq -c`), on the same generated log, in one run.
#
#   bench/authlog.sh [SIZE_MB=500] [RUNS=3]
set -euo pipefail
cd "$(dirname "$0")/.."
size=${1:-500}
runs=${2:-3}
work=${BENCH_DIR:-/tmp/firewarden-bench}
mkdir -p "$work/empty-root"
log="$work/auth-${size}M.log"
[ -f "$log" ] || python3 bench/gen-authlog.py "$log" "$size"
cargo build --release -q -p firewarden
fw=${CARGO_TARGET_DIR:-target}/release/firewarden
bytes=$(stat -c %s "$log")
cat "$log" > /dev/null # warm the page cache so every contender reads from memory

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
timeit() { # runs "$@" $runs times, prints the median wall seconds
  for _ in $(seq "$runs"); do
    s=$(date +%s.%N); "$@" >/dev/null 2>&1 || true; e=$(date +%s.%N)
    echo "$e - $s" | bc
  done | median
}
report() { printf '%-58s %8.2f s %8.0f MB/s\n' "$1" "$2" "$(echo "$bytes / 1048576 / $2" | bc -l)"; }

echo "auth log: $log ($((bytes / 1048576)) MiB, $(wc -l < "$log") lines), median of $runs runs, $(nproc) cores"
t=$(timeit "$fw" triage --root "$work/empty-root" --only linux.logins.brute_force --auth-log "$log" --format json -o /dev/null)
report "firewarden (all cores)" "$t"
t=$(timeit taskset -c 0 "$fw" triage --root "$work/empty-root" --only linux.logins.brute_force --auth-log "$log" --format json -o /dev/null)
report "firewarden (one core, taskset -c 0)" "$t"
t=$(timeit bash -c "grep 'Failed password' '$log' | awk '{print \$(NF-3)}' | sort | uniq -c | sort -nr | head")
report "grep | awk | sort | uniq -c (failures per IP only)" "$t"
# Piped: GNU grep stops at the first match when its output is /dev/null.
t=$(timeit bash -c "grep -c 'Failed password' '$log' | cat")
report "grep -c 'Failed password' (count only, no per-IP)" "$t"
