//! The widget script and stylesheet, and how they reach the built book.
//!
//! Both files are compiled into the binary. mdBook's html renderer copies the files named in
//! `output.html.additional-js` / `additional-css` from the book root into its output and links them
//! from every page, print.html included, with the right relative path. So the preprocessor writes
//! the two files under `target/hubcheck/assets/` in the book root: outside the source folder (that
//! `mdbook serve` watches) and outside the html output folder (that the renderer empties first).
//! It writes only when the content differs, so the files' modification times stay put.
//!
//! `mdbook-hubcheck build` adds the two entries to the config by itself; a stock `mdbook build`
//! needs them in `book.toml`, and the preprocessor warns when they are missing.

use std::fs;
use std::path::{Path, PathBuf};

/// The widget script, followed by the fixes to mdBook's own page script and markup
/// (`assets/mdbook-a11y.js`, docs/accessibility.md): one file, so the two `book.toml` lines that
/// give a book the widgets give it the fixes too.
pub const JS: &str = concat!(
    include_str!("assets/hubcheck.js"),
    "\n",
    include_str!("assets/mdbook-a11y.js")
);

/// The widget stylesheet, followed by the fixes to mdBook's own theme
/// (`assets/mdbook-a11y.css`, docs/accessibility.md).
pub const CSS: &str = concat!(
    include_str!("assets/hubcheck.css"),
    "\n",
    include_str!("assets/mdbook-a11y.css")
);

/// Where the assets are written, relative to the book root; also their path in the output.
pub const ASSET_DIR: &str = concat!(hubcheck_dir!(), "/assets");

/// The script's path relative to the book root, as `additional-js` names it.
pub const JS_PATH: &str = concat!(hubcheck_dir!(), "/assets/hubcheck.js");

/// The stylesheet's path relative to the book root, as `additional-css` names it.
pub const CSS_PATH: &str = concat!(hubcheck_dir!(), "/assets/hubcheck.css");

/// Writing an asset failed.
#[derive(Debug, thiserror::Error)]
#[error("{}: cannot write the widget asset: {source}", path.display())]
pub struct AssetError {
    /// The file.
    pub path: PathBuf,
    /// The underlying error.
    pub source: std::io::Error,
}

/// Writes the script and stylesheet under `root` where they are missing or differ; returns the
/// files it wrote.
pub fn write_assets(root: &Path) -> Result<Vec<PathBuf>, AssetError> {
    let mut written = Vec::new();
    for (rel, content) in [(JS_PATH, JS), (CSS_PATH, CSS)] {
        let path = root.join(rel);
        if fs::read(&path).is_ok_and(|old| old == content.as_bytes()) {
            continue;
        }
        let fail = |source| AssetError {
            path: path.clone(),
            source,
        };
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).map_err(fail)?;
        }
        fs::write(&path, content).map_err(fail)?;
        written.push(path);
    }
    Ok(written)
}

/// The `book.toml` lines that link the assets, for messages and the README.
pub fn config_lines() -> String {
    format!("[output.html]\nadditional-js = [\"{JS_PATH}\"]\nadditional-css = [\"{CSS_PATH}\"]")
}

/// A warning when the html config does not link both assets, given its `additional-js` and
/// `additional-css` lists.
pub fn missing_link_warning(additional_js: &[String], additional_css: &[String]) -> Option<String> {
    let has = |list: &[String], want: &str| {
        list.iter()
            .any(|p| Path::new(p.trim_start_matches("./")) == Path::new(want))
    };
    if has(additional_js, JS_PATH) && has(additional_css, CSS_PATH) {
        return None;
    }
    Some(format!(
        "warning: mdbook-hubcheck: the token checker and badges need their script and stylesheet; \
         add to book.toml (or build with `mdbook-hubcheck build`, which adds them):\n{}",
        config_lines()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_once_and_leaves_unchanged_files_alone() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(write_assets(dir.path()).unwrap().len(), 2);
        let js = dir.path().join(JS_PATH);
        assert_eq!(fs::read_to_string(&js).unwrap(), JS);
        // Date the file far back: any rewrite would give it today's time.
        let long_ago = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000);
        fs::File::options()
            .write(true)
            .open(&js)
            .unwrap()
            .set_modified(long_ago)
            .unwrap();
        assert!(write_assets(dir.path()).unwrap().is_empty());
        assert_eq!(fs::metadata(&js).unwrap().modified().unwrap(), long_ago);
        fs::write(&js, "old").unwrap();
        assert_eq!(write_assets(dir.path()).unwrap(), vec![js]);
    }

    #[test]
    fn warns_only_when_a_link_is_missing() {
        let js = vec![JS_PATH.to_string()];
        let css = vec![format!("./{CSS_PATH}")];
        assert!(missing_link_warning(&js, &css).is_none());
        let warning = missing_link_warning(&js, &[]).unwrap();
        assert!(warning.contains("additional-css"), "{warning}");
    }

    #[test]
    fn script_avoids_what_a_strict_csp_or_xss_review_forbids() {
        for banned in [
            "innerHTML",
            "outerHTML",
            "insertAdjacentHTML",
            "document.write",
            "eval(",
            "new Function",
            "setAttribute(\"style\"",
            "localStorage",
            "sessionStorage",
            "document.cookie",
            "console.",
        ] {
            assert!(!JS.contains(banned), "hubcheck.js uses {banned}");
        }
    }
}
