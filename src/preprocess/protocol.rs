//! The stdin/stdout protocol between `mdbook build` and the `mdbook-hubcheck` command.
//!
//! mdBook writes `[context, book]` as JSON to the preprocessor's stdin and reads the processed book
//! from its stdout. mdBook 0.5 calls the book's list of items `items`; 0.4 called it `sections` and
//! added `__non_exhaustive` fields. Most plugins broke on that rename; this one works on the JSON
//! tree itself, so it accepts both shapes and answers in the shape it was given, changing nothing
//! but chapter contents.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::{BookSettings, ChapterError, HtmlLinks};
use crate::settings::{Settings, SettingsError};
use crate::widgets::assets::AssetError;

/// The mdBook version this crate is built against.
pub const BUILT_AGAINST: &str = mdbook_preprocessor::MDBOOK_VERSION;

/// Input that is not a book mdBook could have sent, or a chapter the preprocessor refuses.
#[derive(Debug, thiserror::Error)]
pub enum ProtocolError {
    /// stdin is not JSON.
    #[error("<stdin>:{line}:{column}: malformed preprocessor input, not JSON: {message}")]
    Json {
        /// 1-based line in the input.
        line: usize,
        /// 1-based column in the input.
        column: usize,
        /// What serde_json says.
        message: String,
    },
    /// JSON of the wrong shape.
    #[error("<stdin>: malformed preprocessor input: {0}")]
    Shape(String),
    /// `[preprocessor.hubcheck]` cannot be read or has a value that cannot be used.
    #[error(transparent)]
    Settings(#[from] SettingsError),
    /// A chapter the preprocessor refuses.
    #[error(transparent)]
    Chapter(#[from] ChapterError),
    /// The widget assets could not be written.
    #[error(transparent)]
    Asset(#[from] AssetError),
    /// A link of the book leads nowhere.
    #[error(transparent)]
    Links(#[from] super::LinkCheckError),
}

/// The parts of the context this preprocessor reads; the rest passes untouched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Context {
    /// The renderer the book is being prepared for.
    pub renderer: String,
    /// The version of the mdBook that called.
    pub mdbook_version: String,
}

/// Processes a `[context, book]` input and returns the book JSON to write to stdout.
///
/// A non-fatal warning (such as a version mismatch) is passed to `warn`.
pub fn run(input: &[u8], warn: &mut dyn FnMut(String)) -> Result<Vec<u8>, ProtocolError> {
    let value: Value = serde_json::from_slice(input).map_err(|e| ProtocolError::Json {
        line: e.line(),
        column: e.column(),
        message: e.to_string(),
    })?;
    let Value::Array(mut pair) = value else {
        return Err(shape("expected a JSON array [context, book]"));
    };
    if pair.len() != 2 {
        return Err(shape(&format!(
            "expected a JSON array of two elements [context, book], found {}",
            pair.len()
        )));
    }
    let mut book = pair.pop().unwrap_or_default();
    let context = pair.pop().unwrap_or_default();
    let (ctx, book_settings) = read_context(&context, warn)?;
    if let Some(message) = version_warning(&ctx.mdbook_version) {
        warn(message);
    }
    let items_key = if book.get("items").is_some() {
        "items"
    } else if book.get("sections").is_some() {
        "sections"
    } else {
        return Err(shape(
            "the book has neither `items` (mdBook 0.5) nor `sections` (mdBook 0.4)",
        ));
    };
    let items = book
        .get_mut(items_key)
        .and_then(Value::as_array_mut)
        .ok_or_else(|| shape(&format!("the book's `{items_key}` is not a list")))?;
    let mut chapters = Vec::new();
    collect_chapters(items, &mut chapters);
    book_settings.check_links(&chapters)?;
    process_items(items, &book_settings)?;
    if let Some(warning) = book_settings.link_warning() {
        warn(warning.to_string());
    }
    serde_json::to_vec(&book).map_err(|e| shape(&e.to_string()))
}

fn shape(message: &str) -> ProtocolError {
    ProtocolError::Shape(message.to_string())
}

/// Reads renderer, version, source folder and our settings from the context JSON.
fn read_context(
    context: &Value,
    warn: &mut dyn FnMut(String),
) -> Result<(Context, BookSettings), ProtocolError> {
    let text = |key: &str| {
        context
            .get(key)
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| shape(&format!("the context has no string `{key}`")))
    };
    let ctx = Context {
        renderer: text("renderer")?,
        mdbook_version: text("mdbook_version")?,
    };
    let config = context
        .get("config")
        .ok_or_else(|| shape("the context has no `config`"))?;
    let src = config
        .pointer("/book/src")
        .and_then(Value::as_str)
        .unwrap_or("src");
    let table = match config.pointer("/preprocessor/hubcheck") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            serde_json::from_value::<toml::Value>(v.clone())
                .map_err(|e| SettingsError::Table(e.to_string()))?,
        ),
    };
    let settings = Settings::from_table(table)?;
    let root = context.get("root").and_then(Value::as_str).unwrap_or(".");
    let list = |key: &str| -> Vec<String> {
        config
            .pointer(&format!("/output/html/{key}"))
            .and_then(Value::as_array)
            .map(|items| {
                items
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    };
    let links = HtmlLinks {
        additional_js: list("additional-js"),
        additional_css: list("additional-css"),
    };
    let book_settings = BookSettings::prepare(
        settings,
        &ctx.renderer,
        PathBuf::from(src),
        Path::new(root),
        &links,
        warn,
    )?;
    Ok((ctx, book_settings))
}

/// Says when the calling mdBook is not the version this crate was built against.
pub fn version_warning(running: &str) -> Option<String> {
    let same = match (
        semver::Version::parse(running),
        semver::Version::parse(BUILT_AGAINST),
    ) {
        (Ok(a), Ok(b)) => a == b,
        _ => running == BUILT_AGAINST,
    };
    (!same).then(|| {
        format!(
            "warning: mdbook-hubcheck was built against mdBook {BUILT_AGAINST}, but is being called by \
             mdBook {running}; if the build misbehaves, use `mdbook-hubcheck build` or match the versions"
        )
    })
}

/// The text and file of every chapter in a list of book items, depth first.
fn collect_chapters(items: &[Value], out: &mut Vec<super::links::ChapterText>) {
    for item in items {
        let Some(chapter) = item.get("Chapter") else {
            continue;
        };
        if let Some(content) = chapter.get("content").and_then(Value::as_str) {
            out.push(super::links::ChapterText {
                content: content.to_string(),
                source_path: chapter
                    .get("source_path")
                    .and_then(Value::as_str)
                    .map(PathBuf::from),
            });
        }
        if let Some(sub_items) = chapter.get("sub_items").and_then(Value::as_array) {
            collect_chapters(sub_items, out);
        }
    }
}

/// Processes every chapter in a list of book items, depth first.
fn process_items(items: &mut [Value], settings: &BookSettings) -> Result<(), ProtocolError> {
    for item in items {
        let Some(chapter) = item.get_mut("Chapter") else {
            continue; // "Separator" and {"PartTitle": ...}
        };
        if let Some(content) = chapter.get("content").and_then(Value::as_str) {
            let source = chapter
                .get("source_path")
                .and_then(Value::as_str)
                .map(PathBuf::from);
            let processed = settings.process(content, source.as_deref().map(Path::new))?;
            if processed != content {
                chapter["content"] = Value::String(processed);
            }
        }
        if let Some(sub_items) = chapter.get_mut("sub_items").and_then(Value::as_array_mut) {
            process_items(sub_items, settings)?;
        }
    }
    Ok(())
}
