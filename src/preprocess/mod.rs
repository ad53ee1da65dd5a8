//! The mdBook preprocessor: what readers see of the handbook.
//!
//! [`HubCheck`] is the one public type. It runs inside an in-process build (registered with
//! `MDBook::with_preprocessor`) and as the `mdbook-hubcheck` command that a stock `mdbook build`
//! talks to over stdin and stdout (`protocol.rs`, [`run_protocol`]). For every chapter it
//!
//! 1. refuses token-shaped strings ([`crate::secrets`]),
//! 2. strips the harness's snippet annotations,
//! 3. expands `{{#hubcheck ...}}` widget directives into widget containers for the html renderer
//!    and plain text for the others,
//! 4. for the html renderer, puts a verification badge before each code block when there is a
//!    harness report, and writes the widget script and stylesheet ([`crate::widgets::assets`]).
//!
//! Errors name the chapter file and line, and the whole book fails: nothing is written half-way.
//! Its settings are [`crate::settings::Settings`], shared with the build and the harness.

mod book_settings;
mod chapter;
mod directive;
pub mod links;
mod protocol;

use mdbook_preprocessor::book::{Book, BookItem};
use mdbook_preprocessor::{Preprocessor, PreprocessorContext};

pub use book_settings::{BookSettings, EXTERNAL_LINKS_FILE, HtmlLinks, LinkCheckError};
pub use chapter::{ChapterError, ChapterErrorKind, Processed, Target, process_chapter};
pub use protocol::{BUILT_AGAINST, ProtocolError, run as run_protocol, version_warning};

use crate::settings::Settings;

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

impl Preprocessor for HubCheck {
    fn name(&self) -> &str {
        Self::NAME
    }

    fn run(&self, ctx: &PreprocessorContext, mut book: Book) -> anyhow::Result<Book> {
        let settings = Settings::from_config(&ctx.config)?;
        let list = |key: &str| -> Vec<String> {
            ctx.config
                .get::<Vec<String>>(key)
                .ok()
                .flatten()
                .unwrap_or_default()
        };
        let links = HtmlLinks {
            additional_js: list("output.html.additional-js"),
            additional_css: list("output.html.additional-css"),
        };
        let book_settings = BookSettings::prepare(
            settings,
            &ctx.renderer,
            ctx.config.book.src.clone(),
            &ctx.root,
            &links,
            &mut |warning| eprintln!("{warning}"),
        )?;
        let chapters: Vec<links::ChapterText> = book
            .iter()
            .filter_map(|item| match item {
                BookItem::Chapter(chapter) => Some(links::ChapterText {
                    content: chapter.content.clone(),
                    source_path: chapter.source_path.clone(),
                }),
                _ => None,
            })
            .collect();
        book_settings.check_links(&chapters)?;
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
        if let Some(warning) = book_settings.link_warning() {
            eprintln!("{warning}");
        }
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
