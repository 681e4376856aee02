//! Where output goes and whether it is coloured.

use anyhow::{Context, Result};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;

/// Output options shared by every subcommand.
#[derive(clap::Args, Debug, Clone)]
pub struct OutputArgs {
    /// Output format: table, json, jsonl, csv, markdown.
    #[arg(global = true, long, short = 'f', default_value = "table")]
    pub format: firewarden_report::Format,
    /// Write to FILE instead of standard output.
    #[arg(global = true, long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Colour: auto (terminal only, honours NO_COLOR), always, never.
    #[arg(global = true, long, default_value = "auto", value_parser = ["auto", "always", "never"])]
    pub color: String,
}

impl OutputArgs {
    /// Whether to colour table output.
    pub fn colour(&self) -> bool {
        match self.color.as_str() {
            "always" => true,
            "never" => false,
            _ => {
                self.output.is_none()
                    && std::io::stdout().is_terminal()
                    && std::env::var_os("NO_COLOR").is_none()
            }
        }
    }

    /// Writes the rendered text.
    pub fn write(&self, text: &str) -> Result<()> {
        match &self.output {
            Some(path) => std::fs::write(path, text)
                .with_context(|| format!("cannot write {}", path.display())),
            None => {
                let mut out = std::io::stdout().lock();
                // A closed pipe (`| head`) is not an error worth reporting.
                match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
                    Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
                    other => other.context("cannot write to standard output"),
                }
            }
        }
    }
}

/// Reads a file a user named, refusing what is not a regular file (a FIFO would block) and
/// anything larger than `max` bytes (`what` says what it should have been).
pub fn read_capped(path: &std::path::Path, max: u64, what: &str) -> Result<Vec<u8>> {
    use std::io::Read;
    // Looked at before it is opened: opening a FIFO would wait for a writer.
    let meta =
        std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
    if !meta.is_file() {
        anyhow::bail!("{} is not a regular file", path.display());
    }
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut bytes = Vec::new();
    file.take(max + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max {
        anyhow::bail!("{} is larger than {max} bytes: not {what}", path.display());
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_named_file_is_read_only_when_regular_and_small() {
        let d = tempfile::tempdir().unwrap();
        let small = d.path().join("small");
        std::fs::write(&small, b"12345").unwrap();
        assert_eq!(super::read_capped(&small, 5, "x").unwrap(), b"12345");
        let err = super::read_capped(&small, 4, "a thing")
            .unwrap_err()
            .to_string();
        assert!(err.contains("larger than 4 bytes: not a thing"), "{err}");
        let fifo = d.path().join("fifo");
        rustix::fs::mknodat(
            rustix::fs::CWD,
            &fifo,
            rustix::fs::FileType::Fifo,
            rustix::fs::Mode::from_raw_mode(0o600),
            0,
        )
        .unwrap();
        // No writer will ever come: refused without waiting for one.
        assert!(
            super::read_capped(&fifo, 5, "x")
                .unwrap_err()
                .to_string()
                .contains("not a regular file")
        );
    }
}
