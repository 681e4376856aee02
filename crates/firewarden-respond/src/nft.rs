//! Network isolation with an nftables table of our own (`inet firewarden`). Other tables are
//! never flushed or edited: nftables drops a packet when any base chain drops it, so our table
//! cuts traffic whatever the others accept, and deleting it restores exactly what was there.
//!
//! The dead-man switch is in the kernel: the "isolate everything" rules match addresses in the
//! sets `isolate4`/`isolate6`, whose only elements (`0.0.0.0/0`, `::/0`) carry a timeout. When it
//! runs out the kernel removes them and traffic flows again — even if Firewarden, the shell or
//! the responder's session is gone. `contain confirm` re-adds them without a timeout.

use crate::{Error, Result};
use std::io::Write;
use std::net::IpAddr;
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// Address family of our table.
pub const FAMILY: &str = "inet";
/// Name of our table.
pub const TABLE: &str = "firewarden";

/// An allowed address or network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Net {
    /// Address.
    pub addr: IpAddr,
    /// Prefix length.
    pub prefix: u8,
}

impl std::str::FromStr for Net {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Net, String> {
        let (a, p) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = a
            .trim_matches(['[', ']'])
            .parse()
            .map_err(|_| format!("`{s}` is not an address or CIDR"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match p {
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("`{s}`: bad prefix length"))?,
            None => max,
        };
        Ok(Net { addr, prefix })
    }
}

impl std::fmt::Display for Net {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let max = if self.addr.is_ipv4() { 32 } else { 128 };
        if self.prefix == max {
            write!(f, "{}", self.addr)
        } else {
            write!(f, "{}/{}", self.addr, self.prefix)
        }
    }
}

/// The isolation ruleset: loopback and the allowed addresses pass (only to and from
/// `ports`, when given); everything else in, out and forwarded is dropped while the
/// isolate sets hold their element. `ttl_secs: None` means no dead-man switch. DHCP and IPv6
/// neighbour and router discovery stay open: a cloud host that cannot renew its lease loses
/// its address, and the responder with it.
pub fn isolation_script(allow: &[Net], ports: &[u16], ttl_secs: Option<u64>) -> String {
    let v4: Vec<String> = allow
        .iter()
        .filter(|n| n.addr.is_ipv4())
        .map(Net::to_string)
        .collect();
    let v6: Vec<String> = allow
        .iter()
        .filter(|n| n.addr.is_ipv6())
        .map(Net::to_string)
        .collect();
    let timeout = ttl_secs
        .map(|s| format!(" timeout {s}s"))
        .unwrap_or_default();
    let elements = |list: &[String]| {
        if list.is_empty() {
            String::new()
        } else {
            format!("; elements = {{ {} }}", list.join(", "))
        }
    };
    let port_list = ports
        .iter()
        .map(u16::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    let (in_ports, out_ports) = if ports.is_empty() {
        (String::new(), String::new())
    } else {
        (
            format!(" meta l4proto {{ tcp, udp }} th dport {{ {port_list} }}"),
            format!(" meta l4proto {{ tcp, udp }} th sport {{ {port_list} }}"),
        )
    };
    format!(
        "table {FAMILY} {TABLE} {{
  comment \"firewarden network containment: delete this table (firewarden undo) to lift it\"
  set responders4 {{ type ipv4_addr; flags interval{e4}; }}
  set responders6 {{ type ipv6_addr; flags interval{e6}; }}
  set isolate4 {{ type ipv4_addr; flags interval, timeout; elements = {{ 0.0.0.0/0{timeout} }}; }}
  set isolate6 {{ type ipv6_addr; flags interval, timeout; elements = {{ ::/0{timeout} }}; }}
  chain input {{
    type filter hook input priority filter - 10; policy accept;
    iif \"lo\" accept
    ip saddr @responders4{in_ports} accept
    ip6 saddr @responders6{in_ports} accept
    icmpv6 type {{ nd-neighbor-solicit, nd-neighbor-advert, nd-router-advert }} accept
    udp sport 67 udp dport 68 accept
    udp sport 547 udp dport 546 accept
    ip saddr @isolate4 drop
    ip6 saddr @isolate6 drop
  }}
  chain output {{
    type filter hook output priority filter - 10; policy accept;
    oif \"lo\" accept
    ip daddr @responders4{out_ports} accept
    ip6 daddr @responders6{out_ports} accept
    icmpv6 type {{ nd-neighbor-solicit, nd-neighbor-advert, nd-router-solicit }} accept
    udp sport 68 udp dport 67 accept
    udp sport 546 udp dport 547 accept
    ip daddr @isolate4 drop
    ip6 daddr @isolate6 drop
  }}
  chain forward {{
    type filter hook forward priority filter - 10; policy accept;
    ip saddr @isolate4 drop
    ip6 saddr @isolate6 drop
  }}
}}
",
        e4 = elements(&v4),
        e6 = elements(&v6),
    )
}

/// The script that disarms the dead-man switch (`ttl_secs: None`: the isolate sets get their
/// element back without a timeout) or re-arms it for `ttl_secs` from now, in one transaction.
pub fn confirm_script(ttl_secs: Option<u64>) -> String {
    let t = ttl_secs
        .map(|s| format!(" timeout {s}s"))
        .unwrap_or_default();
    format!(
        "flush set {FAMILY} {TABLE} isolate4\nflush set {FAMILY} {TABLE} isolate6\nadd element {FAMILY} {TABLE} isolate4 {{ 0.0.0.0/0{t} }}\nadd element {FAMILY} {TABLE} isolate6 {{ ::/0{t} }}\n"
    )
}

/// Where `nft` is: `FIREWARDEN_NFT`, else the usual sbin paths. On a host whose binaries
/// may be trojaned, point `FIREWARDEN_NFT` at a trusted static build.
pub fn nft_binary() -> Result<PathBuf> {
    if let Some(p) = std::env::var_os("FIREWARDEN_NFT") {
        return Ok(PathBuf::from(p));
    }
    ["/usr/sbin/nft", "/sbin/nft", "/usr/bin/nft", "/bin/nft"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
        .ok_or_else(|| {
            Error::Refused(
                "nft is not installed (apt install nftables), or set FIREWARDEN_NFT".into(),
            )
        })
}

fn nft(args: &[&str], stdin: Option<&str>) -> Result<String> {
    let bin = nft_binary()?;
    let mut cmd = Command::new(&bin);
    cmd.args(args)
        .env_clear()
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .map_err(|e| Error::Nft(format!("cannot run {}: {e}", bin.display())))?;
    if let (Some(text), Some(mut input)) = (stdin, child.stdin.take()) {
        input
            .write_all(text.as_bytes())
            .map_err(|e| Error::Nft(format!("writing to nft: {e}")))?;
    }
    let out = child
        .wait_with_output()
        .map_err(|e| Error::Nft(format!("nft: {e}")))?;
    if !out.status.success() {
        return Err(Error::Nft(format!(
            "nft {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Loads a script in one transaction (all or nothing).
pub fn load(script: &str) -> Result<()> {
    nft(&["-f", "-"], Some(script)).map(|_| ())
}

/// Whether a table exists.
pub fn table_exists(family: &str, name: &str) -> Result<bool> {
    let list = nft(&["list", "tables", family], None)?;
    Ok(list
        .lines()
        .any(|l| l.trim() == format!("table {family} {name}")))
}

/// Deletes a table (ours); a missing table is fine.
pub fn delete_table(family: &str, name: &str) -> Result<()> {
    if table_exists(family, name)? {
        nft(&["delete", "table", family, name], None)?;
    }
    Ok(())
}

/// Whether the isolate set still holds its element (false: the dead-man switch lifted it).
pub fn isolating() -> Result<bool> {
    let out = nft(&["-j", "list", "set", FAMILY, TABLE, "isolate4"], None)?;
    let v: serde_json::Value =
        serde_json::from_str(&out).map_err(|e| Error::Nft(format!("nft -j: {e}")))?;
    Ok(v["nftables"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|o| o["set"]["elem"].as_array().is_some_and(|a| !a.is_empty())))
}

/// The responder's SSH session: the client's address and the local port it is connected to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Session {
    /// The client's address.
    pub client: Net,
    /// The client's source port (names the session in sshd's log).
    pub client_port: Option<u16>,
    /// The server port of the connection (sshd's port).
    pub port: Option<u16>,
}

/// Parses `SSH_CONNECTION` (`client_ip client_port server_ip server_port`) or `SSH_CLIENT`
/// (`client_ip client_port server_port`).
pub fn parse_session(name: &str, value: &str) -> Option<Session> {
    let w: Vec<&str> = value.split_whitespace().collect();
    let client = w.first()?.parse::<Net>().ok()?;
    let port = match name {
        "SSH_CONNECTION" => w.get(3),
        _ => w.get(2),
    }
    .and_then(|p| p.parse().ok());
    let client_port = w.get(1).and_then(|p| p.parse().ok());
    Some(Session {
        client,
        client_port,
        port,
    })
}

/// The responder's SSH session, found without running `who`: the `SSH_CONNECTION` (or
/// `SSH_CLIENT`) variable of this process or, under `sudo`/`su`, of the nearest ancestor that
/// has it.
pub fn responder_session() -> Option<Session> {
    for pid in crate::process::own_lineage() {
        let Ok(env) = std::fs::read(format!("/proc/{pid}/environ")) else {
            continue;
        };
        let vars: Vec<String> = env
            .split(|b| *b == 0)
            .map(|v| String::from_utf8_lossy(v).into_owned())
            .collect();
        for name in ["SSH_CONNECTION", "SSH_CLIENT"] {
            let prefix = format!("{name}=");
            if let Some(session) = vars
                .iter()
                .find_map(|v| v.strip_prefix(&prefix))
                .and_then(|v| parse_session(name, v))
            {
                return Some(session);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn any_text_parses_or_is_refused_and_addresses_round_trip(text in ".{0,60}", a in any::<[u8; 4]>(), p in 0u8..=32) {
            let _ = text.parse::<Net>();
            let _ = parse_session("SSH_CONNECTION", &text);
            let net: Net = format!("{}.{}.{}.{}/{p}", a[0], a[1], a[2], a[3]).parse().unwrap();
            prop_assert_eq!(net.to_string().parse::<Net>().unwrap(), net);
        }
    }

    #[test]
    fn parses_addresses_and_networks() {
        assert_eq!("10.0.0.1".parse::<Net>().unwrap().to_string(), "10.0.0.1");
        assert_eq!("10.0.0.0/8".parse::<Net>().unwrap().prefix, 8);
        assert_eq!("2001:db8::1".parse::<Net>().unwrap().prefix, 128);
        assert!("10.0.0.1/33".parse::<Net>().is_err());
        assert!("web01".parse::<Net>().is_err());
    }

    #[test]
    fn sessions_name_the_client_and_sshd_port() {
        let s = parse_session("SSH_CONNECTION", "198.51.100.7 50022 10.0.0.5 2222").unwrap();
        assert_eq!(s.client.to_string(), "198.51.100.7");
        assert_eq!(s.port, Some(2222));
        let s = parse_session("SSH_CLIENT", "2001:db8::7 50022 22").unwrap();
        assert_eq!(s.client.to_string(), "2001:db8::7");
        assert_eq!(s.port, Some(22));
        assert!(parse_session("SSH_CONNECTION", "").is_none());
        assert!(parse_session("SSH_CONNECTION", "not-an-ip 1 2 3").is_none());
    }

    #[test]
    fn script_allows_responders_and_arms_the_timer() {
        let s = isolation_script(
            &[
                "192.0.2.7".parse().unwrap(),
                "2001:db8::/64".parse().unwrap(),
            ],
            &[22],
            Some(900),
        );
        assert!(s.contains("elements = { 192.0.2.7 };"));
        assert!(s.contains("elements = { 2001:db8::/64 }"));
        assert!(s.contains("0.0.0.0/0 timeout 900s"));
        assert!(s.contains("th dport { 22 }"));
        assert!(
            s.contains("udp sport 68 udp dport 67 accept"),
            "DHCP renewals pass"
        );
        let permanent = isolation_script(&[], &[], None);
        assert!(!permanent.contains("timeout 9"));
        assert!(permanent.contains("set responders4 { type ipv4_addr; flags interval; }"));
    }
}
