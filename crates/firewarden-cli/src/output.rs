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
