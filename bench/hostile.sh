#!/usr/bin/env bash
# Attacker-sized input (P5.1): peak memory (GNU time's maximum RSS) and wall time of the release
# binary on inputs built to exhaust it, and the warning each must give. The budget is 512 MiB
# per input; the "before" column is what the hostile-input probe measured before the fix.
#
#   bench/hostile.sh            # everything (≈ 6 GB of scratch space in $TMPDIR, ~10 minutes)
#   KEEP=1 bench/hostile.sh     # keep the generated inputs for another run
#   WORK=/tmp/tmp.X bench/hostile.sh   # reuse inputs kept by an earlier run
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}"
cargo build --release -q -p firewarden
fw="$CARGO_TARGET_DIR/release/firewarden"
[ -x /usr/bin/time ] || { echo "needs GNU time (apt-get install time)" >&2; exit 2; }
reuse=${WORK:-}
work=${WORK:-$(mktemp -d)}
[ -n "${KEEP:-}${WORK:-}" ] || trap 'rm -rf "$work"' EXIT
echo "scratch: $work" >&2

# measure NAME BEFORE EXPECT CMD…: runs CMD once under GNU time, prints a table row with peak
# RSS (MiB), wall seconds and whether stderr/stdout held EXPECT (the warning naming the cap).
measure() {
  local name=$1 before=$2 expect=$3
  shift 3
  /usr/bin/time -f '%M %e' -o "$work/time" "$@" >"$work/out" 2>"$work/err" || true
  # GNU time puts "Command exited with non-zero status N" first when findings give exit 1.
  read -r kb secs < <(tail -n1 "$work/time")
  local said=no
  if [ "$expect" = "-" ]; then said="n/a (a time bound)"
  elif grep -qiE "$expect" "$work/out" "$work/err"; then said=yes; fi
  printf '| %s | %s | %d MiB | %.1f s | %s |\n' "$name" "$before" $((kb / 1024)) "$secs" "$said"
}

if [ -z "$reuse" ]; then
echo "generating inputs…" >&2
# 8 million distinct source addresses, one failed attempt each, then a real brute force.
python3 - "$work/auth.log" <<'PY'
import sys
with open(sys.argv[1], "w", buffering=1 << 20) as f:
    w = f.write
    for i in range(8_000_000):
        w(f"Nov 20 03:{i // 60 % 60:02d}:{i % 60:02d} web01 sshd[811]: Failed password for u{i % 5000} from 10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255} port 22 ssh2\n")
    for i in range(40):
        w(f"Nov 28 03:07:{i:02d} web01 sshd[812]: Failed password for root from 203.0.113.66 port 4{i:04d} ssh2\n")
    w("Nov 28 03:08:00 web01 sshd[812]: Accepted password for root from 203.0.113.66 port 40100 ssh2\n")
PY
mkdir -p "$work/authroot/var/log" && mv "$work/auth.log" "$work/authroot/var/log/auth.log"

# 2 million JSON-lines events.
python3 - "$work/events.jsonl" <<'PY'
import sys
with open(sys.argv[1], "w", buffering=1 << 20) as f:
    for i in range(2_000_000):
        f.write('{"Event":{"System":{"EventID":4625,"TimeCreated":{"#attributes":{"SystemTime":"2026-11-20T03:%02d:%02dZ"}},"EventRecordID":%d,"Channel":"Security","Computer":"WEB01"},"EventData":{"TargetUserName":"u%d","IpAddress":"10.%d.%d.%d","LogonType":"3"}}}\n' % (i // 60 % 60, i % 60, i, i % 977, i >> 16 & 255, i >> 8 & 255, i & 255))
PY

# A 3-million-entry baseline, diffed against a small site.
mkdir -p "$work/site" && echo '<?php echo 1;' >"$work/site/index.php"
python3 - "$work/big.baseline" <<'PY'
import sys
with open(sys.argv[1], "w", buffering=1 << 20) as f:
    f.write('{"format":"firewarden-baseline/1","root":"/","created":"2026-11-01T00:00:00Z","files":{')
    for i in range(3_000_000):
        f.write('%s"/d%07d/f.php":{"size":10,"mode":"100644","sha256":"%064x"}' % ("," if i else "", i, i))
    f.write('}}')
PY

# A 1 GiB sparse PHP file, scanned with the size limit raised past it.
mkdir -p "$work/www" && truncate -s 1G "$work/www/big.php"

# A gzip log that inflates to 16 GiB: 16 gzip members of 1 GiB of zeros each.
head -c 1G /dev/zero | gzip -1 >"$work/member.gz"
mkdir -p "$work/gzroot/var/log"
for _ in $(seq 16); do cat "$work/member.gz"; done >"$work/gzroot/var/log/auth.log.2.gz"
echo 'Nov 28 03:08:00 web01 sshd[812]: Accepted password for root from 203.0.113.66 port 40100 ssh2' >"$work/gzroot/var/log/auth.log"

# 20,000 accounts, each with an authorized_keys file.
python3 - "$work/keys" <<'PY'
import os, sys
root = sys.argv[1]
os.makedirs(f"{root}/etc", exist_ok=True)
with open(f"{root}/etc/passwd", "w") as p:
    p.write("root:x:0:0:root:/root:/bin/bash\n")
    for i in range(20_000):
        p.write(f"u{i}:x:{2000 + i}:{2000 + i}::/home/u{i}:/bin/bash\n")
        os.makedirs(f"{root}/home/u{i}/.ssh", exist_ok=True)
        with open(f"{root}/home/u{i}/.ssh/authorized_keys", "w") as k:
            k.write("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG9o u@h\n")
PY

# A 2 GiB btmp: a month of brute force from millions of addresses.
python3 - "$work/btmproot" <<'PY'
import os, struct, sys
root = sys.argv[1]
os.makedirs(f"{root}/var/log", exist_ok=True)
with open(f"{root}/var/log/btmp", "wb", buffering=1 << 20) as f:
    for i in range(5_600_000):
        r = bytearray(384)
        r[0:4] = struct.pack("<i", 6)
        r[44:48] = b"root"
        host = f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}".encode()
        r[76:76 + len(host)] = host
        r[340:344] = struct.pack("<I", 1_795_600_000 + i // 10)
        f.write(r)
PY
mkdir -p "$work/btmproot/etc" && echo 'root:x:0:0:root:/root:/bin/bash' >"$work/btmproot/etc/passwd"

# A 1 GiB nginx access log: SQL injection from 8 million distinct addresses.
mkdir -p "$work/webroot/var/www/html" "$work/webroot/var/log/nginx" "$work/webroot/etc/nginx/sites-enabled"
echo '<?php echo 1;' >"$work/webroot/var/www/html/index.php"
printf 'server {\n  root /var/www/html;\n  access_log /var/log/nginx/access.log;\n}\n' >"$work/webroot/etc/nginx/sites-enabled/default"
python3 - "$work/webroot/var/log/nginx/access.log" <<'PY'
import sys
with open(sys.argv[1], "w", buffering=1 << 20) as f:
    for i in range(8_000_000):
        f.write(f'10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255} - - [20/Nov/2026:03:{i // 60 % 60:02d}:{i % 60:02d} +0000] "GET /item.php?id=1%27%20union%20select%201,2-- HTTP/1.1" 200 512 "-" "Mozilla/5.0"\n')
PY

# A 150,000-line file (under the 1 MiB a baseline copies) rewritten everywhere since.
mkdir -p "$work/rewrite"
python3 -c "
import sys
open('$work/rewrite/app.js','w').write(''.join(f'{i}\n' for i in range(150_000)))"
"$fw" baseline create "$work/rewrite" -o "$work/rewrite.baseline" --copy >/dev/null 2>&1
python3 -c "
open('$work/rewrite/app.js','w').write(''.join(f'{149_999 - i}\n' for i in range(150_000)))"

# A 60 MB PHP file of escapes.
python3 -c "
open('$work/www/esc.php','w').write('<?php \$x = \"' + '\\\\x41' * 15_000_000 + '\";')"
# A wrapper of a sink called 300,000 times with no `;` after: each call's statement was
# searched for its `;` to the end of the file.
python3 -c "
open('$work/www/calls.php','w').write('<?php\nfunction run(\$c) { system(\$c); }\n\$d = \$_GET[1];\n' + 'run(1) + ' * 300_000)"
# 300,000 heredocs that never close: each was read 4 KiB on, to its label.
python3 -c "
open('$work/www/heredocs.php','w').write('<?php \$q = \$_GET[1];\n' + '\$a = <<<EOT\nx\n' * 300_000)"
fi

echo
echo "| attacker-sized input | before (probe) | peak RSS | wall | warning naming the cap |"
echo "|---|---|---|---|---|"
measure "auth.log, 8 M distinct source addresses" "8.1 GB" "distinct source addresses" \
  "$fw" triage --root "$work/authroot" --only linux.logins --format json
measure "hunt, 2 M JSON-lines events" "4.7 GB" "logon events with a source" \
  "$fw" hunt "$work/events.jsonl" --format json
measure "baseline diff against 3 M entries" "7.4 GB" "counted, not listed" \
  "$fw" baseline diff "$work/big.baseline" "$work/site" --format json
measure "btmp of 2 GiB (5.6 M failed logins)" "not measured" "newest records" \
  "$fw" triage --root "$work/btmproot" --only linux.logins --format json
measure "nginx access log, 8 M distinct attacking addresses" "not measured" "attacking" \
  "$fw" triage --root "$work/webroot" --only linux.web --format json
measure "scan of a 1 GiB sparse file, --max-file-size 2048" "3.2 GB" "capped at" \
  "$fw" scan "$work/www/big.php" --max-file-size 2048 --format json
measure "gzip auth log inflating to 16 GiB" "not measured" "compression bomb" \
  "$fw" triage --root "$work/gzroot" --only linux.logins --format json
measure "authorized_keys of 20,000 accounts" "64 s" "-" \
  "$fw" triage --root "$work/keys" --only linux.ssh.authorized_keys --format json
measure "baseline diff of a rewritten 150,000-line file" "> 120 s" "deadline|lines are shown" \
  "$fw" baseline diff "$work/rewrite.baseline" "$work/rewrite" --format json
measure "scan of a 60 MB escape-heavy PHP file" "38 s" "-" \
  "$fw" scan "$work/www/esc.php" --format json
measure "scan of 300,000 calls of a sink wrapper, no \`;\`" "36 s" "-" \
  "$fw" scan "$work/www/calls.php" --format json
measure "scan of 300,000 unclosed heredocs" "4.5 s" "-" \
  "$fw" scan "$work/www/heredocs.php" --format json
