//! Finds strings shaped like Hugging Face access tokens, so none reaches the book or its output.

use std::sync::LazyLock;

use regex::Regex;

/// `hf_` followed by 30 or more letters and digits: the shape of a real user access token.
static TOKEN_SHAPE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"hf_[A-Za-z0-9]{30,}").expect("valid regex"));

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
            line: crate::snippets::scan::line_of(text, m.start()),
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
    fn declared_placeholders_pass() {
        let token = planted();
        let text = format!("token = \"{token}\"");
        assert!(find_tokens(&text, |s| s == token).is_empty());
    }
}
