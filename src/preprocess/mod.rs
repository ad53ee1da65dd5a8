//! The mdBook preprocessor: what readers see of the handbook.
//!
//! [`HubCheck`] is the one public type. It runs inside an in-process build (registered with
//! `MDBook::with_preprocessor`) and as the `mdbook-hubcheck` command that a stock `mdbook build`
//! talks to over stdin and stdout ([`protocol`]). For every chapter it
//!
//! 1. refuses token-shaped strings ([`secrets`]),
//! 2. strips the harness's snippet annotations,
//! 3. expands `{{#hubcheck ...}}` widget directives ([`directive`]) into widget containers for the
//!    html renderer and plain text for the others.
//!
//! Errors name the chapter file and line, and the whole book fails: nothing is written half-way.

pub mod chapter;
pub mod config;
pub mod directive;
pub mod protocol;
pub mod secrets;

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use mdbook_preprocessor::book::{Book, BookItem};
use mdbook_preprocessor::{Preprocessor, PreprocessorContext};

pub use chapter::{ChapterError, Target};
pub use config::Settings;

/// The hubcheck preprocessor, as mdBook sees it.
#[derive(Debug, Default, Clone, Copy)]
pub struct HubCheck;

impl HubCheck {
    /// The name under which the preprocessor is configured: `[preprocessor.hubcheck]`.
    pub const NAME: &'static str = "hubcheck";

    /// Creates the preprocessor.
    pub fn new() -> Self {
        HubCheck
    }
}

/// Everything a chapter needs to be processed, read once per book.
#[derive(Debug, Clone)]
pub struct BookSettings {
    /// The `[preprocessor.hubcheck]` settings.
    pub settings: Settings,
    /// What the chapters are prepared for.
    pub target: Target,
    /// The book's source folder relative to its root, used to name chapter files in errors.
    pub src: PathBuf,
}

impl BookSettings {
    /// The target for a renderer: widgets for html, text for everything else.
    pub fn target_for(renderer: &str) -> Target {
        if renderer == "html" {
            Target::Html
        } else {
            Target::Text
        }
    }

    /// Processes one chapter; `source_path` is relative to the source folder.
    pub fn process(
        &self,
        content: &str,
        source_path: Option<&Path>,
    ) -> Result<String, ChapterError> {
        let file = match source_path {
            Some(path) => self.src.join(path),
            None => PathBuf::from("<generated chapter>"),
        };
        chapter::process_chapter(content, &file, &self.settings, self.target)
    }
}

impl Preprocessor for HubCheck {
    fn name(&self) -> &str {
        Self::NAME
    }

    fn run(&self, ctx: &PreprocessorContext, mut book: Book) -> anyhow::Result<Book> {
        let table = ctx
            .config
            .get::<toml::Value>("preprocessor.hubcheck")
            .context("reading [preprocessor.hubcheck] in book.toml")?;
        let settings = Settings::from_table(table)
            .map_err(|e| anyhow::anyhow!("book.toml: [preprocessor.hubcheck]: {}", e.message()))?;
        settings.validate()?;
        let book_settings = BookSettings {
            settings,
            target: BookSettings::target_for(&ctx.renderer),
            src: ctx.config.book.src.clone(),
        };
        let mut first_error = None;
        book.for_each_mut(|item| {
            if first_error.is_some() {
                return;
            }
            if let BookItem::Chapter(chapter) = item {
                match book_settings.process(&chapter.content, chapter.source_path.as_deref()) {
                    Ok(content) => chapter.content = content,
                    Err(e) => first_error = Some(e),
                }
            }
        });
        match first_error {
            Some(e) => Err(e.into()),
            None => Ok(book),
        }
    }

    fn supports_renderer(&self, _renderer: &str) -> anyhow::Result<bool> {
        // html gets widgets, every other renderer gets text, and all need annotations stripped.
        Ok(true)
    }
}
