//! Where the web server serves files from, and where it logs requests: read from nginx, Apache
//! and Tomcat configuration in the source (never by asking the running server).

use firewarden_source::{FileKind, Source, read_capped};
use std::path::{Path, PathBuf};

/// Web roots and access logs found in a source.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct WebLayout {
    /// Directories served to the web, outermost only (a root inside another is dropped).
    pub roots: Vec<PathBuf>,
    /// Access logs named by the configuration, plus the usual places.
    pub access_logs: Vec<PathBuf>,
    /// Configuration files read.
    pub configs: Vec<PathBuf>,
}

/// Usual web roots, scanned even without configuration (an attacker may have deleted it).
pub const DEFAULT_ROOTS: &[&str] = &[
    "/var/www",
    "/srv/www",
    "/srv/http",
    "/usr/share/nginx/html",
    "/home/wwwroot",
    "/www/wwwroot",
    "/var/lib/tomcat8/webapps",
    "/var/lib/tomcat9/webapps",
    "/var/lib/tomcat10/webapps",
    "/opt/tomcat/webapps",
    "/usr/local/tomcat/webapps",
    "/usr/local/nginx/html",
    "/usr/local/apache2/htdocs",
    "/var/www/html",
];

/// Usual access-log directories.
pub const DEFAULT_LOG_DIRS: &[&str] = &[
    "/var/log/nginx",
    "/var/log/apache2",
    "/var/log/httpd",
    "/usr/local/nginx/logs",
    "/usr/local/apache2/logs",
    "/www/wwwlogs",
    "/var/log/tomcat9",
    "/var/log/tomcat10",
    "/opt/tomcat/logs",
];

const CONFIG_DIRS: &[&str] = &[
    "/etc/nginx",
    "/etc/nginx/sites-enabled",
    "/etc/nginx/conf.d",
    "/usr/local/nginx/conf",
    "/usr/local/nginx/conf/vhost",
    "/www/server/panel/vhost/nginx",
    "/etc/apache2",
    "/etc/apache2/sites-enabled",
    "/etc/apache2/conf-enabled",
    "/etc/httpd/conf",
    "/etc/httpd/conf.d",
    "/usr/local/apache2/conf",
    "/usr/local/apache2/conf/extra",
    "/www/server/panel/vhost/apache",
];

const TOMCAT_BASES: &[&str] = &[
    "/var/lib/tomcat8",
    "/var/lib/tomcat9",
    "/var/lib/tomcat10",
    "/opt/tomcat",
    "/usr/local/tomcat",
    "/usr/share/tomcat",
];

/// Reads the configuration in `src` and returns web roots and access logs. Roots named by the
/// configuration come with the defaults; only directories that exist are kept.
pub fn discover(src: &dyn Source) -> WebLayout {
    let mut layout = WebLayout::default();
    let mut roots: Vec<PathBuf> = DEFAULT_ROOTS.iter().map(PathBuf::from).collect();
    let mut logs: Vec<PathBuf> = Vec::new();
    for dir in CONFIG_DIRS {
        let Ok(entries) = src.read_dir(Path::new(dir)) else {
            continue;
        };
        for e in entries {
            let path = Path::new(dir).join(&e.name);
            let name = e.name.to_string_lossy();
            let is_conf = name.ends_with(".conf")
                || name == "default"
                || !name.contains('.') && dir.contains("sites-enabled");
            if !is_conf
                || src
                    .metadata(&path)
                    .map(|m| m.kind != FileKind::File)
                    .unwrap_or(true)
            {
                continue;
            }
            let Ok((bytes, _)) = read_capped(src, &path, 1 << 20) else {
                continue;
            };
            let text = String::from_utf8_lossy(&bytes);
            parse_server_config(&text, &mut roots, &mut logs);
            layout.configs.push(path);
        }
    }
    for base in TOMCAT_BASES {
        let server = Path::new(base).join("conf/server.xml");
        if let Ok((bytes, _)) = read_capped(src, &server, 1 << 20) {
            let text = String::from_utf8_lossy(&bytes);
            for (attr, _) in [("appBase", ()), ("docBase", ())] {
                for v in attribute_values(&text, attr) {
                    let p = if v.starts_with('/') {
                        PathBuf::from(v)
                    } else {
                        Path::new(base).join(v)
                    };
                    roots.push(p);
                }
            }
            layout.configs.push(server);
        }
    }
    roots.retain(|r| src.metadata(r).is_ok_and(|m| m.kind == FileKind::Dir));
    roots.sort();
    roots.dedup();
    let all = roots.clone();
    roots.retain(|r| !all.iter().any(|o| o != r && r.starts_with(o)));
    layout.roots = roots;

    for dir in DEFAULT_LOG_DIRS {
        if let Ok(entries) = src.read_dir(Path::new(dir)) {
            for e in entries {
                let n = e.name.to_string_lossy();
                if n.contains("access")
                    || n.contains("_log") && !n.contains("error")
                    || n.ends_with(".log") && !n.contains("error") && !n.contains("catalina")
                {
                    logs.push(Path::new(dir).join(&e.name));
                }
            }
        }
    }
    // Rotated copies of configured logs: access.log.1, access.log.2.gz …
    let configured: Vec<PathBuf> = logs.clone();
    for log in configured {
        if let (Some(parent), Some(name)) = (log.parent(), log.file_name()) {
            let prefix = format!("{}.", name.to_string_lossy());
            if let Ok(entries) = src.read_dir(parent) {
                for e in entries {
                    if e.name.to_string_lossy().starts_with(&prefix) {
                        logs.push(parent.join(&e.name));
                    }
                }
            }
        }
    }
    logs.retain(|l| src.metadata(l).is_ok_and(|m| m.kind == FileKind::File));
    logs.sort();
    logs.dedup();
    layout.access_logs = logs;
    layout
}

/// `root`/`alias`/`access_log` (nginx) and `DocumentRoot`/`Alias`/`CustomLog`/`TransferLog`
/// (Apache) from one configuration file.
pub fn parse_server_config(text: &str, roots: &mut Vec<PathBuf>, logs: &mut Vec<PathBuf>) {
    for line in text.lines() {
        let t = line.trim();
        if t.starts_with('#') {
            continue;
        }
        let mut words = t.split_whitespace();
        let key = words.next().unwrap_or("").to_ascii_lowercase();
        let args: Vec<&str> = words
            .map(|w| w.trim_end_matches(';').trim_matches('"').trim_matches('\''))
            .collect();
        let usable =
            |v: &&&str| v.starts_with('/') && v.len() > 1 && !v.contains('$') && !v.contains('*');
        match key.as_str() {
            "root" | "documentroot" => roots.extend(args.first().filter(usable).map(PathBuf::from)),
            // nginx: alias PATH; Apache: Alias URL PATH
            "alias" => roots.extend(args.last().filter(usable).map(PathBuf::from)),
            "access_log" | "customlog" | "transferlog" => {
                logs.extend(args.first().filter(usable).map(PathBuf::from))
            }
            _ => {}
        }
    }
}

fn attribute_values<'a>(text: &'a str, attr: &str) -> Vec<&'a str> {
    let pat = format!("{attr}=\"");
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(p) = text[from..].find(&pat) {
        let start = from + p + pat.len();
        let Some(end) = text[start..].find('"') else {
            break;
        };
        let v = &text[start..start + end];
        if !v.is_empty() && !v.contains("${") {
            out.push(v);
        }
        from = start + end;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use firewarden_source::FsSource;

    #[test]
    fn roots_and_logs_come_from_nginx_apache_and_tomcat() {
        let dir = tempfile::tempdir().unwrap();
        let r = dir.path();
        for d in [
            "etc/nginx/sites-enabled",
            "etc/apache2/sites-enabled",
            "srv/shop/public",
            "srv/blog",
            "data/wiki",
            "var/lib/tomcat9/conf",
            "var/lib/tomcat9/webapps/ROOT",
            "var/log/nginx",
            "var/www/html/sub",
        ] {
            std::fs::create_dir_all(r.join(d)).unwrap();
        }
        std::fs::write(r.join("etc/nginx/sites-enabled/shop"), "server {\n  root /srv/shop/public;\n  access_log /var/log/nginx/shop.access.log combined;\n  # root /nowhere;\n  location /x { root $document_root; }\n}\n").unwrap();
        std::fs::write(r.join("etc/apache2/sites-enabled/blog.conf"), "<VirtualHost *:80>\nDocumentRoot \"/srv/blog\"\nAlias /wiki /data/wiki\nCustomLog ${APACHE_LOG_DIR}/access.log combined\n</VirtualHost>\n").unwrap();
        std::fs::write(
            r.join("var/lib/tomcat9/conf/server.xml"),
            "<Host name=\"localhost\" appBase=\"webapps\" unpackWARs=\"true\">",
        )
        .unwrap();
        std::fs::write(r.join("var/log/nginx/shop.access.log"), "").unwrap();
        std::fs::write(r.join("var/log/nginx/shop.access.log.1"), "").unwrap();
        std::fs::write(r.join("var/log/nginx/error.log"), "").unwrap();
        let src = FsSource::root(r).unwrap();
        let l = discover(&src);
        let roots: Vec<String> = l.roots.iter().map(|p| p.display().to_string()).collect();
        assert_eq!(
            roots,
            [
                "/data/wiki",
                "/srv/blog",
                "/srv/shop/public",
                "/var/lib/tomcat9/webapps",
                "/var/www"
            ]
        );
        let logs: Vec<String> = l
            .access_logs
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        assert_eq!(
            logs,
            [
                "/var/log/nginx/shop.access.log",
                "/var/log/nginx/shop.access.log.1"
            ]
        );
    }
}
