//! The file layer under the store: the few operations it needs ([`Fs`]), the real one
//! ([`OsFs`]), and `Dir`, the only way the store changes its directory, which syncs the
//! directory after every create, rename and removal so that no call site can forget to.

use crate::error::FileError;
use std::fmt;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A file open for appending.
pub trait WriteFile: Send {
    /// Writes all of `buf` at the end of the file.
    ///
    /// # Errors
    /// The operating system's.
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()>;
    /// Makes what was written durable (`fdatasync`).
    ///
    /// # Errors
    /// The operating system's. After a failed sync the written bytes may be lost.
    fn sync_data(&mut self) -> io::Result<()>;
}

/// A file open for reading at any offset (shared by readers on several threads).
pub trait ReadFile: Send + Sync {
    /// Fills `buf` with the bytes at `offset`.
    ///
    /// # Errors
    /// The operating system's; [`io::ErrorKind::UnexpectedEof`] past the end.
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<()>;
    /// The file's length.
    ///
    /// # Errors
    /// The operating system's.
    fn size(&self) -> io::Result<u64>;
}

/// What the store asks of a file system. [`OsFs`] is the real one; the crash tests put a
/// fault-injecting one (`SimFs`, feature `testing`) in its place.
///
/// Paths are the store's directory and files directly in it. Implementations need not make
/// directory changes durable themselves: the store calls [`Fs::sync_dir`] after each.
pub trait Fs: Send + Sync + fmt::Debug {
    /// Creates the directory and its parents if missing.
    ///
    /// # Errors
    /// The operating system's.
    fn create_dir_all(&self, dir: &Path) -> io::Result<()>;
    /// Takes the directory for this handle alone, until the returned guard is dropped.
    ///
    /// # Errors
    /// [`io::ErrorKind::WouldBlock`] when someone else holds it.
    fn lock(&self, dir: &Path) -> io::Result<Box<dyn Send + Sync>>;
    /// The names of the files in the directory.
    ///
    /// # Errors
    /// The operating system's.
    fn list(&self, dir: &Path) -> io::Result<Vec<String>>;
    /// A whole file.
    ///
    /// # Errors
    /// The operating system's.
    fn read(&self, path: &Path) -> io::Result<Vec<u8>>;
    /// Opens an existing file for reading at offsets. The handle keeps reading the same file
    /// after it is renamed or removed.
    ///
    /// # Errors
    /// The operating system's.
    fn open_read(&self, path: &Path) -> io::Result<Box<dyn ReadFile>>;
    /// Creates a new empty file, failing if it exists, open for appending.
    ///
    /// # Errors
    /// The operating system's.
    fn create(&self, path: &Path) -> io::Result<Box<dyn WriteFile>>;
    /// Opens an existing file for appending.
    ///
    /// # Errors
    /// The operating system's.
    fn append(&self, path: &Path) -> io::Result<Box<dyn WriteFile>>;
    /// Cuts a file to `len` bytes and makes that durable.
    ///
    /// # Errors
    /// The operating system's.
    fn truncate(&self, path: &Path, len: u64) -> io::Result<()>;
    /// Renames a file, replacing `to` if it exists.
    ///
    /// # Errors
    /// The operating system's.
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()>;
    /// Removes a file.
    ///
    /// # Errors
    /// The operating system's.
    fn remove(&self, path: &Path) -> io::Result<()>;
    /// Makes the directory's entries (creations, renames, removals) durable.
    ///
    /// # Errors
    /// The operating system's.
    fn sync_dir(&self, dir: &Path) -> io::Result<()>;
}

/// The operating system's file system.
#[derive(Debug, Clone, Copy, Default)]
pub struct OsFs;

struct OsFile(std::fs::File);

impl WriteFile for OsFile {
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.0.write_all(buf)
    }
    fn sync_data(&mut self) -> io::Result<()> {
        self.0.sync_data()
    }
}

struct OsReadFile(std::fs::File);

impl ReadFile for OsReadFile {
    #[cfg(unix)]
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        std::os::unix::fs::FileExt::read_exact_at(&self.0, buf, offset)
    }
    #[cfg(windows)]
    fn read_at(&self, mut offset: u64, mut buf: &mut [u8]) -> io::Result<()> {
        while !buf.is_empty() {
            match std::os::windows::fs::FileExt::seek_read(&self.0, buf, offset)? {
                0 => return Err(io::ErrorKind::UnexpectedEof.into()),
                n => {
                    buf = &mut buf[n..];
                    offset += n as u64;
                }
            }
        }
        Ok(())
    }
    fn size(&self) -> io::Result<u64> {
        Ok(self.0.metadata()?.len())
    }
}

/// The held lock on a directory's `LOCK` file, released explicitly when dropped: a child
/// process forked meanwhile by another thread shares the lock until it execs, so merely
/// closing our descriptor could leave the directory locked for a moment after the store
/// closed.
struct DirLock(std::fs::File);

impl Drop for DirLock {
    fn drop(&mut self) {
        let _ = self.0.unlock();
    }
}

impl Fs for OsFs {
    fn create_dir_all(&self, dir: &Path) -> io::Result<()> {
        std::fs::create_dir_all(dir)
    }
    fn lock(&self, dir: &Path) -> io::Result<Box<dyn Send + Sync>> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(dir.join("LOCK"))?;
        match file.try_lock() {
            Ok(()) => Ok(Box::new(DirLock(file))),
            Err(std::fs::TryLockError::WouldBlock) => Err(io::ErrorKind::WouldBlock.into()),
            Err(std::fs::TryLockError::Error(e)) => Err(e),
        }
    }
    fn list(&self, dir: &Path) -> io::Result<Vec<String>> {
        std::fs::read_dir(dir)?
            .map(|e| Ok(e?.file_name().to_string_lossy().into_owned()))
            .collect()
    }
    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        std::fs::read(path)
    }
    fn open_read(&self, path: &Path) -> io::Result<Box<dyn ReadFile>> {
        Ok(Box::new(OsReadFile(std::fs::File::open(path)?)))
    }
    fn create(&self, path: &Path) -> io::Result<Box<dyn WriteFile>> {
        let f = std::fs::OpenOptions::new()
            .append(true)
            .create_new(true)
            .open(path)?;
        Ok(Box::new(OsFile(f)))
    }
    fn append(&self, path: &Path) -> io::Result<Box<dyn WriteFile>> {
        let f = std::fs::OpenOptions::new().append(true).open(path)?;
        Ok(Box::new(OsFile(f)))
    }
    fn truncate(&self, path: &Path, len: u64) -> io::Result<()> {
        let f = std::fs::OpenOptions::new().write(true).open(path)?;
        f.set_len(len)?;
        f.sync_all()
    }
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        std::fs::rename(from, to)
    }
    fn remove(&self, path: &Path) -> io::Result<()> {
        std::fs::remove_file(path)
    }
    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        std::fs::File::open(dir)?.sync_all()
    }
}

/// The store's directory: every change to its entries goes through here and is followed by
/// a sync of the directory before it returns.
#[derive(Debug, Clone)]
pub(crate) struct Dir {
    pub(crate) fs: Arc<dyn Fs>,
    pub(crate) path: PathBuf,
}

impl Dir {
    pub(crate) fn file(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    fn sync(&self) -> Result<(), FileError> {
        self.fs
            .sync_dir(&self.path)
            .map_err(FileError::io("sync directory", &self.path))
    }

    /// Creates `name` holding `contents`, durable (file and directory entry) on return.
    pub(crate) fn create(
        &self,
        name: &str,
        contents: &[u8],
    ) -> Result<Box<dyn WriteFile>, FileError> {
        let path = self.file(name);
        let mut f = self
            .fs
            .create(&path)
            .map_err(FileError::io("create", &path))?;
        f.write_all(contents)
            .map_err(FileError::io("write", &path))?;
        f.sync_data().map_err(FileError::io("sync", &path))?;
        self.sync()?;
        Ok(f)
    }

    /// Writes a whole new file `name` through `name.tmp`: `write` fills it, then it is synced
    /// and renamed into place, so a file under its final name is always complete and durable.
    /// Returns what `write` returned.
    pub(crate) fn publish<T>(
        &self,
        name: &str,
        header: &[u8],
        write: impl FnOnce(&mut dyn WriteFile) -> Result<T, FileError>,
    ) -> Result<T, FileError> {
        let tmp = format!("{name}.tmp");
        let mut file = self.create(&tmp, header)?;
        let done = write(&mut *file)?;
        let path = self.file(&tmp);
        file.sync_data().map_err(FileError::io("sync", &path))?;
        drop(file);
        self.rename(&tmp, name)?;
        Ok(done)
    }

    /// Renames `from` to `to`, durable on return.
    pub(crate) fn rename(&self, from: &str, to: &str) -> Result<(), FileError> {
        let (a, b) = (self.file(from), self.file(to));
        self.fs
            .rename(&a, &b)
            .map_err(FileError::io("rename", &a))?;
        self.sync()
    }

    /// Removes the files, durable on return.
    pub(crate) fn remove(&self, names: &[String]) -> Result<(), FileError> {
        if names.is_empty() {
            return Ok(());
        }
        for name in names {
            let path = self.file(name);
            self.fs
                .remove(&path)
                .map_err(FileError::io("remove", &path))?;
        }
        self.sync()
    }
}
