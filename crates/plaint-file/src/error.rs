//! What opening and writing a `FileStore` can fail with.

use std::path::PathBuf;

/// A [`crate::FileStore`] error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FileError {
    /// Another `FileStore` (in this or another process) holds the directory.
    #[error("{dir} is in use by another FileStore")]
    Locked {
        /// The store's directory.
        dir: PathBuf,
    },
    /// A file is damaged where damage cannot come from an interrupted write: the store will
    /// not open until someone looks (restore it from a backup, or cut it by hand).
    #[error("{file} is corrupt at byte {offset}: {why}")]
    Corrupt {
        /// The damaged file.
        file: PathBuf,
        /// Where the damage starts.
        offset: u64,
        /// What is wrong there.
        why: String,
    },
    /// The directory holds a file of a newer format than this version reads.
    #[error("{file} has format version {found}; this plaint-file reads version {supported}")]
    UnsupportedFormat {
        /// The file.
        file: PathBuf,
        /// Its format version.
        found: u32,
        /// The version this build reads and writes.
        supported: u32,
    },
    /// A write or sync failed earlier; the handle refuses writes until the store is reopened
    /// (after a failed sync the kernel may have dropped the data, so only a reopen, which
    /// reads what is really on disk, can tell what is durable).
    #[error("the store refuses writes after an earlier failure ({0}); reopen it")]
    Poisoned(String),
    /// Nothing could be sealed, so nothing was written: the operating system's random
    /// generator failed (no key or nonce can be made), or the key table has no key numbers
    /// left.
    #[error("sealing failed: {0}")]
    Sealing(String),
    /// An operation on the directory or a file failed.
    #[error("{op} {path}: {source}")]
    Io {
        /// What was being done.
        op: &'static str,
        /// On which path.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

impl FileError {
    pub(crate) fn io(
        op: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| Self::Io { op, path, source }
    }

    pub(crate) fn corrupt(file: impl Into<PathBuf>, offset: u64, why: impl Into<String>) -> Self {
        Self::Corrupt {
            file: file.into(),
            offset,
            why: why.into(),
        }
    }
}

impl From<FileError> for plaint_core::StoreError {
    fn from(e: FileError) -> Self {
        use plaint_core::store::StoreFailure;
        let kind = match &e {
            FileError::Locked { .. } => StoreFailure::Locked,
            FileError::Corrupt { .. } => StoreFailure::Corrupt,
            FileError::UnsupportedFormat { .. } => StoreFailure::UnsupportedFormat,
            FileError::Poisoned(_) => StoreFailure::Poisoned,
            FileError::Io { .. } | FileError::Sealing(_) => StoreFailure::Unavailable,
        };
        plaint_core::StoreError::backend(kind, e)
    }
}
