//! A small `.gitignore` matcher, so preupload can answer `shouldIgnore` the way the Hub does
//! (`upload_folder` then leaves ignored files out of the commit).
//!
//! Supported: comments, blank lines, `!` negation (last match wins), a leading or inner `/`
//! anchoring the pattern to the root, a trailing `/` matching folders only, `*`, `?`, `[...]`
//! and `**`.

use regex::Regex;

/// One compiled line of a `.gitignore`.
#[derive(Debug)]
struct Rule {
    regex: Regex,
    negated: bool,
}

/// A parsed `.gitignore`.
#[derive(Debug, Default)]
pub struct GitIgnore {
    rules: Vec<Rule>,
}

/// Translates a glob (without anchoring) into a regex fragment.
pub(super) fn glob_to_regex(glob: &str) -> String {
    let chars: Vec<char> = glob.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '*' if chars.get(i + 1) == Some(&'*') => {
                if chars.get(i + 2) == Some(&'/') {
                    out.push_str("(?:.*/)?");
                    i += 3;
                } else {
                    out.push_str(".*");
                    i += 2;
                }
                continue;
            }
            '*' => out.push_str("[^/]*"),
            '?' => out.push_str("[^/]"),
            '[' => match chars[i..].iter().position(|&c| c == ']') {
                Some(end) if end > 1 => {
                    let class: String = chars[i + 1..i + end].iter().collect();
                    let class = class.replacen('!', "^", 1).replace('\\', "\\\\");
                    out.push('[');
                    out.push_str(&class);
                    out.push(']');
                    i += end + 1;
                    continue;
                }
                _ => out.push_str("\\["),
            },
            c => out.push_str(&regex::escape(&c.to_string())),
        }
        i += 1;
    }
    out
}

impl GitIgnore {
    /// Parses the content of a `.gitignore` (lines that do not compile are skipped).
    pub fn parse(content: &str) -> GitIgnore {
        let rules = content
            .lines()
            .filter_map(|line| {
                let line = line.trim_end();
                if line.is_empty() || line.starts_with('#') {
                    return None;
                }
                let (negated, pattern) = match line.strip_prefix('!') {
                    Some(rest) => (true, rest),
                    None => (false, line.strip_prefix('\\').unwrap_or(line)),
                };
                let dir_only = pattern.ends_with('/');
                let pattern = pattern.trim_end_matches('/');
                let anchored =
                    pattern.trim_start_matches('/').contains('/') || pattern.starts_with('/');
                let body = glob_to_regex(pattern.trim_start_matches('/'));
                let start = if anchored { "^" } else { "^(?:.*/)?" };
                // A folder pattern matches every path below the folder; a file pattern also
                // matches a folder of that name and everything in it.
                let end = if dir_only { "/.*$" } else { "(?:/.*)?$" };
                let regex = Regex::new(&format!("{start}{body}{end}")).ok()?;
                Some(Rule { regex, negated })
            })
            .collect();
        GitIgnore { rules }
    }

    /// Whether the file at `path` (relative to the repository root) is ignored.
    pub fn ignores(&self, path: &str) -> bool {
        let mut ignored = false;
        for rule in &self.rules {
            if rule.regex.is_match(path) {
                ignored = !rule.negated;
            }
        }
        ignored
    }
}
