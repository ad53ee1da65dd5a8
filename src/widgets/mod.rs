//! The HTML (and plain-text fallbacks) of the live widgets the preprocessor injects.
//!
//! Each widget is an empty container whose `class` and `data-*` attributes tell the widget script
//! what to build, plus a `<noscript>` text for readers without JavaScript. Renderers other than
//! html get the text fallback as markdown instead.

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

/// The token checker's container for the html renderer, on a single line so it forms one HTML block.
pub fn token_check_html(role: Role, hub_endpoint: &str) -> String {
    format!(
        "<div class=\"{TOKEN_CHECK_CLASS}\" data-role=\"{role}\" data-hub-endpoint=\"{endpoint}\">\
         <noscript><p>The token checker needs JavaScript. This page needs {phrase}. \
         You can test your token on your own computer with <code>hf auth whoami</code>.</p></noscript></div>",
        role = role.as_str(),
        endpoint = escape_html(hub_endpoint),
        phrase = role_phrase(role),
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
        let html = token_check_html(Role::Write, "http://127.0.0.1:1/\"x");
        assert!(html.starts_with("<div class=\"hubcheck-token-check\" data-role=\"write\""));
        assert!(html.contains("data-hub-endpoint=\"http://127.0.0.1:1/&quot;x\""));
        assert!(html.contains("<noscript>"));
        assert!(!html.contains('\n'));
    }

    #[test]
    fn text_fallback_names_the_role() {
        assert!(token_check_text(Role::Read).contains("a read token"));
    }
}
