//! A repository as the world holds it: its files with the hashes the API reports, its commits
//! and branches (a leaf the world and the routes take from).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use sha1::{Digest, Sha1};
use sha2::Sha256;

use crate::content::FileContent;
use crate::repo_type::RepoType;

/// Files with these extensions are reported as LFS files, as the real Hub's default
/// `.gitattributes` would store them.
const LFS_EXTENSIONS: &[&str] = &[
    ".safetensors",
    ".bin",
    ".pt",
    ".pth",
    ".ckpt",
    ".h5",
    ".msgpack",
    ".onnx",
    ".zip",
    ".7z",
];

/// Files at least this large are reported as LFS files whatever their name.
const LFS_MIN_SIZE: u64 = 10 * 1024 * 1024;

/// A file stored in a commit, with the hashes the API reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RepoFile {
    /// The bytes.
    pub content: FileContent,
    /// The git blob sha1 (`oid` in tree listings, the ETag of regular files).
    pub git_oid: String,
    /// The sha256 (the LFS oid, the ETag of LFS files).
    pub sha256: String,
    /// Whether the file is reported as stored in LFS.
    pub lfs: bool,
}

impl RepoFile {
    /// Hashes `content` for the file at `path`.
    pub fn new(path: &str, content: FileContent) -> RepoFile {
        let len = content.len();
        let mut sha1 = Sha1::new();
        sha1.update(format!("blob {len}\0").as_bytes());
        let mut sha256 = Sha256::new();
        content.for_each_chunk(|chunk| {
            sha1.update(chunk);
            sha256.update(chunk);
        });
        let lfs = len >= LFS_MIN_SIZE || LFS_EXTENSIONS.iter().any(|ext| path.ends_with(ext));
        RepoFile {
            content,
            git_oid: hex::encode(sha1.finalize()),
            sha256: hex::encode(sha256.finalize()),
            lfs,
        }
    }

    /// The size in bytes.
    pub fn size(&self) -> u64 {
        self.content.len()
    }

    /// The ETag value (without quotes): sha256 for LFS files, the git oid otherwise.
    pub fn etag(&self) -> &str {
        if self.lfs {
            &self.sha256
        } else {
            &self.git_oid
        }
    }
}

/// One commit: a full snapshot of the files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Commit {
    /// The 40-hex commit id.
    pub id: String,
    /// The parent commit, if any.
    pub parent: Option<String>,
    /// The commit title.
    pub summary: String,
    /// When it was made (ISO 8601).
    pub date: String,
    /// Who made it (`system` for the commits a world file declares).
    pub author: String,
    /// Every file at this commit, by path.
    pub files: BTreeMap<String, Arc<RepoFile>>,
}

/// A repository with its branches and history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Repo {
    /// Model, dataset or Space.
    pub repo_type: RepoType,
    /// `ns/name`.
    pub id: String,
    /// Private repositories are visible only to their namespace's members.
    pub private: bool,
    /// Gated repositories serve metadata to anyone but files only to approved users.
    pub gated: bool,
    /// Users approved for a gated repository.
    pub gated_approved: BTreeSet<String>,
    /// Branch name (`main`, `refs/pr/1`) to commit id.
    pub branches: BTreeMap<String, String>,
    /// Tag name to commit id.
    pub tags: BTreeMap<String, String>,
    /// Gating mode when `gated`: automatic approval (`true`) or manual (`false`).
    pub gated_auto: bool,
    /// The user who created the repository (contributors may write to their own repositories).
    pub created_by: Option<String>,
    /// Every commit by id.
    pub commits: BTreeMap<String, Commit>,
    /// Number of pull requests opened so far.
    pub pull_requests: u64,
    /// Creation date (ISO 8601).
    pub created_at: String,
}

impl Repo {
    /// The namespace part of the id.
    pub fn namespace(&self) -> &str {
        self.id.split_once('/').map_or("", |(ns, _)| ns)
    }

    /// The commit a revision names: a branch, a tag (also as `refs/heads/..`, `refs/tags/..`),
    /// or a full 40-hex commit id.
    pub fn resolve(&self, rev: &str) -> Option<&Commit> {
        let branch = rev.strip_prefix("refs/heads/").unwrap_or(rev);
        if let Some(id) = self.branches.get(branch) {
            return self.commits.get(id);
        }
        let tag = rev.strip_prefix("refs/tags/").unwrap_or(rev);
        if let Some(id) = self.tags.get(tag) {
            return self.commits.get(id);
        }
        if is_commit_id(rev) {
            return self.commits.get(&rev.to_ascii_lowercase());
        }
        None
    }

    /// The commit `main` points to.
    pub fn head(&self) -> Option<&Commit> {
        self.resolve("main")
    }

    /// The `gated` value repo info reports: `false`, `"auto"` or `"manual"`.
    pub fn gated_label(&self) -> Option<&'static str> {
        match (self.gated, self.gated_auto) {
            (false, _) => None,
            (true, true) => Some("auto"),
            (true, false) => Some("manual"),
        }
    }

    /// The commits reachable from `commit_id`, newest first.
    pub fn history(&self, commit_id: &str) -> Vec<&Commit> {
        let mut out = Vec::new();
        let mut next = self.commits.get(commit_id);
        while let Some(commit) = next {
            out.push(commit);
            next = commit.parent.as_ref().and_then(|p| self.commits.get(p));
            if out.len() > self.commits.len() {
                break;
            }
        }
        out
    }
}

/// Whether `s` looks like a full commit id (40 hex digits).
pub fn is_commit_id(s: &str) -> bool {
    s.len() == 40 && s.bytes().all(|b| b.is_ascii_hexdigit())
}
