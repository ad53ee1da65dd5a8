//! The Xet wire formats the mock reads: xorbs (compressed chunks), shards (file reconstructions)
//! and the hashes that name them, so the mock can rebuild each uploaded file's bytes and check
//! them as the CAS server does.
//!
//! Learned from the Xet protocol specification (<https://huggingface.co/docs/xet>: `xorb`,
//! `shard`, `hashing`) and the client that writes them (huggingface/xet-core:
//! `xet_core_structures/src/xorb_object/xorb_chunk_format.rs`, `.../compression_scheme.rs`,
//! `.../byte_grouping/bg4.rs`, `.../metadata_shard/shard_format.rs`, `.../file_structs.rs`,
//! `.../xorb_structs.rs`, `.../merklehash/data_hash.rs`, `.../aggregated_hashes.rs`). The unit
//! tests read a xorb and a shard that hf_xet 1.8.0 uploaded (`tests/fixtures/xet/`).

use std::fmt;
use std::io::Read;

/// The largest chunk the client makes (twice the 64 KiB target); longer chunks are refused.
pub const MAX_CHUNK_SIZE: usize = 128 * 1024;

/// The ident that starts a xorb's footer, after the last chunk.
const XORB_FOOTER_IDENT: &[u8; 7] = b"XETBLOB";

/// The 32 bytes that start every shard (`MDB_SHARD_HEADER_TAG`).
const SHARD_HEADER_TAG: [u8; 32] = [
    b'H', b'F', b'R', b'e', b'p', b'o', b'M', b'e', b't', b'a', b'D', b'a', b't', b'a', 0, 85, 105,
    103, 69, 106, 123, 129, 87, 131, 165, 189, 217, 92, 205, 209, 74, 169,
];

/// The shard header version the client writes.
const SHARD_HEADER_VERSION: u64 = 2;

/// Every shard record (file header, file entry, verification, metadata, xorb header, chunk) is
/// this long.
const SHARD_RECORD_LEN: usize = 48;

/// File flag: verification entries follow the segments.
const FILE_FLAG_WITH_VERIFICATION: u32 = 1 << 31;
/// File flag: one metadata extension (the sha256) follows.
const FILE_FLAG_WITH_METADATA_EXT: u32 = 1 << 30;

/// The blake3 key of chunk hashes (`DATA_KEY` in `merklehash/data_hash.rs`).
const DATA_KEY: [u8; 32] = [
    102, 151, 245, 119, 91, 149, 80, 222, 49, 53, 203, 172, 165, 151, 24, 28, 157, 228, 33, 16,
    155, 235, 43, 88, 180, 208, 176, 75, 147, 173, 242, 41,
];

/// The blake3 key of inner Merkle nodes (`INTERNAL_NODE_HASH`).
const INTERNAL_NODE_KEY: [u8; 32] = [
    1, 126, 197, 199, 165, 71, 41, 150, 253, 148, 102, 102, 180, 138, 2, 230, 93, 221, 83, 111, 55,
    199, 109, 210, 248, 99, 82, 230, 74, 83, 113, 63,
];

/// Why a xorb or a shard was refused.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum XetFormatError {
    /// The bytes end inside a record.
    #[error("truncated {0}")]
    Truncated(&'static str),
    /// A chunk header with an unknown version or compression scheme, or impossible lengths.
    #[error("invalid chunk header at byte {offset}: {reason}")]
    BadChunkHeader {
        /// Where the header starts.
        offset: usize,
        /// What is wrong with it.
        reason: String,
    },
    /// A chunk whose data does not decompress to its stated length.
    #[error("chunk {index} does not decompress: {reason}")]
    BadChunkData {
        /// The chunk's index in the xorb.
        index: usize,
        /// What went wrong.
        reason: String,
    },
    /// A xorb without chunks or without its footer.
    #[error("{0}")]
    BadXorb(String),
    /// A shard that does not start with the shard tag and version.
    #[error("not a shard: {0}")]
    BadShard(String),
}

/// A Xet hash (chunk, xorb or file): 32 bytes, written in hex as four little-endian u64s
/// (`DataHash::hex`), which is how URLs and `X-Xet-Hash` spell it.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct XetHash(pub [u8; 32]);

impl XetHash {
    /// The hash in the protocol's hex spelling.
    pub fn hex(&self) -> String {
        let mut out = String::with_capacity(64);
        for word in self.0.chunks_exact(8) {
            let value = u64::from_le_bytes(word.try_into().expect("8 bytes"));
            out.push_str(&format!("{value:016x}"));
        }
        out
    }

    /// Parses the protocol's hex spelling (64 hex digits).
    pub fn from_hex(text: &str) -> Option<XetHash> {
        if text.len() != 64 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let mut bytes = [0u8; 32];
        for (i, word) in bytes.chunks_exact_mut(8).enumerate() {
            let value = u64::from_str_radix(&text[16 * i..16 * i + 16], 16).ok()?;
            word.copy_from_slice(&value.to_le_bytes());
        }
        Some(XetHash(bytes))
    }

    /// The last of the four u64s: what the Merkle tree's cut rule looks at.
    fn last_word(&self) -> u64 {
        u64::from_le_bytes(self.0[24..32].try_into().expect("8 bytes"))
    }

    /// Whether this is the all-ones marker that ends a shard section.
    fn is_bookend(&self) -> bool {
        self.0 == [0xff; 32]
    }
}

impl fmt::Debug for XetHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "XetHash({})", self.hex())
    }
}

impl fmt::Display for XetHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.hex())
    }
}

/// The hash of one chunk's (uncompressed) bytes.
pub fn chunk_hash(data: &[u8]) -> XetHash {
    XetHash(*blake3::keyed_hash(&DATA_KEY, data).as_bytes())
}

/// How many of `nodes` the next inner node takes: up to the first hash (from the third on)
/// whose last word is a multiple of 4, at most 9 (`next_merge_cut`).
fn next_merge_cut(nodes: &[(XetHash, u64)]) -> usize {
    if nodes.len() <= 2 {
        return nodes.len();
    }
    let end = nodes.len().min(9);
    (2..end)
        .find(|&i| nodes[i].0.last_word().is_multiple_of(4))
        .map_or(end, |i| i + 1)
}

/// One inner node: the keyed hash of `"{hex} : {size}\n"` for each child.
fn merge(nodes: &[(XetHash, u64)]) -> (XetHash, u64) {
    let mut text = String::with_capacity(nodes.len() * 88);
    let mut total = 0;
    for (hash, size) in nodes {
        text.push_str(&format!("{} : {size}\n", hash.hex()));
        total += size;
    }
    let hash = blake3::keyed_hash(&INTERNAL_NODE_KEY, text.as_bytes());
    (XetHash(*hash.as_bytes()), total)
}

/// The root of the variable-branching Merkle tree over `(chunk hash, chunk size)` pairs
/// (`aggregated_node_hash`); the zero hash for no chunks.
fn aggregated_hash(chunks: &[(XetHash, u64)]) -> XetHash {
    if chunks.is_empty() {
        return XetHash::default();
    }
    let mut level = chunks.to_vec();
    while level.len() > 1 {
        let mut next = Vec::with_capacity(level.len() / 2 + 1);
        let mut start = 0;
        while start < level.len() {
            let cut = start + next_merge_cut(&level[start..]);
            next.push(merge(&level[start..cut]));
            start = cut;
        }
        level = next;
    }
    level[0].0
}

/// A xorb's hash: the Merkle root of its chunks.
pub fn xorb_hash(chunks: &[(XetHash, u64)]) -> XetHash {
    aggregated_hash(chunks)
}

/// A file's Xet hash: the Merkle root of its chunks, keyed again with the zero key
/// (`file_hash`, no salt).
pub fn file_hash(chunks: &[(XetHash, u64)]) -> XetHash {
    if chunks.is_empty() {
        return XetHash::default();
    }
    let root = aggregated_hash(chunks);
    XetHash(*blake3::keyed_hash(&[0; 32], &root.0).as_bytes())
}

/// How a chunk's bytes are stored in a xorb (`CompressionScheme`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    /// Stored as is (0).
    None,
    /// An LZ4 frame (1).
    Lz4,
    /// The bytes regrouped by position modulo 4, then an LZ4 frame (2).
    ByteGrouping4Lz4,
}

impl Compression {
    /// The scheme a chunk header's byte names.
    fn from_byte(byte: u8) -> Option<Compression> {
        match byte {
            0 => Some(Compression::None),
            1 => Some(Compression::Lz4),
            2 => Some(Compression::ByteGrouping4Lz4),
            _ => None,
        }
    }
}

/// One chunk of a xorb, uncompressed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct XorbChunk {
    /// How it was stored.
    pub compression: Compression,
    /// The uncompressed bytes.
    pub data: Vec<u8>,
}

/// Reads the chunks of a serialized xorb: 8-byte headers (version 0, compressed length as 3
/// little-endian bytes, scheme, uncompressed length as 3 bytes) each followed by the data, up to
/// the end or to a footer (it starts with `XETBLOB`). hf_xet 1.8.0 uploads xorbs without the
/// footer (measured: the fixture xorb ends with its last chunk).
pub fn parse_xorb(bytes: &[u8]) -> Result<Vec<XorbChunk>, XetFormatError> {
    let mut chunks = Vec::new();
    let mut at = 0;
    loop {
        let rest = &bytes[at..];
        if rest.is_empty() || rest.starts_with(XORB_FOOTER_IDENT) {
            break;
        }
        let header = rest
            .get(..8)
            .ok_or(XetFormatError::Truncated("chunk header"))?;
        let bad = |reason: String| XetFormatError::BadChunkHeader { offset: at, reason };
        if header[0] != 0 {
            return Err(bad(format!("version {} (only 0 is known)", header[0])));
        }
        let compressed_len = three_byte_len(&header[1..4]);
        let compression = Compression::from_byte(header[4])
            .ok_or_else(|| bad(format!("compression scheme {}", header[4])))?;
        let len = three_byte_len(&header[5..8]);
        if len == 0 || len > MAX_CHUNK_SIZE || compressed_len > 2 * MAX_CHUNK_SIZE {
            return Err(bad(format!(
                "lengths {compressed_len} (stored) and {len} (uncompressed)"
            )));
        }
        let stored = rest
            .get(8..8 + compressed_len)
            .ok_or(XetFormatError::Truncated("chunk data"))?;
        let index = chunks.len();
        let data = decompress(compression, stored, len)
            .map_err(|reason| XetFormatError::BadChunkData { index, reason })?;
        chunks.push(XorbChunk { compression, data });
        at += 8 + compressed_len;
    }
    if chunks.is_empty() {
        return Err(XetFormatError::BadXorb("xorb has no chunks".into()));
    }
    Ok(chunks)
}

/// A 3-byte little-endian length.
fn three_byte_len(bytes: &[u8]) -> usize {
    usize::from(bytes[0]) | usize::from(bytes[1]) << 8 | usize::from(bytes[2]) << 16
}

/// Undoes a chunk's compression, checking it gives exactly `len` bytes.
fn decompress(compression: Compression, stored: &[u8], len: usize) -> Result<Vec<u8>, String> {
    let data = match compression {
        Compression::None => stored.to_vec(),
        Compression::Lz4 => lz4_frame(stored, len)?,
        Compression::ByteGrouping4Lz4 => bg4_regroup(&lz4_frame(stored, len)?),
    };
    if data.len() == len {
        Ok(data)
    } else {
        Err(format!("{} bytes where the header says {len}", data.len()))
    }
}

/// Decodes one LZ4 frame, reading at most one byte more than `len` (so a frame that would
/// inflate beyond the chunk is caught without inflating it all).
fn lz4_frame(stored: &[u8], len: usize) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(len);
    lz4_flex::frame::FrameDecoder::new(stored)
        .take(len as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| format!("LZ4: {e}"))?;
    Ok(out)
}

/// Puts byte-grouped data back in order: the input is the bytes at positions 0 mod 4, then
/// 1 mod 4, 2 mod 4 and 3 mod 4 (`bg4_split_together`, whose inverse this is).
fn bg4_regroup(grouped: &[u8]) -> Vec<u8> {
    let n = grouped.len();
    let (split, rem) = (n / 4, n % 4);
    let lens = [0, 1, 2, 3].map(|k| split + usize::from(k < rem));
    let mut out = vec![0u8; n];
    let mut start = 0;
    for (k, group_len) in lens.into_iter().enumerate() {
        for (i, byte) in grouped[start..start + group_len].iter().enumerate() {
            out[4 * i + k] = *byte;
        }
        start += group_len;
    }
    out
}

/// One range of a file's reconstruction: chunks `[chunk_start, chunk_end)` of a xorb.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileSegment {
    /// The xorb holding the chunks.
    pub xorb: XetHash,
    /// How many bytes the range holds uncompressed.
    pub unpacked_bytes: u32,
    /// The first chunk's index in the xorb.
    pub chunk_start: u32,
    /// One past the last chunk's index.
    pub chunk_end: u32,
}

/// A file a shard describes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShardFile {
    /// The file's Xet hash.
    pub hash: XetHash,
    /// Its bytes, in order, as xorb ranges.
    pub segments: Vec<FileSegment>,
    /// The sha256 the client computed (the metadata extension), in hex, when present.
    pub sha256: Option<String>,
}

/// One chunk a shard lists for a xorb.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShardChunk {
    /// The chunk's hash.
    pub hash: XetHash,
    /// Where the chunk starts in the xorb's uncompressed bytes.
    pub byte_start: u32,
    /// Its uncompressed length.
    pub len: u32,
}

/// A xorb a shard lists, with its chunks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShardXorb {
    /// The xorb's hash.
    pub hash: XetHash,
    /// Its chunks in order.
    pub chunks: Vec<ShardChunk>,
}

/// What a shard says: the files it adds and the xorbs they use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shard {
    /// The file reconstructions.
    pub files: Vec<ShardFile>,
    /// The xorbs, with their chunk lists.
    pub xorbs: Vec<ShardXorb>,
}

/// Reads fixed-size shard records in order.
struct Records<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Records<'a> {
    /// The next 48-byte record.
    fn next(&mut self, what: &'static str) -> Result<Record<'a>, XetFormatError> {
        let record = self
            .bytes
            .get(self.at..self.at + SHARD_RECORD_LEN)
            .ok_or(XetFormatError::Truncated(what))?;
        self.at += SHARD_RECORD_LEN;
        Ok(Record(record))
    }
}

/// One 48-byte shard record: a hash then four u32 (or two u64) fields.
struct Record<'a>(&'a [u8]);

impl Record<'_> {
    /// The leading hash.
    fn hash(&self) -> XetHash {
        XetHash(self.0[..32].try_into().expect("32 bytes"))
    }

    /// The `n`th little-endian u32 after the hash.
    fn word(&self, n: usize) -> u32 {
        let at = 32 + 4 * n;
        u32::from_le_bytes(self.0[at..at + 4].try_into().expect("4 bytes"))
    }
}

/// Reads a shard as the client uploads it: the 48-byte header (tag, version 2, footer size),
/// the file section (per file: header, segments, optional verification entries, optional sha256
/// extension; ended by an all-ones bookend), then the xorb section (per xorb: header and chunk
/// entries; ended by a bookend). A footer with lookup tables, if any, is not needed.
pub fn parse_shard(bytes: &[u8]) -> Result<Shard, XetFormatError> {
    let header = bytes
        .get(..SHARD_RECORD_LEN)
        .ok_or(XetFormatError::Truncated("shard header"))?;
    if header[..32] != SHARD_HEADER_TAG {
        return Err(XetFormatError::BadShard("wrong header tag".into()));
    }
    let version = u64::from_le_bytes(header[32..40].try_into().expect("8 bytes"));
    if version != SHARD_HEADER_VERSION {
        return Err(XetFormatError::BadShard(format!(
            "header version {version} (only {SHARD_HEADER_VERSION} is known)"
        )));
    }
    let mut records = Records {
        bytes,
        at: SHARD_RECORD_LEN,
    };
    let mut files = Vec::new();
    loop {
        let file = records.next("file header")?;
        if file.hash().is_bookend() {
            break;
        }
        let (flags, entries) = (file.word(0), file.word(1));
        let mut segments = Vec::with_capacity(entries.min(4096) as usize);
        for _ in 0..entries {
            let entry = records.next("file segment")?;
            segments.push(FileSegment {
                xorb: entry.hash(),
                unpacked_bytes: entry.word(1),
                chunk_start: entry.word(2),
                chunk_end: entry.word(3),
            });
        }
        if flags & FILE_FLAG_WITH_VERIFICATION != 0 {
            for _ in 0..entries {
                records.next("file verification entry")?;
            }
        }
        let sha256 = if flags & FILE_FLAG_WITH_METADATA_EXT != 0 {
            Some(records.next("file metadata")?.hash().hex())
        } else {
            None
        };
        files.push(ShardFile {
            hash: file.hash(),
            segments,
            sha256,
        });
    }
    let mut xorbs = Vec::new();
    loop {
        let xorb = records.next("xorb header")?;
        if xorb.hash().is_bookend() {
            break;
        }
        let entries = xorb.word(1);
        let mut chunks = Vec::with_capacity(entries.min(8192) as usize);
        for _ in 0..entries {
            let chunk = records.next("xorb chunk entry")?;
            chunks.push(ShardChunk {
                hash: chunk.hash(),
                byte_start: chunk.word(0),
                len: chunk.word(1),
            });
        }
        xorbs.push(ShardXorb {
            hash: xorb.hash(),
            chunks,
        });
    }
    Ok(Shard { files, xorbs })
}

#[cfg(test)]
mod tests {
    use sha2::{Digest, Sha256};

    use super::*;
    use crate::xet::fixtures::{XORB, fixture};

    fn sha256_hex(bytes: &[u8]) -> String {
        hex::encode(Sha256::digest(bytes))
    }

    #[test]
    fn hashes_print_as_four_little_endian_words() {
        let mut bytes = [0u8; 32];
        bytes[0] = 1;
        bytes[31] = 0xab;
        let hash = XetHash(bytes);
        let expected = format!("0000000000000001{}ab00000000000000", "0".repeat(32));
        assert_eq!(hash.hex(), expected);
        assert_eq!(XetHash::from_hex(&hash.hex()), Some(hash));
        assert_eq!(XetHash::from_hex("zz"), None);
    }

    #[test]
    fn the_real_xorb_gives_chunks_in_all_three_schemes_and_its_hash() {
        let chunks = parse_xorb(&fixture(&format!("xorb-{XORB}"))).unwrap();
        let schemes: Vec<Compression> = chunks.iter().map(|c| c.compression).collect();
        assert!(schemes.contains(&Compression::None));
        assert!(schemes.contains(&Compression::Lz4));
        assert!(schemes.contains(&Compression::ByteGrouping4Lz4));
        let mut all = Vec::new();
        for chunk in &chunks {
            all.extend_from_slice(&chunk.data);
        }
        let mut expected = fixture("small.bin");
        expected.extend(fixture("text.txt"));
        expected.extend(fixture("floats.bin"));
        assert_eq!(all, expected, "the chunks are the three files in order");
        let hashes: Vec<(XetHash, u64)> = chunks
            .iter()
            .map(|c| (chunk_hash(&c.data), c.data.len() as u64))
            .collect();
        assert_eq!(xorb_hash(&hashes).hex(), XORB);
    }

    #[test]
    fn the_real_shard_gives_each_files_ranges_hash_and_sha256() {
        let shard = parse_shard(&fixture("shard")).unwrap();
        assert_eq!(shard.xorbs.len(), 1);
        assert_eq!(shard.xorbs[0].hash.hex(), XORB);
        let chunks = parse_xorb(&fixture(&format!("xorb-{XORB}"))).unwrap();
        assert_eq!(shard.xorbs[0].chunks.len(), chunks.len());
        for (listed, chunk) in shard.xorbs[0].chunks.iter().zip(&chunks) {
            assert_eq!(listed.hash, chunk_hash(&chunk.data));
            assert_eq!(listed.len as usize, chunk.data.len());
        }
        // The Xet hashes hf_xet reported for the files (`XetFileMetadata.hash`).
        let expected = [
            (
                "small.bin",
                "5cbb4244d87915f5e9a42f479c43be6db963ad9a3a59feb045aaaa2b8306a845",
            ),
            (
                "text.txt",
                "7245e4a9689e1076e17b017306a838b78a0f11c5bca44ca9425784303686bd68",
            ),
            (
                "floats.bin",
                "ddc0e8f0fe3c681f5a2bcd93ee654e16951787554a024ae89a5575db83f2b936",
            ),
        ];
        assert_eq!(shard.files.len(), 3);
        for (name, xet_hash) in expected {
            let bytes = fixture(name);
            let file = shard
                .files
                .iter()
                .find(|f| f.hash.hex() == xet_hash)
                .unwrap_or_else(|| panic!("{name} is in the shard"));
            assert_eq!(file.sha256.as_deref(), Some(sha256_hex(&bytes).as_str()));
            let mut rebuilt = Vec::new();
            let mut pieces = Vec::new();
            for seg in &file.segments {
                assert_eq!(seg.xorb.hex(), XORB);
                for chunk in &chunks[seg.chunk_start as usize..seg.chunk_end as usize] {
                    rebuilt.extend_from_slice(&chunk.data);
                    pieces.push((chunk_hash(&chunk.data), chunk.data.len() as u64));
                }
            }
            assert_eq!(rebuilt, bytes, "{name} rebuilt byte for byte");
            assert_eq!(file_hash(&pieces).hex(), xet_hash, "{name}'s Xet hash");
        }
    }

    #[test]
    fn damaged_xorbs_and_shards_are_refused_with_the_reason() {
        let xorb = fixture(&format!("xorb-{XORB}"));
        assert!(
            !xorb.windows(7).any(|w| w == XORB_FOOTER_IDENT),
            "hf_xet uploads xorbs without footer"
        );
        assert!(matches!(parse_xorb(b""), Err(XetFormatError::BadXorb(_))));
        assert!(matches!(
            parse_xorb(&xorb[..xorb.len() - 1]),
            Err(XetFormatError::Truncated("chunk data"))
        ));
        assert!(matches!(
            parse_xorb(&xorb[..20]),
            Err(XetFormatError::Truncated("chunk data"))
        ));
        let mut bad_scheme = xorb.clone();
        bad_scheme[4] = 7;
        assert!(matches!(
            parse_xorb(&bad_scheme),
            Err(XetFormatError::BadChunkHeader { offset: 0, .. })
        ));
        // The second chunk (LZ4) said one byte longer than its frame decodes to.
        let mut bad_len = xorb.clone();
        bad_len[8 + 1000 + 5] = bad_len[8 + 1000 + 5].wrapping_add(1);
        assert!(matches!(
            parse_xorb(&bad_len),
            Err(XetFormatError::BadChunkData { index: 1, .. })
        ));
        // A changed byte of data still parses, but no longer hashes to the xorb's name.
        let mut bad_data = xorb.clone();
        bad_data[8 + 10] ^= 0xff;
        let chunks = parse_xorb(&bad_data).unwrap();
        let hashes: Vec<(XetHash, u64)> = chunks
            .iter()
            .map(|c| (chunk_hash(&c.data), c.data.len() as u64))
            .collect();
        assert_ne!(xorb_hash(&hashes).hex(), XORB);
        let shard = fixture("shard");
        assert!(matches!(
            parse_shard(&shard[..100]),
            Err(XetFormatError::Truncated(_))
        ));
        let mut bad_tag = shard.clone();
        bad_tag[0] = b'X';
        assert!(matches!(
            parse_shard(&bad_tag),
            Err(XetFormatError::BadShard(_))
        ));
    }

    #[test]
    fn byte_grouping_is_undone_for_every_remainder() {
        for n in 0..12usize {
            let data: Vec<u8> = (0..n as u8).collect();
            let mut grouped = Vec::new();
            for k in 0..4 {
                grouped.extend(data.iter().skip(k).step_by(4));
            }
            assert_eq!(bg4_regroup(&grouped), data, "length {n}");
        }
    }
}
