//! `mdbook-hubcheck install [--book DIR]`: sets up another book to use the preprocessor with a
//! stock `mdbook build`, as other mdBook plugins offer.
//!
//! - `book.toml` gets `[preprocessor.hubcheck]` (with `after = ["links"]`) and the widget script and
//!   stylesheet in `output.html.additional-js` / `additional-css`, edited with `toml_edit` so its
//!   comments, spacing and key order stay as they were;
//! - the theme's `head.hbs` (`output.html.theme`, by default `theme/`) gets the
//!   Content-Security-Policy block of [`crate::widgets::csp`] for the book's `hub-endpoint`. A
//!   `head.hbs` of the book's own is never overwritten: the command prints what to add to it.
//!
//! - a starter world file (`hub-world.toml`) and the built-in Python requirements
//!   (`hub-requirements.in` and `.txt`) are written where the book has none.
//!
//! A second run changes nothing (a changed `hub-endpoint` brings our block up to date). What it
//! did is printed, one line per change.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use toml_edit::{Array, DocumentMut, Item, Table, value};

use crate::harness::pyenv;
use crate::hub::world_file;
use crate::settings::{DEFAULT_REQUIREMENTS_FILE, Settings, SettingsError};
use crate::widgets::{assets, csp};

/// Why `install` stopped.
#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    /// No `book.toml` in the folder.
    #[error("{}: no book.toml here; pass the book's root folder with --book", .0.display())]
    NoBook(PathBuf),
    /// `book.toml` is not TOML, or has a key of the wrong shape where we must write.
    #[error("{}: {message}", file.display())]
    Toml {
        /// The file.
        file: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The table, once added, is not usable.
    #[error(transparent)]
    Settings(#[from] SettingsError),
    /// Reading or writing failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
}

/// What `install` did (or would tell the user to do), one line each.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Installed {
    /// Changes made.
    pub changes: Vec<String>,
    /// Things left to the user, with what to do.
    pub notes: Vec<String>,
}

/// Installs into the book at `root` and prints what it did to `out`.
pub fn run(root: &Path, out: &mut dyn Write) -> Result<Installed, InstallError> {
    let done = install(root)?;
    let io = |source| InstallError::Io {
        path: PathBuf::from("<stdout>"),
        source,
    };
    for change in &done.changes {
        writeln!(out, "{change}").map_err(io)?;
    }
    for note in &done.notes {
        writeln!(out, "{note}").map_err(io)?;
    }
    if done.changes.is_empty() && done.notes.is_empty() {
        writeln!(
            out,
            "nothing to do: {} is already set up for mdbook-hubcheck",
            root.join("book.toml").display()
        )
        .map_err(io)?;
    }
    Ok(done)
}

/// Installs into the book at `root`.
pub fn install(root: &Path) -> Result<Installed, InstallError> {
    let file = root.join("book.toml");
    if !file.is_file() {
        return Err(InstallError::NoBook(root.to_path_buf()));
    }
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| InstallError::Io { path, source }
    };
    let toml_error = |message: String| InstallError::Toml {
        file: file.clone(),
        message,
    };
    let original = fs::read_to_string(&file).map_err(io(&file))?;
    let mut doc: DocumentMut = original.parse().map_err(|e| toml_error(format!("{e}")))?;
    let mut done = Installed::default();

    add_preprocessor_table(&mut doc, &mut done).map_err(toml_error)?;
    add_asset_lines(&mut doc, &mut done).map_err(toml_error)?;
    let updated = doc.to_string();
    if updated != original {
        fs::write(&file, &updated).map_err(io(&file))?;
    }

    let settings = Settings::load(root)?;
    write_starters(root, &settings, &mut done)?;
    if html_rendered(&doc) {
        write_theme_head(root, &doc, &settings.hub_endpoint, &mut done)?;
    }
    Ok(done)
}

/// Writes the starter world file and the built-in Python requirements where the book has none,
/// so `mdbook-hubcheck test` runs at once and the staff can see what to change.
fn write_starters(
    root: &Path,
    settings: &Settings,
    done: &mut Installed,
) -> Result<(), InstallError> {
    let world = settings.world.as_ref().map_or_else(
        || root.join(world_file::DEFAULT_FILE_NAME),
        |w| root.join(w),
    );
    let lock = settings
        .python_requirements
        .as_ref()
        .map_or_else(|| root.join(DEFAULT_REQUIREMENTS_FILE), |r| root.join(r));
    let starters = [
        (
            world,
            world_file::STARTER,
            "the Hub world the snippets run against (docs/world-file.md)",
        ),
        (
            lock.with_extension("in"),
            pyenv::TOP_LEVEL_REQUIREMENTS,
            "the top-level Python packages",
        ),
        (
            lock,
            pyenv::LOCKED_REQUIREMENTS,
            "their pinned versions with hashes",
        ),
    ];
    for (path, text, what) in starters {
        if path.exists() {
            continue;
        }
        let io = |source| InstallError::Io {
            path: path.clone(),
            source,
        };
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(io)?;
        }
        fs::write(&path, text).map_err(io)?;
        let shown = path.strip_prefix(root).unwrap_or(&path);
        done.changes
            .push(format!("{}: written, {what}", shown.display()));
    }
    Ok(())
}

/// Whether the book renders html: no `[output]` at all (mdBook's default), or `[output.html]`.
fn html_rendered(doc: &DocumentMut) -> bool {
    match doc.get("output").and_then(Item::as_table_like) {
        None => true,
        Some(outputs) => outputs.is_empty() || outputs.contains_key("html"),
    }
}

fn add_preprocessor_table(doc: &mut DocumentMut, done: &mut Installed) -> Result<(), String> {
    let preprocessors = doc
        .entry("preprocessor")
        .or_insert_with(|| {
            let mut table = Table::new();
            table.set_implicit(true);
            Item::Table(table)
        })
        .as_table_like_mut()
        .ok_or("`preprocessor` is not a table")?;
    if preprocessors.contains_key("hubcheck") {
        return Ok(());
    }
    let mut table = Table::new();
    table.insert("after", value(Array::from_iter(["links"])));
    table
        .key_mut("after")
        .expect("just inserted")
        .leaf_decor_mut()
        .set_prefix("# Run after {{#include}} is expanded.\n");
    preprocessors.insert("hubcheck", Item::Table(table));
    done.changes.push(
        "book.toml: added [preprocessor.hubcheck] (after = [\"links\"]; hub-endpoint defaults to https://huggingface.co)"
            .into(),
    );
    Ok(())
}

fn add_asset_lines(doc: &mut DocumentMut, done: &mut Installed) -> Result<(), String> {
    if !html_rendered(doc) {
        done.notes.push(
            "book.toml: the book renders no html, so no script or stylesheet lines were added"
                .into(),
        );
        return Ok(());
    }
    let outputs = doc
        .entry("output")
        .or_insert_with(|| {
            let mut table = Table::new();
            table.set_implicit(true);
            Item::Table(table)
        })
        .as_table_like_mut()
        .ok_or("`output` is not a table")?;
    let html = outputs
        .entry("html")
        .or_insert(Item::Table(Table::new()))
        .as_table_like_mut()
        .ok_or("`output.html` is not a table")?;
    for (key, path) in [
        ("additional-js", assets::JS_PATH),
        ("additional-css", assets::CSS_PATH),
    ] {
        let list = html
            .entry(key)
            .or_insert(value(Array::new()))
            .as_array_mut()
            .ok_or_else(|| format!("`output.html.{key}` is not a list"))?;
        let present = list.iter().any(|item| {
            item.as_str()
                .is_some_and(|p| Path::new(p.trim_start_matches("./")) == Path::new(path))
        });
        if !present {
            list.push(path);
            done.changes
                .push(format!("book.toml: added \"{path}\" to output.html.{key}"));
        }
    }
    Ok(())
}

fn write_theme_head(
    root: &Path,
    doc: &DocumentMut,
    endpoint: &str,
    done: &mut Installed,
) -> Result<(), InstallError> {
    let theme = doc
        .get("output")
        .and_then(|o| o.get("html"))
        .and_then(|h| h.get("theme"))
        .and_then(Item::as_str)
        .unwrap_or("theme");
    let head = root.join(theme).join("head.hbs");
    let shown = Path::new(theme).join("head.hbs");
    let existing = match fs::read_to_string(&head) {
        Ok(text) => Some(text),
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(source) => return Err(InstallError::Io { path: head, source }),
    };
    let created = existing.is_none();
    match csp::plan_head(existing.as_deref(), endpoint) {
        csp::HeadPlan::Unchanged => {}
        csp::HeadPlan::Write(text) => {
            let io = |source| InstallError::Io {
                path: head.clone(),
                source,
            };
            fs::create_dir_all(head.parent().unwrap_or(root)).map_err(io)?;
            fs::write(&head, text).map_err(io)?;
            done.changes.push(format!(
                "{}: {} with the Content-Security-Policy for {endpoint} (pages may send data only to \
                 their own site and the Hub)",
                shown.display(),
                if created { "written" } else { "policy brought up to date" }
            ));
        }
        csp::HeadPlan::Custom => done.notes.push(format!(
            "{}: left alone, it is the book's own. For the pages to carry the policy that keeps the \
             token checker's requests to the book's site and {endpoint}, add these lines to it \
             (mdbook-hubcheck keeps them up to date afterwards):\n{}",
            shown.display(),
            csp::head_block(endpoint)
                .lines()
                .map(|l| format!("    {l}"))
                .collect::<Vec<_>>()
                .join("\n")
        )),
    }
    Ok(())
}
