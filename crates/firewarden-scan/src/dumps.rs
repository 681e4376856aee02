//! Database dumps and archives left where they can be downloaded ("dragging"): what a file is,
//! judged from its name and first bytes (gzip is opened to look at the dump inside).

use std::io::Read;

/// What kind of data-exfiltration artefact a file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DumpKind {
    /// `mysqldump` / `mariadb-dump` output.
    MysqlDump,
    /// `pg_dump` plain or custom format.
    PostgresDump,
    /// SQL full of INSERT statements without a dump tool's header.
    SqlData,
    /// A tar/zip/7z/rar archive.
    Archive,
}

impl DumpKind {
    /// Words for a human.
    pub fn describe(self) -> &'static str {
        match self {
            DumpKind::MysqlDump => "MySQL/MariaDB dump",
            DumpKind::PostgresDump => "PostgreSQL dump",
            DumpKind::SqlData => "SQL data export",
            DumpKind::Archive => "archive",
        }
    }
    /// True for database content (not a generic archive).
    pub fn is_database(self) -> bool {
        self != DumpKind::Archive
    }
}

const ARCHIVE_EXT: &[&str] = &[
    ".zip", ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".7z", ".rar",
];

/// Classifies a file from its name and its first bytes (`head`, up to 64 KiB is enough).
pub fn classify(name: &str, head: &[u8]) -> Option<DumpKind> {
    let lower = name.to_ascii_lowercase();
    let text_head: Vec<u8>;
    let head = if head.starts_with(&[0x1f, 0x8b]) {
        // gzip: look at what is inside (a .sql.gz dump is the common case).
        let mut out = Vec::new();
        let _ = flate2::read::GzDecoder::new(head)
            .take(64 << 10)
            .read_to_end(&mut out);
        text_head = out;
        if text_head.is_empty() {
            return ARCHIVE_EXT
                .iter()
                .any(|e| lower.ends_with(e))
                .then_some(DumpKind::Archive);
        }
        &text_head[..]
    } else {
        head
    };
    let start = &head[..head.len().min(4096)];
    let find = |n: &[u8]| memchr::memmem::find(start, n).is_some();
    if find(b"-- MySQL dump")
        || find(b"-- MariaDB dump")
        || find(b"mysqldump") && find(b"-- Server version")
    {
        return Some(DumpKind::MysqlDump);
    }
    if head.starts_with(b"PGDMP") || find(b"-- PostgreSQL database dump") {
        return Some(DumpKind::PostgresDump);
    }
    if lower.ends_with(".sql")
        || lower.ends_with(".sql.gz")
        || lower.ends_with(".sql.zip")
        || lower.ends_with(".dump")
    {
        let inserts = memchr::memmem::find_iter(head, b"INSERT INTO").count()
            + memchr::memmem::find_iter(head, b"insert into").count();
        let copies = memchr::memmem::find_iter(head, b"\nCOPY ").count();
        // Install schemas ship with applications; data exports are full of rows.
        if inserts >= 50 || copies >= 3 || inserts >= 5 && head.len() >= 60_000 {
            return Some(DumpKind::SqlData);
        }
    }
    if head.starts_with(b"PK\x03\x04")
        || head.starts_with(b"7z\xbc\xaf\x27\x1c")
        || head.starts_with(b"Rar!")
        || head.get(257..262) == Some(b"ustar")
    {
        return ARCHIVE_EXT
            .iter()
            .any(|e| lower.ends_with(e))
            .then_some(DumpKind::Archive);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn dumps_are_recognised_by_content() {
        assert_eq!(
            classify("/var/www/x.txt", b"-- MySQL dump 10.13  Distrib 8.0\n"),
            Some(DumpKind::MysqlDump)
        );
        assert_eq!(
            classify("/tmp/db", b"PGDMP\x01\x0e"),
            Some(DumpKind::PostgresDump)
        );
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(b"-- MariaDB dump 10.19\n").unwrap();
        assert_eq!(
            classify("/var/www/a.sql.gz", &gz.finish().unwrap()),
            Some(DumpKind::MysqlDump)
        );
        let rows = "INSERT INTO users VALUES (1,'a');\n".repeat(60);
        assert_eq!(
            classify("/var/www/u.sql", rows.as_bytes()),
            Some(DumpKind::SqlData)
        );
        let mut zip = b"PK\x03\x04".to_vec();
        zip.extend([0u8; 40]);
        assert_eq!(classify("/var/www/www.zip", &zip), Some(DumpKind::Archive));
    }

    #[test]
    fn schemas_and_lookalikes_are_not_dumps() {
        assert_eq!(
            classify(
                "/usr/share/app/sql/create_tables.sql",
                b"CREATE TABLE a (id int);\nINSERT INTO a VALUES (1);\n"
            ),
            None
        );
        assert_eq!(
            classify("/var/www/readme.txt", b"how to use mysqldump"),
            None
        );
        assert_eq!(classify("/var/www/x.docx", b"PK\x03\x04"), None);
    }

    proptest::proptest! {
        #[test]
        fn never_panics(data in proptest::collection::vec(proptest::num::u8::ANY, 0..600), gz in proptest::bool::ANY) {
            let mut d = data.clone();
            if gz { d.splice(0..0, [0x1f, 0x8b]); }
            let _ = classify("/x.sql.gz", &d);
        }
    }
}
