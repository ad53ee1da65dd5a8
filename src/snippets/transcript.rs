//! Transcripts: blocks written as a session, the way other books write them (the Hugging Face
//! documentation above all), and blocks whose fence names no language.
//!
//! A block is a transcript when its first line that is not blank (nor a `# ` comment) starts with
//! a prompt: `>>> ` (Python, or a shell command in a `bash` fence, as the Hugging Face docs write
//! `>>> hf auth whoami`) or `$ ` (a shell command), whatever its fence says. Each prompt line is
//! input; the lines below it, up to the next prompt, are what the page says it printed. A Python
//! `... ` line continues the input, and so does a line that is exactly `...` while the statement
//! is still open (a block or a bracket); once it is complete, a `...` line elides output, as in
//! doctest. A shell command whose line ends with `\` continues on the next line.
//!
//! A block with no fence language is read from its content: Python when its lines are Python
//! (imports, definitions, calls, assignments) and none is a shell command, a shell script when
//! every line starts with a command (`hf`, `pip`, `export`, ...), else it cannot be told and is
//! reported so. A wrong guess would be worse than none.

use super::annotation::Style;

/// The prompt a Python session shows for a new statement.
const PYTHON_PROMPT: &str = ">>>";
/// The prompt a shell session shows for a new command.
const SHELL_PROMPT: &str = "$";
/// The prompt a Python session shows for a statement's next line.
const CONTINUATION: &str = "...";

/// Words that start a shell command line in the pages a student reads; a line starting with one
/// of them (and no Python call or assignment) is a shell line.
const SHELL_WORDS: &[&str] = &[
    "hf",
    "huggingface-cli",
    "pip",
    "pip3",
    "uv",
    "conda",
    "export",
    "unset",
    "cd",
    "ls",
    "cat",
    "echo",
    "printf",
    "git",
    "curl",
    "wget",
    "mkdir",
    "rm",
    "cp",
    "mv",
    "python",
    "python3",
    "source",
    "chmod",
    "which",
    "env",
    "sudo",
    "apt",
    "apt-get",
    "brew",
];

/// Fence languages that mean "a shell": a `>>> ` prompt in one of them is a shell prompt.
const SHELL_LANGUAGES: &[&str] = &["bash", "sh", "shell", "console", "console-session", "zsh"];
/// Fence languages that mean "Python".
const PYTHON_LANGUAGES: &[&str] = &["python", "py", "python3", "pycon"];

/// Which program a transcript talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prompts {
    /// A Python interpreter: `>>> ` and `... `.
    Python,
    /// A shell: `$ ` or `>>> ` before each command.
    Shell,
}

/// One prompt of a transcript: what is typed there and what the page shows it printed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exchange {
    /// 0-based line of the prompt within the block (the fence's line + 1 + this is the page line).
    pub offset: usize,
    /// What is typed: the statement or command, continuation lines included.
    pub input: String,
    /// What the page shows below it (may be empty: nothing printed).
    pub expected: String,
}

/// A block written as a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transcript {
    /// Who answers the prompts.
    pub prompts: Prompts,
    /// The prompts, in order.
    pub exchanges: Vec<Exchange>,
}

impl Transcript {
    /// The style that runs it.
    pub fn style(&self) -> Style {
        match self.prompts {
            Prompts::Python => Style::Pycon,
            Prompts::Shell => Style::Shell,
        }
    }

    /// Whether the page shows any output at all (a transcript of commands only shows none).
    pub fn shows_output(&self) -> bool {
        self.exchanges.iter().any(|e| !e.expected.trim().is_empty())
    }
}

/// What a block's content and fence say it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Content {
    /// A session: prompts, input, output.
    Transcript(Transcript),
    /// Code to run in this style.
    Code(Style),
    /// No fence language, and the content could be either Python or shell (or neither).
    Unclear,
    /// A fence language that names nothing the harness runs (`json`, `powershell`, ...).
    Other,
}

/// Reads a block: a transcript by its content whatever the fence says; else the fence's language;
/// else (no language) a guess from the content that is only made when it is clear.
pub fn read(code: &str, language: &str) -> Content {
    if let Some(transcript) = parse(code, language) {
        return Content::Transcript(transcript);
    }
    if starts_with_prompt(code).is_some() {
        // A `>>> ` session in an unlabelled fence whose commands are neither clearly Python nor
        // clearly shell.
        return Content::Unclear;
    }
    if let Some(style) = super::annotation::Style::for_language(language) {
        return Content::Code(style);
    }
    if !language.is_empty() {
        return Content::Other;
    }
    match guess(code.lines()) {
        Some(Prompts::Python) => Content::Code(Style::Python),
        Some(Prompts::Shell) => Content::Code(Style::Shell),
        None => Content::Unclear,
    }
}

/// The block as a transcript, when its first line is a prompt and it is clear who answers it.
pub fn parse(code: &str, language: &str) -> Option<Transcript> {
    let prompt = starts_with_prompt(code)?;
    let prompts = if prompt == SHELL_PROMPT || SHELL_LANGUAGES.contains(&language) {
        Prompts::Shell
    } else if PYTHON_LANGUAGES.contains(&language) {
        Prompts::Python
    } else {
        let inputs = parse_with(code, Prompts::Python, prompt);
        guess_session(inputs.iter().flat_map(|e| e.input.lines()))?
    };
    Some(Transcript {
        prompts,
        exchanges: parse_with(code, prompts, prompt),
    })
}

/// Parses a block as a session with `prompts`, whatever its first line (an annotated `style =
/// "pycon"` block); `None` when no line has such a prompt.
pub fn parse_as(code: &str, prompts: Prompts) -> Option<Transcript> {
    let prompt = match prompts {
        Prompts::Python => PYTHON_PROMPT,
        Prompts::Shell => SHELL_PROMPT,
    };
    let exchanges = parse_with(code, prompts, prompt);
    (!exchanges.is_empty()).then_some(Transcript { prompts, exchanges })
}

/// Parses a shell block that has `$ ` prompts anywhere (an annotated `style = "shell"` block
/// whose first lines are comments or prose-like output).
pub fn parse_shell(code: &str) -> Option<Transcript> {
    let any = code
        .lines()
        .any(|l| is_prompt(l.trim_start(), SHELL_PROMPT));
    any.then(|| Transcript {
        prompts: Prompts::Shell,
        exchanges: parse_with(code, Prompts::Shell, SHELL_PROMPT),
    })
}

/// The prompt (`>>>` or `$`) the block's first meaningful line starts with.
fn starts_with_prompt(code: &str) -> Option<&'static str> {
    let first = code
        .lines()
        .map(str::trim_start)
        .find(|l| !l.is_empty() && !l.starts_with("# "))?;
    [PYTHON_PROMPT, SHELL_PROMPT]
        .into_iter()
        .find(|p| is_prompt(first, p))
}

/// Whether `line` (indentation removed) starts with `prompt` and a space, or is the bare prompt.
fn is_prompt(line: &str, prompt: &str) -> bool {
    line == prompt
        || line
            .strip_prefix(prompt)
            .is_some_and(|rest| rest.starts_with(' '))
}

/// What follows the prompt and its one space.
fn after_prompt<'a>(line: &'a str, prompt: &str) -> &'a str {
    let rest = &line[prompt.len()..];
    rest.strip_prefix(' ').unwrap_or(rest)
}

/// Splits a session into its exchanges; lines before the first prompt are left out.
fn parse_with(code: &str, prompts: Prompts, prompt: &str) -> Vec<Exchange> {
    let mut exchanges: Vec<Exchange> = Vec::new();
    let mut indent = 0;
    for (offset, raw) in code.lines().enumerate() {
        let line = raw.trim_start();
        if is_prompt(line, prompt) {
            indent = raw.len() - line.len();
            exchanges.push(Exchange {
                offset,
                input: after_prompt(line, prompt).to_string(),
                expected: String::new(),
            });
            continue;
        }
        let Some(current) = exchanges.last_mut() else {
            continue;
        };
        if current.expected.is_empty() && continues_input(prompts, &current.input, line) {
            current.input.push('\n');
            current.input.push_str(match prompts {
                Prompts::Python => after_prompt(line, CONTINUATION),
                Prompts::Shell => line.strip_prefix("> ").unwrap_or(line),
            });
            continue;
        }
        let kept = raw.get(indent.min(raw.len() - line.len())..).unwrap_or(raw);
        current.expected.push_str(kept);
        current.expected.push('\n');
    }
    exchanges
}

/// Whether `line` continues the input so far rather than showing output.
fn continues_input(prompts: Prompts, input: &str, line: &str) -> bool {
    match prompts {
        Prompts::Python => {
            is_prompt(line, CONTINUATION) && (line != CONTINUATION || statement_is_open(input))
        }
        Prompts::Shell => input.ends_with('\\'),
    }
}

/// Whether a Python statement needs more lines: a bracket is still open, or a block (a line
/// ending with `:`) has begun and no blank line has closed it yet.
pub fn statement_is_open(source: &str) -> bool {
    let mut depth: i64 = 0;
    let mut quote: Option<char> = None;
    for c in source.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '(' | '[' | '{') => depth += 1,
            (None, ')' | ']' | '}') => depth -= 1,
            _ => {}
        }
    }
    // A source that ends with a newline was closed by a bare `...` line.
    let last = if source.ends_with('\n') {
        ""
    } else {
        source.lines().last().unwrap_or("")
    };
    let opens_block = source.lines().any(|l| l.trim_end().ends_with(':'));
    depth > 0
        || last.trim_end().ends_with(':')
        || (opens_block && last.starts_with(char::is_whitespace))
}

/// Who the lines are for, when that is clear: Python when some line is clearly Python and none a
/// shell command; shell when every line is a command (or continues one); else `None`.
pub fn guess<'a>(lines: impl Iterator<Item = &'a str>) -> Option<Prompts> {
    let (mut python, mut shell, mut other) = (0, 0, 0);
    let mut continued = false;
    for raw in lines {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continued = false;
            continue;
        }
        if continued || raw.starts_with(char::is_whitespace) || line.starts_with([')', ']', '}']) {
            // Part of a statement or command begun above.
        } else if is_shell_line(line) {
            shell += 1;
        } else if is_python_line(line) {
            python += 1;
        } else {
            other += 1;
        }
        continued = line.ends_with('\\') || line.ends_with([',', '(', '[', '{']);
    }
    match (python, shell, other) {
        (p, 0, 0) if p > 0 => Some(Prompts::Python),
        (0, s, 0) if s > 0 => Some(Prompts::Shell),
        _ => None,
    }
}

/// Who the typed lines of a `>>> ` session are for: a session's inputs are code for sure, so a
/// bare expression (`info["name"]`) is no reason to doubt that a session with imports is Python.
fn guess_session<'a>(lines: impl Iterator<Item = &'a str> + Clone) -> Option<Prompts> {
    let shell = lines.clone().any(|l| is_shell_line(l.trim()));
    let python = lines.clone().any(|l| is_python_line(l.trim()));
    match (python, shell) {
        (true, false) => Some(Prompts::Python),
        _ => guess(lines),
    }
}

/// A line that starts with a shell command word (not a Python call or assignment of that name).
fn is_shell_line(line: &str) -> bool {
    let line = line.strip_prefix("$ ").unwrap_or(line);
    let word = line.split_whitespace().next().unwrap_or("");
    let rest = line[word.len()..].trim_start();
    SHELL_WORDS.contains(&word) && !rest.starts_with(['(', '=', '.']) && !word.contains('(')
        || is_variable_assignment(word)
}

/// `NAME=value` with no spaces around `=`: a shell assignment.
fn is_variable_assignment(word: &str) -> bool {
    word.split_once('=').is_some_and(|(name, _)| {
        !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
    })
}

/// A line that only Python would write: an import, a definition, a compound statement, a call or
/// an assignment.
fn is_python_line(line: &str) -> bool {
    const STARTS: &[&str] = &[
        "import ", "from ", "def ", "class ", "return ", "with ", "for ", "if ", "elif ", "else:",
        "try:", "except", "finally:", "while ", "raise ", "assert ", "@", "print(",
    ];
    if STARTS.iter().any(|s| line.starts_with(s)) {
        return !line.starts_with("from ") || line.contains(" import ");
    }
    let name: String = line
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '.' || *c == '[' || *c == ']')
        .collect();
    let rest = line[name.len()..].trim_start();
    !name.is_empty()
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && (rest.starts_with('(') || (rest.starts_with('=') && !rest.starts_with("==")))
}

#[cfg(test)]
mod tests;
