//! The one owner of `[preprocessor.hubcheck]` in `book.toml` and of every path derived from it.
//!
//! The preprocessor gets the table from mdBook's context, the build and the harness load it from
//! disk with [`Settings::load`]; all of them read it through [`Settings::from_config`], so a key
//! means the same everywhere. Where the harness writes its report, where the badges read it and
//! where the widget assets go all come from here ([`HUBCHECK_DIR`]).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use mdbook_preprocessor::config::Config;
use serde::Deserialize;

use crate::hub::World;
use crate::hub::world_file::{self, WorldFileError};

/// The folder, relative to the book root, that holds everything the toolchain writes.
pub const HUBCHECK_DIR: &str = hubcheck_dir!();

/// The default of `report`: where `test` writes the report and the badges read it.
pub const DEFAULT_REPORT: &str = concat!(hubcheck_dir!(), "/report.json");

/// The file name of a book's Python lock when `python-requirements` is not set.
pub const DEFAULT_REQUIREMENTS_FILE: &str = "hub-requirements.txt";

/// The Hub the token checker asks when `hub-endpoint` is not set.
pub const DEFAULT_HUB_ENDPOINT: &str = "https://huggingface.co";

/// Hosts to which a plain `http://` endpoint is allowed: the tests' mock Hub, never a network.
pub const LOOPBACK_HOSTS: [&str; 3] = ["127.0.0.1", "localhost", "[::1]"];

/// The `[preprocessor.hubcheck]` table; every key is documented in README.md.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct Settings {
    /// The Hub endpoint the token checker calls.
    pub hub_endpoint: String,
    /// Placeholders the book shows, and what the harness puts in their place.
    pub placeholders: BTreeMap<String, String>,
    /// The harness report: written by `test`, read by the badges; relative to the book root.
    pub report: PathBuf,
    /// The world file the mock Hub serves to this book's snippets, relative to the book root
    /// (default: `hub-world.toml` when the book has one, else the starter world).
    pub world: Option<PathBuf>,
    /// The lock of the Python packages the snippets run with, relative to the book root
    /// (default: `hub-requirements.txt` beside the world file when it exists, else the built-in
    /// lock).
    pub python_requirements: Option<PathBuf>,
    /// What may differ between a session's output on the page and in a run, without the page
    /// marking it (`[HOME]`, `[HASH]`, ...): the book was not written for the harness.
    pub transcript_may_differ: Vec<MayDiffer>,
    /// Not a key: the page (relative to the book root) that shows students how to watch where the
    /// token goes, set by the preprocessor when the book has that chapter.
    #[serde(skip)]
    pub network_help: Option<String>,
    // mdBook's own keys for every preprocessor table; accepted and left to mdBook.
    command: Option<String>,
    before: Vec<String>,
    after: Vec<String>,
    optional: bool,
    renderers: Vec<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            hub_endpoint: DEFAULT_HUB_ENDPOINT.to_string(),
            placeholders: BTreeMap::new(),
            report: PathBuf::from(DEFAULT_REPORT),
            world: None,
            python_requirements: None,
            transcript_may_differ: Vec::new(),
            network_help: None,
            command: None,
            before: Vec::new(),
            after: Vec::new(),
            optional: false,
            renderers: Vec::new(),
        }
    }
}

/// A kind of text that differs from one machine or run to the next, which a session's output on
/// the page may show with other values than a run prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MayDiffer {
    /// Paths under the home folder: `/home/<name>`, `/Users/<name>`, `C:\Users\<name>`, `/root`,
    /// `~`. On the page: `[HOME]`.
    HomePaths,
    /// 40-hex commit ids. On the page: `[HASH]`.
    CommitHashes,
    /// Sizes such as `1.2 MB`, `523 bytes`, `12kB`. On the page: `[SIZE]`.
    Sizes,
    /// Timings such as `0.52s`, `3 ms`, `00:01`, `12.3it/s`. On the page: `[TIME]`.
    Timings,
}

/// Why the settings could not be read or used.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// No `book.toml` in the given folder.
    #[error("{}: no book.toml here; pass the book's root folder with --book", .0.display())]
    NoBook(PathBuf),
    /// `book.toml` is not valid TOML, or mdBook refuses it.
    #[error("{}: {source:#}", file.display())]
    Load {
        /// The `book.toml` read.
        file: PathBuf,
        /// mdBook's error.
        source: anyhow::Error,
    },
    /// The table has an unknown key or a value of the wrong type.
    #[error("book.toml: [preprocessor.hubcheck]: {0}")]
    Table(String),
    /// An endpoint that would send tokens in clear text, or is no URL at all.
    #[error(
        "book.toml: [preprocessor.hubcheck] hub-endpoint = \"{0}\": the token checker sends tokens only over \
         https (plain http is allowed for 127.0.0.1, [::1] and localhost, for tests)"
    )]
    InsecureEndpoint(String),
}

impl Settings {
    /// Loads `book.toml` of the book at `root` as mdBook does (with `MDBOOK_*` overrides from the
    /// environment) and reads the table from it.
    pub fn load(root: &Path) -> Result<Settings, SettingsError> {
        Settings::from_config(&load_config(root)?)
    }

    /// Reads and checks the table from an mdBook config (absent table: the defaults).
    pub fn from_config(config: &Config) -> Result<Settings, SettingsError> {
        let table = config
            .get::<toml::Value>("preprocessor.hubcheck")
            .map_err(|e| SettingsError::Table(format!("{e:#}")))?;
        Settings::from_table(table)
    }

    /// Reads and checks the settings from the table's value (or its absence); the preprocessor
    /// protocol, which gets the config as JSON, calls this directly.
    pub fn from_table(table: Option<toml::Value>) -> Result<Settings, SettingsError> {
        let settings: Settings = match table {
            None => Settings::default(),
            Some(value) => value
                .try_into()
                .map_err(|e: toml::de::Error| SettingsError::Table(e.message().to_string()))?,
        };
        settings.validate()?;
        Ok(settings)
    }

    /// Checks values that serde cannot: the endpoint must be https, or http on loopback.
    pub fn validate(&self) -> Result<(), SettingsError> {
        if is_allowed_endpoint(&self.hub_endpoint) {
            Ok(())
        } else {
            Err(SettingsError::InsecureEndpoint(self.hub_endpoint.clone()))
        }
    }

    /// The placeholders that stand for the reader's token (those mapped to `{token}`).
    pub fn token_placeholders(&self) -> Vec<&str> {
        self.placeholders
            .iter()
            .filter(|(_, value)| value.as_str() == "{token}")
            .map(|(key, _)| key.as_str())
            .collect()
    }

    /// Whether a token-shaped string is (part of) a placeholder that `book.toml` declares.
    pub fn is_declared_placeholder(&self, text: &str) -> bool {
        self.placeholders.keys().any(|p| p.contains(text))
    }

    /// Where the report is, for the book at `root`.
    pub fn report_path(&self, root: &Path) -> PathBuf {
        root.join(&self.report)
    }

    /// The world file of the book at `root`: the `world` key's, else `hub-world.toml` when it
    /// exists; `None` means the starter world.
    pub fn world_path(&self, root: &Path) -> Option<PathBuf> {
        match &self.world {
            Some(file) => Some(root.join(file)),
            None => Some(root.join(world_file::DEFAULT_FILE_NAME)).filter(|p| p.is_file()),
        }
    }

    /// The lock of the book at `root`: the `python-requirements` key's, else
    /// `hub-requirements.txt` beside the world file (or at the root) when it exists; `None` means
    /// the built-in lock.
    pub fn requirements_path(&self, root: &Path) -> Option<PathBuf> {
        if let Some(file) = &self.python_requirements {
            return Some(root.join(file));
        }
        let folder = self
            .world_path(root)
            .and_then(|w| w.parent().map(Path::to_path_buf))
            .unwrap_or_else(|| root.to_path_buf());
        Some(folder.join(DEFAULT_REQUIREMENTS_FILE)).filter(|p| p.is_file())
    }

    /// Builds the world the book at `root` declares (fresh token values each time).
    pub fn load_world(&self, root: &Path) -> Result<World, WorldFileError> {
        match self.world_path(root) {
            Some(file) => world_file::load(&file, root),
            None => Ok(world_file::starter()),
        }
    }

    /// Where the JUnit file goes: beside the report.
    pub fn junit_path(&self, root: &Path) -> PathBuf {
        self.report_path(root).with_file_name("junit.xml")
    }

    /// Where `test --clients latest|SPEC` writes its report: beside the report, so the badges,
    /// which read the pinned results, are left alone.
    pub fn clients_report_path(&self, root: &Path) -> PathBuf {
        self.mode_report_path(root, "clients")
    }

    /// The JUnit file of `test --clients latest|SPEC`, beside its report.
    pub fn clients_junit_path(&self, root: &Path) -> PathBuf {
        self.mode_junit_path(root, "clients")
    }

    /// Where a run in another mode (`journey`, `rerun`, `clients`) writes its report:
    /// `MODE-report.json` beside the report, which the badges read and such a run leaves alone.
    pub fn mode_report_path(&self, root: &Path, mode: &str) -> PathBuf {
        self.report_path(root)
            .with_file_name(format!("{mode}-report.json"))
    }

    /// The JUnit file of a run in another mode: `MODE-junit.xml` beside its report.
    pub fn mode_junit_path(&self, root: &Path, mode: &str) -> PathBuf {
        self.report_path(root)
            .with_file_name(format!("{mode}-junit.xml"))
    }
}

/// Why the world of a book could not be had.
#[derive(Debug, thiserror::Error)]
pub enum BookWorldError {
    /// `book.toml` could not be read.
    #[error(transparent)]
    Settings(#[from] SettingsError),
    /// The world file is wrong.
    #[error(transparent)]
    World(#[from] WorldFileError),
}

/// The world of the book at `root`, as its `book.toml` declares it.
pub fn load_book_world(root: &Path) -> Result<World, BookWorldError> {
    Ok(Settings::load(root)?.load_world(root)?)
}

/// Loads `book.toml` of the book at `root`, with mdBook's environment overrides applied.
pub fn load_config(root: &Path) -> Result<Config, SettingsError> {
    let file = root.join("book.toml");
    if !file.is_file() {
        return Err(SettingsError::NoBook(root.to_path_buf()));
    }
    let load = |source| SettingsError::Load {
        file: file.clone(),
        source,
    };
    let mut config = Config::from_disk(&file).map_err(load)?;
    config.update_from_env().map_err(load)?;
    Ok(config)
}

/// Whether the token checker may send a token to `endpoint`: https anywhere, http on loopback.
pub fn is_allowed_endpoint(endpoint: &str) -> bool {
    if endpoint.starts_with("https://") && endpoint.len() > "https://".len() {
        return true;
    }
    LOOPBACK_HOSTS.iter().any(|host| {
        endpoint
            .strip_prefix("http://")
            .and_then(|rest| rest.strip_prefix(host))
            .is_some_and(|rest| rest.is_empty() || rest.starts_with(':') || rest.starts_with('/'))
    })
}

#[cfg(test)]
mod tests;
