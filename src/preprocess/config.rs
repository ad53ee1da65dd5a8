//! The `[preprocessor.hubcheck]` table of `book.toml`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;

/// The Hub the token checker asks when `hub-endpoint` is not set.
pub const DEFAULT_HUB_ENDPOINT: &str = "https://huggingface.co";

/// Settings read from `[preprocessor.hubcheck]`; every key is documented in README.md.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct Settings {
    /// The Hub endpoint the token checker calls.
    pub hub_endpoint: String,
    /// Placeholders the book shows, and what the harness puts in their place.
    pub placeholders: BTreeMap<String, String>,
    /// The harness report that verification badges are read from, relative to the book root.
    pub report: PathBuf,
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
            report: PathBuf::from("target/hubcheck/report.json"),
            command: None,
            before: Vec::new(),
            after: Vec::new(),
            optional: false,
            renderers: Vec::new(),
        }
    }
}

impl Settings {
    /// Reads the settings from the `[preprocessor.hubcheck]` table (or its absence).
    pub fn from_table(table: Option<toml::Value>) -> Result<Settings, toml::de::Error> {
        match table {
            None => Ok(Settings::default()),
            Some(value) => value.try_into(),
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

    /// Whether a token-shaped string is a placeholder that `book.toml` declares.
    pub fn is_declared_placeholder(&self, text: &str) -> bool {
        self.placeholders
            .keys()
            .any(|p| p == text || p.contains(text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_table_gives_defaults() {
        let s = Settings::from_table(None).unwrap();
        assert_eq!(s.hub_endpoint, DEFAULT_HUB_ENDPOINT);
        assert!(s.placeholders.is_empty());
    }

    #[test]
    fn accepts_mdbooks_own_keys() {
        let table: toml::Value = toml::from_str(
            "command = \"mdbook-hubcheck\"\nafter = [\"links\"]\noptional = true\nhub-endpoint = \"http://127.0.0.1:9\"",
        )
        .unwrap();
        let s = Settings::from_table(Some(table)).unwrap();
        assert_eq!(s.hub_endpoint, "http://127.0.0.1:9");
    }

    #[test]
    fn rejects_unknown_keys_by_name() {
        let table: toml::Value = toml::from_str("hub-endpont = \"x\"").unwrap();
        let err = Settings::from_table(Some(table)).unwrap_err().to_string();
        assert!(err.contains("hub-endpont"), "{err}");
    }
}

/// A `[preprocessor.hubcheck]` value that parses but cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    /// An endpoint that would send tokens in clear text, or is no URL at all.
    #[error(
        "book.toml: [preprocessor.hubcheck] hub-endpoint = \"{0}\": the token checker sends tokens only over \
         https (plain http is allowed for 127.0.0.1, [::1] and localhost, for tests)"
    )]
    InsecureEndpoint(String),
}

impl Settings {
    /// Checks values that serde cannot: the endpoint must be https, or http on loopback.
    pub fn validate(&self) -> Result<(), SettingsError> {
        let endpoint = self.hub_endpoint.as_str();
        if endpoint.starts_with("https://") && endpoint.len() > "https://".len() {
            return Ok(());
        }
        let loopback = ["http://127.0.0.1", "http://localhost", "http://[::1]"];
        let ok = loopback.iter().any(|prefix| {
            endpoint.strip_prefix(prefix).is_some_and(|rest| {
                rest.is_empty() || rest.starts_with(':') || rest.starts_with('/')
            })
        });
        if ok {
            Ok(())
        } else {
            Err(SettingsError::InsecureEndpoint(endpoint.to_string()))
        }
    }
}

#[cfg(test)]
mod validate_tests {
    use super::*;

    fn with_endpoint(endpoint: &str) -> Settings {
        Settings {
            hub_endpoint: endpoint.into(),
            ..Settings::default()
        }
    }

    #[test]
    fn https_and_loopback_http_are_allowed() {
        for ok in [
            "https://huggingface.co",
            "http://127.0.0.1:8080",
            "http://localhost:1",
            "http://[::1]:3",
        ] {
            assert!(with_endpoint(ok).validate().is_ok(), "{ok}");
        }
    }

    #[test]
    fn other_http_is_refused() {
        for bad in [
            "http://huggingface.co",
            "http://127.0.0.1.evil.example",
            "http://localhost.example",
            "ftp://x",
            "",
        ] {
            assert!(with_endpoint(bad).validate().is_err(), "{bad}");
        }
    }
}
