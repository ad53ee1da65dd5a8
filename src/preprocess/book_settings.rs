//! What every chapter of one build shares ([`BookSettings`]): the settings, the target, the
//! harness report the badges come from, and the book's link check. Read once per book, by the
//! in-process preprocessor and the stdin/stdout protocol alike; it processes chapters through
//! `chapter.rs` and takes nothing from either entry point.

use std::cell::Cell;
use std::path::{Path, PathBuf};

use super::chapter::{self, ChapterError, Target};
use super::links;
use crate::report::Report;
use crate::settings::Settings;
use crate::snippets::includes::{SourceMap, map_chapter, unmapped_warning};
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
