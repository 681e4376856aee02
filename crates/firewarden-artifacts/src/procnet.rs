//! `/proc/net/{tcp,tcp6,udp,udp6}` socket tables.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Transport protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Proto {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
}

/// One socket from the kernel's table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Socket {
    /// Protocol.
    pub proto: Proto,
    /// Local address.
    pub local: IpAddr,
    /// Local port.
    pub local_port: u16,
    /// Remote address.
    pub remote: IpAddr,
    /// Remote port.
    pub remote_port: u16,
    /// Kernel state code (`0A` = TCP LISTEN, `01` = ESTABLISHED, `07` = UDP unconnected).
    pub state: u8,
    /// Owning uid.
    pub uid: u32,
    /// Socket inode, matched against `/proc/PID/fd/*` → `socket:[INODE]`.
    pub inode: u64,
}

impl Socket {
    /// True for a TCP listener or an unconnected UDP socket bound to a port.
    pub fn is_listening(&self) -> bool {
        match self.proto {
            Proto::Tcp => self.state == 0x0A,
            Proto::Udp => self.state == 0x07 && self.remote_port == 0,
        }
    }
    /// True for an established TCP connection.
    pub fn is_established(&self) -> bool {
        self.proto == Proto::Tcp && self.state == 0x01
    }
}

fn parse_addr(text: &str) -> Option<(IpAddr, u16)> {
    let (addr, port) = text.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    let ip = match addr.len() {
        8 => IpAddr::V4(Ipv4Addr::from(
            u32::from_str_radix(addr, 16).ok()?.to_le_bytes(),
        )),
        32 => {
            let mut bytes = [0u8; 16];
            for k in 0..4 {
                let w = u32::from_str_radix(&addr[8 * k..8 * k + 8], 16).ok()?;
                bytes[4 * k..4 * k + 4].copy_from_slice(&w.to_le_bytes());
            }
            let v6 = Ipv6Addr::from(bytes);
            match v6.to_ipv4_mapped() {
                Some(v4) => IpAddr::V4(v4),
                None => IpAddr::V6(v6),
            }
        }
        _ => return None,
    };
    Some((ip, port))
}

/// Parses one table; the header and malformed lines are skipped.
pub fn parse_table(text: &str, proto: Proto) -> Vec<Socket> {
    text.lines()
        .filter_map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            if f.len() < 10 || !f[0].ends_with(':') {
                return None;
            }
            let (local, local_port) = parse_addr(f[1])?;
            let (remote, remote_port) = parse_addr(f[2])?;
            Some(Socket {
                proto,
                local,
                local_port,
                remote,
                remote_port,
                state: u8::from_str_radix(f[3], 16).ok()?,
                uid: f[7].parse().ok()?,
                inode: f[9].parse().ok()?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn ipv4_and_ipv6_rows() {
        let t = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n   0: 0100007F:0CEA 00000000:0000 0A 00000000:00000000 00:00000000 00000000   118        0 28323 1 0 100 0 0 10 0\n   1: 0A00020F:0016 FD7100CB:C350 01 00000000:00000000 02:0009B8A0 00000000     0        0 4242 4 0 20 4 29 10 -1\n";
        let s = parse_table(t, Proto::Tcp);
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].local.to_string(), "127.0.0.1");
        assert_eq!(s[0].local_port, 3306);
        assert!(s[0].is_listening());
        assert_eq!(s[1].remote.to_string(), "203.0.113.253");
        assert!(s[1].is_established());
        let t6 = "  sl\n   0: 00000000000000000000000000000000:0050 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 999 1\n";
        let s6 = parse_table(t6, Proto::Tcp);
        assert_eq!(s6[0].local.to_string(), "::");
        assert_eq!(s6[0].local_port, 80);
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,200}") { let _ = parse_table(&s, Proto::Udp); }
    }
}
