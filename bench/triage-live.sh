#!/usr/bin/env bash
# Live triage wall time on this machine, against the shell commands a responder would run for
# the same ground (processes, sockets, accounts, cron, temp dirs, SUID walk, package digests).
#
#   bench/triage-live.sh [RUNS=5]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
cargo build --release -q -p firewarden
fw=${CARGO_TARGET_DIR:-target}/release/firewarden
deep=linux.persistence.suid,linux.files.unowned_executables,linux.files.recent_changes,linux.files.rootkit_paths,linux.files.package_integrity,linux.web.webshell

. bench/lib.sh

baseline() {
  ps auxww; ss -antup 2>/dev/null || netstat -antup 2>/dev/null || true
  cat /etc/passwd /etc/shadow /etc/group /etc/sudoers 2>/dev/null
  cat /etc/crontab /etc/cron.d/* /var/spool/cron/crontabs/* 2>/dev/null
  ls -la /tmp /var/tmp /dev/shm /etc/systemd/system 2>/dev/null
  cat /root/.ssh/authorized_keys /home/*/.ssh/authorized_keys /root/.bash_history 2>/dev/null
  last -f /var/log/wtmp 2>/dev/null; lastb 2>/dev/null
  grep -h 'Failed password' /var/log/auth.log* /var/log/secure* 2>/dev/null | wc -l
  find / -xdev \( -path /proc -o -path /sys \) -prune -o -perm /6000 -type f -print 2>/dev/null
  (cd / && cat /var/lib/dpkg/info/*.md5sums 2>/dev/null | grep -E ' (usr/)?s?bin/' | md5sum -c --quiet 2>/dev/null)
}
export -f baseline

"$fw" triage --format json -o /dev/null || true # warm caches for every contender alike
baseline >/dev/null 2>&1 || true
printf '%-62s %s\n' "contender (median of $runs runs, $(nproc) cores)" "wall s"
printf '%-62s %s\n' "firewarden triage (all $("$fw" checks --format json | grep -c '"id"') checks)" "$(timeit "$fw" triage --format json -o /dev/null)"
printf '%-62s %s\n' "firewarden triage --skip deep file scans" "$(timeit "$fw" triage --skip "$deep" --format json -o /dev/null)"
printf '%-62s %s\n' "shell baseline (ps, ss, cat, find -perm, md5sum -c, last)" "$(timeit bash -c baseline)"
