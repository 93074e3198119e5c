//! `SimFs`: an in-memory file system that knows which bytes and directory entries are
//! durable, for crash tests. It can crash at the Nth sync, fail the Nth sync, flip a bit, and
//! give the files a crash would leave behind (with the unsynced tail torn at a chosen point).

use crate::fs::{Fs, ReadFile, WriteFile};
use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

/// A fault-injecting in-memory file system (feature `testing`). Clones share the same files.
#[derive(Debug, Clone, Default)]
pub struct SimFs(Arc<Mutex<Sim>>);

#[derive(Debug, Default)]
struct Sim {
    inodes: Vec<Inode>,
    /// The directory as the running process sees it, and as a crash would leave it.
    names: BTreeMap<PathBuf, usize>,
    durable_names: BTreeMap<PathBuf, usize>,
    syncs: u64,
    crash_at: Option<u64>,
    fail_at: Option<u64>,
    crashed: bool,
    locked: BTreeSet<PathBuf>,
    /// Every file created, in order.
    created: Vec<PathBuf>,
}

#[derive(Debug, Default, Clone)]
struct Inode {
    data: Vec<u8>,
    durable: Vec<u8>,
}

/// What a crash does to the bytes written but not yet synced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tear {
    /// They are lost.
    Lose,
    /// The first `n` of them (fewer if there are fewer) reach the disk.
    Keep(usize),
    /// The file grows by `n` of them (fewer if there are fewer), but as zeros: the size was
    /// recorded, the data blocks were not.
    Zeros(usize),
}

impl Sim {
    fn crashed(&self) -> io::Result<()> {
        if self.crashed {
            return Err(io::Error::other("simulated crash: the process is gone"));
        }
        Ok(())
    }

    /// Counts a sync; whether it goes through.
    fn sync(&mut self) -> io::Result<()> {
        self.crashed()?;
        self.syncs += 1;
        if self.crash_at == Some(self.syncs) {
            self.crashed = true;
            return self.crashed();
        }
        if self.fail_at == Some(self.syncs) {
            return Err(io::Error::other("simulated sync failure"));
        }
        Ok(())
    }

    fn inode(&self, path: &Path) -> io::Result<usize> {
        self.names
            .get(path)
            .copied()
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, path.display().to_string()))
    }
}

impl SimFs {
    /// An empty file system.
    pub fn new() -> Self {
        Self::default()
    }

    fn sim(&self) -> MutexGuard<'_, Sim> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Crash at the `n`th sync (file or directory, counting from 1): it fails, nothing it
    /// would have made durable is, and every later operation fails.
    pub fn crash_at_sync(&self, n: u64) {
        self.sim().crash_at = Some(n);
    }

    /// Fail the `n`th sync with an error, and carry on.
    pub fn fail_sync(&self, n: u64) {
        self.sim().fail_at = Some(n);
    }

    /// How many syncs have been asked for so far.
    pub fn syncs(&self) -> u64 {
        self.sim().syncs
    }

    /// The files created on this file system so far (not on the one it was taken from by
    /// [`SimFs::after_crash`]), in order: to tell which files an operation wrote.
    pub fn created(&self) -> Vec<PathBuf> {
        self.sim().created.clone()
    }

    /// Whether the simulated crash has happened.
    pub fn has_crashed(&self) -> bool {
        self.sim().crashed
    }

    /// The files a crash now would leave: the durable directory entries, each file's
    /// durable bytes, plus what `tear` keeps of the unsynced ones.
    pub fn after_crash(&self, tear: Tear) -> SimFs {
        let sim = self.sim();
        let mut out = Sim::default();
        for (name, &ino) in &sim.durable_names {
            let inode = &sim.inodes[ino];
            let mut data = inode.durable.clone();
            if inode.data.starts_with(&inode.durable) {
                let pending = &inode.data[inode.durable.len()..];
                match tear {
                    Tear::Lose => {}
                    Tear::Keep(n) => data.extend_from_slice(&pending[..n.min(pending.len())]),
                    Tear::Zeros(n) => data.resize(data.len() + n.min(pending.len()), 0),
                }
            }
            out.names.insert(name.clone(), out.inodes.len());
            out.durable_names.insert(name.clone(), out.inodes.len());
            out.inodes.push(Inode {
                durable: data.clone(),
                data,
            });
        }
        SimFs(Arc::new(Mutex::new(out)))
    }

    /// A file's current length, if it exists.
    pub fn len(&self, path: &Path) -> Option<usize> {
        let sim = self.sim();
        sim.names.get(path).map(|&i| sim.inodes[i].data.len())
    }

    /// Flips one bit of a file, durably (damage on the medium): bit `bit` (0–7) of the byte at
    /// `offset`. Returns whether the file has that byte.
    pub fn flip_bit(&self, path: &Path, offset: usize, bit: u8) -> bool {
        let mut sim = self.sim();
        let Some(&i) = sim.names.get(path) else {
            return false;
        };
        let inode = &mut sim.inodes[i];
        let Some(byte) = inode.data.get_mut(offset) else {
            return false;
        };
        *byte ^= 1 << (bit % 8);
        inode.durable = inode.data.clone();
        true
    }
}

struct SimFile {
    fs: SimFs,
    inode: usize,
}

impl WriteFile for SimFile {
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        let mut sim = self.fs.sim();
        sim.crashed()?;
        sim.inodes[self.inode].data.extend_from_slice(buf);
        Ok(())
    }
    fn sync_data(&mut self) -> io::Result<()> {
        let mut sim = self.fs.sim();
        sim.sync()?;
        let inode = &mut sim.inodes[self.inode];
        inode.durable = inode.data.clone();
        Ok(())
    }
}

struct SimReader {
    fs: SimFs,
    inode: usize,
}

impl ReadFile for SimReader {
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        let sim = self.fs.sim();
        sim.crashed()?;
        let data = &sim.inodes[self.inode].data;
        let at = usize::try_from(offset).map_err(io::Error::other)?;
        let got = data
            .get(at..at + buf.len())
            .ok_or(io::ErrorKind::UnexpectedEof)?;
        buf.copy_from_slice(got);
        Ok(())
    }
    fn size(&self) -> io::Result<u64> {
        let sim = self.fs.sim();
        sim.crashed()?;
        Ok(sim.inodes[self.inode].data.len() as u64)
    }
}

struct SimLock {
    fs: SimFs,
    dir: PathBuf,
}

impl Drop for SimLock {
    fn drop(&mut self) {
        self.fs.sim().locked.remove(&self.dir);
    }
}

impl Fs for SimFs {
    fn create_dir_all(&self, _dir: &Path) -> io::Result<()> {
        self.sim().crashed()
    }
    fn lock(&self, dir: &Path) -> io::Result<Box<dyn Send + Sync>> {
        if !self.sim().locked.insert(dir.to_path_buf()) {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        Ok(Box::new(SimLock {
            fs: self.clone(),
            dir: dir.to_path_buf(),
        }))
    }
    fn list(&self, dir: &Path) -> io::Result<Vec<String>> {
        let sim = self.sim();
        sim.crashed()?;
        Ok(sim
            .names
            .keys()
            .filter(|p| p.parent() == Some(dir))
            .filter_map(|p| Some(p.file_name()?.to_string_lossy().into_owned()))
            .collect())
    }
    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        let sim = self.sim();
        sim.crashed()?;
        Ok(sim.inodes[sim.inode(path)?].data.clone())
    }
    fn open_read(&self, path: &Path) -> io::Result<Box<dyn ReadFile>> {
        let sim = self.sim();
        sim.crashed()?;
        let inode = sim.inode(path)?;
        Ok(Box::new(SimReader {
            fs: self.clone(),
            inode,
        }))
    }
    fn create(&self, path: &Path) -> io::Result<Box<dyn WriteFile>> {
        let mut sim = self.sim();
        sim.crashed()?;
        if sim.names.contains_key(path) {
            return Err(io::ErrorKind::AlreadyExists.into());
        }
        let inode = sim.inodes.len();
        sim.inodes.push(Inode::default());
        sim.names.insert(path.to_path_buf(), inode);
        sim.created.push(path.to_path_buf());
        Ok(Box::new(SimFile {
            fs: self.clone(),
            inode,
        }))
    }
    fn append(&self, path: &Path) -> io::Result<Box<dyn WriteFile>> {
        let sim = self.sim();
        sim.crashed()?;
        let inode = sim.inode(path)?;
        Ok(Box::new(SimFile {
            fs: self.clone(),
            inode,
        }))
    }
    fn truncate(&self, path: &Path, len: u64) -> io::Result<()> {
        let mut sim = self.sim();
        sim.sync()?;
        let i = sim.inode(path)?;
        let inode = &mut sim.inodes[i];
        inode.data.truncate(len as usize);
        inode.durable = inode.data.clone();
        Ok(())
    }
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        let mut sim = self.sim();
        sim.crashed()?;
        let i = sim.inode(from)?;
        sim.names.remove(from);
        sim.names.insert(to.to_path_buf(), i);
        Ok(())
    }
    fn remove(&self, path: &Path) -> io::Result<()> {
        let mut sim = self.sim();
        sim.crashed()?;
        sim.inode(path)?;
        sim.names.remove(path);
        Ok(())
    }
    fn sync_dir(&self, _dir: &Path) -> io::Result<()> {
        let mut sim = self.sim();
        sim.sync()?;
        sim.durable_names = sim.names.clone();
        Ok(())
    }
}
