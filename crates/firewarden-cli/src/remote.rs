//! What the client commands share: the server, token and pin (flags or environment), a
//! runtime to talk on, and printing answers as JSON or for a person.

use anyhow::Result;
use firewarden_client::Client;
use std::process::ExitCode;

/// Where the server is and who is asking (also what host commands use with `--case`).
#[derive(clap::Args, Debug, Clone)]
pub struct Server {
    /// Server URL, e.g. https://127.0.0.1:8443.
    #[arg(long, env = "FIREWARDEN_SERVER", global = true)]
    pub server: Option<String>,
    /// API token (`firewarden user add` prints one; the first is in DATA/bootstrap-token).
    #[arg(long, env = "FIREWARDEN_TOKEN", global = true, hide_env_values = true)]
    pub token: Option<String>,
    /// The server certificate's fingerprint (`sha256:…`, printed by `firewarden server`).
    #[arg(long, env = "FIREWARDEN_PIN", global = true)]
    pub pin: Option<String>,
}

impl Server {
    /// A client, or an error that says which setting is missing.
    pub fn client(&self) -> Result<Client> {
        let server = self.server.as_deref().ok_or_else(|| {
            anyhow::anyhow!("no server: pass --server https://HOST:PORT or set FIREWARDEN_SERVER")
        })?;
        if self.token.is_none() {
            anyhow::bail!("no token: pass --token or set FIREWARDEN_TOKEN");
        }
        Ok(Client::new(server, self.token.clone(), self.pin.clone())?)
    }
}

/// The server and how answers are printed: what the client commands share.
#[derive(clap::Args, Debug, Clone)]
pub struct Conn {
    #[command(flatten)]
    pub server: Server,
    /// Output: `table` for a person, `json` for machines.
    #[arg(long, default_value = "table", global = true)]
    pub format: OutFormat,
}

/// How answers are printed.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutFormat {
    /// For a person.
    Table,
    /// The server's JSON.
    Json,
}

impl Conn {
    /// A client, or an error that says which setting is missing.
    pub fn client(&self) -> Result<Client> {
        self.server.client()
    }

    /// Prints `value` as JSON, or with `table` for a person.
    pub fn print(
        &self,
        value: &serde_json::Value,
        table: impl FnOnce(&serde_json::Value) -> String,
    ) {
        match self.format {
            OutFormat::Json => println!(
                "{}",
                serde_json::to_string_pretty(value).unwrap_or_default()
            ),
            OutFormat::Table => print!("{}", table(value)),
        }
    }
}

/// Runs a client command on a small runtime; a refusal by the server exits 2 with its reason.
pub fn block_on<F: std::future::Future<Output = Result<ExitCode>>>(f: F) -> Result<ExitCode> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(f)
}

/// A field of a JSON answer as text (strings without quotes).
pub fn field(v: &serde_json::Value, key: &str) -> String {
    match v.get(key) {
        Some(serde_json::Value::String(s)) => firewarden_model::printable(s, 200),
        Some(serde_json::Value::Null) | None => "-".into(),
        Some(other) => firewarden_model::printable(&other.to_string(), 200),
    }
}

/// Columns padded to their widest cell.
pub fn columns(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(c.chars().count());
            }
        }
    }
    let line = |cells: Vec<String>| {
        let mut s = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                s.push_str(c);
            } else {
                s.push_str(&format!("{c:<w$}  ", w = widths[i]));
            }
        }
        s.trim_end().to_owned() + "\n"
    };
    let mut out = line(header.iter().map(|h| h.to_string()).collect());
    for r in rows {
        out.push_str(&line(r.clone()));
    }
    out
}

/// Reads a password from standard input: on a terminal after `password: ` and without echo
/// (someone may be looking at the screen), else the first line of what is piped in.
pub fn read_password() -> Result<String> {
    use rustix::termios::{LocalModes, OptionalActions, tcgetattr, tcsetattr};
    use std::io::{BufRead, IsTerminal};
    let stdin = std::io::stdin();
    let shown = stdin
        .is_terminal()
        .then(|| tcgetattr(&stdin).ok())
        .flatten();
    if let Some(mode) = &shown {
        eprint!("password: ");
        let mut quiet = mode.clone();
        quiet.local_modes.remove(LocalModes::ECHO);
        let _ = tcsetattr(&stdin, OptionalActions::Now, &quiet);
    }
    let mut line = String::new();
    let read = stdin.lock().read_line(&mut line);
    if let Some(mode) = &shown {
        let _ = tcsetattr(&stdin, OptionalActions::Now, mode);
        eprintln!();
    }
    read?;
    Ok(line.trim_end_matches(['\n', '\r']).to_owned())
}
