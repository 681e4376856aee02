//! A case server process and client commands for the CLI's integration tests: started with
//! the one command a newcomer uses, on loopback or inside a network namespace a test made,
//! killed when dropped (also when the test fails).
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

pub fn fw(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_firewarden"))
        .args(args)
        .env("NO_COLOR", "1")
        .env_remove("FIREWARDEN_SERVER")
        .env_remove("FIREWARDEN_TOKEN")
        .env_remove("FIREWARDEN_PIN")
        .output()
        .unwrap()
}

pub fn text(o: &Output) -> String {
    format!(
        "exit {:?}\n{}{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A server process, killed when dropped (also when the test fails).
pub struct Server {
    child: Child,
    pub url: String,
    pub pin: String,
    pub token: String,
    /// The network namespace it runs in (client commands run there too).
    pub netns: Option<String>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn start(data: &Path, database: Option<&str>, evidence: Option<&str>) -> Server {
    start_in(None, "127.0.0.1:0", data, database, evidence)
}

/// The firewarden binary, run inside `netns` when given.
pub fn firewarden_in(netns: Option<&str>) -> Command {
    match netns {
        Some(ns) => {
            let mut c = Command::new("ip");
            c.args(["netns", "exec", ns, env!("CARGO_BIN_EXE_firewarden")]);
            c
        }
        None => Command::new(env!("CARGO_BIN_EXE_firewarden")),
    }
}

/// A server listening on `listen` inside `netns` (or here).
pub fn start_in(
    netns: Option<&str>,
    listen: &str,
    data: &Path,
    database: Option<&str>,
    evidence: Option<&str>,
) -> Server {
    let mut cmd = firewarden_in(netns);
    cmd.args([
        "server",
        "--data",
        data.to_str().unwrap(),
        "--listen",
        listen,
    ]);
    if let Some(db) = database {
        cmd.args(["--database", db]);
    }
    if let Some(e) = evidence {
        cmd.args(["--evidence-store", e]);
    }
    // Servers on one database share the master key (kept beside their data directories).
    cmd.arg("--master-key")
        .arg(data.parent().unwrap().join("master.key"));
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let (mut url, mut pin, mut token_file) = (None, None, None);
    // The banner ends with the line for clients; the token file is named on a first start only.
    loop {
        let Some(Ok(line)) = lines.next() else {
            let _ = child.kill();
            panic!("the server stopped before its banner");
        };
        if let Some(u) = line.strip_prefix("firewarden server listening on ") {
            url = Some(u.to_owned());
        } else if let Some(p) = line.strip_prefix("certificate pin: ") {
            pin = Some(p.to_owned());
        } else if line.starts_with("first start:") {
            token_file = Some(data.join("bootstrap-token"));
        } else if line.starts_with("clients:") {
            break;
        }
    }
    // Keep draining the server's messages so it never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    let token = match token_file {
        Some(f) => {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(&f).unwrap().permissions().mode() & 0o777,
                0o600
            );
            std::fs::read_to_string(f).unwrap().trim().to_owned()
        }
        None => String::new(),
    };
    Server {
        child,
        url: url.unwrap(),
        pin: pin.unwrap(),
        token,
        netns: netns.map(str::to_owned),
    }
}

impl Server {
    /// A client command as `token`'s user, set up for this server.
    pub fn command(&self, token: &str, args: &[&str]) -> Command {
        let mut c = firewarden_in(self.netns.as_deref());
        c.args(args)
            .env("NO_COLOR", "1")
            .env("FIREWARDEN_SERVER", &self.url)
            .env("FIREWARDEN_TOKEN", token)
            .env("FIREWARDEN_PIN", &self.pin);
        c
    }

    pub fn as_user(&self, token: &str, args: &[&str]) -> Output {
        firewarden_in(self.netns.as_deref())
            .args(args)
            .env("NO_COLOR", "1")
            .env("FIREWARDEN_SERVER", &self.url)
            .env("FIREWARDEN_TOKEN", token)
            .env("FIREWARDEN_PIN", &self.pin)
            .output()
            .unwrap()
    }

    /// Runs a command as `token`'s user with `input` on standard input (a password).
    pub fn with_stdin(&self, token: &str, args: &[&str], input: &str) -> Output {
        use std::io::Write;
        let mut child = firewarden_in(self.netns.as_deref())
            .args(args)
            .env("NO_COLOR", "1")
            .env("FIREWARDEN_SERVER", &self.url)
            .env("FIREWARDEN_TOKEN", token)
            .env("FIREWARDEN_PIN", &self.pin)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    }

    pub fn ok(&self, token: &str, args: &[&str]) -> String {
        let o = self.as_user(token, args);
        assert_eq!(o.status.code(), Some(0), "{args:?}: {}", text(&o));
        String::from_utf8_lossy(&o.stdout).into_owned()
    }

    pub fn json(&self, token: &str, args: &[&str]) -> serde_json::Value {
        let out = self.ok(token, &[args, &["--format", "json"]].concat());
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{args:?}: {e}: {out}"))
    }
}

/// Adds a user whose password (for web logins and decisions) is "NAME's long passphrase";
/// their API token. `tenant: None`: staff who see every tenant.
pub fn user_with_password(server: &Server, name: &str, role: &str, tenant: Option<&str>) -> String {
    let mut args = vec!["user", "add", name, "--role", role];
    if let Some(t) = tenant {
        args.extend(["--tenant", t]);
    }
    args.extend(["--password-stdin", "--format", "json"]);
    let made = server.with_stdin(&server.token, &args, &format!("{name}'s long passphrase\n"));
    assert_eq!(made.status.code(), Some(0), "{}", text(&made));
    let v: serde_json::Value = serde_json::from_slice(&made.stdout).unwrap();
    v["token"].as_str().unwrap().to_owned()
}

/// A throwaway root of a web host named `name` with a one-line PHP webshell in its web root.
pub fn planted_web_host(name: &str) -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    write(root.path(), "/etc/hostname", &format!("{name}\n"));
    write(
        root.path(),
        "/var/www/html/up.php",
        "<?php @eval($_POST['x']); ?>\n",
    );
    root
}

pub fn write(root: &Path, path: &str, content: &str) {
    let p = root.join(path.trim_start_matches('/'));
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, content).unwrap();
}

/// Acme with a responder (rob) and the customer's authoriser (carol, whose password is
/// "carol's long passphrase"), and a case rob opened: (tenant, rob's token, carol's, case).
pub fn acme_with_rob_and_carol(server: &Server, title: &str) -> (String, String, String, String) {
    let admin = server.token.clone();
    let t = server.json(&admin, &["tenant", "add", "Acme"])["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let rob = server.json(
        &admin,
        &["user", "add", "rob", "--role", "responder", "--tenant", &t],
    )["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let carol = user_with_password(server, "carol", "customer-authoriser", Some(&t));
    let case = server.json(
        &rob,
        &[
            "case",
            "new",
            "--tenant",
            &t,
            "--title",
            title,
            "--kind",
            "webshell",
            "--severity",
            "high",
        ],
    )["id"]
        .as_str()
        .unwrap()
        .to_owned();
    (t, rob, carol, case)
}
