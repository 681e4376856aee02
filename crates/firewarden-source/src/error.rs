use std::io;
use std::path::PathBuf;

/// Why the source could not give what was asked for.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SourceError {
    /// The path does not exist in the source.
    #[error("{path}: not found")]
    NotFound {
        /// Path inside the source.
        path: PathBuf,
    },
    /// Symlinks loop or chain too deep to resolve.
    #[error("{path}: too many levels of symbolic links")]
    SymlinkLoop {
        /// Path inside the source.
        path: PathBuf,
    },
    /// The path is not what the call needs (e.g. a directory where a file was expected).
    #[error("{path}: {what}")]
    WrongKind {
        /// Path inside the source.
        path: PathBuf,
        /// What is wrong.
        what: &'static str,
    },
    /// Any other I/O error, with the path it happened on.
    #[error("{path}: {source}")]
    Io {
        /// Path inside the source.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
}

impl SourceError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: io::Error) -> Self {
        let path = path.into();
        if source.kind() == io::ErrorKind::NotFound {
            SourceError::NotFound { path }
        } else {
            SourceError::Io { path, source }
        }
    }

    /// True when the path simply does not exist (the common, quiet case for optional artifacts).
    pub fn is_not_found(&self) -> bool {
        matches!(self, SourceError::NotFound { .. })
    }
}
