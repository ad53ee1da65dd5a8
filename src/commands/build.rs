//! `mdbook-hubcheck build`: builds a book in-process with the hubcheck preprocessor registered.
//!
//! Users need no separate mdBook install: this is mdBook itself (the `mdbook-driver` crate, with
//! its search feature, so the output matches a stock `mdbook build`). After rendering, the output
//! is scanned for token-shaped strings, so a token that slipped in through a theme, an include or a
//! renderer fails the build too.
//!
//! Every page carries the Content-Security-Policy of [`crate::widgets::csp`] for the effective
//! `hub-endpoint` (so `serve --mock-hub` gets the mock's origin): the build renders with a
//! temporary copy of the book's theme folder whose `head.hbs` holds the policy block. A theme
//! `head.hbs` of the book's own, without our block, is used as it is (with a warning unless it
//! sets a policy itself); `mdbook-hubcheck install` explains what to add to it.

use std::fs;
use std::path::{Path, PathBuf};

use mdbook_driver::MDBook;
use mdbook_driver::config::Config;

use crate::preprocess::HubCheck;
use crate::secrets;
use crate::settings::{Settings, SettingsError, load_config};
use crate::widgets::{assets, csp};

/// What to build and where.
#[derive(Debug, Clone)]
pub struct BuildOptions {
    /// The book's root folder, the one holding `book.toml`.
    pub book: PathBuf,
    /// Where to write the output instead of `build.build-dir`; relative to the current folder.
    pub dest: Option<PathBuf>,
    /// Overrides `[preprocessor.hubcheck] hub-endpoint`, e.g. to point widgets at a mock Hub.
    pub hub_endpoint: Option<String>,
}

/// Why a build failed.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// `book.toml` is missing, or its `[preprocessor.hubcheck]` cannot be used.
    #[error(transparent)]
    Settings(#[from] SettingsError),
    /// mdBook failed: a bad config, a missing chapter, a preprocessor error, a renderer error.
    #[error("{0:#}")]
    MdBook(anyhow::Error),
    /// The rendered output holds a token-shaped string.
    #[error(
        "{}:{line}: the built book contains a string shaped like a Hugging Face access token ({masked}); \
         find where it comes from (a theme file, an include, additional-js) and replace it with a placeholder",
        file.display()
    )]
    TokenInOutput {
        /// The output file.
        file: PathBuf,
        /// 1-based line in that file.
        line: usize,
        /// The first characters only.
        masked: String,
    },
    /// An entry of SUMMARY.md names no file.
    #[error(transparent)]
    Summary(#[from] crate::preprocess::links::BrokenLinks),
    /// Reading the output failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
}

/// Builds the book and returns the folder the html renderer wrote to.
pub fn build(options: &BuildOptions) -> Result<PathBuf, BuildError> {
    let (book, _theme) = load(options)?;
    book.build().map_err(BuildError::MdBook)?;
    let out = book.build_dir_for("html");
    let settings = Settings::from_config(&book.config)?;
    scan_output(&out, &|s: &str| settings.is_declared_placeholder(s))?;
    Ok(out)
}

/// Loads the book with its config adjusted by `options` and the preprocessor registered; the
/// temporary theme folder with the policy, if any, must live until the book is built.
pub fn load(options: &BuildOptions) -> Result<(MDBook, Option<tempfile::TempDir>), BuildError> {
    let mut config = load_config(&options.book)?;
    if let Some(dest) = &options.dest {
        config.build.build_dir = std::path::absolute(dest).map_err(|source| BuildError::Io {
            path: dest.clone(),
            source,
        })?;
    }
    if let Some(endpoint) = &options.hub_endpoint {
        config
            .set("preprocessor.hubcheck.hub-endpoint", endpoint)
            .map_err(BuildError::MdBook)?;
    }
    link_widget_assets(&mut config).map_err(BuildError::MdBook)?;
    let endpoint = Settings::from_config(&config)?.hub_endpoint;
    let theme = theme_with_policy(&mut config, &options.book, &endpoint)?;
    crate::preprocess::links::check_summary(&options.book, &config.book.src)?;
    let mut book = MDBook::load_with_config(&options.book, config).map_err(BuildError::MdBook)?;
    book.with_preprocessor(HubCheck::new());
    Ok((book, theme))
}

/// Points `output.html.theme` at a temporary copy of the book's theme folder whose `head.hbs`
/// carries the policy for `endpoint`. `None` (config unchanged) when the book renders no html or
/// has a `head.hbs` of its own without our block.
fn theme_with_policy(
    config: &mut Config,
    root: &Path,
    endpoint: &str,
) -> Result<Option<tempfile::TempDir>, BuildError> {
    let outputs = config
        .outputs::<toml::Value>()
        .map_err(BuildError::MdBook)?;
    if !outputs.is_empty() && !outputs.contains_key("html") {
        return Ok(None);
    }
    let theme = config
        .get::<PathBuf>("output.html.theme")
        .map_err(BuildError::MdBook)?
        .unwrap_or_else(|| PathBuf::from("theme"));
    let theme = root.join(theme);
    let head_path = theme.join("head.hbs");
    let existing = fs::read_to_string(&head_path).ok();
    let head = match csp::plan_head(existing.as_deref(), endpoint) {
        csp::HeadPlan::Write(text) => text,
        csp::HeadPlan::Unchanged => existing.unwrap_or_default(),
        csp::HeadPlan::Custom => {
            if !existing
                .unwrap_or_default()
                .contains("Content-Security-Policy")
            {
                eprintln!(
                    "warning: {} is the book's own and sets no Content-Security-Policy: the pages are                      built without the policy that keeps the token checker's requests to {endpoint};                      `mdbook-hubcheck install` says what to add",
                    head_path.display()
                );
            }
            return Ok(None);
        }
    };
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| BuildError::Io { path, source }
    };
    let dir = tempfile::Builder::new()
        .prefix("hubcheck-theme-")
        .tempdir()
        .map_err(io(&std::env::temp_dir()))?;
    if theme.is_dir() {
        copy_tree(&theme, dir.path()).map_err(io(&theme))?;
    }
    fs::write(dir.path().join("head.hbs"), head).map_err(io(dir.path()))?;
    config
        .set("output.html.theme", dir.path())
        .map_err(BuildError::MdBook)?;
    Ok(Some(dir))
}

fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    fs::create_dir_all(to)?;
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_tree(&entry.path(), &target)?;
        } else {
            fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

/// Adds the widget script and stylesheet to `output.html.additional-js` / `additional-css`
/// (unless listed already), so that `book.toml` needs no lines for them. Books whose outputs do not
/// include html are left alone: adding `[output.html]` would add a renderer.
fn link_widget_assets(config: &mut Config) -> anyhow::Result<()> {
    let outputs = config.outputs::<toml::Value>()?;
    if !outputs.is_empty() && !outputs.contains_key("html") {
        return Ok(());
    }
    for (key, path) in [
        ("output.html.additional-js", assets::JS_PATH),
        ("output.html.additional-css", assets::CSS_PATH),
    ] {
        let mut list = config.get::<Vec<String>>(key)?.unwrap_or_default();
        if !list
            .iter()
            .any(|p| Path::new(p.trim_start_matches("./")) == Path::new(path))
        {
            list.push(path.to_string());
            config.set(key, list)?;
        }
    }
    Ok(())
}

/// Fails on the first token-shaped string in any text file under `dir`.
fn scan_output(dir: &Path, allowed: &dyn Fn(&str) -> bool) -> Result<(), BuildError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| BuildError::Io { path, source }
    };
    for entry in fs::read_dir(dir).map_err(io(dir))? {
        let path = entry.map_err(io(dir))?.path();
        if path.is_dir() {
            scan_output(&path, allowed)?;
            continue;
        }
        let Ok(text) = fs::read_to_string(&path) else {
            continue; // fonts and images
        };
        if let Some(hit) = secrets::find_tokens(&text, allowed).into_iter().next() {
            return Err(BuildError::TokenInOutput {
                file: path,
                line: hit.line,
                masked: hit.masked,
            });
        }
    }
    Ok(())
}
