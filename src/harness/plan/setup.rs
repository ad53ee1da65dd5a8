//! What every process of a case shares, one process, and which processes a run is made of: the
//! types the other parts of planning take (a leaf of [`super`]).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::harness::case_hub::CaseHub;
use crate::harness::isolation::network::CaseNetwork;
use crate::harness::process::Invocation;
use crate::snippets::annotation::{Scenario, Style, TokenChoice};
use crate::snippets::transcript::Transcript;

/// The default timeout of a run, when the annotation sets none.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);
/// Bytes kept of each output stream of a run.
pub const OUTPUT_CAP: usize = 1 << 20;

/// Everything that is the same for all processes of one case.
pub struct Setup<'a> {
    /// The pinned environment's `bin` folder (python, hf).
    pub venv_bin: &'a Path,
    /// The case's own Hub.
    pub hub: Arc<dyn CaseHub>,
    /// `[preprocessor.hubcheck.placeholders]`: placeholder → template.
    pub placeholders: &'a BTreeMap<String, String>,
    /// The case's network: where its processes run and what they tried to reach.
    pub network: &'a CaseNetwork,
}

/// One process of a run, with what it stands for.
pub struct Step {
    /// The process.
    pub invocation: Invocation,
    /// `file:line` of the snippet it runs.
    pub location: String,
    /// Whether this is the snippet under test (the last step), not one it continues.
    pub is_target: bool,
    /// What a browser login was answered with, if the run asked for one.
    pub device_code: Arc<Mutex<Option<String>>>,
    /// The token the harness put where this process reads it (a placeholder, a variable, a
    /// secret, a prompt; for the snippet under test also a saved login); `None` when none.
    pub handed: Option<TokenChoice>,
    /// The scenario this process runs under (for an earlier snippet, its matching scenario).
    pub scenario: Scenario,
    /// The session it runs prompt by prompt, placeholders replaced, when the snippet is one.
    pub transcript: Option<Transcript>,
    /// The page line of the snippet's opening fence, for a session's messages.
    pub fence_line: usize,
}

/// Which processes a run of a snippet is made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pass {
    /// A run as it stands on the page: the saved state the scenario starts from, the snippets it
    /// continues, then the snippet.
    Once,
    /// The snippet run again where its first run left the world and home (`test --rerun` of a
    /// script or a command): no state is prepared and nothing it continues runs again.
    Again,
    /// A notebook cell run twice in one Python process, as a re-run cell runs in the same
    /// kernel (`test --rerun` of a Colab, Jupyter or AI Studio snippet): as [`Pass::Once`], with
    /// the cell executed a second time after the first ([`crate::harness::rerun`] splits the output).
    TwiceInOneProcess,
}

/// Whether a snippet of this style runs in a notebook, where a re-run cell runs again in the
/// same Python process.
pub fn is_notebook(style: Style) -> bool {
    matches!(style, Style::Colab | Style::Jupyter | Style::Aistudio)
}

pub(super) fn is_python(style: Style) -> bool {
    matches!(
        style,
        Style::Python | Style::Colab | Style::Aistudio | Style::Jupyter
    )
}
