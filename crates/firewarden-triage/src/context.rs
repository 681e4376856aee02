//! What a check receives: the source, the options, shared facts, and where to report.

use crate::TriageOptions;
use crate::facts::Facts;
use firewarden_model::{EventKind, Evidence, Finding, TimelineEvent, Timestamp, Warning};
use firewarden_source::{Metadata, Source, SourceError, display_path};
use std::path::Path;

/// Per-check context. Checks never print: they report findings, events and warnings here.
pub struct Ctx<'a> {
    /// The analysed system, read-only.
    pub src: &'a dyn Source,
    /// Run options.
    pub opts: &'a TriageOptions,
    /// Facts shared between checks, computed once on first use.
    pub facts: &'a Facts,
    pub(crate) check: &'static crate::check::CheckMeta,
    pub(crate) findings: Vec<Finding>,
    pub(crate) events: Vec<TimelineEvent>,
    pub(crate) warnings: Vec<Warning>,
}

impl<'a> Ctx<'a> {
    pub(crate) fn new(
        src: &'a dyn Source,
        opts: &'a TriageOptions,
        facts: &'a Facts,
        check: &'static crate::check::CheckMeta,
    ) -> Self {
        Ctx {
            src,
            opts,
            facts,
            check,
            findings: Vec::new(),
            events: Vec::new(),
            warnings: Vec::new(),
        }
    }

    /// Starts a finding of this check with its ATT&CK ids and default severity.
    pub fn finding(&self, title: impl Into<String>) -> Finding {
        Finding::new(self.check.id, title, self.check.severity).attack(self.check.attack)
    }

    /// Reports a finding.
    pub fn report(&mut self, f: Finding) {
        self.findings.push(f);
    }

    /// Reports a finding and puts it on the timeline when it has a time.
    pub fn report_with_event(
        &mut self,
        f: Finding,
        kind: EventKind,
        ip: Option<String>,
        user: Option<String>,
    ) {
        if let Some(time) = f.time {
            let source = f
                .evidence
                .first()
                .map(|e| match (&e.path, e.line) {
                    (Some(p), Some(l)) => format!("{p}:{l}"),
                    (Some(p), None) => p.clone(),
                    _ => String::new(),
                })
                .unwrap_or_default();
            // A time taken from the file itself (its change or modification time, nothing
            // logged it) says so: it places the event, it does not date it.
            let from_file = f.evidence.first().and_then(|e| {
                if e.ctime == Some(time) {
                    Some("file change time")
                } else if e.mtime == Some(time) {
                    Some("file modification time")
                } else {
                    None
                }
            });
            let summary = match from_file {
                Some(which) => format!("{} (time: the {which}, not a logged event)", f.title),
                None => f.title.clone(),
            };
            self.events.push(TimelineEvent {
                time,
                kind,
                summary,
                source,
                ip,
                user,
                finding: Some(f.id.clone()),
                zone: None,
            });
        }
        self.findings.push(f);
    }

    /// Adds a timeline event that is not itself a finding.
    pub fn event(&mut self, e: TimelineEvent) {
        self.events.push(e);
    }

    /// Warns about something that could not be read; the check goes on.
    pub fn warn(&mut self, path: Option<&Path>, message: impl Into<String>) {
        self.warnings.push(Warning {
            check: Some(self.check.id.to_string()),
            path: path.map(display_path),
            message: message.into(),
        });
    }

    /// Warns about a source error unless it is a plain "not found".
    pub fn warn_err(&mut self, e: &SourceError) {
        if !e.is_not_found() {
            self.warn(None, e.to_string());
        }
    }

    /// Evidence for a file with its owner, mode and times filled in from the source.
    pub fn file_evidence(&self, path: &Path) -> Evidence {
        let mut e = Evidence::at(display_path(path));
        if let Ok(m) = self.src.symlink_metadata(path) {
            fill_meta(&mut e, &m, self.facts);
        }
        e
    }

    /// True when `t` is inside the incident window given with `--since` (always true without).
    pub fn in_window(&self, t: Timestamp) -> bool {
        self.opts.since.is_none_or(|s| t >= s)
    }
}

/// Fills owner, mode and times of evidence from metadata.
pub fn fill_meta(e: &mut Evidence, m: &Metadata, facts: &Facts) {
    e.owner = Some(match facts.user_name(m.uid) {
        Some(n) => format!("{}({n})", m.uid),
        None => m.uid.to_string(),
    });
    e.mode = Some(m.mode_octal());
    e.mtime = Some(m.mtime);
    e.ctime = Some(m.ctime);
}
