//! One self-contained HTML file: inline CSS, inline SVG, no script, nothing fetched; every text
//! from the case escaped; readable printed.

use crate::document::{Block, Document};

/// Escapes text for HTML element content and attribute values.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Control characters from a hostile host are shown, not passed on.
            c if c.is_control() && c != '\n' && c != '\t' => {
                out.push_str(&format!("\\u{{{:x}}}", c as u32))
            }
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font:14px/1.45 system-ui,'Noto Sans CJK SC','Noto Sans',sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#111}\
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.2rem;border-bottom:1px solid #ccc;margin-top:2rem}\
table{border-collapse:collapse;width:100%;margin:.5rem 0;font-size:13px}th,td{border:1px solid #ccc;padding:.25rem .4rem;text-align:left;vertical-align:top;overflow-wrap:anywhere}\
th{background:#f2f2f2}dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem}dt{font-weight:600}dd{margin:0;overflow-wrap:anywhere}\
pre{white-space:pre-wrap;overflow-wrap:anywhere;font-size:12px;background:#f7f7f7;padding:.5rem}.chart{width:100%;height:auto;border:1px solid #eee}\
nav ol{columns:2}footer{margin-top:2rem;font-size:12px;color:#444}\
@media print{body{margin:0;max-width:none}h2{break-after:avoid}tr,pre{break-inside:avoid}nav{display:none}}";

/// Renders the document.
pub(crate) fn render(d: &Document) -> String {
    let mut o = String::new();
    o.push_str(&format!(
        "<!DOCTYPE html>\n<html lang=\"{}\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\n<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<header>\n<h1>{}</h1>\n",
        d.lang.code(),
        escape(&d.title),
        escape(&d.title)
    ));
    o.push_str(&fields(&d.header));
    o.push_str("</header>\n<nav><ol>\n");
    for s in &d.sections {
        o.push_str(&format!(
            "<li><a href=\"#{}\">{}</a></li>\n",
            s.id,
            escape(&s.title)
        ));
    }
    o.push_str("</ol></nav>\n<main>\n");
    for s in &d.sections {
        o.push_str(&format!(
            "<section id=\"{}\">\n<h2>{}</h2>\n",
            s.id,
            escape(&s.title)
        ));
        for b in &s.blocks {
            o.push_str(&block(b));
        }
        o.push_str("</section>\n");
    }
    o.push_str("<section id=\"manifest\">\n");
    o.push_str(&format!(
        "<h2>{}</h2>\n",
        escape(crate::manifest_title(d.lang))
    ));
    o.push_str(&table(
        &[crate::text::texts(d.lang).appendix.into(), "SHA-256".into()],
        &d.manifest
            .iter()
            .map(|(n, h)| vec![n.clone(), h.clone()])
            .collect::<Vec<_>>(),
    ));
    o.push_str(&format!(
        "</section>\n</main>\n<footer><p>{}</p></footer>\n</body>\n</html>\n",
        escape(&d.note)
    ));
    o
}

fn fields(f: &[(String, String)]) -> String {
    let mut o = String::from("<dl>\n");
    for (k, v) in f {
        o.push_str(&format!("<dt>{}</dt><dd>{}</dd>\n", escape(k), escape(v)));
    }
    o.push_str("</dl>\n");
    o
}

fn table(head: &[String], rows: &[Vec<String>]) -> String {
    let mut o = String::from("<table>\n<thead><tr>");
    for h in head {
        o.push_str(&format!("<th scope=\"col\">{}</th>", escape(h)));
    }
    o.push_str("</tr></thead>\n<tbody>\n");
    for r in rows {
        o.push_str("<tr>");
        for c in r {
            o.push_str(&format!("<td>{}</td>", escape(c)));
        }
        o.push_str("</tr>\n");
    }
    o.push_str("</tbody>\n</table>\n");
    o
}

fn block(b: &Block) -> String {
    match b {
        Block::Para(t) => format!("<p>{}</p>\n", escape(t)),
        Block::Fields(f) => fields(f),
        Block::Table { head, rows } => table(head, rows),
        Block::List(items) => {
            let mut o = String::from("<ul>\n");
            for i in items {
                o.push_str(&format!("<li>{}</li>\n", escape(i)));
            }
            o.push_str("</ul>\n");
            o
        }
        Block::Pre(t) => format!("<pre>{}</pre>\n", escape(t)),
        // Made by crate::chart, every label escaped there.
        Block::Chart(svg) => format!("<figure>{svg}</figure>\n"),
    }
}
