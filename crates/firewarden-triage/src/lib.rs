//! Linux intrusion cause analysis: a catalogue of checks run over any [`Source`], producing
//! findings, a UTC timeline and a storyline (entry point, attacker addresses, persistence).
//!
//! ```
//! use firewarden_source::FsSource;
//! use firewarden_triage::{TriageOptions, run};
//!
//! let dir = tempfile::tempdir().unwrap();
//! std::fs::create_dir(dir.path().join("etc")).unwrap();
//! std::fs::write(dir.path().join("etc/passwd"),
//!     "root:x:0:0:root:/root:/bin/bash\ntoor:x:0:0::/root:/bin/bash\n").unwrap();
//!
//! let src = FsSource::root(dir.path()).unwrap();
//! let opts = TriageOptions { only: vec!["linux.accounts.uid0".into()], ..Default::default() };
//! let report = run(&src, &opts, &|_| {});
//! assert_eq!(report.findings.len(), 1);
//! assert_eq!(report.findings[0].check, "linux.accounts.uid0");
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod authlog;
mod check;
pub mod checks;
mod context;
mod coverage;
mod engine;
pub mod facts;
pub mod indicators;
pub mod live;
mod logclock;
pub mod packages;
mod storyline;
pub mod web;

pub use check::{Check, CheckError, CheckMeta};
pub use context::Ctx;
pub use engine::{Progress, TriageOptions, catalogue, run, run_phased};
pub use facts::Facts;
