//! Where a file's bytes come from: held in memory, or generated on the fly from a seed so large
//! files cost no memory; and the one pseudo-random generator (splitmix64) that generated files,
//! model weights and inference answers share, so every run produces the same bytes.
//!
//! A leaf: the world, the generated model files and the inference routes take from it; it takes
//! nothing from them.

use axum::body::Bytes;

/// Where a file's bytes come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FileContent {
    /// Bytes held in memory.
    Bytes(Bytes),
    /// `len` deterministic pseudo-random bytes generated on the fly from `seed`, so large files
    /// cost no memory and are streamed.
    Generated {
        /// Seed of the generator.
        seed: u64,
        /// Length in bytes.
        len: u64,
    },
}

impl FileContent {
    /// The size in bytes.
    pub fn len(&self) -> u64 {
        match self {
            FileContent::Bytes(b) => b.len() as u64,
            FileContent::Generated { len, .. } => *len,
        }
    }

    /// Whether the content is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Copies the bytes in `start..end` (clamped to the content).
    pub fn slice(&self, start: u64, end: u64) -> Bytes {
        let end = end.min(self.len());
        let start = start.min(end);
        match self {
            FileContent::Bytes(b) => b.slice(start as usize..end as usize),
            FileContent::Generated { seed, .. } => Bytes::from(generated_bytes(*seed, start, end)),
        }
    }

    /// Calls `f` on consecutive chunks covering the whole content.
    pub(crate) fn for_each_chunk(&self, mut f: impl FnMut(&[u8])) {
        match self {
            FileContent::Bytes(b) => f(b),
            FileContent::Generated { seed, len } => {
                let mut pos = 0;
                while pos < *len {
                    let end = (pos + 1024 * 1024).min(*len);
                    f(&generated_bytes(*seed, pos, end));
                    pos = end;
                }
            }
        }
    }
}

/// One step of the splitmix64 generator, used for generated files and for weights.
pub(crate) fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Bytes `start..end` of the generated content for `seed`: word `i` is a hash of `seed` and `i`.
fn generated_bytes(seed: u64, start: u64, end: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity((end - start) as usize);
    let mut word_index = start / 8;
    let mut skip = (start % 8) as usize;
    while (out.len() as u64) < end - start {
        let mut s = seed ^ word_index.wrapping_mul(0xD6E8_FEB8_6659_FD93);
        let word = splitmix64(&mut s).to_le_bytes();
        let want = ((end - start) as usize - out.len()).min(8 - skip);
        out.extend_from_slice(&word[skip..skip + want]);
        skip = 0;
        word_index += 1;
    }
    out
}
