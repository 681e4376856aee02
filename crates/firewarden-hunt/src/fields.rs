//! Field names as numbers: the rule set names each field once, events resolve their field names
//! against the same table, and matching compares integers instead of strings.

use std::collections::HashMap;

/// A field name's number in a [`FieldTable`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FieldId(pub u32);

impl FieldId {
    /// A field no rule names.
    pub const UNKNOWN: FieldId = FieldId(u32::MAX);
}

/// Case-insensitive map from field name to [`FieldId`] (Windows field names differ in case
/// between sources: `CommandLine` / `Commandline`).
#[derive(Debug, Clone, Default)]
pub struct FieldTable {
    ids: HashMap<Box<str>, FieldId>,
    names: Vec<Box<str>>,
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
        if name.bytes().any(|b| b.is_ascii_uppercase()) {
            self.ids.get(name.to_ascii_lowercase().as_str()).copied()
        } else {
            self.ids.get(name).copied()
        }
        .unwrap_or(FieldId::UNKNOWN)
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
