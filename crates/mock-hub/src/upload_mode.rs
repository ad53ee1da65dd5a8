//! How preupload decides a file's `uploadMode`, as the real Hub does: `lfs` when the path
//! matches an LFS rule of the repository's `.gitattributes` at that revision, when the file is
//! larger than 10 MB, or when its sample (the first 512 bytes) looks binary; else `regular`.
//!
//! Where each rule comes from is in `docs/mock-hub.md` ("Preupload: regular or LFS"). An `lfs`
//! answer makes huggingface_hub 2.4.0 upload the file through Xet (when `hf_xet` is importable)
//! and commit it as an `lfsFile` line; a `regular` one sends it inline in the commit.

use regex::Regex;

use super::gitignore::glob_to_regex;

/// Files larger than this always go to LFS (the Hub refuses larger regular files).
pub const REGULAR_MAX_SIZE: u64 = 10 * 1024 * 1024;

/// One line of a `.gitattributes` that sets or unsets the `filter` attribute.
#[derive(Debug)]
struct Rule {
    regex: Regex,
    /// `filter=lfs` (true), or `-filter`, `!filter`, `filter=<other>` (false).
    lfs: bool,
}

/// The LFS rules of a `.gitattributes`: which paths git (and the Hub) store in LFS.
#[derive(Debug, Default)]
pub struct LfsRules {
    rules: Vec<Rule>,
}

impl LfsRules {
    /// Parses a `.gitattributes`: comments and blank lines are skipped, the first field is the
    /// pattern (gitignore-style: without a `/` it matches a name at any depth, with one it is
    /// anchored to the root), the fields after it are attributes; only `filter` matters.
    pub fn parse(content: &str) -> LfsRules {
        let rules = content
            .lines()
            .filter_map(|line| {
                let line = line.trim();
                if line.is_empty() || line.starts_with('#') {
                    return None;
                }
                let mut fields = line.split_whitespace();
                let pattern = fields.next()?;
                let lfs = fields.filter_map(filter_setting).next_back()?;
                let anchored = pattern.trim_start_matches('/').contains('/');
                let body = glob_to_regex(pattern.trim_start_matches('/'));
                let start = if anchored { "^" } else { "^(?:.*/)?" };
                let regex = Regex::new(&format!("{start}{body}$")).ok()?;
                Some(Rule { regex, lfs })
            })
            .collect();
        LfsRules { rules }
    }

    /// Whether `path` is stored in LFS (the last matching line decides, as in git).
    pub fn tracks(&self, path: &str) -> bool {
        self.rules
            .iter()
            .rev()
            .find(|r| r.regex.is_match(path))
            .is_some_and(|r| r.lfs)
    }
}

/// What an attribute field says about `filter`, if it names it.
fn filter_setting(field: &str) -> Option<bool> {
    match field {
        "filter=lfs" => Some(true),
        "-filter" | "!filter" => Some(false),
        f if f.starts_with("filter=") => Some(false),
        _ => None,
    }
}

/// Whether a file's first bytes look binary: a NUL byte, or bytes that are not UTF-8. A
/// multi-byte character cut off at the end does not count when the file goes on after the
/// sample (`size` larger than it).
pub fn looks_binary(sample: &[u8], size: Option<u64>) -> bool {
    if sample.contains(&0) {
        return true;
    }
    let continues = size.is_some_and(|s| s > sample.len() as u64);
    match std::str::from_utf8(sample) {
        Ok(_) => false,
        Err(e) => e.error_len().is_some() || !continues,
    }
}

/// The upload mode for one file of a preupload call.
pub fn upload_mode(rules: &LfsRules, path: &str, size: Option<u64>, sample: &[u8]) -> &'static str {
    if size.is_some_and(|s| s > REGULAR_MAX_SIZE)
        || rules.tracks(path)
        || looks_binary(sample, size)
    {
        "lfs"
    } else {
        "regular"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::{GITATTRIBUTES, GITATTRIBUTES_DATASET};

    #[test]
    fn the_default_gitattributes_send_weights_and_data_to_lfs() {
        let model = LfsRules::parse(GITATTRIBUTES);
        for path in [
            "model.safetensors",
            "pytorch_model.bin",
            "data/train-00000-of-00001.parquet",
            "archive.tar.gz",
            "saved_model/variables/variables.data",
            "runs/events.out.tfevents.123",
        ] {
            assert!(model.tracks(path), "{path}");
        }
        for path in ["README.md", "config.json", "notes.txt", "saved_model.txt"] {
            assert!(!model.tracks(path), "{path}");
        }
        let dataset = LfsRules::parse(GITATTRIBUTES_DATASET);
        assert!(dataset.tracks("audio/clip.wav"));
        assert!(dataset.tracks("data/train.parquet"));
        assert!(!model.tracks("audio/clip.wav"));
    }

    #[test]
    fn later_lines_and_unset_filters_win() {
        let rules = LfsRules::parse(
            "# comment\n*.txt filter=lfs diff=lfs merge=lfs -text\nkeep.txt -filter\n/top/*.csv filter=lfs\n",
        );
        assert!(rules.tracks("a/b.txt"));
        assert!(!rules.tracks("keep.txt"));
        assert!(rules.tracks("top/x.csv"));
        assert!(!rules.tracks("other/top/x.csv"));
    }

    #[test]
    fn binary_samples_size_and_rules_each_give_lfs() {
        let none = LfsRules::default();
        assert_eq!(upload_mode(&none, "a.txt", Some(5), b"hello"), "regular");
        assert_eq!(upload_mode(&none, "a.txt", Some(3), b"a\0b"), "lfs");
        assert_eq!(upload_mode(&none, "a.dat", Some(2), &[0xff, 0xfe]), "lfs");
        // A UTF-8 character cut by the 512-byte sample is still text, not at the file's end.
        assert_eq!(
            upload_mode(&none, "a.txt", Some(1), "é".as_bytes()[..1].as_ref()),
            "lfs"
        );
        assert_eq!(
            upload_mode(&none, "a.txt", Some(600), "é".as_bytes()[..1].as_ref()),
            "regular"
        );
        assert_eq!(
            upload_mode(&none, "big.txt", Some(REGULAR_MAX_SIZE + 1), b"text"),
            "lfs"
        );
        assert_eq!(
            upload_mode(&none, "ok.txt", Some(REGULAR_MAX_SIZE), b"text"),
            "regular"
        );
        let rules = LfsRules::parse(GITATTRIBUTES);
        assert_eq!(upload_mode(&rules, "d.parquet", Some(4), b"PAR1"), "lfs");
    }
}
