//! File capabilities: the `security.capability` extended attribute (`struct vfs_cap_data`,
//! revisions 2 and 3), as `getcap` shows them.

/// Capability names by bit number (linux/capability.h).
const NAMES: [&str; 41] = [
    "cap_chown",
    "cap_dac_override",
    "cap_dac_read_search",
    "cap_fowner",
    "cap_fsetid",
    "cap_kill",
    "cap_setgid",
    "cap_setuid",
    "cap_setpcap",
    "cap_linux_immutable",
    "cap_net_bind_service",
    "cap_net_broadcast",
    "cap_net_admin",
    "cap_net_raw",
    "cap_ipc_lock",
    "cap_ipc_owner",
    "cap_sys_module",
    "cap_sys_rawio",
    "cap_sys_chroot",
    "cap_sys_ptrace",
    "cap_sys_pacct",
    "cap_sys_admin",
    "cap_sys_boot",
    "cap_sys_nice",
    "cap_sys_resource",
    "cap_sys_time",
    "cap_sys_tty_config",
    "cap_mknod",
    "cap_lease",
    "cap_audit_write",
    "cap_audit_control",
    "cap_setfcap",
    "cap_mac_override",
    "cap_mac_admin",
    "cap_syslog",
    "cap_wake_alarm",
    "cap_block_suspend",
    "cap_audit_read",
    "cap_perfmon",
    "cap_bpf",
    "cap_checkpoint_restore",
];

/// Capabilities that hand out root (or its equivalent) to whoever runs the file.
pub const DANGEROUS: [&str; 11] = [
    "cap_setuid",
    "cap_setgid",
    "cap_dac_override",
    "cap_dac_read_search",
    "cap_sys_admin",
    "cap_sys_ptrace",
    "cap_sys_module",
    "cap_chown",
    "cap_fowner",
    "cap_setfcap",
    "cap_sys_rawio",
];

/// Decoded file capabilities.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileCaps {
    /// Permitted set, as names.
    pub permitted: Vec<&'static str>,
    /// Effective bit: the capabilities are raised at exec without the program asking.
    pub effective: bool,
}

impl FileCaps {
    /// `cap_setuid,cap_net_raw+ep` as getcap prints it.
    pub fn display(&self) -> String {
        format!(
            "{}+{}",
            self.permitted.join(","),
            if self.effective { "ep" } else { "p" }
        )
    }
    /// The dangerous capabilities among the permitted ones.
    pub fn dangerous(&self) -> Vec<&'static str> {
        self.permitted
            .iter()
            .copied()
            .filter(|c| DANGEROUS.contains(c))
            .collect()
    }
}

/// Decodes a `security.capability` value; `None` when it is not a known revision.
pub fn parse(data: &[u8]) -> Option<FileCaps> {
    let word = |i: usize| {
        data.get(4 * i..4 * i + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    };
    let magic = word(0)?;
    let revision = magic & 0xff00_0000;
    if revision != 0x0200_0000 && revision != 0x0300_0000 && revision != 0x0100_0000 {
        return None;
    }
    let low = word(1)?;
    let high = if revision == 0x0100_0000 {
        0
    } else {
        word(3).unwrap_or(0)
    };
    let bits = u64::from(low) | (u64::from(high) << 32);
    let permitted = NAMES
        .iter()
        .enumerate()
        .filter(|(i, _)| bits & (1u64 << i) != 0)
        .map(|(_, n)| *n)
        .collect();
    Some(FileCaps {
        permitted,
        effective: magic & 1 != 0,
    })
}

/// Encodes capabilities as a revision-2 value (for test fixtures).
pub fn encode(names: &[&str], effective: bool) -> Vec<u8> {
    let mut bits = 0u64;
    for n in names {
        if let Some(i) = NAMES.iter().position(|x| x == n) {
            bits |= 1 << i;
        }
    }
    let mut out = Vec::new();
    for w in [
        0x0200_0000u32 | u32::from(effective),
        bits as u32,
        0,
        (bits >> 32) as u32,
        0,
    ] {
        out.extend_from_slice(&w.to_le_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn round_trip_and_display() {
        let v = encode(&["cap_setuid", "cap_net_raw", "cap_bpf"], true);
        let c = parse(&v).unwrap();
        assert_eq!(c.display(), "cap_setuid,cap_net_raw,cap_bpf+ep");
        assert_eq!(c.dangerous(), vec!["cap_setuid"]);
    }

    #[test]
    fn real_ping_capability_value() {
        // `setcap cap_net_raw+ep` as stored by the kernel: revision 2, effective, bit 13.
        let v = [
            0x01, 0, 0, 0x02, 0x00, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        ];
        assert_eq!(parse(&v).unwrap().display(), "cap_net_raw+ep");
    }

    proptest! {
        #[test]
        fn never_panics(data in proptest::collection::vec(any::<u8>(), 0..40)) { let _ = parse(&data); }
    }
}
