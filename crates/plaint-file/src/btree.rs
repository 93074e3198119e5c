//! Static B-trees in a file: sorted keys and values packed into checksummed nodes, built once
//! bottom-up and read a node at a time, so a lookup reads a few nodes and opening reads none.
//!
//! A node is a frame whose payload is `[encoding: u8 = 2][kind: u8][count: u32 LE]` and
//! `count` entries `[key len: u16][key][value len: u16][value]` in key order. A leaf (kind 0)
//! holds the values; an inner node (kind 1) holds, per child, the child's first key and where
//! it is (`[offset: u64][length: u32]`). Nodes close after about 4 KiB of entries.

use crate::codec::{self, Take};
use crate::error::FileError;
use crate::frame::{self, Writer};
use crate::fs::ReadFile;
use std::collections::HashMap;
use std::ops::Range;
use std::path::Path;
use std::sync::{Arc, RwLock};

/// The payload encoding of nodes and footers: binary fields.
pub(crate) const ENCODING_BINARY: u8 = 2;
/// Bytes of entries after which a node is closed.
const NODE_BYTES: usize = 4096;
const LEAF: u8 = 0;
const INNER: u8 = 1;

/// Where a frame is in its file: its offset and its length, frame header included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FrameRef {
    pub(crate) offset: u64,
    pub(crate) len: u32,
}

impl FrameRef {
    pub(crate) fn put(self, out: &mut Vec<u8>) {
        codec::put_u64(out, self.offset);
        codec::put_u32(out, self.len);
    }

    pub(crate) fn take(t: &mut Take<'_>) -> Result<Self, &'static str> {
        Ok(Self {
            offset: t.u64()?,
            len: t.u32()?,
        })
    }

    /// Reads the frame and checks it; returns its payload.
    pub(crate) fn read(self, file: &dyn ReadFile, path: &Path) -> Result<Vec<u8>, FileError> {
        let mut buf = vec![0; self.len as usize];
        file.read_at(self.offset, &mut buf)
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::UnexpectedEof => {
                    FileError::corrupt(path, self.offset, "a frame runs past the end of the file")
                }
                _ => FileError::io("read", path)(e),
            })?;
        let payload =
            frame::frame_at(&buf, 0).map_err(|why| FileError::corrupt(path, self.offset, why))?;
        if payload.end != buf.len() {
            return Err(FileError::corrupt(
                path,
                self.offset,
                "a frame's length disagrees with its reference",
            ));
        }
        buf.truncate(payload.end);
        buf.drain(..payload.start);
        Ok(buf)
    }
}

/// A tree's root and how many entries it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Tree {
    pub(crate) root: FrameRef,
    pub(crate) count: u64,
}

impl Tree {
    /// Writes an optional tree's reference (a zero length for none).
    pub(crate) fn put(tree: Option<Tree>, out: &mut Vec<u8>) {
        let (root, count) = tree.map_or((FrameRef { offset: 0, len: 0 }, 0), |t| (t.root, t.count));
        root.put(out);
        codec::put_u64(out, count);
    }

    pub(crate) fn take(t: &mut Take<'_>) -> Result<Option<Tree>, &'static str> {
        let root = FrameRef::take(t)?;
        let count = t.u64()?;
        Ok((root.len != 0).then_some(Tree { root, count }))
    }
}

type Entry = (Vec<u8>, Vec<u8>);

/// Builds a tree from entries pushed in strictly increasing key order: leaves are written as
/// they fill, inner nodes at the end.
#[derive(Debug, Default)]
pub(crate) struct Builder {
    /// The first key and place of every node written on the level being filled.
    leaves: Vec<(Vec<u8>, FrameRef)>,
    node: Filling,
    count: u64,
    last: Option<Vec<u8>>,
}

#[derive(Debug, Default)]
struct Filling {
    body: Vec<u8>,
    entries: u32,
    first: Vec<u8>,
}

impl Filling {
    fn push(&mut self, key: &[u8], value: &[u8]) {
        if self.entries == 0 {
            self.first = key.to_vec();
        }
        codec::put_bytes(&mut self.body, key);
        codec::put_bytes(&mut self.body, value);
        self.entries += 1;
    }

    fn full(&self) -> bool {
        self.body.len() >= NODE_BYTES
    }

    /// Writes the node; returns its first key and place, and leaves it empty.
    fn write(&mut self, w: &mut Writer<'_>, kind: u8) -> Result<(Vec<u8>, FrameRef), FileError> {
        let mut payload = Vec::with_capacity(self.body.len() + 6);
        payload.extend([ENCODING_BINARY, kind]);
        codec::put_u32(&mut payload, self.entries);
        payload.extend_from_slice(&self.body);
        let (offset, len) = w.frame(&payload)?;
        let node = std::mem::take(self);
        Ok((node.first, FrameRef { offset, len }))
    }
}

impl Builder {
    /// Adds an entry; keys must come in strictly increasing order.
    pub(crate) fn push(
        &mut self,
        w: &mut Writer<'_>,
        key: &[u8],
        value: &[u8],
    ) -> Result<(), FileError> {
        debug_assert!(
            self.last.as_deref().is_none_or(|l| l < key),
            "keys in order"
        );
        self.node.push(key, value);
        self.count += 1;
        if cfg!(debug_assertions) {
            self.last = Some(key.to_vec());
        }
        if self.node.full() {
            let leaf = self.node.write(w, LEAF)?;
            self.leaves.push(leaf);
        }
        Ok(())
    }

    /// Writes the rest of the tree; `None` when no entry was pushed.
    pub(crate) fn finish(mut self, w: &mut Writer<'_>) -> Result<Option<Tree>, FileError> {
        if self.node.entries > 0 {
            let leaf = self.node.write(w, LEAF)?;
            self.leaves.push(leaf);
        }
        let mut level = self.leaves;
        while level.len() > 1 {
            let mut next = Vec::new();
            let mut node = Filling::default();
            for (key, at) in &level {
                let mut r = Vec::with_capacity(12);
                at.put(&mut r);
                node.push(key, &r);
                if node.full() {
                    next.push(node.write(w, INNER)?);
                }
            }
            if node.entries > 0 {
                next.push(node.write(w, INNER)?);
            }
            level = next;
        }
        Ok(level.pop().map(|(_, root)| Tree {
            root,
            count: self.count,
        }))
    }
}

/// A node as read and checked: its payload and where each entry's key and value are in it.
struct Node {
    leaf: bool,
    /// Where the node is in its file.
    offset: u64,
    payload: Arc<[u8]>,
    entries: Vec<(Range<usize>, Range<usize>)>,
}

impl Node {
    fn parse(offset: u64, payload: Arc<[u8]>) -> Result<Self, &'static str> {
        let p = &payload[..];
        if p.len() < 6 || p[0] != ENCODING_BINARY {
            return Err("bad node header");
        }
        let leaf = match p[1] {
            LEAF => true,
            INNER => false,
            _ => return Err("bad node kind"),
        };
        let count = u32::from_le_bytes(p[2..6].try_into().expect("4 bytes"));
        let mut at = 6;
        let mut field = || {
            let len = p.get(at..at + 2).ok_or(codec::SHORT)?;
            let start = at + 2;
            let end = start + u16::from_le_bytes(len.try_into().expect("2 bytes")) as usize;
            if end > p.len() {
                return Err(codec::SHORT);
            }
            at = end;
            Ok(start..end)
        };
        let mut entries: Vec<(Range<usize>, Range<usize>)> = Vec::with_capacity(count as usize);
        for _ in 0..count {
            let (key, value) = (field()?, field()?);
            if entries
                .last()
                .is_some_and(|(k, _)| p[k.clone()] >= p[key.clone()])
            {
                return Err("keys out of order");
            }
            entries.push((key, value));
        }
        if at != p.len() || entries.is_empty() {
            return Err("bytes after the entries, or no entry");
        }
        Ok(Self {
            leaf,
            offset,
            payload,
            entries,
        })
    }

    fn key(&self, i: usize) -> &[u8] {
        &self.payload[self.entries[i].0.clone()]
    }

    fn value(&self, i: usize) -> &[u8] {
        &self.payload[self.entries[i].1.clone()]
    }

    /// How many entries have keys at or before `key`.
    fn upto(&self, key: &[u8]) -> usize {
        let p = &self.payload[..];
        self.entries.partition_point(|(k, _)| &p[k.clone()] <= key)
    }
}

/// Inner nodes already read, by offset. They are few (one per ~50 nodes below) and every
/// lookup passes through them, so once read they stay.
#[derive(Default)]
pub(crate) struct InnerNodes(RwLock<HashMap<u64, Arc<Node>>>);

/// Where a tree's nodes come from: its file, and the inner nodes read so far.
#[derive(Clone, Copy)]
pub(crate) struct Nodes<'a> {
    pub(crate) file: &'a dyn ReadFile,
    pub(crate) path: &'a Path,
    pub(crate) inner: &'a InnerNodes,
}

impl Nodes<'_> {
    fn node(&self, at: FrameRef) -> Result<Arc<Node>, FileError> {
        let cached = self.inner.0.read().unwrap_or_else(|p| p.into_inner());
        if let Some(node) = cached.get(&at.offset) {
            return Ok(Arc::clone(node));
        }
        drop(cached);
        let payload = at.read(self.file, self.path)?;
        let node = Node::parse(at.offset, payload.into()).map_err(|why| {
            FileError::corrupt(self.path, at.offset, format!("B-tree node: {why}"))
        })?;
        let node = Arc::new(node);
        if !node.leaf {
            let mut cache = self.inner.0.write().unwrap_or_else(|p| p.into_inner());
            cache.insert(at.offset, Arc::clone(&node));
        }
        Ok(node)
    }

    fn child(&self, node: &Node, i: usize) -> Result<FrameRef, FileError> {
        FrameRef::take(&mut Take(node.value(i))).map_err(|why| {
            FileError::corrupt(self.path, node.offset, format!("a child reference: {why}"))
        })
    }

    /// The value stored under `key`, if any.
    pub(crate) fn get(&self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>, FileError> {
        let mut at = tree.root;
        loop {
            let node = self.node(at)?;
            let upto = node.upto(key);
            if node.leaf {
                let found = upto > 0 && node.key(upto - 1) == key;
                return Ok(found.then(|| node.value(upto - 1).to_vec()));
            }
            if upto == 0 {
                return Ok(None);
            }
            at = self.child(&node, upto - 1)?;
        }
    }
}

/// Walks a tree's entries in key order, reading a node at a time.
pub(crate) struct Iter<'a> {
    nodes: Nodes<'a>,
    /// From the root down: each node and the index of its next entry to walk.
    stack: Vec<(Arc<Node>, usize)>,
}

impl<'a> Iter<'a> {
    /// The entries whose keys come after `after` (all of them for `None`).
    pub(crate) fn after(
        nodes: Nodes<'a>,
        tree: Option<Tree>,
        after: Option<&[u8]>,
    ) -> Result<Self, FileError> {
        let mut iter = Self {
            nodes,
            stack: Vec::new(),
        };
        let Some(tree) = tree else {
            return Ok(iter);
        };
        let mut at = tree.root;
        loop {
            let node = nodes.node(at)?;
            let skip = after.map_or(0, |a| node.upto(a));
            if node.leaf {
                iter.stack.push((node, skip));
                return Ok(iter);
            }
            // Descend into the child that may hold keys just after `after`.
            let down = skip.saturating_sub(1);
            at = nodes.child(&node, down)?;
            iter.stack.push((node, down + 1));
        }
    }

    /// The next entry.
    pub(crate) fn next_entry(&mut self) -> Result<Option<Entry>, FileError> {
        loop {
            let Some((node, next)) = self.stack.last_mut() else {
                return Ok(None);
            };
            if *next >= node.entries.len() {
                self.stack.pop();
                continue;
            }
            let i = *next;
            *next += 1;
            if node.leaf {
                return Ok(Some((node.key(i).to_vec(), node.value(i).to_vec())));
            }
            let down = self.nodes.child(node, i)?;
            let child = self.nodes.node(down)?;
            self.stack.push((child, 0));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::{Fs, OsFs, WriteFile};
    use std::path::PathBuf;

    fn key(i: u32) -> Vec<u8> {
        format!("key-{i:08}").into_bytes()
    }

    /// A tree of `n` entries `key-i → i` in a fresh file.
    fn build(n: u32) -> (tempfile::TempDir, PathBuf, Option<Tree>) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tree");
        let mut file: Box<dyn WriteFile> = OsFs.create(&path).unwrap();
        let mut w = Writer::new(&mut *file, &path, 0);
        let mut b = Builder::default();
        for i in 0..n {
            b.push(&mut w, &key(i), &i.to_le_bytes()).unwrap();
        }
        let tree = b.finish(&mut w).unwrap();
        w.flush().unwrap();
        (dir, path, tree)
    }

    #[test]
    fn lookups_and_walks_agree_with_what_was_built() {
        for n in [0, 1, 2, 150, 151, 30_000] {
            let (_dir, path, tree) = build(n);
            let (file, path) = (OsFs.open_read(&path).unwrap(), path.as_path());
            let inner = InnerNodes::default();
            let nodes = Nodes {
                file: &*file,
                path,
                inner: &inner,
            };
            assert_eq!(tree.map_or(0, |t| t.count), u64::from(n));
            for i in (0..n).step_by(97).chain(n.checked_sub(1)) {
                let got = nodes.get(tree.unwrap(), &key(i)).unwrap();
                assert_eq!(got, Some(i.to_le_bytes().to_vec()), "n {n} key {i}");
            }
            if let Some(t) = tree {
                assert_eq!(nodes.get(t, b"key-").unwrap(), None);
                assert_eq!(nodes.get(t, b"key-00000000x").unwrap(), None);
                assert_eq!(nodes.get(t, b"zzz").unwrap(), None);
            }
            for after in [
                None,
                Some(0),
                Some(n / 2),
                Some(n.saturating_sub(1)),
                Some(n),
            ] {
                let a = after.map(key);
                let mut it = Iter::after(nodes, tree, a.as_deref()).unwrap();
                let mut seen = Vec::new();
                while let Some((k, _)) = it.next_entry().unwrap() {
                    seen.push(k);
                }
                let from = after.map_or(0, |a| a + 1).min(n);
                let want: Vec<Vec<u8>> = (from..n).map(key).collect();
                assert_eq!(seen, want, "n {n} after {after:?}");
            }
        }
    }

    #[test]
    fn a_damaged_node_is_reported_with_its_offset() {
        let (_dir, path, tree) = build(10);
        let root = tree.unwrap().root;
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[root.offset as usize + 20] ^= 8;
        std::fs::write(&path, bytes).unwrap();
        let file = OsFs.open_read(&path).unwrap();
        let inner = InnerNodes::default();
        let nodes = Nodes {
            file: &*file,
            path: &path,
            inner: &inner,
        };
        let err = nodes.get(tree.unwrap(), &key(3)).unwrap_err();
        assert!(
            matches!(err, FileError::Corrupt { offset, .. } if offset == root.offset),
            "{err}"
        );
    }
}
