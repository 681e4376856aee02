//! Response actions: contain, eradicate, recover and harden a broken-into host, every change
//! planned, confirmed, journaled and reversible.
//!
//! Every command builds a [`Plan`] of primitive steps (edit a file, quarantine a file, freeze a
//! process, load our own nftables table …), shows it as a diff, and hands the confirmed plan to
//! [`Responder::apply`], which writes the before-state to the hash-chained journal before the
//! first change. [`Responder::undo`] reverses an action step by step, refusing to overwrite a
//! change someone made afterwards.
//!
//! ```
//! use firewarden_respond::{Actor, Plan, Responder, StateDir, Target};
//! use firewarden_model::action::Risk;
//!
//! let root = tempfile::tempdir().unwrap();
//! std::fs::create_dir_all(root.path().join("etc")).unwrap();
//! std::fs::write(root.path().join("etc/crontab"), "* * * * * root /tmp/.x/run\n").unwrap();
//! let state = tempfile::tempdir().unwrap();
//! let target = Target::root(root.path()).unwrap();
//! let r = Responder {
//!     state: StateDir::open(state.path()).unwrap(),
//!     actor: Actor { operator: "alice".into(), host: target.hostname(), tool: "doc".into(), tool_sha256: None },
//!     target,
//! };
//! let mut plan = Plan::new("eradicate", "Remove the cron line", Risk::Medium, &r.target);
//! plan.edit(&r.target, "/etc/crontab", Vec::new()).unwrap();
//! let action = r.apply(plan).unwrap();
//! assert_eq!(std::fs::read(root.path().join("etc/crontab")).unwrap(), b"");
//! r.undo(&action.id, false).unwrap();
//! assert_eq!(std::fs::read(root.path().join("etc/crontab")).unwrap(), b"* * * * * root /tmp/.x/run\n");
//! ```
#![warn(missing_docs)]

pub mod contain;
mod engine;
pub mod eradicate;
pub mod harden;
pub mod nft;
pub mod process;
pub mod recover;
pub mod render;
pub mod session;
pub mod state;
mod step;
pub mod target;

pub use engine::{LineEdit, Plan, Responder, Undone, map_lines, summarize};
pub use state::{Actor, StateDir};
pub use step::{read_sysctl, systemd_running, unit_active};
pub use target::Target;

use std::path::Path;

/// Why a response action did not happen.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading or writing failed.
    #[error("{0}")]
    Io(String),
    /// The action would be unsafe or makes no sense here; nothing was changed.
    #[error("{0}")]
    Refused(String),
    /// What the plan or the journal expected is no longer what is on the host.
    #[error("{0}")]
    Drift(String),
    /// The journal or the vault is unreadable or its chain is broken.
    #[error("journal: {0}")]
    Journal(String),
    /// nftables said no.
    #[error("{0}")]
    Nft(String),
    /// Applying failed part-way.
    #[error("{id} failed: {error}{}", if *rolled_back { " (the steps already done were reversed)" } else { " (NOT fully reversed: see `firewarden actions`)" })]
    Failed {
        /// Action id.
        id: String,
        /// What went wrong.
        error: String,
        /// Whether the done steps were reversed.
        rolled_back: bool,
    },
}

impl Error {
    fn io(path: &Path, e: std::io::Error) -> Error {
        Error::Io(format!("{}: {e}", path.display()))
    }
}

/// Result of response actions.
pub type Result<T> = std::result::Result<T, Error>;
