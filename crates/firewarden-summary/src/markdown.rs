//! Markdown, for tickets and wikis: the same sections, every text escaped so that nothing from
//! the case becomes markup or a link.

use crate::document::{Block, Document};

/// Escapes Markdown's special characters (and breaks table cells on nothing).
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '#' | '!' | '~' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' => out.push(' '),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// Renders the document.
pub(crate) fn render(d: &Document) -> String {
    let mut o = format!("# {}\n\n", esc(&d.title));
    for (k, v) in &d.header {
        o.push_str(&format!("- **{}**: {}\n", esc(k), esc(v)));
    }
    for s in &d.sections {
        o.push_str(&format!("\n## {}\n\n", esc(&s.title)));
        for b in &s.blocks {
            o.push_str(&block(b));
        }
    }
    o.push_str(&format!("\n## {}\n\n", esc(crate::manifest_title(d.lang))));
    o.push_str(&table(
        &[crate::text::texts(d.lang).appendix.into(), "SHA-256".into()],
        &d.manifest
            .iter()
            .map(|(n, h)| vec![n.clone(), h.clone()])
            .collect::<Vec<_>>(),
    ));
    o.push_str(&format!("\n{}\n", esc(&d.note)));
    o
}

fn table(head: &[String], rows: &[Vec<String>]) -> String {
    if rows.is_empty() {
        return "—\n\n".into();
    }
    let mut o = format!(
        "| {} |\n|{}\n",
        head.iter().map(|h| esc(h)).collect::<Vec<_>>().join(" | "),
        "---|".repeat(head.len())
    );
    for r in rows {
        o.push_str(&format!(
            "| {} |\n",
            r.iter().map(|c| esc(c)).collect::<Vec<_>>().join(" | ")
        ));
    }
    o.push('\n');
    o
}

fn block(b: &Block) -> String {
    match b {
        Block::Para(t) => format!("{}\n\n", esc(t)),
        Block::Fields(f) => {
            let mut o = String::new();
            for (k, v) in f {
                o.push_str(&format!("- **{}**: {}\n", esc(k), esc(v)));
            }
            o.push('\n');
            o
        }
        Block::Table { head, rows } => table(head, rows),
        Block::List(items) => {
            if items.is_empty() {
                return "—\n\n".into();
            }
            let mut o = String::new();
            for i in items {
                o.push_str(&format!("- {}\n", esc(i)));
            }
            o.push('\n');
            o
        }
        // Indented code: nothing inside is markup, and no fence can be closed from within.
        Block::Pre(t) => {
            let mut o = String::new();
            for line in t.lines() {
                o.push_str("    ");
                o.push_str(&line.replace(|c: char| c.is_control(), " "));
                o.push('\n');
            }
            o.push('\n');
            o
        }
        // The chart is for the HTML and PDF; the table under it carries the same events.
        Block::Chart(_) => String::new(),
    }
}
