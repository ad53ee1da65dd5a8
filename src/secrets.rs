//! What a Hugging Face access token looks like, in one place for the whole crate.
//!
//! The preprocessor and the build refuse token-shaped strings in the book and its output, the
//! harness masks them in every message it prints, the mock Hub mints tokens of this shape, and
//! the token checker's script gets the prefix and length from the page (data attributes written by
//! [`crate::widgets`]) instead of restating them.

use std::sync::LazyLock;

use regex::Regex;

// How every user access token starts, and the letters and digits after the prefix in a token the
// Hub issues today: the mock Hub's constants, as it mints tokens of this shape (it depends on
// nothing of this crate, so they live there).
pub use mock_hub::world::{TOKEN_BODY_LENGTH, TOKEN_PREFIX};

/// The shortest body the leak check treats as a token: a little under [`TOKEN_BODY_LENGTH`], so a
/// token that lost a few characters when copied is still caught.
pub const LEAK_BODY_MIN: usize = 30;

/// [`TOKEN_PREFIX`] followed by [`LEAK_BODY_MIN`] or more letters and digits, as a regular
/// expression (the token checker's script receives this same text).
pub fn token_pattern() -> String {
    format!("{TOKEN_PREFIX}[A-Za-z0-9]{{{LEAK_BODY_MIN},}}")
}

/// The compiled [`token_pattern`].
static TOKEN_SHAPE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(&token_pattern()).expect("valid regex"));

/// A token-shaped string found in a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenHit {
    /// 1-based line of the hit.
    pub line: usize,
    /// The first characters only, safe to print.
    pub masked: String,
}

/// Shows only a token's first six characters, so an error message never repeats a secret.
pub fn mask(token: &str) -> String {
    let visible: String = token.chars().take(6).collect();
    format!("{visible}…")
}

/// Replaces every token-shaped string with its masked form, so a message or report never repeats
/// a token.
pub fn mask_tokens(text: &str) -> String {
    TOKEN_SHAPE
        .replace_all(text, |c: &regex::Captures<'_>| mask(&c[0]))
        .into_owned()
}

/// Every token-shaped string in `text` that is not one of the declared `allowed` placeholders.
pub fn find_tokens<'a>(text: &str, allowed: impl Fn(&str) -> bool + 'a) -> Vec<TokenHit> {
    TOKEN_SHAPE
        .find_iter(text)
        .filter(|m| !allowed(m.as_str()))
        .map(|m| TokenHit {
            line: text[..m.start()].matches('\n').count() + 1,
            masked: mask(m.as_str()),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn planted() -> String {
        // Built at run time so no token-shaped literal sits in the source.
        format!("hf_{}", "Ab3".repeat(12))
    }

    #[test]
    fn finds_a_planted_token_and_masks_it() {
        let text = format!("line one\nuse {} here\n", planted());
        let hits = find_tokens(&text, |_| false);
        assert_eq!(
            hits,
            vec![TokenHit {
                line: 2,
                masked: "hf_Ab3…".into()
            }]
        );
    }

    #[test]
    fn short_and_placeholder_strings_are_not_tokens() {
        let text = "hf_your_token_here and hf_abc and hf_12345678901234567890123456789";
        assert!(find_tokens(text, |_| false).is_empty());
    }

    #[test]
    fn a_generated_token_has_the_documented_shape() {
        let token = format!("{TOKEN_PREFIX}{}", "a".repeat(TOKEN_BODY_LENGTH));
        assert_eq!(find_tokens(&token, |_| false).len(), 1);
        let cut = format!("{TOKEN_PREFIX}{}", "a".repeat(LEAK_BODY_MIN - 1));
        assert!(find_tokens(&cut, |_| false).is_empty());
    }

    #[test]
    fn declared_placeholders_pass() {
        let token = planted();
        let text = format!("token = \"{token}\"");
        assert!(find_tokens(&text, |s| s == token).is_empty());
    }
}
