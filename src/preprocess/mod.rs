//! The mdBook preprocessor: what readers see of the handbook.
//!
//! [`HubCheck`] is the one public type. It runs inside an in-process build (registered with
//! `MDBook::with_preprocessor`) and as the `mdbook-hubcheck` command that a stock `mdbook build`
//! talks to over stdin and stdout ([`protocol`]). For every chapter it
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

mod chapter;
mod directive;
pub mod links;
mod protocol;

use std::cell::Cell;
use std::path::{Path, PathBuf};

use mdbook_preprocessor::book::{Book, BookItem};
use mdbook_preprocessor::{Preprocessor, PreprocessorContext};

pub use chapter::{ChapterError, ChapterErrorKind, Processed, Target, process_chapter};
pub use protocol::{BUILT_AGAINST, ProtocolError, run as run_protocol, version_warning};

use crate::settings::Settings;
use crate::snippets::includes::{SourceMap, map_chapter, unmapped_warning};

use crate::report::Report;
use crate::widgets::assets::{self, AssetError};

/// The list of links to other sites, beside the harness report: what the drift job tries.
pub const EXTERNAL_LINKS_FILE: &str = "external-links.json";

/// Why the book's links stop the build.
#[derive(Debug, thiserror::Error)]
pub enum LinkCheckError {
    /// A link leads nowhere.
    #[error(transparent)]
    Broken(#[from] links::BrokenLinks),
    /// The list of external links could not be written.
    #[error("writing {file}: {error}")]
    Write {
        /// The file.
        file: String,
        /// What failed.
        error: String,
    },
}

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
    /// The book's root folder, where chapter sources are read again to map lines after includes.
    pub root: PathBuf,
    /// The harness report that badges come from (html only; `None` means no badges).
    pub report: Option<Report>,
    /// The warning to give if a chapter gets a widget or badge while `book.toml` does not load
    /// the widget assets.
    pub missing_links: Option<String>,
    /// Whether a processed chapter got a widget or a badge.
    used: Cell<bool>,
}

/// The `output.html` entries that link extra files into every page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HtmlLinks {
    /// `output.html.additional-js`.
    pub additional_js: Vec<String>,
    /// `output.html.additional-css`.
    pub additional_css: Vec<String>,
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

    /// Settings for one run over a book whose root folder is `root`.
    ///
    /// For the html renderer this reads the harness report (a missing report means no badges; an
    /// unreadable one is a warning and no badges) and writes the widget assets under the root,
    /// so that `additional-js` entries naming them always find them. Whether `links` load them
    /// is told by [`BookSettings::link_warning`] once the chapters are processed. Non-fatal
    /// warnings go to `warn`.
    pub fn prepare(
        mut settings: Settings,
        renderer: &str,
        src: PathBuf,
        root: &Path,
        links: &HtmlLinks,
        warn: &mut dyn FnMut(String),
    ) -> Result<BookSettings, AssetError> {
        let target = Self::target_for(renderer);
        let mut report = None;
        let mut missing_links = None;
        if target == Target::Html {
            assets::write_assets(root)?;
            missing_links =
                assets::missing_link_warning(&links.additional_js, &links.additional_css);
            let help = crate::widgets::csp::NETWORK_HELP_CHAPTER;
            if root.join(&src).join(help).is_file() {
                settings.network_help = Some(help.replace(".md", ".html"));
            }
            match Report::load(&root.join(&settings.report)) {
                Ok(found) => report = found,
                Err(e) => warn(format!("warning: {e}; the book is built without badges")),
            }
        }
        Ok(BookSettings {
            settings,
            target,
            src,
            root: root.to_path_buf(),
            report,
            missing_links,
            used: Cell::new(false),
        })
    }

    /// The warning to print after processing: a chapter got a widget or badge, but the book's
    /// config does not load the script and stylesheet.
    pub fn link_warning(&self) -> Option<&str> {
        self.used
            .get()
            .then_some(self.missing_links.as_deref())
            .flatten()
    }

    /// Checks every link of the book's chapters ([`links`]) before any is processed; for the
    /// html renderer, writes the links to other sites to `external-links.json` beside the
    /// report.
    pub fn check_links(&self, chapters: &[links::ChapterText]) -> Result<(), LinkCheckError> {
        let external = links::check(chapters, &self.root, &self.src)?;
        if self.target == Target::Html {
            let file = self
                .root
                .join(&self.settings.report)
                .with_file_name(EXTERNAL_LINKS_FILE);
            links::write_external(&file, &external).map_err(|e| LinkCheckError::Write {
                file: file.display().to_string(),
                error: e.to_string(),
            })?;
        }
        Ok(())
    }

    /// Processes one chapter; `source_path` is relative to the source folder. Errors name the
    /// file and line the chapter's source was written at, also after `{{#include}}`
    /// ([`crate::snippets::includes`]).
    pub fn process(
        &self,
        content: &str,
        source_path: Option<&Path>,
    ) -> Result<String, ChapterError> {
        let map = match source_path {
            Some(path) => {
                let (map, exact) = map_chapter(&self.root, &self.src, path, content);
                if !exact {
                    eprintln!("{}", unmapped_warning(map.chapter()));
                }
                map
            }
            None => SourceMap::identity(Path::new("<generated chapter>")),
        };
        let processed = chapter::process_mapped(
            content,
            &map,
            &self.settings,
            self.target,
            self.report.as_ref(),
        )?;
        if processed.uses_assets {
            self.used.set(true);
        }
        Ok(processed.text)
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
