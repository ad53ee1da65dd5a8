//! The HTML (and plain-text fallbacks) of the live widgets the preprocessor injects.
//!
//! Each widget is an empty container whose `class` and `data-*` attributes tell the widget script
//! ([`assets::JS`]) what to build. Readers without JavaScript see the `data-fallback` text, which
//! the stylesheet shows: it is an attribute, not a `<noscript>` text, because mdBook's search
//! indexer reads `<noscript>` text (it skips only `<script>` and `<style>`), and widget text must
//! stay out of search results. Renderers other than html get a markdown text fallback instead.
//!
//! [`badge`] chooses and renders the verification badge of each code block from the harness
//! report. The widgets only render: serving a book is [`crate::commands::serve`]'s job.
//!
//! What the script must know of the rest of the crate (the token's shape, the hosts that may be
//! reached over plain http, the words for each role) reaches it through data attributes written
//! here, so it is defined once, in Rust.

pub mod assets;
pub mod badge;
pub mod csp;

use std::fmt;

use crate::secrets::{TOKEN_BODY_LENGTH, TOKEN_PREFIX};
use crate::settings::LOOPBACK_HOSTS;

/// The role of token a page needs, as a widget directive says it (`role=read`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Downloading and reading.
    Read,
    /// Uploading, creating and changing repos.
    Write,
    /// A token with hand-picked permissions.
    FineGrained,
}

impl Role {
    /// The spelling used in directives, HTML attributes and the Hub's whoami answer.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Read => "read",
            Role::Write => "write",
            Role::FineGrained => "fineGrained",
        }
    }

    /// The role a directive names (`role=read`, `role=fine-grained`), if it names one.
    pub fn from_directive(value: &str) -> Option<Role> {
        match value {
            "read" => Some(Role::Read),
            "write" => Some(Role::Write),
            "fine-grained" | "fineGrained" => Some(Role::FineGrained),
            _ => None,
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One thing a page does with the token, which the checker tells the student their token may or
/// may not do (`needs=gated,inference`): the Hub's permissions, from its whoami answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Downloading public models and datasets: any valid token.
    Read,
    /// Downloading gated models and datasets the account was approved for.
    Gated,
    /// Uploading to the account's own repositories.
    Write,
    /// Calling Inference Providers through the Hub's router.
    Inference,
}

impl Need {
    /// Every need, in the order a checker lists them.
    pub const ALL: [Need; 4] = [Need::Read, Need::Gated, Need::Write, Need::Inference];

    /// The word a directive uses (`needs=gated`).
    pub fn as_str(self) -> &'static str {
        match self {
            Need::Read => "read",
            Need::Gated => "gated",
            Need::Write => "write",
            Need::Inference => "inference",
        }
    }

    /// The need a directive's word names, if any.
    pub fn from_directive(word: &str) -> Option<Need> {
        Need::ALL.into_iter().find(|n| n.as_str() == word)
    }

    /// What the page does, as the checker's list says it.
    pub fn phrase(self) -> &'static str {
        match self {
            Need::Read => "download public models and datasets",
            Need::Gated => "download gated models and datasets that your account was approved for",
            Need::Write => "upload to your own repositories",
            Need::Inference => "call Inference Providers, which run models on the Hub's servers",
        }
    }
}

/// The class that marks a token checker container.
pub const TOKEN_CHECK_CLASS: &str = "hubcheck-token-check";

/// Escapes text for use inside an HTML attribute or element.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

impl Role {
    /// What a reader is told the page needs, e.g. "a read token".
    pub fn phrase(self) -> &'static str {
        match self {
            Role::Read => "a read token",
            Role::Write => "a write token",
            Role::FineGrained => "a fine-grained token",
        }
    }
}

/// The class of the container's one child, which carries the no-script text and the placeholders.
pub const TOKEN_CHECK_CONFIG_CLASS: &str = "hubcheck-config";

/// The token checker's container for the html renderer, on a single line so it forms one HTML block.
///
/// `placeholders` are the book's token placeholders (e.g. `hf_your_token_here`), which the checker
/// recognises when a student pastes one unchanged. They, the no-script text and what the script
/// must know of the crate (the role's words, the token's prefix and length, the loopback hosts)
/// sit on an empty child element, so the container's own attributes stay `class`, `data-role`,
/// `data-hub-endpoint`.
pub fn token_check_html(role: Role, hub_endpoint: &str, placeholders: &[&str]) -> String {
    token_check_html_with_help(role, &[], hub_endpoint, placeholders, None)
}

/// The sentence the checker shows when the page carries the policy of [`csp`]; `{hub}` is the
/// Hub's host.
pub const GUARD_SENTENCE: &str = "Your browser itself blocks this page from sending anything \
     to any site other than this one and {hub}.";

/// [`token_check_html`] with the page (relative to the book's root, e.g.
/// `where-your-token-goes.html`) that shows how to watch the request in the browser; the
/// checker links to it after [`GUARD_SENTENCE`].
///
/// `needs` (the directive's `needs=`) become the checklist the checker shows after a live check:
/// for each, whether the token's permissions allow it.
pub fn token_check_html_with_help(
    role: Role,
    needs: &[Need],
    hub_endpoint: &str,
    placeholders: &[&str],
    help_page: Option<&str>,
) -> String {
    let json = |value: &[&str]| serde_json::to_string(value).unwrap_or_else(|_| "[]".into());
    format!(
        "<div class=\"{TOKEN_CHECK_CLASS}\" data-role=\"{role}\" data-hub-endpoint=\"{endpoint}\">\
         <div class=\"{TOKEN_CHECK_CONFIG_CLASS}\" data-placeholders=\"{placeholders}\" \
         data-role-words=\"{words}\" data-token-prefix=\"{TOKEN_PREFIX}\" \
         data-token-length=\"{TOKEN_BODY_LENGTH}\" data-loopback=\"{loopback}\" \
         data-guard=\"{guard}\" data-guard-help=\"{help}\" data-needs=\"{needs}\" \
         data-fallback=\"{fallback}\"></div></div>",
        needs = escape_html(&needs_json(needs)),
        guard = escape_html(GUARD_SENTENCE),
        help = escape_html(help_page.unwrap_or("")),
        role = role.as_str(),
        endpoint = escape_html(hub_endpoint),
        placeholders = escape_html(&json(placeholders)),
        words = role.phrase(),
        loopback = escape_html(&json(&LOOPBACK_HOSTS)),
        fallback = escape_html(&format!(
            "The token checker needs JavaScript. This page needs {}. You can test your token on \
             your own computer with: hf auth whoami",
            role.phrase()
        )),
    )
}

/// The needs as the script reads them: `[{"need": "gated", "words": "download gated ..."}]`.
fn needs_json(needs: &[Need]) -> String {
    let list: Vec<serde_json::Value> = needs
        .iter()
        .map(|n| serde_json::json!({ "need": n.as_str(), "words": n.phrase() }))
        .collect();
    serde_json::Value::Array(list).to_string()
}

/// The token checker as markdown text, for renderers that cannot run scripts.
pub fn token_check_text(role: Role) -> String {
    format!(
        "> **Check your token.** This page needs {phrase}. The web version of this page has a token \
         checker here. On your own computer, test your token with `hf auth whoami`.",
        phrase = role.phrase(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn container_carries_class_role_and_escaped_endpoint() {
        let html = token_check_html(
            Role::Write,
            "http://127.0.0.1:1/\"x",
            &["hf_your_token_here"],
        );
        assert!(html.starts_with("<div class=\"hubcheck-token-check\" data-role=\"write\""));
        assert!(html.contains("data-hub-endpoint=\"http://127.0.0.1:1/&quot;x\""));
        assert!(html.contains("data-placeholders=\"[&quot;hf_your_token_here&quot;]\""));
        assert!(html.contains("data-role-words=\"a write token\""));
        assert!(html.contains("data-token-prefix=\"hf_\" data-token-length=\"34\""));
        assert!(html.contains(
            "data-loopback=\"[&quot;127.0.0.1&quot;,&quot;localhost&quot;,&quot;[::1]&quot;]\""
        ));
        assert!(html.contains(
            "data-fallback=\"The token checker needs JavaScript. This page needs a write token."
        ));
        assert!(!html.contains('\n'));
    }

    #[test]
    fn container_has_no_text_for_the_search_index() {
        let html = token_check_html(Role::Read, "https://huggingface.co", &[]);
        assert!(html.ends_with("\"></div></div>"), "{html}");
        assert!(!html.contains("<noscript"));
    }

    #[test]
    fn needs_reach_the_script_with_their_words() {
        let html = token_check_html_with_help(
            Role::FineGrained,
            &[Need::Gated, Need::Inference],
            "https://huggingface.co",
            &[],
            None,
        );
        assert!(
            html.contains("data-needs=\"[{&quot;need&quot;:&quot;gated&quot;,"),
            "{html}"
        );
        assert!(html.contains("call Inference Providers"), "{html}");
        assert!(
            token_check_html(Role::Read, "https://huggingface.co", &[])
                .contains("data-needs=\"[]\"")
        );
        for need in Need::ALL {
            assert_eq!(Need::from_directive(need.as_str()), Some(need));
        }
    }

    #[test]
    fn text_fallback_names_the_role() {
        assert!(token_check_text(Role::Read).contains("a read token"));
    }
}
