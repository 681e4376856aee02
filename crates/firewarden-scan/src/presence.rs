//! Which of a fixed list of texts occur in a page or script, found in one pass: checks that
//! look for many markers then read the text once instead of once per marker.

/// A fixed list of texts and the automaton that finds them.
pub(crate) struct Presence {
    patterns: Vec<&'static str>,
    search: Option<aho_corasick::AhoCorasick>,
}

impl Presence {
    /// Builds the search for `patterns` (build one per list, in a `OnceLock`).
    pub(crate) fn new(patterns: Vec<&'static str>) -> Self {
        // Our own constant lists always build; without the automaton each text is searched
        // on its own, with the same answers.
        let search = aho_corasick::AhoCorasick::new(&patterns).ok();
        Presence { patterns, search }
    }

    /// For each pattern, in order, whether it occurs in `t`.
    pub(crate) fn of(&self, t: &str) -> Vec<bool> {
        let mut seen = vec![false; self.patterns.len()];
        match &self.search {
            Some(ac) => {
                for m in ac.find_overlapping_iter(t) {
                    seen[m.pattern().as_usize()] = true;
                }
            }
            None => {
                for (k, p) in self.patterns.iter().enumerate() {
                    seen[k] = t.contains(p);
                }
            }
        }
        seen
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_overlapping_and_repeated_patterns() {
        let p = Presence::new(vec!["display:none", "none", "<script", "absent"]);
        assert_eq!(
            p.of("<div style=display:none><script>"),
            [true, true, true, false]
        );
        assert_eq!(p.of(""), [false; 4]);
    }
}
