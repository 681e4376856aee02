//! Field names as numbers: the rule set names each field once, events resolve their field names
//! against the same table, and matching compares integers instead of strings.

use foldhash::{HashMap, HashMapExt};

/// A field name's number in a [`FieldTable`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FieldId(pub u32);

impl FieldId {
    /// A field no rule names.
    pub const UNKNOWN: FieldId = FieldId(u32::MAX);
}

/// Case-insensitive map from field name to [`FieldId`] (Windows field names differ in case
/// between sources: `CommandLine` / `Commandline`).
#[derive(Debug, Clone)]
pub struct FieldTable {
    // Field names come from the rules (the table's own keys), not from the logs, so a fast
    // fixed hasher is fine here.
    ids: HashMap<Box<str>, FieldId>,
    names: Vec<Box<str>>,
}

impl Default for FieldTable {
    fn default() -> Self {
        FieldTable {
            ids: HashMap::new(),
            names: Vec::new(),
        }
    }
}

impl FieldTable {
    /// The id of `name`, adding it when new.
    pub fn intern(&mut self, name: &str) -> FieldId {
        let key = name.to_ascii_lowercase();
        if let Some(id) = self.ids.get(key.as_str()) {
            return *id;
        }
        let id = FieldId(self.names.len() as u32);
        self.names.push(name.into());
        self.ids.insert(key.into_boxed_str(), id);
        id
    }

    /// The id of `name`, or [`FieldId::UNKNOWN`].
    pub fn lookup(&self, name: &str) -> FieldId {
        // Called for every field of every event: lower-case short names on the stack.
        let mut buf = [0u8; 64];
        let found = if name.len() <= buf.len() {
            let lower = &mut buf[..name.len()];
            lower.copy_from_slice(name.as_bytes());
            lower.make_ascii_lowercase();
            std::str::from_utf8(lower)
                .ok()
                .and_then(|l| self.ids.get(l).copied())
        } else {
            self.ids.get(name.to_ascii_lowercase().as_str()).copied()
        };
        found.unwrap_or(FieldId::UNKNOWN)
    }

    /// The name an id was interned with.
    pub fn name(&self, id: FieldId) -> Option<&str> {
        self.names.get(id.0 as usize).map(|n| &**n)
    }

    /// Number of names.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether no name was interned.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_ignores_case() {
        let mut t = FieldTable::default();
        let a = t.intern("CommandLine");
        assert_eq!(t.intern("commandline"), a);
        assert_eq!(t.lookup("COMMANDLINE"), a);
        assert_eq!(t.lookup("Image"), FieldId::UNKNOWN);
        assert_eq!(t.name(a), Some("CommandLine"));
    }
}
