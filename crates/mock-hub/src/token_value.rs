//! What a token's value looks like and how a new one is made, for the world file, the admin API,
//! OAuth and the Xet store alike.
//!
//! A leaf: it takes nothing from the rest of the mock Hub.

use rand::RngExt;

/// How every user access token starts.
pub const TOKEN_PREFIX: &str = "hf_";

/// Letters and digits after the prefix in a token the Hub issues today.
pub const TOKEN_BODY_LENGTH: usize = 34;

/// Generates a token-shaped value the Hub does not know yet ([`TOKEN_PREFIX`] and
/// [`TOKEN_BODY_LENGTH`] letters and digits).
pub fn generate_token_value() -> String {
    let mut rng = rand::rng();
    let tail: String = (0..TOKEN_BODY_LENGTH)
        .map(|_| char::from(rng.sample(rand::distr::Alphanumeric)))
        .collect();
    format!("{TOKEN_PREFIX}{tail}")
}
