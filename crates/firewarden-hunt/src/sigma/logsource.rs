//! Sigma `logsource` → which Windows events a rule applies to, and the field names that differ
//! between sources (a `process_creation` rule's `Image` is `NewProcessName` in Security 4688).
//!
//! The table follows SigmaHQ's Windows log source guide and the Sysmon event ids. A rule whose
//! log source is not a Windows event log (Linux, cloud, web servers, network devices) is not
//! loaded, and the load report says so.

const SYSMON: &str = "Microsoft-Windows-Sysmon/Operational";
const SECURITY: &str = "Security";
const PS_OPERATIONAL: &str = "Microsoft-Windows-PowerShell/Operational";
const PS_CLASSIC: &str = "Windows PowerShell";

/// Where a rule applies: channels (any when empty) and event ids (any when empty).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Target {
    /// `(channel, event ids)` pairs; an empty id list means every id of that channel.
    pub sources: Vec<(String, Vec<u32>)>,
    /// Field renames for sources that name fields differently: `(sigma name, other name)`.
    pub aliases: Vec<(&'static str, &'static str)>,
}

fn on(channel: &str, ids: &[u32]) -> (String, Vec<u32>) {
    (channel.to_owned(), ids.to_vec())
}

/// Security 4688 names for the Sysmon process-creation fields.
const PROCESS_CREATION_4688: &[(&str, &str)] = &[
    ("Image", "NewProcessName"),
    ("ParentImage", "ParentProcessName"),
];

/// Every alias any target uses, so their names are numbered with the rules' own.
pub fn all_aliases() -> &'static [(&'static str, &'static str)] {
    PROCESS_CREATION_4688
}

/// Maps a rule's `product`/`category`/`service` to its target, or says why it cannot.
pub fn target(
    product: Option<&str>,
    category: Option<&str>,
    service: Option<&str>,
) -> Result<Target, String> {
    match product {
        Some("windows") => {}
        Some(p) => return Err(format!("not a Windows event-log rule (product: {p})")),
        None => {
            if category.is_none() && service.is_none() {
                return Err("no logsource".into());
            }
        }
    }
    let mut t = Target::default();
    if let Some(cat) = category {
        let sysmon = |ids: &[u32]| vec![on(SYSMON, ids)];
        t.sources = match cat {
            "process_creation" => {
                t.aliases = PROCESS_CREATION_4688.to_vec();
                vec![on(SYSMON, &[1]), on(SECURITY, &[4688])]
            }
            "file_change" => sysmon(&[2]),
            "network_connection" => sysmon(&[3]),
            "sysmon_status" => sysmon(&[4, 16]),
            "process_termination" => sysmon(&[5]),
            "driver_load" => sysmon(&[6]),
            "image_load" => sysmon(&[7]),
            "create_remote_thread" => sysmon(&[8]),
            "raw_access_thread" => sysmon(&[9]),
            "process_access" => sysmon(&[10]),
            "file_event" => sysmon(&[11]),
            "registry_add" | "registry_delete" => sysmon(&[12]),
            "registry_set" => sysmon(&[13]),
            "registry_rename" => sysmon(&[14]),
            "registry_event" => sysmon(&[12, 13, 14]),
            "create_stream_hash" => sysmon(&[15]),
            "pipe_created" => sysmon(&[17, 18]),
            "wmi_event" => sysmon(&[19, 20, 21]),
            "dns_query" => sysmon(&[22]),
            "file_delete" => sysmon(&[23, 26]),
            "clipboard_capture" => sysmon(&[24]),
            "process_tampering" => sysmon(&[25]),
            "file_delete_detected" => sysmon(&[26]),
            "file_block_executable" => sysmon(&[27]),
            "file_block_shredding" => sysmon(&[28]),
            "file_executable_detected" => sysmon(&[29]),
            "sysmon_error" => sysmon(&[255]),
            "ps_module" => vec![on(PS_OPERATIONAL, &[4103]), on(PS_CLASSIC, &[800])],
            "ps_script" => vec![on(PS_OPERATIONAL, &[4104])],
            "ps_classic_start" => vec![on(PS_CLASSIC, &[400])],
            "ps_classic_provider_start" => vec![on(PS_CLASSIC, &[600])],
            "ps_classic_script" => vec![on(PS_CLASSIC, &[800])],
            "antivirus" => vec![on(
                "Microsoft-Windows-Windows Defender/Operational",
                &[1006, 1007, 1008, 1009, 1010, 1116, 1117, 1118, 1119],
            )],
            "webserver" | "proxy" | "firewall" | "dns" => {
                return Err(format!(
                    "logsource category `{cat}` is network or web-server logs, not Windows \
                     event logs"
                ));
            }
            other => {
                return Err(format!(
                    "logsource category `{other}` is not in Windows event logs or Sysmon \
                     (it needs an EDR or ETW collector)"
                ));
            }
        };
    }
    if let Some(svc) = service {
        let channels: &[&str] = match svc {
            "security" => &[SECURITY],
            "system" => &["System"],
            "application" => &["Application"],
            "sysmon" => &[SYSMON],
            "powershell" => &[PS_OPERATIONAL],
            "powershell-classic" => &[PS_CLASSIC],
            "taskscheduler" => &["Microsoft-Windows-TaskScheduler/Operational"],
            "wmi" => &["Microsoft-Windows-WMI-Activity/Operational"],
            "windefend" => &["Microsoft-Windows-Windows Defender/Operational"],
            "dns-server" => &["DNS Server"],
            "dns-server-analytic" => &["Microsoft-Windows-DNSServer/Analytical"],
            "dns-client" => &["Microsoft-Windows-DNS Client Events/Operational"],
            "driver-framework" => &["Microsoft-Windows-DriverFrameworks-UserMode/Operational"],
            "firewall-as" => {
                &["Microsoft-Windows-Windows Firewall With Advanced Security/Firewall"]
            }
            "bits-client" => &["Microsoft-Windows-Bits-Client/Operational"],
            "codeintegrity-operational" => &["Microsoft-Windows-CodeIntegrity/Operational"],
            "applocker" => &[
                "Microsoft-Windows-AppLocker/EXE and DLL",
                "Microsoft-Windows-AppLocker/MSI and Script",
                "Microsoft-Windows-AppLocker/Packaged app-Deployment",
                "Microsoft-Windows-AppLocker/Packaged app-Execution",
            ],
            "ntlm" => &["Microsoft-Windows-NTLM/Operational"],
            "printservice-admin" => &["Microsoft-Windows-PrintService/Admin"],
            "printservice-operational" => &["Microsoft-Windows-PrintService/Operational"],
            "smbclient-security" => &["Microsoft-Windows-SmbClient/Security"],
            "smbclient-connectivity" => &["Microsoft-Windows-SmbClient/Connectivity"],
            "smbserver-connectivity" => &["Microsoft-Windows-SMBServer/Connectivity"],
            "terminalservices-localsessionmanager" => {
                &["Microsoft-Windows-TerminalServices-LocalSessionManager/Operational"]
            }
            "openssh" => &["OpenSSH/Operational"],
            "msexchange-management" => &["MSExchange Management"],
            "ldap_debug" | "ldap" => &["Microsoft-Windows-LDAP-Client/Debug"],
            "microsoft-servicebus-client" | "servicebus-client" => &[
                "Microsoft-ServiceBus-Client",
                "Microsoft-ServiceBus-Client/Operational",
            ],
            "security-mitigations" => &[
                "Microsoft-Windows-Security-Mitigations/Kernel Mode",
                "Microsoft-Windows-Security-Mitigations/User Mode",
            ],
            "diagnosis-scripted" => &["Microsoft-Windows-Diagnosis-Scripted/Operational"],
            "shell-core" => &["Microsoft-Windows-Shell-Core/Operational"],
            "appxdeployment-server" => &["Microsoft-Windows-AppXDeploymentServer/Operational"],
            "appxpackaging-om" => &["Microsoft-Windows-AppxPackaging/Operational"],
            "appmodel-runtime" => &["Microsoft-Windows-AppModel-Runtime/Admin"],
            "capi2" => &["Microsoft-Windows-CAPI2/Operational"],
            "certificateservicesclient-lifecycle-system" => {
                &["Microsoft-Windows-CertificateServicesClient-Lifecycle-System/Operational"]
            }
            "dhcp" => &["Microsoft-Windows-DHCP-Server/Operational"],
            "lsa-server" => &["Microsoft-Windows-LSA/Operational"],
            "bitlocker" => &["Microsoft-Windows-BitLocker/BitLocker Management"],
            "hyper-v-worker" => &["Microsoft-Windows-Hyper-V-Worker-Admin"],
            "kernel-shimengine" => &["Microsoft-Windows-Kernel-ShimEngine/Operational"],
            "iis-configuration" => &["Microsoft-IIS-Configuration/Operational"],
            "vhdmp" => &["Microsoft-Windows-VHDMP-Operational"],
            "sysmon-error" => &[SYSMON],
            other => {
                return Err(format!(
                    "logsource service `{other}` has no Windows channel"
                ));
            }
        };
        let ids_of = |c: &str| -> Vec<u32> {
            // A category narrows a service to its event ids on the same channel.
            t.sources
                .iter()
                .find(|(ch, _)| ch.eq_ignore_ascii_case(c))
                .map(|(_, ids)| ids.clone())
                .unwrap_or_default()
        };
        let sources: Vec<(String, Vec<u32>)> = channels.iter().map(|c| on(c, &ids_of(c))).collect();
        t.sources = sources;
    }
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn categories_and_services() {
        let pc = target(Some("windows"), Some("process_creation"), None).unwrap();
        assert_eq!(pc.sources.len(), 2);
        assert!(pc.aliases.contains(&("Image", "NewProcessName")));
        let sec = target(Some("windows"), None, Some("security")).unwrap();
        assert_eq!(sec.sources, vec![("Security".to_owned(), vec![])]);
        assert!(
            target(Some("linux"), Some("process_creation"), None)
                .unwrap_err()
                .contains("linux")
        );
        assert!(target(Some("windows"), Some("file_access"), None).is_err());
    }
}
