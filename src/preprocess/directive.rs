//! Parses `{{#hubcheck NAME key=value ...}}` widget directives.

use crate::widgets::{Need, Role};

/// A widget the preprocessor knows how to insert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Directive {
    /// The token checker, for a page that needs a token of `role`.
    TokenCheck {
        /// The role the page needs.
        role: Role,
        /// What the page does with the token (`needs=gated,inference`), for the checklist.
        needs: Vec<Need>,
    },
}

/// Why a directive could not be understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DirectiveError {
    /// A widget name the preprocessor does not know.
    #[error("unknown hubcheck directive `{0}` (known: token-check)")]
    Unknown(String),
    /// A directive with a wrong shape, key or value.
    #[error("malformed hubcheck directive: {0}")]
    Malformed(String),
}

/// Parses the words between `{{#hubcheck` and `}}`.
pub fn parse(args: &str) -> Result<Directive, DirectiveError> {
    let mut words = args.split_whitespace();
    let Some(name) = words.next() else {
        return Err(DirectiveError::Malformed(
            "it names no widget; write e.g. `{{#hubcheck token-check role=read}}`".into(),
        ));
    };
    match name {
        "token-check" => {
            let mut role = Role::Read;
            let mut needs = Vec::new();
            for word in words {
                let Some((key, value)) = word.split_once('=') else {
                    return Err(DirectiveError::Malformed(format!(
                        "`{word}` is not of the form key=value"
                    )));
                };
                let value = value.trim_matches('"');
                match key {
                    "role" => {
                        role = Role::from_directive(value).ok_or_else(|| {
                            DirectiveError::Malformed(format!(
                                "role `{value}` is not one of read, write, fine-grained"
                            ))
                        })?
                    }
                    "needs" => needs = parse_needs(value)?,
                    _ => {
                        return Err(DirectiveError::Malformed(format!(
                            "token-check has no key `{key}` (it takes role=read|write|fine-grained \
                             and needs=read,gated,write,inference)"
                        )));
                    }
                }
            }
            Ok(Directive::TokenCheck { role, needs })
        }
        other => Err(DirectiveError::Unknown(other.to_string())),
    }
}

/// `read,gated,inference`: each word a [`Need`], none twice.
fn parse_needs(value: &str) -> Result<Vec<Need>, DirectiveError> {
    let mut needs = Vec::new();
    for word in value.split(',').map(str::trim) {
        let need = Need::from_directive(word).ok_or_else(|| {
            DirectiveError::Malformed(format!(
                "need `{word}` is not one of read, gated, write, inference (write them \
                 comma-separated: needs=gated,inference)"
            ))
        })?;
        if !needs.contains(&need) {
            needs.push(need);
        }
    }
    Ok(needs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_check_defaults_to_read() {
        assert_eq!(
            parse(" token-check ").unwrap(),
            Directive::TokenCheck {
                role: Role::Read,
                needs: Vec::new()
            }
        );
    }

    #[test]
    fn token_check_takes_each_role() {
        for (word, role) in [
            ("read", Role::Read),
            ("write", Role::Write),
            ("fine-grained", Role::FineGrained),
            ("\"write\"", Role::Write),
        ] {
            assert_eq!(
                parse(&format!("token-check role={word}")).unwrap(),
                Directive::TokenCheck {
                    role,
                    needs: Vec::new()
                }
            );
        }
    }

    #[test]
    fn errors_name_what_is_wrong() {
        let cases = [
            ("", "names no widget"),
            ("token-check role", "key=value"),
            ("token-check role=admin", "role `admin`"),
            ("token-check colour=red", "no key `colour`"),
        ];
        for (args, needle) in cases {
            let err = parse(args).unwrap_err().to_string();
            assert!(err.contains(needle), "{args:?}: {err}");
        }
        assert_eq!(
            parse("token-checker").unwrap_err(),
            DirectiveError::Unknown("token-checker".into())
        );
    }

    #[test]
    fn token_check_takes_needs_and_names_an_unknown_one() {
        assert_eq!(
            parse("token-check role=fine-grained needs=\"gated,inference,gated\"").unwrap(),
            Directive::TokenCheck {
                role: Role::FineGrained,
                needs: vec![Need::Gated, Need::Inference],
            }
        );
        let error = parse("token-check needs=gated,fly")
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("need `fly` is not one of read, gated, write, inference"),
            "{error}"
        );
    }
}
