//! What the mock's CAS holds: the short-lived Xet access tokens it handed out, the xorbs
//! uploaded (as checked, uncompressed chunks) and the files the shards rebuilt from them, by
//! sha256 (the `oid` of a commit's `lfsFile` line).
//!
//! Part of the [`World`](crate::World), so a reset forgets uploads and the request log can
//! name the account behind a Xet token under the same lock.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::Arc;

use axum::body::Bytes;
use sha2::{Digest, Sha256};

use super::format::{
    Shard, XetFormatError, XetHash, XorbChunk, chunk_hash, file_hash, parse_shard, parse_xorb,
    xorb_hash,
};
use crate::repo_type::RepoType;

/// How long a Xet access token lasts (the client asks for a new one a minute before the end:
/// `XET_CONNECTION_INFO_SAFETY_PERIOD` in huggingface_hub's `utils/_xet.py`).
pub const XET_TOKEN_LIFETIME_SECS: u64 = 3600;

/// What a Xet access token allows: reading, or also uploading, for one repository.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct XetGrant {
    /// The Hub user the token was issued to.
    pub user: String,
    /// The repository's type.
    pub repo_type: RepoType,
    /// The repository's id.
    pub repo_id: String,
    /// Whether it came from `xet-write-token` (uploads allowed).
    pub write: bool,
    /// Unix second it stops working.
    pub expires_at: u64,
}

/// A xorb the CAS accepted: its chunks, uncompressed, with their hashes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredXorb {
    chunks: Vec<Bytes>,
    hashes: Vec<XetHash>,
}

/// A file a shard described, rebuilt from its xorbs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct XetFile {
    /// The file's bytes.
    pub bytes: Bytes,
    /// Its Xet hash.
    pub xet_hash: XetHash,
}

/// Why the CAS refused an upload (each becomes a 4xx with this text).
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum CasError {
    /// The bytes are not a xorb or a shard.
    #[error("{0}")]
    Format(#[from] XetFormatError),
    /// The xorb's chunks hash to something else than the URL says.
    #[error("xorb hash mismatch: the URL names {named}, the chunks hash to {computed}")]
    XorbHashMismatch {
        /// The hash in the URL.
        named: String,
        /// The hash of the uploaded chunks.
        computed: String,
    },
    /// A shard names a xorb that was never uploaded.
    #[error("shard references xorb {0}, which was not uploaded")]
    MissingXorb(String),
    /// A shard's file does not match the xorbs it names.
    #[error("file {file}: {reason}")]
    BadFile {
        /// The file's Xet hash.
        file: String,
        /// What does not match.
        reason: String,
    },
}

/// The CAS part of the world.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct XetStore {
    grants: BTreeMap<String, Arc<XetGrant>>,
    xorbs: HashMap<XetHash, Arc<StoredXorb>>,
    files: HashMap<String, Arc<XetFile>>,
}

/// Counts only: token values are secrets and file bytes are long.
impl fmt::Debug for XetStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("XetStore")
            .field("grants", &self.grants.len())
            .field("xorbs", &self.xorbs.len())
            .field("files", &self.files.len())
            .finish()
    }
}

impl StoredXorb {
    /// Parses an uploaded xorb and checks its chunks hash to `named`, the hash in the URL.
    pub fn parse(named: XetHash, body: &[u8]) -> Result<StoredXorb, CasError> {
        let chunks: Vec<XorbChunk> = parse_xorb(body)?;
        let hashes: Vec<XetHash> = chunks.iter().map(|c| chunk_hash(&c.data)).collect();
        let sized: Vec<(XetHash, u64)> = hashes
            .iter()
            .zip(&chunks)
            .map(|(h, c)| (*h, c.data.len() as u64))
            .collect();
        let computed = xorb_hash(&sized);
        if computed != named {
            return Err(CasError::XorbHashMismatch {
                named: named.hex(),
                computed: computed.hex(),
            });
        }
        Ok(StoredXorb {
            chunks: chunks.into_iter().map(|c| Bytes::from(c.data)).collect(),
            hashes,
        })
    }
}

impl XetStore {
    /// Records a new access token for `grant`; returns its value.
    pub fn mint(&mut self, grant: XetGrant) -> String {
        let value = format!("xet_{}", crate::token_value::generate_token_value());
        self.grants.insert(value.clone(), Arc::new(grant));
        value
    }

    /// The grant of an access token still valid at `now`.
    pub fn grant(&self, token: &str, now: u64) -> Option<&Arc<XetGrant>> {
        self.grants.get(token).filter(|g| g.expires_at > now)
    }

    /// Whether the CAS holds the xorb.
    pub fn has_xorb(&self, hash: &XetHash) -> bool {
        self.xorbs.contains_key(hash)
    }

    /// Stores a checked xorb; `false` when it was already there.
    pub fn insert_xorb(&mut self, hash: XetHash, xorb: StoredXorb) -> bool {
        if self.xorbs.contains_key(&hash) {
            return false;
        }
        self.xorbs.insert(hash, Arc::new(xorb));
        true
    }

    /// Rebuilds every file an uploaded shard describes from the stored xorbs, checking each
    /// range, the file's Xet hash and (when the shard has it) its sha256. Nothing is stored;
    /// [`XetStore::insert_files`] does that.
    pub fn rebuild_files(&self, body: &[u8]) -> Result<Vec<(String, XetFile)>, CasError> {
        let shard: Shard = parse_shard(body)?;
        let mut out = Vec::with_capacity(shard.files.len());
        for file in &shard.files {
            let bad = |reason: String| CasError::BadFile {
                file: file.hash.hex(),
                reason,
            };
            let mut bytes = Vec::new();
            let mut pieces = Vec::new();
            for seg in &file.segments {
                let xorb = self
                    .xorbs
                    .get(&seg.xorb)
                    .ok_or_else(|| CasError::MissingXorb(seg.xorb.hex()))?;
                let (start, end) = (seg.chunk_start as usize, seg.chunk_end as usize);
                if start >= end || end > xorb.chunks.len() {
                    return Err(bad(format!(
                        "chunk range [{start}, {end}) outside xorb {} of {} chunks",
                        seg.xorb.hex(),
                        xorb.chunks.len()
                    )));
                }
                let before = bytes.len();
                for (chunk, hash) in xorb.chunks[start..end].iter().zip(&xorb.hashes[start..end]) {
                    bytes.extend_from_slice(chunk);
                    pieces.push((*hash, chunk.len() as u64));
                }
                if bytes.len() - before != seg.unpacked_bytes as usize {
                    return Err(bad(format!(
                        "a range of xorb {} holds {} bytes, the shard says {}",
                        seg.xorb.hex(),
                        bytes.len() - before,
                        seg.unpacked_bytes
                    )));
                }
            }
            let computed = file_hash(&pieces);
            if computed != file.hash {
                return Err(bad(format!("its chunks hash to {}", computed.hex())));
            }
            let sha256 = hex::encode(Sha256::digest(&bytes));
            if let Some(claimed) = &file.sha256
                && *claimed != sha256
            {
                return Err(bad(format!(
                    "the shard says sha256 {claimed}, the bytes have {sha256}"
                )));
            }
            out.push((
                sha256,
                XetFile {
                    bytes: Bytes::from(bytes),
                    xet_hash: file.hash,
                },
            ));
        }
        Ok(out)
    }

    /// Stores rebuilt files by sha256.
    pub fn insert_files(&mut self, files: Vec<(String, XetFile)>) {
        for (sha256, file) in files {
            self.files.insert(sha256, Arc::new(file));
        }
    }

    /// The uploaded file with this sha256 (lowercase hex), if any.
    pub fn file(&self, sha256: &str) -> Option<Arc<XetFile>> {
        self.files.get(&sha256.to_ascii_lowercase()).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xet::fixtures::{XORB, fixture};

    #[test]
    fn a_shard_after_its_xorb_rebuilds_every_file_by_sha256() {
        let mut store = XetStore::default();
        let shard = fixture("shard");
        assert_eq!(
            store.rebuild_files(&shard),
            Err(CasError::MissingXorb(XORB.into()))
        );
        let hash = XetHash::from_hex(XORB).unwrap();
        let xorb = StoredXorb::parse(hash, &fixture(&format!("xorb-{XORB}"))).unwrap();
        assert!(store.insert_xorb(hash, xorb.clone()));
        assert!(!store.insert_xorb(hash, xorb), "a second upload is not new");
        let files = store.rebuild_files(&shard).unwrap();
        store.insert_files(files);
        for name in ["small.bin", "text.txt", "floats.bin"] {
            let bytes = fixture(name);
            let sha = hex::encode(Sha256::digest(&bytes));
            let file = store.file(&sha.to_ascii_uppercase()).expect(name);
            assert_eq!(file.bytes, bytes, "{name}");
        }
    }

    #[test]
    fn a_xorb_under_another_name_is_refused() {
        let other = XetHash([7; 32]);
        let err = StoredXorb::parse(other, &fixture(&format!("xorb-{XORB}"))).unwrap_err();
        assert_eq!(
            err,
            CasError::XorbHashMismatch {
                named: other.hex(),
                computed: XORB.into()
            }
        );
    }

    #[test]
    fn tokens_stop_at_their_expiry() {
        let mut store = XetStore::default();
        let token = store.mint(XetGrant {
            user: "u".into(),
            repo_type: RepoType::Model,
            repo_id: "u/r".into(),
            write: true,
            expires_at: 100,
        });
        assert!(token.starts_with("xet_"));
        assert!(store.grant(&token, 99).is_some());
        assert!(store.grant(&token, 100).is_none());
        assert!(store.grant("xet_unknown", 0).is_none());
    }
}
