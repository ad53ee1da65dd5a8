//! The harness's errors: why it could not start ([`Error`]), why one case did not pass
//! ([`CaseError`]), and the one error of a case's Hub ([`HubError`]) that both carry.
//!
//! A leaf: it names the errors of the parts (the Python environment's, a process's) and defines
//! nothing they need, so every part can return these without importing the others.

use crate::settings::SettingsError;
use crate::snippets::ExtractError;

/// Why the harness could not start, or why a case did not pass.
///
/// A case's error carries the snippet's `file:line` and the scenario, so every message says which
/// instruction of the book it is about.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The book's snippets could not be read.
    #[error(transparent)]
    Extract(#[from] ExtractError),
    /// `book.toml` could not be read.
    #[error(transparent)]
    Settings(#[from] SettingsError),
    /// The book's world file is wrong: no run starts.
    #[error(transparent)]
    World(#[from] crate::hub::world_file::WorldFileError),
    /// A scenario names a token the world does not declare: no run starts.
    #[error(
        "{location}: scenario `{scenario}` asks for the token `{name}`, which the Hub's world does not \
         declare; declare [tokens.{name}] in the world file, or use one of: {known}, invalid, none"
    )]
    UnknownToken {
        /// `file:line` of the snippet.
        location: String,
        /// The scenario's name.
        scenario: String,
        /// The name asked for.
        name: String,
        /// The names the world declares, comma-separated.
        known: String,
    },
    /// The Python environment (pinned, or another `--clients` set) could not be made or read. Not
    /// a `source`: the message already holds it, and `{:#}` would print it twice.
    #[error("preparing the Python environment: {0}")]
    PyEnv(super::pyenv::PyEnvError),
    /// The Hub could not be started, reset, reached or asked.
    #[error(transparent)]
    Hub(#[from] HubError),
    /// `test --journey` could not make the one world and home its student works in.
    #[error("making the journey's world and home: {0}")]
    Journey(Box<CaseError>),
    /// The warm Python interpreters could not be started.
    #[error("starting the warm Python interpreters: {0}")]
    Warm(std::io::Error),
    /// Asked for more parallel cases than the Hub allows.
    #[error(
        "--jobs {jobs}: a Hub given with --hub has one world, so its scenarios run one at a time; \
         use --jobs 1, or leave out --hub to give every scenario a mock Hub of its own"
    )]
    TooManyJobs {
        /// The jobs asked for.
        jobs: usize,
    },
    /// A case of one snippet and scenario did not pass.
    #[error("{location} ({language}, scenario {scenario}):\n{kind}")]
    Case {
        /// `file:line` of the snippet.
        location: String,
        /// Its fence language.
        language: String,
        /// The scenario's name.
        scenario: String,
        /// What went wrong.
        kind: Box<CaseError>,
    },
}

/// The Hub could not be started, reset, reached or asked: the one error of
/// [`super::case_hub`], which a run that cannot start ([`Error::Hub`]) and a case that fails
/// ([`CaseError::Hub`]) both carry as it is.
#[derive(Debug, thiserror::Error)]
#[error("{endpoint}: {message}")]
pub struct HubError {
    /// The Hub's URL, or what it is.
    pub endpoint: String,
    /// What failed.
    pub message: String,
}

/// What went wrong in one case.
#[derive(Debug, thiserror::Error)]
pub enum CaseError {
    /// The snippet cannot be run at all (no style, a bad annotation).
    #[error("{0}")]
    NotRunnable(String),
    /// The case's folders or network could not be prepared.
    #[error("preparing the run: {0}")]
    Setup(#[from] std::io::Error),
    /// The Hub of the case failed.
    #[error(transparent)]
    Hub(#[from] HubError),
    /// A process could not be started.
    #[error(transparent)]
    Process(#[from] super::process::ProcessError),
    /// The snippet this one continues failed first.
    #[error("the snippet this one continues, {location}, failed first:\n{details}")]
    ContinuedFailed {
        /// `file:line` of the earlier snippet.
        location: String,
        /// Expected against actual.
        details: String,
    },
    /// The run did not do what the book promises.
    #[error("{0}")]
    Unmet(String),
}

impl From<super::pyenv::PyEnvError> for Error {
    fn from(error: super::pyenv::PyEnvError) -> Self {
        Error::PyEnv(error)
    }
}
