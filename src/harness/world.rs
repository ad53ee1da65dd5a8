//! What the harness needs from a Hub: its URL, its account, its tokens, and a way to answer a
//! browser login as a person would. The in-process mock Hub and a mock Hub started elsewhere
//! (`--hub URL`) both provide it.

use crate::snippets::annotation::TokenChoice;

/// A Hub the snippets run against.
pub trait HubWorld: Send + Sync {
    /// The endpoint, e.g. `http://127.0.0.1:40123`, with no trailing slash.
    fn endpoint(&self) -> String;
    /// The account name the tokens belong to.
    fn user(&self) -> String;
    /// The token value for a scenario's choice; `None` for [`TokenChoice::None`].
    fn token(&self, choice: TokenChoice) -> Option<String>;
    /// Approves or denies a pending browser (device-code) login, as the person would on the page
    /// the CLI told them to open.
    fn answer_device_login(&self, user_code: &str, approve: bool) -> Result<(), String>;
}
