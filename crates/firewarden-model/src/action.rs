//! Response actions and their journal: what Firewarden changed on a host, the state before each
//! change, and how it was undone. The case platform imports these records unchanged for the
//! report's "actions taken" table (schema [`ACTION_SCHEMA_VERSION`]).
//!
//! An [`Action`] is a list of [`Step`]s, each a primitive change that holds everything needed
//! to reverse it. The journal is a sequence of [`JournalEntry`] lines, each naming the SHA-256
//! of the line before it, so that a removed or edited line breaks the chain.

use crate::{Severity, Timestamp};
use serde::{Deserialize, Serialize};

/// Version of the journal layout; bumped whenever a field changes meaning or goes away.
pub const ACTION_SCHEMA_VERSION: u32 = 1;

/// How much can go wrong if an action is a mistake: decides how it must be confirmed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Risk {
    /// Reversible and local (a file permission, a quarantined file).
    Low,
    /// Affects a service or an account's access.
    Medium,
    /// Can cut the host off or lock people out: confirming asks for the host name.
    High,
}

impl Risk {
    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Risk::Low => "low",
            Risk::Medium => "medium",
            Risk::High => "high",
        }
    }
}

/// A file's content and metadata at one moment, enough to put it back byte for byte.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileState {
    /// SHA-256 of the content, hex; the content itself is kept encrypted in the state
    /// directory's vault under this name.
    pub sha256: String,
    /// Size in bytes.
    pub size: u64,
    /// Owner uid.
    pub uid: u32,
    /// Group gid.
    pub gid: u32,
    /// Permission bits including set-id and sticky bits (e.g. `0o4755`).
    pub mode: u32,
    /// Access time, nanoseconds since the epoch.
    pub atime_ns: i64,
    /// Modification time, nanoseconds since the epoch.
    pub mtime_ns: i64,
}

/// A process, named so that a reused pid is never mistaken for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessRef {
    /// Process id.
    pub pid: u32,
    /// Start time in clock ticks after boot (`/proc/PID/stat` field 22).
    pub start_ticks: u64,
    /// Command line, printable.
    pub cmdline: String,
}

/// One primitive change with the state it replaces. Paths are paths inside the acted-on root.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum Step {
    /// Replace, create or remove a file. `before: None` creates it; `after: None` removes it
    /// (its content stays in the vault: this is how files are quarantined).
    File {
        /// The file.
        path: String,
        /// What was there (`None`: nothing).
        before: Option<FileState>,
        /// What is there afterwards (`None`: nothing).
        after: Option<FileState>,
        /// Access and modification times (ns) of the directory holding it, before, when the
        /// step adds or removes an entry there; undo puts them back.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        parent_times: Option<[i64; 2]>,
    },
    /// Change permission bits.
    Chmod {
        /// The file.
        path: String,
        /// Mode before.
        before: u32,
        /// Mode after.
        after: u32,
    },
    /// Remove a symbolic link (e.g. a systemd `wants` link); undo recreates it.
    Unlink {
        /// The link.
        path: String,
        /// Its target, as stored.
        target: String,
        /// Access and modification times (ns) of the directory holding it, before.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        parent_times: Option<[i64; 2]>,
    },
    /// Stop a process with SIGSTOP; undo sends SIGCONT.
    Freeze {
        /// The process.
        process: ProcessRef,
    },
    /// End a process with SIGKILL. Cannot be undone.
    Kill {
        /// The process.
        process: ProcessRef,
    },
    /// Load an nftables table of our own; undo deletes that table and nothing else.
    NftTable {
        /// Address family (`inet`).
        family: String,
        /// Table name.
        name: String,
        /// The script that was loaded.
        script: String,
    },
    /// Set a kernel parameter under `/proc/sys` (live host only).
    Sysctl {
        /// Dotted key, e.g. `kernel.kptr_restrict`.
        key: String,
        /// Value before.
        before: String,
        /// Value after.
        after: String,
    },
    /// Stop a systemd unit (live host only); undo starts it again.
    StopUnit {
        /// Unit name.
        unit: String,
        /// Whether it was active before.
        was_active: bool,
    },
    /// Restart a systemd unit (live host only), e.g. one still running code that was removed;
    /// a restart has nothing to put back.
    RestartUnit {
        /// Unit name.
        unit: String,
    },
    /// Make systemd re-read its unit files (live host only); undo does it again, after the
    /// files are back.
    ReloadSystemd,
    /// Set a directory's modification time to now, so a daemon that polls it (cron's spool)
    /// re-reads the files in it; undo does the same after the files are back.
    TouchDir {
        /// The directory.
        path: String,
    },
    /// A copy of evidence kept before acting (a process's executable, maps, open files); undo
    /// leaves it in place.
    Capture {
        /// What was captured, e.g. `/proc/4242/exe`.
        what: String,
        /// SHA-256 of the captured bytes (vault name).
        sha256: String,
        /// Size in bytes.
        size: u64,
    },
}

impl Step {
    /// Whether undo can reverse this step.
    pub fn reversible(&self) -> bool {
        !matches!(self, Step::Kill { .. })
    }
}

/// A planned or applied change to a host: one command's worth of steps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Action {
    /// Short id used on the command line (`A3`).
    pub id: String,
    /// What kind of action: `contain.network`, `contain.file`, `eradicate`, `harden.ssh` …
    pub kind: String,
    /// One line saying what it does.
    pub title: String,
    /// Risk level.
    pub risk: Risk,
    /// The root acted on (`/` for the live host).
    pub root: String,
    /// Finding or hardening item this action answers, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finding: Option<String>,
    /// Severity of that finding.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<Severity>,
    /// The changes, in the order they are applied (undone in reverse).
    pub steps: Vec<Step>,
    /// Things said to the responder about this action (what undo cannot restore, what to do
    /// next).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// For network containment: when the dead-man switch lifts it unless confirmed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<Timestamp>,
    /// How the operator confirmed it (`--yes`, `typed the host name`, `answered yes`), for
    /// the report's approvals.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirmed: Option<String>,
    /// The case server's signed approval it ran under (`--case`), as the host verified it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval: Option<Box<ApprovalProof>>,
}

/// A server's approval of an action, kept with it: anyone can check it again with the
/// server's public key (`firewarden_case::approval::ApprovalStatement` is the statement's form).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalProof {
    /// The signed statement (request, case, host, plan digest, who approved, expiry).
    pub statement: serde_json::Value,
    /// The server's Ed25519 signature over it, hex.
    pub signature: String,
    /// The server's public key, hex.
    pub key: String,
}

/// What happened, as recorded in one journal line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum JournalEvent {
    /// An action is about to be applied; the line holds every before-state, so it is written
    /// first and a crash half-way can still be undone.
    Begin {
        /// The action with its steps.
        action: Action,
    },
    /// The action was applied completely.
    Applied {
        /// Action id.
        id: String,
    },
    /// Applying failed; the steps already done were reversed (`rolled_back`) or not.
    Failed {
        /// Action id.
        id: String,
        /// What went wrong.
        error: String,
        /// Whether the partial change was reversed.
        rolled_back: bool,
    },
    /// A network containment was confirmed: its dead-man switch disarmed (it stays until
    /// undone), or re-armed to run out at `until`.
    Confirmed {
        /// Action id.
        id: String,
        /// The new end of the isolation when it was extended rather than made permanent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        until: Option<Timestamp>,
    },
    /// The action was undone.
    Undone {
        /// Action id.
        id: String,
        /// Steps that could not be reversed, and why.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        left: Vec<String>,
    },
    /// A check was re-run after eradication.
    Verified {
        /// Action id.
        id: String,
        /// Whether the finding is gone.
        gone: bool,
        /// What the re-run said.
        detail: String,
    },
}

/// One journal line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JournalEntry {
    /// [`ACTION_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// 1, 2, 3 …
    pub seq: u64,
    /// When, UTC, with nanoseconds (`2026-11-30T08:01:02.123456789Z`).
    pub utc: String,
    /// Who ran it (`--operator`, or the login user).
    pub operator: String,
    /// Host name of the acted-on system.
    pub host: String,
    /// Tool and version.
    pub tool: String,
    /// SHA-256 (hex) of the tool's binary (absent in journals written before it was recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_sha256: Option<String>,
    /// SHA-256 (hex) of the previous journal line, or 64 zeros for the first.
    pub prev: String,
    /// What happened.
    #[serde(flatten)]
    pub event: JournalEvent,
}

/// Where an action stands, computed from the journal (and, for network containment, the
/// kernel's state).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionStatus {
    /// Begun but neither applied nor failed: the run was interrupted.
    Interrupted,
    /// In force.
    Applied,
    /// Network containment whose dead-man switch was disarmed.
    Confirmed,
    /// Network containment no longer isolating: its TTL ran out, or its table is gone (a
    /// reboot, a flushed ruleset).
    Expired,
    /// Failed (and rolled back when possible).
    Failed,
    /// Undone.
    Undone,
}

impl ActionStatus {
    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            ActionStatus::Interrupted => "interrupted",
            ActionStatus::Applied => "applied",
            ActionStatus::Confirmed => "confirmed",
            ActionStatus::Expired => "expired",
            ActionStatus::Failed => "failed",
            ActionStatus::Undone => "undone",
        }
    }

    /// Whether the action's changes are (or may be) on the host.
    pub fn in_force(self) -> bool {
        matches!(
            self,
            ActionStatus::Interrupted | ActionStatus::Applied | ActionStatus::Confirmed
        )
    }
}

/// An action and where it stands, as `firewarden actions` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionSummary {
    /// The action.
    pub action: Action,
    /// Its status.
    pub status: ActionStatus,
    /// When it was begun.
    pub utc: String,
    /// Who.
    pub operator: String,
    /// Result of the re-run check, for eradication.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verified: Option<bool>,
}

/// Outcome of one hardening item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HardenStatus {
    /// Meets the bar.
    Pass,
    /// Does not.
    Fail,
    /// Could not be told (e.g. sockets of an offline image).
    Unknown,
}

impl HardenStatus {
    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            HardenStatus::Pass => "pass",
            HardenStatus::Fail => "fail",
            HardenStatus::Unknown => "unknown",
        }
    }
}

/// One scored hardening item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HardenItem {
    /// Item id, as given to `harden apply`.
    pub id: String,
    /// What it checks.
    pub title: String,
    /// Outcome.
    pub status: HardenStatus,
    /// What was seen.
    pub detail: String,
    /// Whether `harden apply` can fix it.
    pub fixable: bool,
}

/// A host's hardening score: items passed out of items that could be told.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HardenScore {
    /// [`ACTION_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// Host name.
    pub host: String,
    /// Root examined.
    pub root: String,
    /// Every item.
    pub items: Vec<HardenItem>,
    /// Items passed.
    pub passed: usize,
    /// Items that could be told (pass + fail).
    pub scored: usize,
}
