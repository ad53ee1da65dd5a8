//! Where each line of a chapter came from, after mdBook's `{{#include}}` expansion.
//!
//! The chapter text the harness and the preprocessor scan is the expanded one (mdBook's `links`
//! preprocessor has replaced every `{{#include}}`, `{{#rustdoc_include}}`, `{{#playground}}` and
//! `{{#title}}`), so a line number counted in it is wrong for every block after an include. This
//! module expands the source the same way mdBook 0.5 does, but keeps, for every line of the
//! result, the file and line it was written at: a [`SourceMap`]. Callers check that this
//! expansion is byte-identical to mdBook's before they trust the map ([`SourceMap::for_expanded`]);
//! when it is not (another preprocessor ran first, or a future mdBook expands differently), they
//! fall back to the expanded text's own lines.
//!
//! A line's origin is the place of its first non-blank character: a code block whose opening
//! fence is written in an included file is at that file's line; a block after an include is at
//! its line in the chapter.

use std::ops::Range;
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, LazyLock};

use regex::Regex;

/// How deep includes may nest before mdBook gives up (and drops the include), as in mdBook.
const MAX_NESTED_DEPTH: usize = 10;

/// The file and 1-based line a line of the expanded chapter was written at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// The file, relative to the book root when it lies under it (e.g. `book/setup.md`).
    pub file: Arc<Path>,
    /// 1-based line in that file.
    pub line: usize,
}

/// For every line of an expanded chapter, where it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceMap {
    /// The chapter file itself, for lines past the end of the map.
    chapter: Arc<Path>,
    /// `origins[i]` is the origin of line `i + 1`; empty for the identity map.
    origins: Vec<Origin>,
}

impl SourceMap {
    /// The map of a chapter with no includes: line `n` of the text is line `n` of `chapter`.
    pub fn identity(chapter: &Path) -> SourceMap {
        SourceMap {
            chapter: Arc::from(chapter),
            origins: Vec::new(),
        }
    }

    /// The map of `expanded`, the chapter text mdBook produced from `source` (the chapter file's
    /// content): exact when expanding `source` here gives the same text, else the identity map
    /// (the expanded text's own line numbers) with `false`.
    ///
    /// `chapter` names the chapter relative to the book `root`; `dir` is the folder its includes
    /// are relative to (the chapter's folder).
    pub fn for_expanded(
        expanded: &str,
        source: &str,
        chapter: &Path,
        dir: &Path,
        root: &Path,
    ) -> (SourceMap, bool) {
        let traced = expand(source, chapter, dir, root);
        if traced.text == expanded {
            let map = SourceMap {
                chapter: Arc::from(chapter),
                origins: traced.origins,
            };
            (map, true)
        } else {
            (SourceMap::identity(chapter), false)
        }
    }

    /// Where line `line` (1-based) of the expanded chapter was written.
    pub fn origin(&self, line: usize) -> Origin {
        match line.checked_sub(1).and_then(|i| self.origins.get(i)) {
            Some(origin) => origin.clone(),
            None => Origin {
                file: Arc::clone(&self.chapter),
                line,
            },
        }
    }

    /// The chapter file this map belongs to.
    pub fn chapter(&self) -> &Path {
        &self.chapter
    }
}

/// The map of one chapter of the book at `root` whose expanded text is `expanded`: its source is
/// read again from `<src>/<source_path>`. Falls back to the identity map, with `false`, when the
/// source cannot be read or does not expand to `expanded` (see [`SourceMap::for_expanded`]).
pub fn map_chapter(
    root: &Path,
    src: &Path,
    source_path: &Path,
    expanded: &str,
) -> (SourceMap, bool) {
    let chapter = src.join(source_path);
    let Ok(source) = std::fs::read_to_string(root.join(&chapter)) else {
        return (SourceMap::identity(&chapter), false);
    };
    let dir = root
        .join(&chapter)
        .parent()
        .map_or_else(|| root.to_path_buf(), Path::to_path_buf);
    SourceMap::for_expanded(expanded, &source, &chapter, &dir, root)
}

/// The warning for a chapter whose lines could not be mapped ([`map_chapter`] gave `false`): its
/// locations are counted in the expanded text and may be off after an include.
pub fn unmapped_warning(chapter: &Path) -> String {
    format!(
        "warning: {}: its text is not what expanding its includes gives here (another \
         preprocessor changed it?), so lines after an include may be off",
        chapter.display()
    )
}

/// A text together with the origin of each of its lines (`text.split('\n')`).
#[derive(Debug, Clone, Default)]
struct Traced {
    text: String,
    origins: Vec<Origin>,
}

impl Traced {
    /// A file's text (or the chapter's), line `n` at line `n`.
    fn whole(text: &str, file: &Arc<Path>) -> Traced {
        let count = text.matches('\n').count() + 1;
        Traced {
            text: text.to_string(),
            origins: (1..=count).map(|line| origin(file, line)).collect(),
        }
    }

    /// Lines given with their 1-based line numbers in `file`, joined with `\n` as mdBook does.
    fn from_lines(lines: Vec<(usize, String)>, file: &Arc<Path>) -> Traced {
        let text = lines
            .iter()
            .map(|(_, l)| l.as_str())
            .collect::<Vec<_>>()
            .join("\n");
        let mut origins: Vec<Origin> = lines.iter().map(|(n, _)| origin(file, *n)).collect();
        if origins.is_empty() {
            origins.push(origin(file, 1));
        }
        Traced { text, origins }
    }

    /// Index of the line that holds byte `offset`.
    fn line_index(&self, offset: usize) -> usize {
        self.text[..offset].matches('\n').count()
    }
}

fn origin(file: &Arc<Path>, line: usize) -> Origin {
    Origin {
        file: Arc::clone(file),
        line,
    }
}

/// Builds an expanded text piece by piece, keeping each line's origin.
#[derive(Default)]
struct Builder {
    out: Traced,
}

impl Builder {
    /// Appends `from.text[range]`. A line of the result takes the origin of its first non-blank
    /// character.
    fn push(&mut self, from: &Traced, range: Range<usize>) {
        let mut index = from.line_index(range.start);
        if self.out.origins.is_empty() {
            self.out.origins.push(from.origins[index].clone());
        }
        let mut blank_so_far = self.current_line_is_blank();
        for c in from.text[range.clone()].chars() {
            if c == '\n' {
                index += 1;
                self.out.origins.push(from.origins[index].clone());
                blank_so_far = true;
            } else if blank_so_far && !c.is_whitespace() {
                if let Some(last) = self.out.origins.last_mut() {
                    *last = from.origins[index].clone();
                }
                blank_so_far = false;
            }
        }
        self.out.text.push_str(&from.text[range]);
    }

    fn push_all(&mut self, from: &Traced) {
        self.push(from, 0..from.text.len());
    }

    fn current_line_is_blank(&self) -> bool {
        let start = self.out.text.rfind('\n').map_or(0, |i| i + 1);
        self.out.text[start..].trim().is_empty()
    }
}

/// Expands `source`, the text of `chapter`, as mdBook's `links` preprocessor does.
fn expand(source: &str, chapter: &Path, dir: &Path, root: &Path) -> Traced {
    let file: Arc<Path> = Arc::from(chapter);
    replace_all(&Traced::whole(source, &file), dir, root, 0)
}

/// mdBook's `replace_all`, on traced text.
fn replace_all(s: &Traced, dir: &Path, root: &Path, depth: usize) -> Traced {
    let mut builder = Builder::default();
    let mut previous_end = 0;
    for link in find_links(&s.text) {
        builder.push(s, previous_end..link.range.start);
        let at = s.origins[s.line_index(link.range.start)].clone();
        match render(&link, s, dir, root, &at) {
            Some(content) => {
                if depth < MAX_NESTED_DEPTH {
                    match link.kind.target() {
                        Some(path) => {
                            let nested_dir = dir.join(path).parent().map(Path::to_path_buf);
                            let nested_dir = nested_dir.unwrap_or_else(|| dir.to_path_buf());
                            builder.push_all(&replace_all(&content, &nested_dir, root, depth + 1));
                        }
                        None => builder.push_all(&content),
                    }
                }
                previous_end = link.range.end;
            }
            // mdBook leaves a link it cannot render as it was written.
            None => previous_end = link.range.start,
        }
    }
    builder.push(s, previous_end..s.text.len());
    if builder.out.origins.is_empty() {
        builder.out.origins = s.origins.first().cloned().into_iter().collect();
    }
    builder.out
}

/// One `{{#...}}` expression found in a text.
struct Link {
    range: Range<usize>,
    kind: LinkKind,
}

enum LinkKind {
    Escaped,
    Include(PathBuf, Selection),
    RustdocInclude(PathBuf, Selection),
    Playground(PathBuf, Vec<String>),
    Title,
}

impl LinkKind {
    fn target(&self) -> Option<&Path> {
        match self {
            LinkKind::Include(p, _)
            | LinkKind::RustdocInclude(p, _)
            | LinkKind::Playground(p, _) => Some(p),
            LinkKind::Escaped | LinkKind::Title => None,
        }
    }
}

/// Which lines of the file an include takes.
enum Selection {
    /// 0-based start (inclusive) and end (exclusive, `None` for the end of the file).
    Lines(usize, Option<usize>),
    Anchor(String),
}

/// mdBook's link pattern, unchanged.
static LINK: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?x)
        \\\{\{\#.*\}\}
        |
        \{\{\s*
        \#([a-zA-Z0-9_]+)
        \s+
        ([^}]+)
        \}\}",
    )
    .expect("valid regex")
});

static ANCHOR_START: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"ANCHOR:\s*(?P<anchor_name>[\w_-]+)").expect("valid regex"));
static ANCHOR_END: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"ANCHOR_END:\s*(?P<anchor_name>[\w_-]+)").expect("valid regex"));

fn find_links(text: &str) -> Vec<Link> {
    LINK.captures_iter(text)
        .filter_map(|cap| {
            let whole = cap.get(0)?;
            let kind = match (cap.get(1), cap.get(2)) {
                (Some(typ), Some(_)) if typ.as_str() == "title" => LinkKind::Title,
                (Some(typ), Some(rest)) => {
                    let mut words = rest.as_str().split_whitespace();
                    let file = words.next()?;
                    match typ.as_str() {
                        "include" => {
                            let (path, selection) = parse_path(file);
                            LinkKind::Include(path, selection)
                        }
                        "rustdoc_include" => {
                            let (path, selection) = parse_path(file);
                            LinkKind::RustdocInclude(path, selection)
                        }
                        "playground" | "playpen" => {
                            LinkKind::Playground(file.into(), words.map(String::from).collect())
                        }
                        _ => return None,
                    }
                }
                (None, None) if whole.as_str().starts_with('\\') => LinkKind::Escaped,
                _ => return None,
            };
            Some(Link {
                range: whole.range(),
                kind,
            })
        })
        .collect()
}

/// `file`, `file:3`, `file:2:5`, `file::5`, `file:2:`, `file:anchor`, as mdBook reads them.
fn parse_path(arg: &str) -> (PathBuf, Selection) {
    let mut parts = arg.splitn(2, ':');
    let path = PathBuf::from(parts.next().unwrap_or(""));
    let mut bounds = parts.next().unwrap_or("").splitn(3, ':').fuse();
    let first = bounds.next();
    let start = match first {
        Some(value) => match value.parse::<usize>() {
            Ok(n) => Some(n.saturating_sub(1)),
            Err(_) if value.is_empty() => None,
            Err(_) => return (path, Selection::Anchor(value.to_string())),
        },
        None => None,
    };
    let end = bounds.next().map(|s| s.parse::<usize>());
    let selection = match (start, end) {
        (Some(start), Some(Ok(end))) => Selection::Lines(start, Some(end)),
        (Some(start), Some(Err(_))) => Selection::Lines(start, None),
        (Some(start), None) => Selection::Lines(start, Some(start + 1)),
        (None, Some(Ok(end))) => Selection::Lines(0, Some(end)),
        (None, _) => Selection::Lines(0, None),
    };
    (path, selection)
}

/// What a link expands to, or `None` when mdBook would leave it as written (unreadable file).
fn render(link: &Link, s: &Traced, dir: &Path, root: &Path, at: &Origin) -> Option<Traced> {
    match &link.kind {
        LinkKind::Escaped => {
            let mut builder = Builder::default();
            builder.push(s, link.range.start + 1..link.range.end);
            Some(builder.out)
        }
        LinkKind::Title => Some(Traced {
            text: String::new(),
            origins: vec![at.clone()],
        }),
        LinkKind::Include(path, selection) => {
            let (text, file) = read(dir, path, root)?;
            Some(match selection {
                Selection::Lines(start, end) => take_lines(&text, *start, *end, &file),
                Selection::Anchor(anchor) => take_anchored(&text, anchor, &file),
            })
        }
        LinkKind::RustdocInclude(path, selection) => {
            let (text, file) = read(dir, path, root)?;
            Some(match selection {
                Selection::Lines(start, end) => rustdoc_lines(&text, *start, *end, &file),
                Selection::Anchor(anchor) => rustdoc_anchored(&text, anchor, &file),
            })
        }
        LinkKind::Playground(path, attrs) => {
            let (text, file) = read(dir, path, root)?;
            Some(playground(&text, attrs, &file, at))
        }
    }
}

/// Reads an included file; its name in origins is relative to `root` when it lies under it.
fn read(dir: &Path, path: &Path, root: &Path) -> Option<(String, Arc<Path>)> {
    let target = dir.join(path);
    let text = std::fs::read_to_string(&target).ok()?;
    let normal = normalize(&target);
    let named = normal
        .strip_prefix(normalize(root))
        .map(Path::to_path_buf)
        .unwrap_or(normal);
    Some((text, Arc::from(named.as_path())))
}

/// Resolves `.` and `..` without touching the file system.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir if out.file_name().is_some() => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

fn numbered(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines().enumerate().map(|(i, l)| (i + 1, l))
}

fn take_lines(text: &str, start: usize, end: Option<usize>, file: &Arc<Path>) -> Traced {
    let take = end.map_or(usize::MAX, |end| end.saturating_sub(start));
    let lines = numbered(text)
        .skip(start)
        .take(take)
        .map(|(n, l)| (n, l.to_string()))
        .collect();
    Traced::from_lines(lines, file)
}

fn take_anchored(text: &str, anchor: &str, file: &Arc<Path>) -> Traced {
    let mut kept = Vec::new();
    let mut found = false;
    for (n, l) in numbered(text) {
        if found {
            match ANCHOR_END.captures(l) {
                Some(cap) if &cap["anchor_name"] == anchor => break,
                Some(_) => {}
                None if !ANCHOR_START.is_match(l) => kept.push((n, l.to_string())),
                None => {}
            }
        } else if let Some(cap) = ANCHOR_START.captures(l) {
            found = &cap["anchor_name"] == anchor;
        }
    }
    Traced::from_lines(kept, file)
}

fn rustdoc_lines(text: &str, start: usize, end: Option<usize>, file: &Arc<Path>) -> Traced {
    let shown = |i: usize| i >= start && end.is_none_or(|end| i < end);
    let lines = numbered(text)
        .map(|(n, l)| match shown(n - 1) {
            true => (n, l.to_string()),
            false => (n, format!("# {l}")),
        })
        .collect();
    Traced::from_lines(lines, file)
}

fn rustdoc_anchored(text: &str, anchor: &str, file: &Arc<Path>) -> Traced {
    let mut kept = Vec::new();
    let mut within = false;
    for (n, l) in numbered(text) {
        if within {
            match ANCHOR_END.captures(l) {
                Some(cap) if &cap["anchor_name"] == anchor => within = false,
                Some(_) => {}
                None if !ANCHOR_START.is_match(l) => kept.push((n, l.to_string())),
                None => {}
            }
        } else if let Some(cap) = ANCHOR_START.captures(l) {
            within = &cap["anchor_name"] == anchor;
        } else if !ANCHOR_END.is_match(l) {
            kept.push((n, format!("# {l}")));
        }
    }
    Traced::from_lines(kept, file)
}

/// `{{#playground}}`: the file in a `rust` code block whose fences stand at the link's place.
fn playground(text: &str, attrs: &[String], file: &Arc<Path>, at: &Origin) -> Traced {
    let kind = if attrs.is_empty() { "rust" } else { "rust," };
    let mut body = text.to_string();
    if !body.ends_with('\n') {
        body.push('\n');
    }
    let mut origins = vec![at.clone()];
    origins.extend((1..=body.matches('\n').count()).map(|n| origin(file, n)));
    // The closing fence and the (empty) line after it stand at the link too.
    origins.extend([at.clone(), at.clone()]);
    Traced {
        text: format!("```{kind}{}\n{body}```\n", attrs.join(",")),
        origins,
    }
}

#[cfg(test)]
mod tests;
