//! Page tampering without a baseline: injected scripts and iframes, SEO spam and cloaking, and
//! PHP/Apache settings that run a file before every page.

use crate::Hit;
use firewarden_model::Severity;

const SPAM_WORDS: &[&str] = &[
    "casino",
    "viagra",
    "cialis",
    "porn",
    "payday loan",
    "replica watches",
    "betting",
    "博彩",
    "赌博",
    "六合彩",
    "娱乐城",
    "棋牌",
    "彩票",
    "澳门",
    "时时彩",
    "百家乐",
    "av女优",
];
const SEARCH_BOTS: &[&str] = &[
    "googlebot",
    "baiduspider",
    "bingbot",
    "sogou",
    "360spider",
    "yisouspider",
];

fn hit(
    check: &'static str,
    severity: Severity,
    title: &str,
    why: String,
    offset: Option<usize>,
    attack: &[&str],
) -> Hit {
    Hit {
        check,
        severity,
        title: title.to_string(),
        why,
        attack: attack.iter().map(|s| s.to_string()).collect(),
        offset,
        rule: None,
    }
}

/// Whether a file name is one this module reads.
pub fn applies(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    let base = lower.rsplit('/').next().unwrap_or(&lower);
    matches!(base, ".htaccess" | ".user.ini" | "php.ini" | "web.config")
        || [
            ".html", ".htm", ".shtml", ".php", ".js", ".tpl", ".twig", ".asp", ".aspx", ".jsp",
        ]
        .iter()
        .any(|e| base.ends_with(e))
}

/// Tampering signs in one file.
pub fn scan(name: &str, data: &[u8]) -> Vec<Hit> {
    let lower_name = name.to_ascii_lowercase();
    let base = lower_name.rsplit('/').next().unwrap_or(&lower_name);
    // ASCII lowering keeps byte offsets equal to the file's; the CJK spam words have no case.
    let text = String::from_utf8_lossy(&data.to_ascii_lowercase()).into_owned();
    let mut hits = Vec::new();
    match base {
        ".htaccess" => htaccess(&text, &mut hits),
        ".user.ini" | "php.ini" => ini(&text, &mut hits),
        _ => {
            page(&text, base.ends_with(".js"), &mut hits);
            if base.ends_with(".php")
                || base.ends_with(".asp")
                || base.ends_with(".aspx")
                || base.ends_with(".jsp")
            {
                cloaking(&text, &mut hits);
            }
        }
    }
    hits
}

fn ini(t: &str, hits: &mut Vec<Hit>) {
    for (n, line) in t.lines().enumerate() {
        let l = line.trim();
        if l.starts_with(';') || l.starts_with('#') {
            continue;
        }
        if let Some(rest) = l
            .strip_prefix("auto_prepend_file")
            .or_else(|| l.strip_prefix("auto_append_file"))
        {
            let value = rest
                .trim_start()
                .trim_start_matches('=')
                .trim()
                .trim_matches('"');
            if value.is_empty() || value == "none" {
                continue;
            }
            let severity = if suspicious_target(value) {
                Severity::Critical
            } else {
                Severity::High
            };
            hits.push(hit(
                "scan.tamper.auto_prepend",
                severity,
                "PHP auto_prepend/auto_append file set",
                format!("line {}: PHP runs `{value}` before or after every script in this directory tree; attackers use it to load a backdoor into every page", n + 1),
                Some(offset_of_line(t, n)),
                &["T1505.003", "T1546"],
            ));
        }
    }
}

fn suspicious_target(v: &str) -> bool {
    v.starts_with("/tmp")
        || v.starts_with("/dev/shm")
        || v.starts_with("/var/tmp")
        || v.contains("/.")
        || [".jpg", ".png", ".gif", ".ico", ".txt", ".log"]
            .iter()
            .any(|e| v.ends_with(e))
        || v.starts_with("http")
        || v.starts_with("data:")
        || v.starts_with("php://")
}

fn htaccess(t: &str, hits: &mut Vec<Hit>) {
    for (n, line) in t.lines().enumerate() {
        let l = line.trim();
        if l.starts_with('#') {
            continue;
        }
        let off = Some(offset_of_line(t, n));
        if (l.starts_with("php_value") || l.starts_with("php_admin_value"))
            && (l.contains("auto_prepend_file") || l.contains("auto_append_file"))
        {
            let value = l.split_whitespace().nth(2).unwrap_or("").trim_matches('"');
            if value != "none" {
                hits.push(hit(
                    "scan.tamper.auto_prepend",
                    if suspicious_target(value) {
                        Severity::Critical
                    } else {
                        Severity::High
                    },
                    ".htaccess sets auto_prepend/auto_append",
                    format!(
                        "line {}: every PHP page under this directory first runs `{value}`",
                        n + 1
                    ),
                    off,
                    &["T1505.003", "T1546"],
                ));
            }
        }
        let maps_php = (l.starts_with("addtype") || l.starts_with("addhandler"))
            && (l.contains("php") || l.contains("x-httpd"))
            && [
                ".jpg", ".jpeg", ".png", ".gif", ".txt", ".ico", ".css", " jpg", " png", " gif",
                " txt",
            ]
            .iter()
            .any(|e| l.contains(e));
        let sethandler = l.starts_with("sethandler") && l.contains("php");
        if maps_php || sethandler {
            hits.push(hit(
                "scan.tamper.handler",
                Severity::High,
                ".htaccess makes non-PHP files run as PHP",
                format!(
                    "line {}: `{}` lets an uploaded picture or text file run as code",
                    n + 1,
                    line.trim()
                ),
                off,
                &["T1505.003"],
            ));
        }
        if l.starts_with("rewritecond")
            && l.contains("http_referer")
            && SEARCH_BOTS
                .iter()
                .chain(&["google", "baidu", "bing", "yahoo", "sogou"])
                .any(|b| l.contains(b))
        {
            hits.push(hit(
                "scan.tamper.referer_redirect",
                Severity::High,
                ".htaccess redirects visitors from search engines",
                format!("line {}: visitors arriving from a search engine are sent elsewhere; owners see a normal site, searchers see spam", n + 1),
                off,
                &["T1491.002"],
            ));
        }
    }
}

fn page(t: &str, library: bool, hits: &mut Vec<Hit>) {
    // Scripts loaded from a bare IP address, or written after the document ended.
    let mut from = 0;
    while let Some(p) = t[from..].find("<script") {
        let at = from + p;
        let tag_end = t[at..].find('>').map(|e| at + e).unwrap_or(t.len());
        let tag = &t[at..tag_end];
        if let Some(host) = src_host(tag) {
            let ip = host
                .split(':')
                .next()
                .unwrap_or("")
                .parse::<std::net::Ipv4Addr>()
                .is_ok();
            let after_html = t[..at].contains("</html>");
            if ip || after_html {
                hits.push(hit(
                    "scan.tamper.injected_script",
                    Severity::High,
                    "Injected external script",
                    format!(
                        "a <script src> loads code from `{host}`{}; every visitor's browser runs it",
                        if ip { ", a bare IP address" } else { " after the end of the page (</html>), where injectors append" }
                    ),
                    Some(at),
                    &["T1491.002", "T1189"],
                ));
            }
        }
        from = tag_end.max(at + 7);
    }
    // document.write of a script/iframe built from escaped characters; libraries use
    // fromCharCode for small things, loaders for a long run of codes.
    let loader = t
        .match_indices("document.write(unescape(")
        .map(|(p, _)| p)
        // The escaped payload itself must be there (not a template filled at run time).
        .find(|&p| t.get(p..p + 400).unwrap_or(&t[p..]).matches('%').count() >= 20)
        .or_else(|| {
            let mut from = 0;
            while let Some(p) = t[from..].find("string.fromcharcode(") {
                let at = from + p + "string.fromcharcode(".len();
                let args = &t[at..];
                let codes = args
                    .split(',')
                    .take_while(|a| a.trim().trim_end_matches(')').parse::<u32>().is_ok())
                    .count();
                if codes >= 30 {
                    return Some(from + p);
                }
                from = at;
            }
            None
        });
    if let Some(p) = loader {
        let window = t.get(p.saturating_sub(300)..p + 3000).unwrap_or(&t[p..]);
        if window.contains("script") || window.contains("iframe") || window.contains("eval(") {
            hits.push(hit(
                "scan.tamper.obfuscated_loader",
                Severity::High,
                "Obfuscated script or iframe loader",
                "a script or iframe is written from escaped text or a long run of character codes, the usual shape of injected page malware".into(),
                Some(p),
                &["T1491.002", "T1027"],
            ));
        }
    }
    // Hidden iframes to another site.
    let mut from = 0;
    while let Some(p) = t[from..].find("<iframe") {
        let at = from + p;
        let end = t[at..].find('>').map(|e| at + e).unwrap_or(t.len());
        let tag = &t[at..end];
        let attr = |name: &str| attribute(tag, name);
        let tiny =
            |v: Option<String>| v.is_some_and(|v| matches!(v.trim_end_matches("px"), "0" | "1"));
        let style = attr("style").unwrap_or_default().replace(' ', "");
        let hidden = tiny(attr("width")) && tiny(attr("height"))
            || style.contains("display:none")
            || style.contains("visibility:hidden");
        let external = attr("src").is_some_and(|s| {
            s.starts_with("http://") || s.starts_with("https://") || s.starts_with("//")
        });
        if hidden && external {
            hits.push(hit(
                "scan.tamper.hidden_iframe",
                Severity::High,
                "Hidden iframe",
                "an invisible iframe loads another site in every visitor's browser (drive-by download or traffic theft)".into(),
                Some(at),
                &["T1189", "T1491.002"],
            ));
            break;
        }
        from = end.max(at + 7);
    }
    // SEO spam: links with spam words inside a hidden block (in pages, not script libraries).
    if library || !t.contains("<a ") {
        return;
    }
    for marker in [
        "display:none",
        "display: none",
        "left:-9999px",
        "left: -9999px",
        "visibility:hidden",
        "font-size:0",
    ] {
        let mut from = 0;
        while let Some(p) = t[from..].find(marker) {
            let at = from + p;
            let block = t[at..].get(..4000).unwrap_or(&t[at..]);
            let block = block.split("</div>").next().unwrap_or(block);
            let links = block.matches("<a ").count();
            let spam = SPAM_WORDS.iter().filter(|w| block.contains(*w)).count();
            if links >= 3 && spam >= 1 || links >= 10 {
                hits.push(hit(
                    "scan.tamper.seo_spam",
                    Severity::High,
                    "Hidden SEO spam links",
                    format!("a hidden block ({marker}) holds {links} links{}: search engines see them, visitors do not", if spam > 0 { " with gambling/pharma/adult words" } else { "" }),
                    Some(at),
                    &["T1491.002"],
                ));
                return;
            }
            from = at + marker.len();
        }
    }
}

/// The value of attribute `name` in a tag (`name=value`, quoted or not), as a whole word.
fn attribute(tag: &str, name: &str) -> Option<String> {
    let mut from = 0;
    while let Some(p) = tag[from..].find(name) {
        let at = from + p;
        from = at + name.len();
        let before_ok = tag[..at].ends_with([' ', '\t', '\n', '"', '\'']);
        let rest = tag[from..].trim_start();
        if !before_ok || !rest.starts_with('=') {
            continue;
        }
        let v = rest[1..].trim_start();
        let v = if let Some(q) = v.strip_prefix(['"', '\'']) {
            q.split(['"', '\'']).next().unwrap_or("")
        } else {
            v.split([' ', '>']).next().unwrap_or("")
        };
        return Some(v.to_string());
    }
    None
}

fn src_host(tag: &str) -> Option<&str> {
    let p = tag.find("src=")?;
    let v = tag[p + 4..].trim_start_matches(['"', '\'']);
    let v = v
        .strip_prefix("http://")
        .or_else(|| v.strip_prefix("https://"))
        .or_else(|| v.strip_prefix("//"))?;
    let end = v.find(['/', '"', '\'', ' ', '?']).unwrap_or(v.len());
    Some(&v[..end])
}

/// Pages that serve different content to search-engine crawlers (black-hat SEO).
fn cloaking(t: &str, hits: &mut Vec<Hit>) {
    let ua = t.contains("http_user_agent") || t.contains("user-agent") || t.contains("useragent");
    if !ua {
        return;
    }
    let bots = SEARCH_BOTS.iter().filter(|b| t.contains(*b)).count();
    let fetch = [
        "file_get_contents(\"http",
        "file_get_contents('http",
        "curl_exec(",
        "fsockopen(",
    ]
    .iter()
    .any(|f| t.contains(f));
    let referer = t.contains("http_referer");
    if ua && bots >= 2 && (fetch || referer) {
        let at = SEARCH_BOTS.iter().filter_map(|b| t.find(b)).min();
        hits.push(hit(
            "scan.tamper.cloaking",
            Severity::High,
            "Search-engine cloaking",
            format!("the page checks the user agent for {bots} search-engine crawlers and fetches or redirects content: crawlers get spam, the owner sees a normal site"),
            at,
            &["T1491.002"],
        ));
    }
}

fn offset_of_line(t: &str, n: usize) -> usize {
    t.split_inclusive('\n').take(n).map(str::len).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(name: &str, s: &str) -> Vec<&'static str> {
        scan(name, s.as_bytes()).iter().map(|h| h.check).collect()
    }

    #[test]
    fn tampering_is_recognised() {
        assert_eq!(
            ids("/var/www/.user.ini", "auto_prepend_file=/tmp/.x.jpg\n"),
            ["scan.tamper.auto_prepend"]
        );
        assert_eq!(
            scan("/var/www/.user.ini", b"auto_prepend_file=/tmp/.x.jpg\n")[0].severity,
            Severity::Critical
        );
        assert_eq!(
            ids(
                "/var/www/.htaccess",
                "php_value auto_prepend_file \"/var/www/up/a.png\"\n"
            ),
            ["scan.tamper.auto_prepend"]
        );
        assert_eq!(
            ids(
                "/var/www/up/.htaccess",
                "AddType application/x-httpd-php .jpg\n"
            ),
            ["scan.tamper.handler"]
        );
        assert_eq!(
            ids(
                "/var/www/index.html",
                "<html><body>hi</body></html>\n<script src=\"http://203.0.113.9/x.js\"></script>"
            ),
            ["scan.tamper.injected_script"]
        );
        assert_eq!(
            ids(
                "/var/www/index.html",
                "<html><body><iframe src=\"http://evil.example/\" width=\"0\" height=\"0\"></iframe></body></html>"
            ),
            ["scan.tamper.hidden_iframe"]
        );
        let spam = format!(
            "<div style=\"display:none\">{}</div>",
            "<a href=\"http://x.example/\">online casino</a>".repeat(4)
        );
        assert_eq!(ids("/var/www/index.php", &spam), ["scan.tamper.seo_spam"]);
        assert_eq!(
            ids(
                "/var/www/index.php",
                "<?php $ua=$_SERVER['HTTP_USER_AGENT']; if (stristr($ua,'Baiduspider')||stristr($ua,'Googlebot')) { echo file_get_contents('http://spam.example/'); }"
            ),
            ["scan.tamper.cloaking"]
        );
    }

    #[test]
    fn ordinary_pages_and_settings_are_quiet() {
        assert!(
            ids(
                "/var/www/.user.ini",
                "; auto_prepend_file=/tmp/x\nauto_prepend_file = none\nupload_max_filesize=8M\n"
            )
            .is_empty()
        );
        assert!(ids("/var/www/.htaccess", "RewriteEngine On\nRewriteRule ^index\\.php$ - [L]\nAddType application/x-httpd-php .php\n").is_empty());
        assert!(ids("/var/www/index.html", "<html><head><script src=\"https://cdn.example.com/jquery.js\"></script></head><body><div style=\"display:none\"><a href=\"/a\">a</a></div></body></html>").is_empty());
        // WordPress embeds: margins of 0 are not a hidden frame, and the src is a template.
        assert!(ids("/var/www/embed.php", "<iframe src=\"%1$s\" width=\"%2$d\" height=\"%3$d\" frameborder=\"0\" marginwidth=\"0\" marginheight=\"0\">").is_empty());
        assert!(
            ids(
                "/var/www/js/lib.js",
                "var s = String.fromCharCode(0xD800); document.createElement('script');"
            )
            .is_empty()
        );
    }

    proptest::proptest! {
        #[test]
        fn never_panics(s in "(<script src=\"http://|<iframe|display:none|<a |</html>|casino|auto_prepend_file|=|\"|'|/|\n|[a-z0-9 .:]){0,60}") {
            for n in ["a.html", ".htaccess", ".user.ini", "a.php"] {
                let _ = scan(n, s.as_bytes());
            }
        }
    }
}
