//! The three kinds of repository and the words their URLs and JSON bodies use for them.
//!
//! A leaf: every part of the mock Hub names repository types (errors, the world, the Xet store,
//! the routes), so this module takes nothing from any of them.

use serde::{Deserialize, Serialize};

/// The three kinds of repository, which differ only in their URL prefixes.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum RepoType {
    /// A model repository (no URL prefix on file URLs).
    #[default]
    Model,
    /// A dataset repository (`datasets/` prefix).
    Dataset,
    /// A Space (`spaces/` prefix).
    Space,
}

impl RepoType {
    /// Parses the plural used in `/api/{t}/...` URLs.
    pub fn from_plural(s: &str) -> Option<RepoType> {
        match s {
            "models" => Some(RepoType::Model),
            "datasets" => Some(RepoType::Dataset),
            "spaces" => Some(RepoType::Space),
            _ => None,
        }
    }

    /// Parses the singular used in JSON bodies (`"type": "dataset"`).
    pub fn from_singular(s: &str) -> Option<RepoType> {
        match s {
            "model" => Some(RepoType::Model),
            "dataset" => Some(RepoType::Dataset),
            "space" => Some(RepoType::Space),
            _ => None,
        }
    }

    /// A repository as its web page's path names it: `ns/name` for a model,
    /// `datasets/ns/name` or `spaces/ns/name` otherwise; the type and the bare id.
    pub fn from_page_path(path: &str) -> (RepoType, &str) {
        [RepoType::Dataset, RepoType::Space]
            .into_iter()
            .find_map(|t| path.strip_prefix(t.url_prefix()).map(|id| (t, id)))
            .unwrap_or((RepoType::Model, path))
    }

    /// The plural used in `/api/{t}/...` URLs: `models`, `datasets`, `spaces`.
    pub fn plural(self) -> &'static str {
        match self {
            RepoType::Model => "models",
            RepoType::Dataset => "datasets",
            RepoType::Space => "spaces",
        }
    }

    /// The singular word: `model`, `dataset`, `space`.
    pub fn singular(self) -> &'static str {
        match self {
            RepoType::Model => "model",
            RepoType::Dataset => "dataset",
            RepoType::Space => "space",
        }
    }

    /// The prefix of web and file URLs: empty, `datasets/` or `spaces/`.
    pub fn url_prefix(self) -> &'static str {
        match self {
            RepoType::Model => "",
            RepoType::Dataset => "datasets/",
            RepoType::Space => "spaces/",
        }
    }
}
