//! Network containment, proven inside network namespaces this test creates: a "responder" and
//! an "attacker" namespace joined by veth pairs to the host under test. Nothing leaves the
//! namespaces; they are deleted at the end, whatever happens.
//!
//! Needs root, `ip` (iproute2) and `nft` (nftables). Without them the test says so and skips;
//! under CI (`CI=true`), which installs both and runs as root, a missing piece is a failure.

mod support;

use std::fs::File;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

const HUT_R: &str = "10.231.1.1"; // host under test, responder side
const RESP: &str = "10.231.1.2";
const HUT_A: &str = "10.231.2.1"; // host under test, attacker side
const ATT: &str = "10.231.2.2";

struct Lab {
    hut: String,
    resp: String,
    att: String,
}

impl Drop for Lab {
    fn drop(&mut self) {
        for ns in [&self.hut, &self.resp, &self.att] {
            let _ = Command::new("ip").args(["netns", "del", ns]).output();
        }
    }
}

fn ip(args: &[&str]) {
    let out = Command::new("ip").args(args).output().unwrap();
    assert!(
        out.status.success(),
        "ip {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn has(cmd: &str) -> bool {
    ["/usr/sbin", "/sbin", "/usr/bin", "/bin"]
        .iter()
        .any(|d| std::path::Path::new(d).join(cmd).is_file())
}

/// Three namespaces of their own for one test (`tag` keeps two tests of this process apart).
fn lab(tag: &str) -> Option<Lab> {
    let root = std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0"));
    let missing: Vec<&str> = [
        (!root).then_some("root"),
        (!has("ip")).then_some("ip (iproute2)"),
        (!has("nft")).then_some("nft (nftables)"),
    ]
    .into_iter()
    .flatten()
    .collect();
    if !missing.is_empty() {
        let msg = format!("network containment test needs {}", missing.join(", "));
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("{msg}: CI installs them and runs as root (scripts/test.sh)");
        }
        eprintln!("SKIPPED: {msg}");
        return None;
    }
    let id = std::process::id();
    let lab = Lab {
        hut: format!("fw-hut-{id}{tag}"),
        resp: format!("fw-resp-{id}{tag}"),
        att: format!("fw-att-{id}{tag}"),
    };
    for ns in [&lab.hut, &lab.resp, &lab.att] {
        ip(&["netns", "add", ns]);
        ip(&["-n", ns, "link", "set", "lo", "up"]);
    }
    ip(&[
        "-n", &lab.hut, "link", "add", "hr", "type", "veth", "peer", "name", "rr", "netns",
        &lab.resp,
    ]);
    ip(&[
        "-n", &lab.hut, "link", "add", "ha", "type", "veth", "peer", "name", "aa", "netns",
        &lab.att,
    ]);
    for (ns, dev, addr) in [
        (&lab.hut, "hr", HUT_R),
        (&lab.resp, "rr", RESP),
        (&lab.hut, "ha", HUT_A),
        (&lab.att, "aa", ATT),
    ] {
        ip(&["-n", ns, "addr", "add", &format!("{addr}/24"), "dev", dev]);
        ip(&["-n", ns, "link", "set", dev, "up"]);
    }
    Some(lab)
}

/// Runs `f` on a thread that has joined the namespace `ns`.
fn in_ns<T: Send + 'static>(ns: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let path = format!("/run/netns/{ns}");
    std::thread::spawn(move || {
        let file = File::open(&path).unwrap();
        // SAFETY: setns on a valid namespace fd only changes this thread's network namespace.
        let rc = unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) };
        assert_eq!(rc, 0, "setns {path}");
        f()
    })
    .join()
    .unwrap()
}

/// Serves "hi" on each port inside `ns`, forever (the threads die with the test process).
fn serve(ns: &str, addrs: &[&str]) {
    for a in addrs {
        let a = a.to_string();
        let listener = in_ns(ns, move || TcpListener::bind(&a).unwrap());
        std::thread::spawn(move || {
            for mut s in listener.incoming().flatten() {
                let _ = s.write_all(b"hi");
            }
        });
    }
}

/// Whether a TCP connection from `ns` to `addr` gets the server's greeting within a second.
fn reaches(ns: &str, addr: &str) -> bool {
    let addr: SocketAddr = addr.parse().unwrap();
    in_ns(ns, move || {
        let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_secs(1)) else {
            return false;
        };
        s.set_read_timeout(Some(Duration::from_secs(1))).unwrap();
        let mut buf = [0u8; 2];
        s.read_exact(&mut buf).is_ok() && &buf == b"hi"
    })
}

fn fw_in(ns: &str, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new("ip");
    cmd.args(["netns", "exec", ns, env!("CARGO_BIN_EXE_firewarden")])
        .args(args)
        .env("NO_COLOR", "1")
        .env_remove("SSH_CONNECTION")
        .env_remove("SSH_CLIENT");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn nft_in(ns: &str, args: &[&str]) -> String {
    let out = Command::new("ip")
        .args(["netns", "exec", ns, "nft"])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "nft {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn wait_until(what: &str, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(30) {
        if f() {
            return;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    panic!("timed out waiting for: {what}");
}

fn ok(out: &Output) -> String {
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "firewarden failed: {text}");
    text
}

#[test]
fn isolation_keeps_the_responder_cuts_the_rest_and_rolls_back() {
    let Some(lab) = lab("i") else { return };
    let state = tempfile::tempdir().unwrap();
    let sd = state.path().to_str().unwrap();
    serve(&lab.hut, &["0.0.0.0:2222", "0.0.0.0:8080", "0.0.0.0:9999"]);
    serve(&lab.att, &["0.0.0.0:9000"]);
    let ssh = format!("{HUT_R}:2222");
    let web = format!("{HUT_R}:8080");
    let other = format!("{HUT_R}:9999");
    let from_att = format!("{HUT_A}:2222");
    let outbound = format!("{ATT}:9000");
    assert!(
        reaches(&lab.resp, &ssh) && reaches(&lab.att, &from_att) && reaches(&lab.hut, &outbound)
    );

    // Somebody else's table: it must come out of all this exactly as it went in.
    nft_in(&lab.hut, &["add", "table", "inet", "theirs"]);
    nft_in(
        &lab.hut,
        &[
            "add",
            "chain",
            "inet",
            "theirs",
            "in",
            "{ type filter hook input priority 0; policy accept; }",
        ],
    );
    nft_in(
        &lab.hut,
        &[
            "add", "rule", "inet", "theirs", "in", "tcp", "dport", "2222", "counter", "accept",
        ],
    );
    let theirs = || {
        nft_in(&lab.hut, &["list", "chain", "inet", "theirs", "in"])
            .lines()
            .map(|l| l.split(" counter").next().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    let theirs_before = theirs();

    // The dry run changes nothing.
    let dry = ok(&fw_in(
        &lab.hut,
        &[
            "contain",
            "network",
            "--allow",
            RESP,
            "--dry-run",
            "--state-dir",
            sd,
        ],
        &[],
    ));
    assert!(dry.contains("table inet firewarden"), "{dry}");
    assert!(!nft_in(&lab.hut, &["list", "tables"]).contains("firewarden"));

    // The responder's address comes from SSH_CONNECTION, as in a real SSH session; the port
    // that session is connected to (2222) stays open beside the allowed one (8080).
    let out = ok(&fw_in(
        &lab.hut,
        &[
            "contain",
            "network",
            "--allow-port",
            "8080",
            "--ttl",
            "6s",
            "--yes",
            "--state-dir",
            sd,
        ],
        &[("SSH_CONNECTION", &format!("{RESP} 50022 {HUT_R} 2222"))],
    ));
    assert!(out.contains("applied A1"), "{out}");
    assert!(
        out.contains("port 2222, which this SSH session is connected to"),
        "{out}"
    );
    assert!(
        reaches(&lab.resp, &ssh),
        "the responder lost its SSH session's port"
    );
    assert!(
        reaches(&lab.resp, &web),
        "the responder lost the allowed port"
    );
    assert!(
        !reaches(&lab.resp, &other),
        "the responder reached a port that was not allowed"
    );
    assert!(
        !reaches(&lab.att, &from_att),
        "the attacker still reaches the host"
    );
    assert!(!reaches(&lab.hut, &outbound), "outbound traffic is not cut");
    assert!(reaches(&lab.hut, "127.0.0.1:8080"), "loopback was cut");
    assert_eq!(theirs(), theirs_before);

    // Nobody confirms: the kernel lifts the isolation when the TTL runs out.
    wait_until("the TTL to lift the isolation", || {
        reaches(&lab.att, &from_att)
    });
    assert!(reaches(&lab.hut, &outbound));
    let listed = ok(&fw_in(&lab.hut, &["actions", "--state-dir", sd], &[]));
    assert!(listed.contains("expired"), "{listed}");
    let refused = fw_in(&lab.hut, &["contain", "confirm", "--state-dir", sd], &[]);
    assert_eq!(
        refused.status.code(),
        Some(2),
        "confirming an expired containment must fail"
    );
    ok(&fw_in(&lab.hut, &["undo", "A1", "--state-dir", sd], &[]));
    assert!(!nft_in(&lab.hut, &["list", "tables"]).contains("firewarden"));

    // Isolation with the responder allowed, as the rest of this test runs it.
    let isolate = |ttl: &str| {
        fw_in(
            &lab.hut,
            &[
                "contain",
                "network",
                "--allow",
                RESP,
                "--ttl",
                ttl,
                "--yes",
                "--state-dir",
                sd,
            ],
            &[],
        )
    };

    // Confirmed in time: it stays past the TTL, until undone.
    ok(&isolate("3s"));
    // First pushed back (a rolling dead-man switch), then made permanent.
    let extended = ok(&fw_in(
        &lab.hut,
        &["contain", "confirm", "--extend", "60s", "--state-dir", sd],
        &[],
    ));
    assert!(extended.contains("A2 extended"), "{extended}");
    let set = nft_in(&lab.hut, &["list", "set", "inet", "firewarden", "isolate4"]);
    assert!(set.contains("timeout 1m"), "{set}");
    std::thread::sleep(Duration::from_secs(4));
    assert!(
        !reaches(&lab.att, &from_att),
        "an extended isolation lapsed at the old TTL"
    );
    ok(&fw_in(
        &lab.hut,
        &["contain", "confirm", "--state-dir", sd],
        &[],
    ));
    let set = nft_in(&lab.hut, &["list", "set", "inet", "firewarden", "isolate4"]);
    assert!(
        set.contains("0.0.0.0/0") && !set.contains("expires"),
        "{set}"
    );
    assert!(
        !reaches(&lab.att, &from_att),
        "a confirmed isolation lapsed"
    );
    assert!(
        reaches(&lab.resp, &other),
        "without --allow-port the responder reaches every port"
    );
    // Recovery lifts the isolation.
    let lifted = ok(&fw_in(
        &lab.hut,
        &["recover", "lift", "--state-dir", sd],
        &[],
    ));
    assert!(lifted.contains("undone A2"), "{lifted}");
    assert!(reaches(&lab.att, &from_att) && reaches(&lab.hut, &outbound));
    assert!(!nft_in(&lab.hut, &["list", "tables"]).contains("firewarden"));
    assert_eq!(theirs(), theirs_before, "another table was changed");

    // A table that vanished (a reboot, a flushed ruleset) is reported as no longer isolating.
    ok(&isolate("0"));
    nft_in(&lab.hut, &["delete", "table", "inet", "firewarden"]);
    let listed = ok(&fw_in(
        &lab.hut,
        &["actions", "--state-dir", sd, "--format", "json"],
        &[],
    ));
    let list: serde_json::Value = serde_json::from_str(&listed).unwrap();
    assert_eq!(list[2]["status"], "expired", "{listed}");
    ok(&fw_in(&lab.hut, &["undo", "A3", "--state-dir", sd], &[]));

    // The dead-man switch fired and the attacker is back: a second isolation takes at once
    // (its own action, replacing the lapsed table in one step), and `undo --all` brings back
    // the state before the first.
    assert!(ok(&isolate("2s")).contains("applied A4"));
    assert!(!reaches(&lab.att, &from_att));
    wait_until("the TTL to lift the isolation again", || {
        reaches(&lab.att, &from_att)
    });
    let again = ok(&isolate("0"));
    assert!(again.contains("applied A5"), "{again}");
    assert!(again.contains("dead-man switch lifted it"), "{again}");
    assert!(
        !reaches(&lab.att, &from_att),
        "the second isolation did not cut the attacker"
    );
    assert!(reaches(&lab.resp, &other), "the responder was cut");
    let undone = ok(&fw_in(&lab.hut, &["undo", "--all", "--state-dir", sd], &[]));
    assert!(undone.contains("A5") && undone.contains("A4"), "{undone}");
    assert!(!nft_in(&lab.hut, &["list", "tables"]).contains("firewarden"));
    assert!(reaches(&lab.att, &from_att) && reaches(&lab.hut, &outbound));
    assert_eq!(theirs(), theirs_before, "another table was changed");

    // Outside an SSH session and without --allow, it refuses rather than lock everyone out.
    let refused = fw_in(
        &lab.hut,
        &["contain", "network", "--yes", "--state-dir", sd],
        &[],
    );
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("no responder address"));
    let verify = ok(&fw_in(
        &lab.hut,
        &["actions", "--verify", "--state-dir", sd],
        &[],
    ));
    assert!(verify.contains("chain intact"), "{verify}");
}

/// The approval loop with real network containment: the case server sits on the responder's
/// side of the host under test; `contain network --case` on the host waits while the
/// customer's authoriser, in their own session, sees the request. Denied, the host stays as it
/// was; approved (password re-entered), the host checks the signed approval, isolates itself
/// (the attacker is cut, the responder and the server stay reachable) and journals the
/// approval; undone, everything is back.
#[test]
fn a_network_isolation_waits_for_the_customers_approval() {
    let Some(lab) = lab("a") else { return };
    let data = tempfile::tempdir().unwrap();
    let state = tempfile::tempdir().unwrap();
    let sd = state.path().to_str().unwrap().to_owned();
    let server = support::start_in(
        Some(&lab.resp),
        &format!("{RESP}:0"),
        &data.path().join("fw"),
        None,
        None,
    );
    let (_, rob, carol, case) = support::acme_with_rob_and_carol(&server, "hut");
    serve(&lab.hut, &["0.0.0.0:2222"]);
    let from_att = format!("{HUT_A}:2222");
    let from_resp = format!("{HUT_R}:2222");
    assert!(reaches(&lab.att, &from_att) && reaches(&lab.resp, &from_resp));
    let server_addr = server.url.trim_start_matches("https://").to_owned();

    let contain = || {
        let mut c = support::firewarden_in(Some(&lab.hut));
        c.args([
            "contain",
            "network",
            "--allow",
            RESP,
            "--yes",
            "--state-dir",
            &sd,
            "--case",
            &case,
        ])
        .env("NO_COLOR", "1")
        .env_remove("SSH_CONNECTION")
        .env_remove("SSH_CLIENT")
        .env("FIREWARDEN_SERVER", &server.url)
        .env("FIREWARDEN_TOKEN", &rob)
        .env("FIREWARDEN_PIN", &server.pin)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
    };
    let pending = || {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(30) {
            let list = server.json(&carol, &["case", "approvals", &case]);
            if let Some(p) = list
                .as_array()
                .unwrap()
                .iter()
                .find(|a| a["state"] == "pending")
            {
                return p["id"].as_str().unwrap().to_owned();
            }
            std::thread::sleep(Duration::from_millis(250));
        }
        panic!("no request arrived");
    };

    // Denied: the host is not touched.
    let waiting = contain();
    let id = pending();
    assert!(
        reaches(&lab.att, &from_att),
        "isolated before anyone agreed"
    );
    let denied = server.with_stdin(
        &carol,
        &[
            "case",
            "decide",
            &case,
            &id,
            "--deny",
            "--reason",
            "payments run through it",
        ],
        "carol's long passphrase\n",
    );
    assert_eq!(denied.status.code(), Some(0), "{}", support::text(&denied));
    let done = waiting.wait_with_output().unwrap();
    assert_ne!(done.status.code(), Some(0), "{}", support::text(&done));
    assert!(support::text(&done).contains("payments run through it"));
    assert!(reaches(&lab.att, &from_att));
    assert!(!nft_in(&lab.hut, &["list", "tables"]).contains("firewarden"));

    // Approved from the authoriser's session: isolated, the responder's side kept.
    let waiting = contain();
    let id = pending();
    let approved = server.with_stdin(
        &carol,
        &["case", "decide", &case, &id, "--approve"],
        "carol's long passphrase\n",
    );
    assert_eq!(
        approved.status.code(),
        Some(0),
        "{}",
        support::text(&approved)
    );
    let done = waiting.wait_with_output().unwrap();
    let said = support::text(&done);
    assert_eq!(done.status.code(), Some(0), "{said}");
    assert!(said.contains("approved by carol"), "{said}");
    assert!(
        !reaches(&lab.att, &from_att),
        "the attacker still reaches the host"
    );
    assert!(
        reaches(&lab.resp, &from_resp),
        "the responder was locked out"
    );
    let to_server: SocketAddr = server_addr.parse().unwrap();
    assert!(
        in_ns(&lab.hut, move || TcpStream::connect_timeout(
            &to_server,
            Duration::from_secs(2)
        )
        .is_ok()),
        "the host lost the case server"
    );
    let journal = std::fs::read_to_string(state.path().join("journal.jsonl")).unwrap();
    assert!(journal.contains(&id) && journal.contains("\"signature\""));
    let listed = server.json(&carol, &["case", "approvals", &case]);
    let states: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["state"].as_str().unwrap())
        .collect();
    assert!(
        states.contains(&"approved") && states.contains(&"denied"),
        "{listed}"
    );

    ok(&fw_in(
        &lab.hut,
        &["undo", "--all", "--state-dir", &sd],
        &[],
    ));
    assert!(reaches(&lab.att, &from_att));
    assert!(!nft_in(&lab.hut, &["list", "tables"]).contains("firewarden"));
}
