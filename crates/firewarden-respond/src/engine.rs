//! The one mechanism every change goes through: a [`Plan`] says exactly what will change (shown
//! as a diff), the caller confirms it, [`Responder::apply`] journals the before-state *first*,
//! applies the steps (reversing the done ones if a later one fails), and [`Responder::undo`]
//! puts everything back.

use crate::state::{Actor, StateDir, sha256_hex};
use crate::step::{self, Env};
use crate::target::{EDIT_LIMIT, Target};
use crate::{Error, Result, nft};
use firewarden_model::action::{
    Action, ActionStatus, ActionSummary, FileState, JournalEntry, JournalEvent, Risk, Step,
};
use firewarden_model::{Severity, Timestamp};
use std::collections::BTreeMap;

/// Content a plan needs in the vault before it is applied.
#[derive(Debug, Clone)]
enum Blob {
    Bytes(Vec<u8>),
    /// A file of the target, streamed at apply time (quarantine of files of any size).
    File(String),
}

/// What an action will do, before it is done.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The action (its id is given when it is applied).
    pub action: Action,
    blobs: BTreeMap<String, Blob>,
}

impl Plan {
    /// An empty plan.
    pub fn new(kind: &str, title: impl Into<String>, risk: Risk, target: &Target) -> Plan {
        Plan {
            action: Action {
                id: String::new(),
                kind: kind.to_string(),
                title: title.into(),
                risk,
                root: target.root_dir().display().to_string(),
                finding: None,
                severity: None,
                steps: Vec::new(),
                notes: Vec::new(),
                expires: None,
                confirmed: None,
                approval: None,
            },
            blobs: BTreeMap::new(),
        }
    }

    /// Names the finding or item this plan answers.
    pub fn for_finding(mut self, id: &str, severity: Option<Severity>) -> Plan {
        self.action.finding = Some(id.to_string());
        self.action.severity = severity;
        self
    }

    /// Adds a step.
    pub fn push(&mut self, step: Step) {
        self.action.steps.push(step);
    }

    /// Adds a note for the responder.
    pub fn note(&mut self, text: impl Into<String>) {
        self.action.notes.push(text.into());
    }

    /// Whether the plan changes nothing.
    pub fn is_empty(&self) -> bool {
        self.action.steps.is_empty()
    }

    /// Replaces a file's content with `new` (same owner and mode). A no-op edit adds nothing.
    pub fn edit(&mut self, target: &Target, path: &str, new: Vec<u8>) -> Result<()> {
        let (before, old) = target.read_file(path, EDIT_LIMIT)?;
        self.edit_read(path, before, old, new);
        Ok(())
    }

    /// [`Plan::edit`] of a file already read.
    fn edit_read(&mut self, path: &str, before: FileState, old: Vec<u8>, new: Vec<u8>) {
        if old == new {
            return;
        }
        let after = FileState {
            sha256: sha256_hex(&new),
            size: new.len() as u64,
            ..before.clone()
        };
        self.blobs.insert(before.sha256.clone(), Blob::Bytes(old));
        self.blobs.insert(after.sha256.clone(), Blob::Bytes(new));
        self.push(Step::File {
            path: path.to_string(),
            before: Some(before),
            after: Some(after),
            parent_times: None,
        });
    }

    /// Edits a text file line by line, byte-exactly: `f` sees each line (without its line
    /// ending) that is valid UTF-8 and says what to do with it; every other byte stays as it
    /// was, so a stray invalid byte elsewhere in a crontab is never rewritten. Returns how many
    /// lines changed (0: the plan is unchanged).
    pub fn edit_lines(
        &mut self,
        target: &Target,
        path: &str,
        f: impl FnMut(&str) -> LineEdit,
    ) -> Result<usize> {
        let (before, old) = target.read_file(path, EDIT_LIMIT)?;
        let (new, changed) = map_lines(&old, f);
        if changed > 0 {
            self.edit_read(path, before, old, new);
        }
        Ok(changed)
    }

    /// Creates a new file owned by root with `mode`.
    pub fn create(&mut self, target: &Target, path: &str, content: Vec<u8>, mode: u32) {
        self.create_owned(target, path, content, (mode, 0, 0));
    }

    /// Creates a new file with `(mode, uid, gid)`.
    pub fn create_owned(
        &mut self,
        target: &Target,
        path: &str,
        content: Vec<u8>,
        (mode, uid, gid): (u32, u32, u32),
    ) {
        let after = FileState {
            sha256: sha256_hex(&content),
            size: content.len() as u64,
            uid,
            gid,
            mode,
            atime_ns: 0,
            mtime_ns: 0,
        };
        self.blobs
            .insert(after.sha256.clone(), Blob::Bytes(content));
        self.push(Step::File {
            path: path.to_string(),
            before: None,
            after: Some(after),
            parent_times: target.parent_times(path),
        });
    }

    /// Moves a file into the encrypted vault with its hash, owner, mode and times.
    pub fn quarantine(&mut self, target: &Target, path: &str) -> Result<FileState> {
        let (file, meta) = target.open_file(path)?;
        // A responder who copied Firewarden to /tmp sees it flagged as a temp-dir program:
        // quarantining it would take away the tool that undoes everything.
        if let Ok(own) = std::fs::metadata("/proc/self/exe")
            && std::os::unix::fs::MetadataExt::ino(&own)
                == std::os::unix::fs::MetadataExt::ino(&meta)
            && std::os::unix::fs::MetadataExt::dev(&own)
                == std::os::unix::fs::MetadataExt::dev(&meta)
        {
            return Err(Error::Refused(format!(
                "{path} is this firewarden binary; it stays so that its actions can be undone"
            )));
        }
        let before = crate::target::hashed(path, file, &meta)?;
        if std::os::unix::fs::MetadataExt::nlink(&meta) > 1 {
            self.note(format!(
                "{path} has {} hard links; only this name is removed",
                std::os::unix::fs::MetadataExt::nlink(&meta)
            ));
        }
        self.blobs
            .insert(before.sha256.clone(), Blob::File(path.to_string()));
        self.push(Step::File {
            path: path.to_string(),
            before: Some(before.clone()),
            after: None,
            parent_times: target.parent_times(path),
        });
        Ok(before)
    }

    /// Adds evidence captured before acting (kept in the vault, never removed by undo).
    pub fn capture(&mut self, what: &str, bytes: Vec<u8>) {
        let sha = sha256_hex(&bytes);
        let size = bytes.len() as u64;
        self.blobs.insert(sha.clone(), Blob::Bytes(bytes));
        self.push(Step::Capture {
            what: what.to_string(),
            sha256: sha,
            size,
        });
    }

    /// The plan as a responder reads it: one block per step, file edits as unified diffs.
    pub fn render(&self) -> String {
        let a = &self.action;
        let mut out = format!(
            "{} ({}, risk {}){}\n",
            a.title,
            a.kind,
            a.risk.as_str(),
            a.finding
                .as_deref()
                .map(|f| format!(" for {f}"))
                .unwrap_or_default()
        );
        for s in &a.steps {
            out.push_str(&crate::render::step(s, &|sha| self.text_of(sha)));
        }
        if let Some(t) = a.expires {
            out.push_str(&format!(
                "  dead-man switch: lifted by the kernel at {t} unless `firewarden contain confirm`\n"
            ));
        }
        for n in &a.notes {
            out.push_str(&format!("  note: {n}\n"));
        }
        out
    }

    fn text_of(&self, sha: &str) -> Option<Vec<u8>> {
        match self.blobs.get(sha)? {
            Blob::Bytes(b) => Some(b.clone()),
            Blob::File(_) => None,
        }
    }
}

/// What [`Plan::edit_lines`] does with one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineEdit {
    /// Leave it.
    Keep,
    /// Replace its text (the line ending stays).
    Replace(String),
    /// Remove it with its line ending.
    Delete,
}

/// Applies `f` to each line of `bytes` (see [`Plan::edit_lines`]); returns the new bytes and
/// how many lines changed.
pub fn map_lines(bytes: &[u8], mut f: impl FnMut(&str) -> LineEdit) -> (Vec<u8>, usize) {
    let mut out = Vec::with_capacity(bytes.len());
    let mut changed = 0;
    for raw in bytes.split_inclusive(|b| *b == b'\n') {
        let body_len = raw.len() - raw.ends_with(b"\n") as usize;
        let body_len = body_len - raw[..body_len].ends_with(b"\r") as usize;
        let (body, ending) = raw.split_at(body_len);
        let edit = match std::str::from_utf8(body) {
            Ok(text) => f(text),
            Err(_) => LineEdit::Keep,
        };
        match edit {
            LineEdit::Keep => out.extend_from_slice(raw),
            LineEdit::Replace(text) if text.as_bytes() == body => out.extend_from_slice(raw),
            LineEdit::Replace(text) => {
                changed += 1;
                out.extend_from_slice(text.as_bytes());
                out.extend_from_slice(ending);
            }
            LineEdit::Delete => changed += 1,
        }
    }
    (out, changed)
}

/// Changes a target and keeps the journal: the only way Firewarden changes a host.
#[derive(Debug)]
pub struct Responder {
    /// The state directory (journal, vault).
    pub state: StateDir,
    /// The acted-on system.
    pub target: Target,
    /// Who acts.
    pub actor: Actor,
}

/// What undo did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Undone {
    /// Action id.
    pub id: String,
    /// Its title.
    pub title: String,
    /// Steps that could not be reversed or had nothing to reverse, with why.
    pub left: Vec<String>,
}

impl Responder {
    fn env(&self) -> Env<'_> {
        Env {
            state: &self.state,
            target: &self.target,
        }
    }

    /// Applies a confirmed plan. The journal gets the whole action (with every before-state)
    /// before the first change, then `applied` or `failed`.
    pub fn apply(&self, mut plan: Plan) -> Result<Action> {
        if plan.is_empty() {
            return Err(Error::Refused("nothing to do".into()));
        }
        // Vault first: the journal line must only name content that is safely kept.
        for (sha, blob) in &plan.blobs {
            let (got, _) = match blob {
                Blob::Bytes(b) => self.state.vault_put(&mut b.as_slice())?,
                Blob::File(path) => {
                    let (mut f, _) = self.target.open_file(path)?;
                    self.state.vault_put(&mut f)?
                }
            };
            if &got != sha {
                return Err(Error::Drift(format!(
                    "content changed while it was being kept (SHA-256 {got}, planned {sha})"
                )));
            }
        }
        let journal = self.state.journal()?;
        let n = journal
            .entries
            .iter()
            .filter(|e| matches!(e.event, JournalEvent::Begin { .. }))
            .count();
        plan.action.id = format!("A{}", n + 1);
        let action = plan.action;
        self.state.append(
            &self.actor,
            JournalEvent::Begin {
                action: action.clone(),
            },
        )?;
        let env = self.env();
        for (i, s) in action.steps.iter().enumerate() {
            if let Err(e) = step::apply(&env, s) {
                let mut rolled_back = true;
                for done in action.steps[..i].iter().rev() {
                    if step::undo(&env, done, false).is_err() {
                        rolled_back = false;
                    }
                }
                self.state.append(
                    &self.actor,
                    JournalEvent::Failed {
                        id: action.id.clone(),
                        error: e.to_string(),
                        rolled_back,
                    },
                )?;
                return Err(Error::Failed {
                    id: action.id.clone(),
                    error: e.to_string(),
                    rolled_back,
                });
            }
        }
        self.state.append(
            &self.actor,
            JournalEvent::Applied {
                id: action.id.clone(),
            },
        )?;
        Ok(action)
    }

    /// Every action with its status, oldest first.
    pub fn actions(&self) -> Result<Vec<ActionSummary>> {
        Ok(summarize(
            self.state.journal()?.entries,
            self.target.is_live(),
        ))
    }

    /// Undoes one action (steps in reverse). Refuses when a file changed after the action,
    /// unless `force`.
    pub fn undo(&self, id: &str, force: bool) -> Result<Undone> {
        let all = self.actions()?;
        let a = all
            .iter()
            .find(|a| a.action.id.eq_ignore_ascii_case(id))
            .ok_or_else(|| Error::Refused(format!("no action {id} in the journal")))?;
        self.undo_summary(a, force)
    }

    fn undo_summary(&self, a: &ActionSummary, force: bool) -> Result<Undone> {
        match a.status {
            ActionStatus::Undone => {
                return Err(Error::Refused(format!(
                    "{} was undone already",
                    a.action.id
                )));
            }
            ActionStatus::Failed => {
                return Err(Error::Refused(format!(
                    "{} failed and was rolled back when it failed",
                    a.action.id
                )));
            }
            _ => {}
        }
        let env = self.env();
        // All or nothing: if anything the action touched was changed since, nothing is undone.
        if !force {
            let mut blockers = Vec::new();
            for s in &a.action.steps {
                if let Some(why) = step::blocker(&env, s)? {
                    blockers.push(why);
                }
            }
            if !blockers.is_empty() {
                return Err(Error::Refused(format!(
                    "{} not undone, nothing changed: {} (--force overwrites later changes)",
                    a.action.id,
                    blockers.join("; ")
                )));
            }
        }
        let mut left = Vec::new();
        for s in a.action.steps.iter().rev() {
            match step::undo(&env, s, force) {
                Ok(Some(note)) => left.push(note),
                Ok(None) => {}
                // Steps already back are skipped when undo runs again, so a retry finishes it.
                Err(e) => {
                    return Err(Error::Refused(format!(
                        "{} partly undone: {e}; fix the cause and run `firewarden undo {}` again",
                        a.action.id, a.action.id
                    )));
                }
            }
        }
        self.state.append(
            &self.actor,
            JournalEvent::Undone {
                id: a.action.id.clone(),
                left: left.clone(),
            },
        )?;
        Ok(Undone {
            id: a.action.id.clone(),
            title: a.action.title.clone(),
            left,
        })
    }

    /// Undoes every action still in force, newest first.
    pub fn undo_all(&self, force: bool) -> Result<Vec<Undone>> {
        let mut done = Vec::new();
        // One reading of the journal: each undo changes only its own action's status.
        for a in self.actions()?.iter().rev() {
            if a.status.in_force() || a.status == ActionStatus::Expired {
                done.push(self.undo_summary(a, force)?);
            }
        }
        Ok(done)
    }

    /// Records the result of re-running a check after an action.
    pub fn record_verified(&self, id: &str, gone: bool, detail: &str) -> Result<()> {
        self.state
            .append(
                &self.actor,
                JournalEvent::Verified {
                    id: id.to_string(),
                    gone,
                    detail: detail.to_string(),
                },
            )
            .map(|_| ())
    }

    /// Disarms the dead-man switch of the network containment in force, or (`extend`) re-arms
    /// it to run out that many seconds from now. Returns the action id and the new end.
    pub fn confirm_network(&self, extend: Option<u64>) -> Result<(String, Option<Timestamp>)> {
        let all = self.actions()?;
        let a = all
            .iter()
            .rev()
            .find(|a| a.action.kind == "contain.network" && a.status != ActionStatus::Undone)
            .ok_or_else(|| Error::Refused("no network containment in the journal".into()))?;
        match a.status {
            ActionStatus::Confirmed if extend.is_none() => {
                return Err(Error::Refused(format!(
                    "{} is confirmed already",
                    a.action.id
                )));
            }
            ActionStatus::Expired => {
                return Err(Error::Refused(format!(
                    "{} no longer isolates (its TTL ran out, or its table is gone); `firewarden undo {}`, then `contain network` again",
                    a.action.id, a.action.id
                )));
            }
            ActionStatus::Applied | ActionStatus::Confirmed => {}
            other => {
                return Err(Error::Refused(format!(
                    "{} is {}",
                    a.action.id,
                    other.as_str()
                )));
            }
        }
        if !nft::isolating()? {
            return Err(Error::Refused(format!(
                "{}'s isolation was lifted already (TTL ran out)",
                a.action.id
            )));
        }
        nft::load(&nft::confirm_script(extend))?;
        let until = extend.map(|s| Timestamp(Timestamp::now().0 + s as i64));
        self.state.append(
            &self.actor,
            JournalEvent::Confirmed {
                id: a.action.id.clone(),
                until,
            },
        )?;
        Ok((a.action.id.clone(), until))
    }

    /// Content kept in the vault (a quarantined file, a captured executable).
    pub fn extract(&self, sha256: &str) -> Result<Vec<u8>> {
        self.state.vault_get(sha256)
    }
}

/// Every action in a journal with its status, oldest first. On the live host a network
/// containment past its TTL is checked against the kernel (expired when the sets are empty).
pub fn summarize(entries: Vec<JournalEntry>, live: bool) -> Vec<ActionSummary> {
    let mut out: Vec<ActionSummary> = Vec::new();
    for e in entries {
        let find =
            |out: &mut Vec<ActionSummary>, id: &str| out.iter().position(|a| a.action.id == id);
        match e.event {
            JournalEvent::Begin { action } => out.push(ActionSummary {
                action,
                status: ActionStatus::Interrupted,
                utc: e.utc,
                operator: e.operator,
                verified: None,
            }),
            JournalEvent::Applied { id } => {
                if let Some(i) = find(&mut out, &id) {
                    out[i].status = ActionStatus::Applied;
                }
            }
            JournalEvent::Failed { id, .. } => {
                if let Some(i) = find(&mut out, &id) {
                    out[i].status = ActionStatus::Failed;
                }
            }
            JournalEvent::Confirmed { id, until } => {
                if let Some(i) = find(&mut out, &id) {
                    out[i].status = if until.is_some() {
                        ActionStatus::Applied
                    } else {
                        ActionStatus::Confirmed
                    };
                    out[i].action.expires = until;
                }
            }
            JournalEvent::Undone { id, .. } => {
                if let Some(i) = find(&mut out, &id) {
                    out[i].status = ActionStatus::Undone;
                }
            }
            JournalEvent::Verified { id, gone, .. } => {
                if let Some(i) = find(&mut out, &id) {
                    out[i].verified = Some(gone);
                }
            }
        }
    }
    // A network containment past its TTL no longer isolates: the kernel lifted it. One whose
    // table is gone (a reboot, someone's `nft flush ruleset`) no longer isolates either.
    // The kernel is asked once, and only when a containment could be in force.
    let now = Timestamp::now();
    let mut kernel: Option<(bool, bool)> = None;
    for a in &mut out {
        if !live
            || a.action.kind != "contain.network"
            || !matches!(a.status, ActionStatus::Applied | ActionStatus::Confirmed)
        {
            continue;
        }
        let (table, isolating) = *kernel.get_or_insert_with(|| {
            (
                nft::table_exists(nft::FAMILY, nft::TABLE).unwrap_or(true),
                nft::isolating().unwrap_or(true),
            )
        });
        let timed_out = a.status == ActionStatus::Applied
            && a.action.expires.is_some_and(|t| t <= now)
            && !isolating;
        if !table || timed_out {
            a.status = ActionStatus::Expired;
        }
    }
    out
}
