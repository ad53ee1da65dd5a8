//! The values that placeholders and `{...}` templates stand for in one scenario, and the code as
//! a student would have it after replacing each placeholder.

use regex::Regex;

use crate::snippets::annotation::{Scenario, TokenChoice};
use crate::snippets::transcript::Transcript;

use super::setup::Setup;

/// The values that placeholders and `{...}` templates stand for in one scenario.
#[derive(Debug, Clone, Default)]
pub struct Values {
    scenario: String,
    token: Option<String>,
    typed: String,
    user: String,
    endpoint: String,
    /// `{token:<kind>}` → that kind's token, for scenarios that put different tokens in
    /// different places.
    kinds: Vec<(String, String)>,
}

impl Values {
    /// The values of `scenario` in `setup`'s world.
    pub fn new(setup: &Setup<'_>, scenario: &Scenario) -> Values {
        let choice = scenario
            .token
            .clone()
            .unwrap_or_else(TokenChoice::default_read);
        let token = setup.hub.token(&choice);
        let typed = match (&token, &scenario.token_text) {
            (Some(t), Some(template)) => template.replace("{token}", t),
            (Some(t), None) => t.clone(),
            (None, _) => String::new(),
        };
        let kinds = setup
            .hub
            .token_names()
            .into_iter()
            .map(TokenChoice::Named)
            .chain([TokenChoice::Invalid])
            .filter_map(|c| Some((format!("{{token:{}}}", c.as_str()), setup.hub.token(&c)?)))
            .collect();
        Values {
            scenario: scenario.name.clone(),
            token,
            typed,
            user: setup.hub.user(),
            endpoint: setup.hub.endpoint(),
            kinds,
        }
    }

    /// Replaces `{token}`, `{token:<kind>}`, `{user}`, `{endpoint}` and `{scenario}` in a template.
    pub fn expand(&self, template: &str) -> String {
        let mut text = template.to_string();
        for (key, value) in &self.kinds {
            text = text.replace(key, value);
        }
        text.replace("{scenario}", &self.scenario)
            .replace("{token}", &self.typed)
            .replace("{user}", &self.user)
            .replace("{endpoint}", &self.endpoint)
    }

    /// Each value a run may print with the `{...}` template that stands for it in an
    /// annotation (`{token:<kind>}`, `{token}`, `{user}`, `{endpoint}`), longest value first, so
    /// `--bless` can write what a run printed back in the form the annotation uses.
    pub fn templates_back(&self) -> Vec<(String, String)> {
        let mut pairs: Vec<(String, String)> = self
            .kinds
            .iter()
            .filter(|(_, value)| Some(value) != self.token.as_ref())
            .map(|(key, value)| (value.clone(), key.clone()))
            .collect();
        pairs.extend(
            [
                (self.typed.trim().to_string(), "{token}"),
                (self.token.clone().unwrap_or_default(), "{token}"),
                (self.user.clone(), "{user}"),
                (self.endpoint.clone(), "{endpoint}"),
            ]
            .into_iter()
            .map(|(value, key)| (value, key.to_string())),
        );
        // The real endpoint is what the page shows anyway: printed URLs stay as they are.
        pairs.retain(|(value, _)| {
            !value.is_empty() && value != crate::harness::isolation::addresses::REAL_ENDPOINT
        });
        pairs.sort_by_key(|(value, _)| std::cmp::Reverse(value.len()));
        pairs
    }

    /// The bare token value (without `token-text`), for masking.
    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }
}

/// The code (or an output block) as a student would have it after replacing each placeholder.
///
/// All placeholders are replaced in one pass, longest first, so a placeholder inside another
/// (`model-name` in `private-model-name`) never changes the longer one.
pub fn substitute(code: &str, setup: &Setup<'_>, values: &Values, python: bool) -> String {
    let mut keys: Vec<&String> = setup
        .placeholders
        .keys()
        .filter(|k| !k.is_empty())
        .collect();
    if keys.is_empty() {
        return code.to_string();
    }
    keys.sort_by_key(|k| std::cmp::Reverse(k.len()));
    let alternation = keys
        .iter()
        .map(|k| regex::escape(k))
        .collect::<Vec<_>>()
        .join("|");
    let pattern = Regex::new(&alternation).expect("escaped placeholders form a valid regex");
    pattern
        .replace_all(code, |found: &regex::Captures<'_>| {
            let mut value = values.expand(&setup.placeholders[&found[0]]);
            if python {
                // A newline pasted into a Python string literal is written as its escape.
                value = value
                    .replace('\n', "\\n")
                    .replace('\r', "\\r")
                    .replace('\t', "\\t");
            }
            value
        })
        .into_owned()
}

/// A session with placeholders replaced in what is typed and in what the page shows.
pub(super) fn substitute_transcript(
    transcript: &Transcript,
    setup: &Setup<'_>,
    values: &Values,
    python: bool,
) -> Transcript {
    let mut out = transcript.clone();
    for exchange in &mut out.exchanges {
        exchange.input = substitute(&exchange.input, setup, values, python);
        exchange.expected = substitute(&exchange.expected, setup, values, false);
    }
    out
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::Path;
    use std::sync::Arc;

    use super::*;
    use crate::harness::HubError;
    use crate::harness::case_hub::CaseHub;
    use crate::harness::isolation::network::CaseNetwork;

    struct NoHub;

    impl CaseHub for NoHub {
        fn endpoint(&self) -> String {
            "http://127.0.0.1:1".into()
        }
        fn user(&self) -> String {
            "ada".into()
        }
        fn token(&self, _: &TokenChoice) -> Option<String> {
            Some("hf_tok".into())
        }
        fn token_names(&self) -> Vec<String> {
            vec!["read".into()]
        }
        fn answer_device_login(&self, _: &str, _: bool) -> Result<(), HubError> {
            Ok(())
        }
        fn requests(&self) -> Result<Vec<crate::hub::LoggedRequest>, HubError> {
            Ok(Vec::new())
        }
        fn grant_gated_access(&self, _: &str) -> Result<(), HubError> {
            Ok(())
        }
        fn oauth_grant(&self, _: u64) -> Result<(String, String), HubError> {
            Ok(("hf_access".into(), "hf_refresh".into()))
        }
        fn set_inference_credits(&self, _: f64) -> Result<(), HubError> {
            Ok(())
        }
        fn add_fault(&self, _: &crate::snippets::annotation::HubFault) -> Result<(), HubError> {
            Ok(())
        }
    }

    #[test]
    fn placeholders_are_replaced_longest_first_in_one_pass() {
        let placeholders = BTreeMap::from([
            ("model-name".to_string(), "org/tiny".to_string()),
            ("private-model-name".to_string(), "org/private".to_string()),
            ("hf_your_token_here".to_string(), "{token}".to_string()),
            ("your-username".to_string(), "{user}".to_string()),
        ]);
        let dir = tempfile::tempdir().unwrap();
        let network = CaseNetwork::new(
            crate::harness::isolation::namespaces::Isolation::Proxy,
            dir.path(),
        )
        .unwrap();
        let setup = Setup {
            venv_bin: Path::new("/venv/bin"),
            hub: Arc::new(NoHub),
            placeholders: &placeholders,
            network: &network,
        };
        let scenario = Scenario {
            token_text: Some("{token}\n".into()),
            ..Scenario::default()
        };
        let values = Values::new(&setup, &scenario);
        let code = "load(\"private-model-name\", \"model-name\", token=\"hf_your_token_here\")  # your-username";
        assert_eq!(
            substitute(code, &setup, &values, true),
            "load(\"org/private\", \"org/tiny\", token=\"hf_tok\\n\")  # ada"
        );
        assert!(substitute("hf_your_token_here", &setup, &values, false).ends_with('\n'));
    }
}
