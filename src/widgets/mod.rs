//! The HTML (and plain-text fallbacks) of the live widgets the preprocessor injects.
//!
//! Each widget is an empty container whose `class` and `data-*` attributes tell the widget script
//! ([`assets::JS`]) what to build. Readers without JavaScript see the `data-fallback` text, which
//! the stylesheet shows: it is an attribute, not a `<noscript>` text, because mdBook's search
//! indexer reads `<noscript>` text (it skips only `<script>` and `<style>`), and widget text must
//! stay out of search results. Renderers other than html get a markdown text fallback instead.
//!
//! [`badge`] chooses and renders the verification badge of each code block from the harness
//! [`report`]; [`serve`] is the `mdbook-hubcheck serve` command.

pub mod assets;
pub mod badge;
pub mod serve;

use crate::preprocess::directive::Role;

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

/// What a reader is told the page needs, e.g. "a read token".
fn role_phrase(role: Role) -> &'static str {
    match role {
        Role::Read => "a read token",
        Role::Write => "a write token",
        Role::FineGrained => "a fine-grained token",
    }
}

/// The class of the container's one child, which carries the no-script text and the placeholders.
pub const TOKEN_CHECK_CONFIG_CLASS: &str = "hubcheck-config";

/// The token checker's container for the html renderer, on a single line so it forms one HTML block.
///
/// `placeholders` are the book's token placeholders (e.g. `hf_your_token_here`), which the checker
/// recognises when a student pastes one unchanged. They and the no-script text sit on an empty
/// child element, so the container's own attributes stay `class`, `data-role`, `data-hub-endpoint`.
pub fn token_check_html(role: Role, hub_endpoint: &str, placeholders: &[&str]) -> String {
    let placeholders = serde_json::to_string(placeholders).unwrap_or_else(|_| "[]".into());
    format!(
        "<div class=\"{TOKEN_CHECK_CLASS}\" data-role=\"{role}\" data-hub-endpoint=\"{endpoint}\">\
         <div class=\"{TOKEN_CHECK_CONFIG_CLASS}\" data-placeholders=\"{placeholders}\" data-fallback=\"{fallback}\"></div></div>",
        role = role.as_str(),
        endpoint = escape_html(hub_endpoint),
        placeholders = escape_html(&placeholders),
        fallback = escape_html(&format!(
            "The token checker needs JavaScript. This page needs {}. You can test your token on \
             your own computer with: hf auth whoami",
            role_phrase(role)
        )),
    )
}

/// The token checker as markdown text, for renderers that cannot run scripts.
pub fn token_check_text(role: Role) -> String {
    format!(
        "> **Check your token.** This page needs {phrase}. The web version of this page has a token \
         checker here. On your own computer, test your token with `hf auth whoami`.",
        phrase = role_phrase(role),
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
    fn text_fallback_names_the_role() {
        assert!(token_check_text(Role::Read).contains("a read token"));
    }
}
