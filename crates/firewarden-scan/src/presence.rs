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

    /// The patterns' places in `t`, read lazily in one pass while the caller walks `t` from
    /// start to end: statement-by-statement checks then ask which patterns a statement holds
    /// instead of searching it once per pattern.
    pub(crate) fn marks<'a>(&'a self, t: &'a str) -> Marks<'a> {
        Marks {
            t,
            patterns: &self.patterns,
            found: self
                .search
                .as_ref()
                .filter(|_| self.patterns.len() <= 128)
                .map(|ac| ac.find_overlapping_iter(t).peekable()),
        }
    }
}

/// The places of a [`Presence`]'s patterns in one text, handed out span by span.
pub(crate) struct Marks<'a> {
    t: &'a str,
    patterns: &'a [&'static str],
    /// Matches in the order they end; `None` when the automaton is missing (each span is then
    /// searched pattern by pattern, with the same answers).
    found: Option<std::iter::Peekable<aho_corasick::FindOverlappingIter<'a, 'a>>>,
}

/// Which patterns (by index, fewer than 128) a span holds whole.
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
pub(crate) struct Held(u128);

impl Held {
    /// Whether pattern `k` is in the span.
    pub(crate) fn has(self, k: usize) -> bool {
        k < 128 && self.0 & (1 << k) != 0
    }

    /// The patterns held by either.
    pub(crate) fn or(self, other: Held) -> Held {
        Held(self.0 | other.0)
    }

    /// Whether any of the patterns `range` is in the span.
    pub(crate) fn any(self, range: std::ops::Range<usize>) -> bool {
        range.into_iter().any(|k| self.has(k))
    }
}

impl Marks<'_> {
    /// The patterns that lie wholly within `t[start..end]`. Spans must be asked for in order
    /// (each starting at or after the previous one's end): matches that end before a span are
    /// dropped as the walk passes them.
    pub(crate) fn within(&mut self, start: usize, end: usize) -> Held {
        let mut held = 0u128;
        match &mut self.found {
            Some(found) => {
                while let Some(m) = found.next_if(|m| m.end() <= end) {
                    if m.start() >= start {
                        held |= 1 << m.pattern().as_usize();
                    }
                }
            }
            None => {
                let span = self.t.get(start..end).unwrap_or("");
                for (k, p) in self.patterns.iter().enumerate().take(128) {
                    if span.contains(p) {
                        held |= 1 << k;
                    }
                }
            }
        }
        Held(held)
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

    #[test]
    fn marks_name_what_each_span_holds_whole() {
        let p = Presence::new(vec!["eval(", "$_get", "al(", "absent"]);
        let t = "a = $_get['x'];\neval($a);\n$_g";
        let mut marks = p.marks(t);
        let spans: Vec<&str> = t.split_inclusive(['\n']).collect();
        let mut at = 0;
        let mut held = Vec::new();
        for s in &spans {
            held.push(marks.within(at, at + s.len()));
            at += s.len();
        }
        assert!(held[0].has(1) && !held[0].has(0) && !held[0].has(2));
        assert!(held[1].has(0) && held[1].has(2) && !held[1].has(1));
        assert!(held[1].any(0..2) && !held[1].any(3..4));
        // A pattern cut by the end of the text, or one asked for past its span, is not held.
        assert_eq!(held[2], Held::default());
        let mut marks = p.marks(t);
        let second = t.find('\n').unwrap() + 1;
        assert!(!marks.within(second, t.len()).has(1));
        // A match that straddles two spans belongs to neither.
        // Without the automaton each span is searched on its own, with the same answers.
        let mut plain = Marks {
            t,
            patterns: &p.patterns,
            found: None,
        };
        let mut at = 0;
        for (s, expected) in spans.iter().zip(&held) {
            assert_eq!(plain.within(at, at + s.len()), *expected);
            at += s.len();
        }
        let mut marks = p.marks("eval(");
        assert_eq!(marks.within(0, 2), Held::default());
        let second = marks.within(2, 5);
        assert!(!second.has(0) && second.has(2));
    }
}
