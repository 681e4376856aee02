//! The case platform's domain logic, with no I/O (the storage and HTTP layers sit on top): an
//! incident for a customer goes through six stages — preparation, detection, containment,
//! eradication, recovery, summary — and leaves each only when exit criteria computed from the
//! case's data are met, or when a lead overrides the gate with a reason. IOCs are extracted from
//! imported findings and normalised so that the same indicator is one value everywhere. Every
//! route asks [`access::authorize`] (tenant scope first: another tenant's data does not exist
//! for the asker) and every read or change is an [`audit`] record in a hash chain.
//!
//! ```
//! use firewarden_case::stage::{CaseFacts, Stage, checklist};
//! let facts = CaseFacts::default();
//! let list = checklist(Stage::Detection, &facts);
//! assert!(!list.passed()); // no analysis imported yet
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod access;
pub mod approval;
pub mod audit;
pub mod import;
pub mod ioc;
pub mod loss;
pub mod model;
pub mod sla;
pub mod stage;
pub mod stix;
pub mod tools;
