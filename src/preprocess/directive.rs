//! Parses `{{#hubcheck NAME key=value ...}}` widget directives.

use crate::widgets::Role;

/// A widget the preprocessor knows how to insert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Directive {
    /// The token checker, for a page that needs a token of `role`.
    TokenCheck {
        /// The role the page needs.
        role: Role,
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
                    _ => {
                        return Err(DirectiveError::Malformed(format!(
                            "token-check has no key `{key}` (it takes role=read|write|fine-grained)"
                        )));
                    }
                }
            }
            Ok(Directive::TokenCheck { role })
        }
        other => Err(DirectiveError::Unknown(other.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_check_defaults_to_read() {
        assert_eq!(
            parse(" token-check ").unwrap(),
            Directive::TokenCheck { role: Role::Read }
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
                Directive::TokenCheck { role }
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
}
