#!/usr/bin/env python3
"""Writes a large, realistic auth.log for benchmarks: SSH brute force from many addresses,
PAM failures, invalid users, a few accepted logins, cron and sudo noise.

usage: gen-authlog.py OUT_FILE SIZE_MB [SEED]
"""
import random
import sys

out, size_mb = sys.argv[1], int(sys.argv[2])
rng = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 42)
users = ["root", "admin", "test", "oracle", "ubuntu", "postgres", "git", "user", "pi", "deploy"]
months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
ips = [f"{rng.randint(1, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}" for _ in range(5000)]
target = size_mb * 1024 * 1024
written = 0
t = 0
with open(out, "w") as f:
    buf = []
    while written < target:
        t += rng.randint(0, 3)
        day = 1 + (t // 86400) % 28
        month = months[(t // (86400 * 28)) % 12]
        stamp = f"{month} {day:2d} {(t // 3600) % 24:02d}:{(t // 60) % 60:02d}:{t % 60:02d}"
        pid = rng.randint(1000, 65000)
        ip = ips[int(rng.paretovariate(1.2)) % len(ips)]
        user = rng.choice(users)
        r = rng.random()
        if r < 0.45:
            line = f"{stamp} web01 sshd[{pid}]: Failed password for {user} from {ip} port {rng.randint(1024, 65535)} ssh2"
        elif r < 0.60:
            line = f"{stamp} web01 sshd[{pid}]: pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost={ip}  user={user}"
        elif r < 0.70:
            line = f"{stamp} web01 sshd[{pid}]: Invalid user {user}{rng.randint(0, 99)} from {ip} port {rng.randint(1024, 65535)}"
        elif r < 0.85:
            line = f"{stamp} web01 sshd[{pid}]: Received disconnect from {ip} port {rng.randint(1024, 65535)}:11: Bye Bye [preauth]"
        elif r < 0.95:
            line = f"{stamp} web01 CRON[{pid}]: pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)"
        elif r < 0.999:
            line = f"{stamp} web01 sudo:    alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/systemctl status nginx"
        else:
            line = f"{stamp} web01 sshd[{pid}]: Accepted publickey for deploy from 198.51.100.10 port 40000 ssh2: ED25519 SHA256:abcdef"
        buf.append(line)
        written += len(line) + 1
        if len(buf) >= 10000:
            f.write("\n".join(buf) + "\n")
            buf = []
    if buf:
        f.write("\n".join(buf) + "\n")
