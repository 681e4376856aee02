//! Writing HTML by hand, safely: every piece of data goes through [`E`] (escaped text) or
//! [`A`] (an escaped attribute value); the page frame is [`page`]. No inline script or style
//! anywhere, so the Content-Security-Policy can forbid both.

use firewarden_case::access::Actor;
use firewarden_case::model::Role;
use std::fmt::{self, Display, Write};

/// Text escaped for an HTML element's content or a quoted attribute value.
pub(crate) struct E<'a>(pub &'a str);

impl Display for E<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in self.0.chars() {
            match c {
                '&' => f.write_str("&amp;")?,
                '<' => f.write_str("&lt;")?,
                '>' => f.write_str("&gt;")?,
                '"' => f.write_str("&quot;")?,
                '\'' => f.write_str("&#39;")?,
                // Controls other than line breaks and tabs show as a replacement mark: they
                // have no business in a page and some confuse parsers.
                c if c.is_control() && c != '\n' && c != '\t' => f.write_str("\u{fffd}")?,
                c => f.write_char(c)?,
            }
        }
        Ok(())
    }
}

/// A URL path segment, percent-encoded (ids are plain, names and hosts may not be).
pub(crate) fn seg(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// The serde name of an enum value (`high`, `containment`, `customer`): one spelling for the
/// API and the pages.
pub(crate) fn name<T: serde::Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
}

/// `<option>`s for enum values, by their serde names (`chosen`: the one selected).
pub(crate) fn options<T: serde::Serialize>(all: &[T], chosen: Option<&str>) -> String {
    let mut out = String::new();
    for v in all {
        let n = name(v);
        let sel = if Some(n.as_str()) == chosen {
            " selected"
        } else {
            ""
        };
        let _ = write!(out, "<option value=\"{}\"{sel}>{}</option>", E(&n), E(&n));
    }
    out
}

/// A human duration: `3 d 4 h`, `2 h 5 min`, `40 min`, `35 s`.
pub(crate) fn duration(seconds: i64) -> String {
    let s = seconds.unsigned_abs();
    let (d, h, m) = (s / 86_400, (s % 86_400) / 3600, (s % 3600) / 60);
    if d > 0 {
        format!("{d} d {h} h")
    } else if h > 0 {
        format!("{h} h {m} min")
    } else if m > 0 {
        format!("{m} min")
    } else {
        format!("{s} s")
    }
}

/// Which top-level section a page belongs to (the navigation marks it).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Section {
    Cases,
    Approvals,
    Admin,
    None,
}

/// The user's view of the frame: who is logged in and the session's CSRF token.
pub(crate) struct Frame<'a> {
    pub actor: &'a Actor,
    pub csrf: &'a str,
}

/// A whole page: head, navigation, the body given, the script. `title` is text.
pub(crate) fn page(frame: Option<&Frame<'_>>, section: Section, title: &str, body: &str) -> String {
    let mut out = String::with_capacity(body.len() + 2048);
    let _ = write!(
        out,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{} · Firewarden</title><link rel=\"stylesheet\" href=\"/ui/static/app.css\">",
        E(title)
    );
    if let Some(f) = frame {
        let _ = write!(out, "<meta name=\"csrf-token\" content=\"{}\">", E(f.csrf));
    }
    out.push_str(
        "<script src=\"/ui/static/app.js\" defer></script></head><body>\
         <a class=\"skip\" href=\"#main\">Skip to content</a><header class=\"top\">\
         <a class=\"brand\" href=\"/ui/cases\">Firewarden</a>",
    );
    if let Some(f) = frame {
        out.push_str("<nav aria-label=\"Main\"><ul>");
        let mut item = |s: Section, href: &str, label: &str| {
            let current = if s == section {
                " aria-current=\"page\""
            } else {
                ""
            };
            let _ = write!(out, "<li><a href=\"{href}\"{current}>{label}</a></li>");
        };
        item(Section::Cases, "/ui/cases", "Cases");
        item(Section::Approvals, "/ui/approvals", "Approvals");
        if f.actor.role == Role::Admin {
            item(Section::Admin, "/ui/admin", "Admin");
        }
        let _ = write!(
            out,
            "</ul></nav><form class=\"who\" method=\"post\" action=\"/logout\">\
             <span>{} <small>({})</small></span>\
             <input type=\"hidden\" name=\"csrf\" value=\"{}\">\
             <button type=\"submit\">Log out</button></form>",
            E(&f.actor.user),
            E(&name(&f.actor.role)),
            E(f.csrf)
        );
    }
    let _ = write!(
        out,
        "</header><main id=\"main\" tabindex=\"-1\"><h1>{}</h1>{body}</main></body></html>",
        E(title)
    );
    out
}

/// A severity as a badge that says its name (colour is never the only signal).
pub(crate) fn severity_badge(s: firewarden_model::Severity) -> String {
    let n = s.as_str();
    format!("<span class=\"sev sev-{n}\">{n}</span>")
}

/// A definition list from label/value pairs; values are already HTML.
pub(crate) fn facts(rows: &[(&str, String)]) -> String {
    let mut out = String::from("<dl class=\"facts\">");
    for (k, v) in rows {
        let _ = write!(out, "<dt>{}</dt><dd>{v}</dd>", E(k));
    }
    out.push_str("</dl>");
    out
}

/// An API form: the page's script sends its fields as JSON to `api` with `method` and the
/// session's CSRF token, then follows `next` (`{id}`: the answer's id) or reloads. Fields
/// say their JSON type with `data-type` (`int`, `bool`, `list`); empty fields are left out.
pub(crate) fn api_form(api: &str, method: &str, next: Option<&str>, class: &str) -> String {
    let next = next
        .map(|n| format!(" data-next=\"{}\"", E(n)))
        .unwrap_or_default();
    format!(
        "<form class=\"api {}\" data-api=\"{}\" data-method=\"{}\"{next}>",
        E(class),
        E(api),
        E(method)
    )
}

/// The place a form's error goes (announced to screen readers).
pub(crate) const FORM_STATUS: &str =
    "<p class=\"status\" role=\"status\" aria-live=\"polite\"></p>";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            E("<script>alert('x')</script> & \"q\"").to_string(),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"
        );
        assert_eq!(E("a\u{0}b\u{1b}[31m").to_string(), "a\u{fffd}b\u{fffd}[31m");
    }

    #[test]
    fn path_segments_are_encoded() {
        assert_eq!(seg("web-1.example"), "web-1.example");
        assert_eq!(seg("a/../b c"), "a%2F..%2Fb%20c");
        assert_eq!(seg("\"><x"), "%22%3E%3Cx");
    }

    #[test]
    fn durations_read_well() {
        assert_eq!(duration(35), "35 s");
        assert_eq!(duration(-600), "10 min");
        assert_eq!(duration(2 * 3600 + 300), "2 h 5 min");
        assert_eq!(duration(3 * 86_400 + 4 * 3600), "3 d 4 h");
    }
}
