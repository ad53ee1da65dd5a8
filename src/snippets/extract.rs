//! Pulls every fenced code block out of a book, in SUMMARY order, after `{{#include}}` expansion.
//!
//! Each block becomes either a [`Snippet`] (something to run) or the expected output of the
//! snippet before it (a `text` or `console` block: the next fenced block after a snippet, with only
//! prose between). Nothing is left out: a block that is neither is still returned, with a
//! [`Snippet::problem`] that makes its test fail.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use mdbook_driver::MDBook;
use mdbook_driver::builtin_preprocessors::LinkPreprocessor;
use mdbook_preprocessor::book::BookItem;
use mdbook_preprocessor::{Preprocessor, PreprocessorContext};

use super::annotation::{self, Annotation, Continues, Scenario, Style, TokenChoice};
use super::includes::{Origin, SourceMap, map_chapter, unmapped_warning};
use super::scan::{CodeBlock, line_of, scan};
use super::transcript::{self, Content, Prompts, Transcript};

/// Languages whose blocks show output rather than code to run.
pub const OUTPUT_LANGUAGES: &[&str] = &["text", "console", "output"];

/// A block of output that a snippet must print.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputBlock {
    /// The file its opening fence is written in (the chapter, or a file it includes).
    pub file: PathBuf,
    /// 1-based line of its opening fence in `file`.
    pub line: usize,
    /// Its position among the chapter's fenced blocks.
    pub index: usize,
    /// Its text.
    pub text: String,
    /// [`CodeBlock::hash`] of it.
    pub hash: String,
}

/// One runnable code block of the book, with what its annotation says.
#[derive(Debug, Clone, PartialEq)]
pub struct Snippet {
    /// The chapter whose page shows the block, relative to the book root (e.g. `book/cli.md`):
    /// with [`Snippet::index`], the block's key in the report and for its badge.
    pub chapter: PathBuf,
    /// The file the opening fence is written in, relative to the book root: the chapter, or the
    /// file an `{{#include}}` brought in (found through [`SourceMap`]).
    pub file: PathBuf,
    /// 1-based line of the opening fence in `file`.
    pub line: usize,
    /// Position among the chapter's fenced blocks, output blocks included.
    pub index: usize,
    /// The fence's language, lower-cased.
    pub language: String,
    /// How it runs: from the annotation, else from the language.
    pub style: Option<Style>,
    /// The code as the book shows it.
    pub code: String,
    /// [`CodeBlock::hash`] of the code.
    pub hash: String,
    /// The annotation's `id`, else `<chapter stem>-<line>` (`<chapter stem>-<file stem>-<line>`
    /// for a block written in an included file).
    pub id: String,
    /// The parsed annotation (all defaults when there is none).
    pub annotation: Annotation,
    /// The scenarios to run: the annotation's, or one `default`.
    pub scenarios: Vec<Scenario>,
    /// The output block that follows, if any.
    pub output: Option<OutputBlock>,
    /// The snippet (index into the extracted list) whose state this one continues.
    pub continues: Option<usize>,
    /// Why this block cannot be run, if it cannot; its test fails with this text.
    pub problem: Option<String>,
    /// The block read as a session (prompts, input, the output the page shows), when it is one.
    pub transcript: Option<Transcript>,
    /// The annotation's `files`, found in the book: each is copied into the working folder of
    /// every run of this block (set by [`extract_book`], which knows where the book is).
    pub files: Vec<PathBuf>,
}

impl Snippet {
    /// Why the book's writers chose not to run this block (its `not-run` reason), if they did.
    /// Such a block has no scenarios; it is reported as not run, never as passed.
    pub fn not_run(&self) -> Option<&str> {
        self.annotation.not_run.as_deref()
    }

    /// `file:line`, the way errors and test names point at a snippet.
    pub fn location(&self) -> String {
        format!("{}:{}", self.file.display(), self.line)
    }
}

/// A book that cannot be loaded at all.
#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    /// mdBook could not load the book (no book.toml, a missing chapter, a broken include).
    #[error("{}: {message}", root.display())]
    Load {
        /// The book root.
        root: PathBuf,
        /// mdBook's error chain.
        message: String,
    },
}

/// Extracts every snippet of the book at `root`, in SUMMARY order.
pub fn extract_book(root: &Path) -> Result<Vec<Snippet>, ExtractError> {
    let load_error = |e: anyhow::Error| ExtractError::Load {
        root: root.to_path_buf(),
        message: format!("{e:#}"),
    };
    let md = MDBook::load(root).map_err(load_error)?;
    let ctx = PreprocessorContext::new(root.to_path_buf(), md.config.clone(), "html".into());
    let book = LinkPreprocessor::new()
        .run(&ctx, md.book.clone())
        .map_err(load_error)?;
    let src = md.config.book.src.clone();
    let mut snippets = Vec::new();
    for item in book.iter() {
        if let BookItem::Chapter(chapter) = item
            && let Some(path) = &chapter.source_path
        {
            let (map, exact) = map_chapter(root, &src, path, &chapter.content);
            if !exact {
                eprintln!("{}", unmapped_warning(map.chapter()));
            }
            snippets.extend(extract_mapped(&chapter.content, &map));
        }
    }
    resolve_continues(&mut snippets);
    check_unique_ids(&mut snippets);
    for snippet in &mut snippets {
        resolve_files(root, snippet);
    }
    Ok(snippets)
}

/// Finds the files a snippet's annotation names (`files`), beside the file the block is written
/// in; a name that leaves the book's folder or is not there makes the snippet a problem.
fn resolve_files(root: &Path, snippet: &mut Snippet) {
    let folder = root.join(&snippet.file);
    let folder = folder.parent().unwrap_or(root);
    let location = snippet.location();
    for name in &snippet.annotation.files {
        let relative = Path::new(name);
        let stays_inside = relative
            .components()
            .all(|c| matches!(c, std::path::Component::Normal(_)));
        let path = folder.join(relative);
        if !stays_inside || name.is_empty() {
            snippet.problem.get_or_insert_with(|| {
                format!(
                    "{location}: `files` names `{name}`: give a path below the chapter's folder (no `..`, not absolute)"
                )
            });
        } else if !path.is_file() {
            snippet.problem.get_or_insert_with(|| {
                format!(
                    "{location}: `files` names `{name}`, but there is no such file ({} does not exist)",
                    path.display()
                )
            });
        } else {
            snippet.files.push(path);
        }
    }
}

/// Extracts the snippets of one chapter without includes; `file` names the chapter in
/// locations and ids.
pub fn extract_chapter(text: &str, file: &Path) -> Vec<Snippet> {
    extract_mapped(text, &SourceMap::identity(file))
}

/// Extracts the snippets of one expanded chapter; `map` tells where each of its lines was
/// written, for locations, and names the chapter.
pub fn extract_mapped(text: &str, map: &SourceMap) -> Vec<Snippet> {
    let blocks = match scan(text) {
        Ok(scan) => scan.blocks,
        Err(e) => return vec![broken(map, e.line(), e.to_string())],
    };
    let mut snippets: Vec<Snippet> = Vec::new();
    // Whether the last snippet of this chapter still waits for its output block.
    let mut open_for_output = false;
    for (index, block) in blocks.iter().enumerate() {
        let language = block.language();
        let is_session =
            language == "console" && transcript::parse(&block.code, &language).is_some();
        if OUTPUT_LANGUAGES.contains(&language.as_str())
            && block.annotation.is_none()
            && !is_session
        {
            let at = map.origin(block.line);
            let output = OutputBlock {
                file: at.file.to_path_buf(),
                line: at.line,
                index,
                text: block.code.clone(),
                hash: block.hash(),
            };
            match snippets.last_mut() {
                Some(last) if open_for_output => last.output = Some(output),
                _ => {
                    let mut lone = snippet_from(block, index, map);
                    lone.problem = Some(format!(
                        "this `{language}` block shows output, but no snippet stands before it in the chapter \
                         (an output block must be the next code block after the snippet that prints it)"
                    ));
                    snippets.push(lone);
                }
            }
            open_for_output = false;
            continue;
        }
        let snippet = snippet_from(block, index, map);
        // A session that shows its own output takes no output block after it.
        open_for_output = snippet.output.is_none()
            && !snippet
                .transcript
                .as_ref()
                .is_some_and(Transcript::shows_output);
        snippets.push(snippet);
    }
    snippets
}

/// A placeholder snippet standing for a chapter whose annotations cannot be read; `line` is a
/// line of the expanded chapter.
fn broken(map: &SourceMap, line: usize, problem: String) -> Snippet {
    let at = map.origin(line);
    Snippet {
        chapter: map.chapter().to_path_buf(),
        id: default_id(map.chapter(), &at),
        file: at.file.to_path_buf(),
        line: at.line,
        index: 0,
        language: String::new(),
        style: None,
        code: String::new(),
        hash: String::new(),
        annotation: Annotation::default(),
        scenarios: Vec::new(),
        output: None,
        continues: None,
        problem: Some(problem),
        transcript: None,
        files: Vec::new(),
    }
}

/// `<chapter stem>-<line>`, or `<chapter stem>-<file stem>-<line>` for a block written in a
/// file the chapter includes (so a file included by two chapters gives two ids).
fn default_id(chapter: &Path, at: &Origin) -> String {
    let stem = |p: &Path| {
        p.file_stem()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned()
    };
    if *at.file == *chapter {
        format!("{}-{}", stem(chapter), at.line)
    } else {
        format!("{}-{}-{}", stem(chapter), stem(&at.file), at.line)
    }
}

/// `file:line` of a line of the expanded chapter.
fn location(map: &SourceMap, line: usize) -> String {
    let at = map.origin(line);
    format!("{}:{}", at.file.display(), at.line)
}

/// Builds a snippet from a block, parsing and checking its annotation.
fn snippet_from(block: &CodeBlock, index: usize, map: &SourceMap) -> Snippet {
    let language = block.language();
    let mut snippet = broken(map, block.line, String::new());
    snippet.index = index;
    snippet.language = language.clone();
    snippet.code = block.code.clone();
    snippet.hash = block.hash();
    snippet.problem = None;
    if let Some(raw) = &block.annotation {
        match annotation::parse(&raw.body) {
            Ok(a) => snippet.annotation = a,
            Err(e) => {
                let line = raw.line + e.span().map_or(0, |s| line_of(&raw.body, s.start) - 1);
                snippet.problem = Some(format!(
                    "{}: invalid hubcheck annotation: {}",
                    location(map, line),
                    e.message()
                ));
                return snippet;
            }
        }
    }
    if let Some(id) = &snippet.annotation.id {
        snippet.id = id.clone();
    }
    let content = transcript::read(&block.code, &language);
    let unclear = content == Content::Unclear;
    (snippet.style, snippet.transcript) =
        style_and_transcript(snippet.annotation.style, content, &block.code);
    if let Some(reason) = &snippet.annotation.not_run {
        // Declared not runnable: any language, no scenarios, the reason is all it needs.
        if reason.trim().is_empty() {
            snippet.problem = Some(format!(
                "{}: `not-run` needs a reason: say why this block cannot run in the tests",
                snippet.location()
            ));
        } else if !snippet.annotation.scenario.is_empty() {
            snippet.problem = Some(format!(
                "{}: a block with `not-run` has no [[scenario]]: either run it or say why not",
                snippet.location()
            ));
        }
        return snippet;
    }
    if snippet.style.is_none() && unclear {
        snippet.problem = Some(unclear_problem(&snippet.location(), block));
    } else if snippet.style.is_none() {
        snippet.problem = Some(format!(
            "a `{language}` block cannot be run: give it an annotation with `style = ...`, or make it an \
             output block (`text`) right after the snippet that prints it"
        ));
    }
    snippet.scenarios = if snippet.annotation.scenario.is_empty() {
        vec![Scenario {
            name: "default".into(),
            token: Some(TokenChoice::default_read()),
            ..Scenario::default()
        }]
    } else {
        snippet.annotation.scenario.clone()
    };
    if let Some(problem) = scenario_problem(&snippet.scenarios) {
        let line = block.annotation.as_ref().map_or(block.line, |a| a.line);
        snippet.problem = Some(format!("{}: {problem}", location(map, line)));
    }
    snippet
}

/// How a block runs and whether it is a session: an annotation's `style` first (a `>>> ` session
/// in a block annotated `python` is still a session), else what its content and fence say.
fn style_and_transcript(
    annotated: Option<Style>,
    content: Content,
    code: &str,
) -> (Option<Style>, Option<Transcript>) {
    match (annotated, content) {
        (Some(Style::Python | Style::Pycon), Content::Transcript(t))
            if t.prompts == Prompts::Python =>
        {
            (Some(Style::Pycon), Some(t))
        }
        (Some(Style::Pycon), _) => (
            Some(Style::Pycon),
            Some(
                transcript::parse_as(code, Prompts::Python).unwrap_or(Transcript {
                    prompts: Prompts::Python,
                    exchanges: Vec::new(),
                }),
            ),
        ),
        (Some(Style::Shell), Content::Transcript(t)) if t.prompts == Prompts::Shell => {
            (Some(Style::Shell), Some(t))
        }
        (Some(Style::Shell), _) | (None, Content::Code(Style::Shell)) => {
            (Some(Style::Shell), transcript::parse_shell(code))
        }
        (Some(style), _) | (None, Content::Code(style)) => (Some(style), None),
        (None, Content::Transcript(t)) => (Some(t.style()), Some(t)),
        (None, Content::Unclear | Content::Other) => (None, None),
    }
}

/// The failure of a block whose fence names no language the harness can use and whose lines do
/// not say clearly what it is.
fn unclear_problem(location: &str, block: &CodeBlock) -> String {
    let fence = if block.info.trim().is_empty() {
        "a fence with no language".to_string()
    } else {
        format!("the fence `{}`", block.info.trim())
    };
    format!(
        "{location}: cannot tell what this block is: {fence}, and its lines are not clearly Python nor \
         clearly shell commands. Name its language on the fence (```python, ```bash, or ```text \
         for output), or say `style = \"python\"` / `\"shell\"` in a hubcheck annotation"
    )
}

/// A scenario list's first mistake: a missing or repeated name.
fn scenario_problem(scenarios: &[Scenario]) -> Option<String> {
    let mut names = BTreeSet::new();
    for scenario in scenarios {
        if scenario.name.is_empty() {
            return Some("a [[scenario]] has no `name`".into());
        }
        if !names.insert(scenario.name.as_str()) {
            return Some(format!("two scenarios are named `{}`", scenario.name));
        }
    }
    None
}

/// Links each `continues` to the snippet it names.
fn resolve_continues(snippets: &mut [Snippet]) {
    for i in 0..snippets.len() {
        let target = match &snippets[i].annotation.continues {
            None | Some(Continues::Previous(false)) => continue,
            Some(Continues::Previous(true)) => (0..i)
                .rev()
                .find(|&j| snippets[j].chapter == snippets[i].chapter)
                .ok_or_else(|| {
                    "`continues = true`, but no snippet stands before it in the chapter".to_string()
                }),
            Some(Continues::Id(id)) => (0..i)
                .find(|&j| snippets[j].id == *id)
                .ok_or_else(|| format!("`continues = \"{id}\"` names no earlier snippet")),
        };
        match target {
            Ok(j) => snippets[i].continues = Some(j),
            Err(problem) => {
                let location = snippets[i].location();
                snippets[i]
                    .problem
                    .get_or_insert(format!("{location}: {problem}"));
            }
        }
    }
}

/// Marks snippets whose `id` repeats an earlier one's.
fn check_unique_ids(snippets: &mut [Snippet]) {
    let mut seen = BTreeSet::new();
    for snippet in snippets.iter_mut() {
        if !seen.insert(snippet.id.clone()) {
            let problem = format!(
                "{}: the id `{}` is used twice",
                snippet.location(),
                snippet.id
            );
            snippet.problem.get_or_insert(problem);
        }
    }
}

#[cfg(test)]
mod tests;
