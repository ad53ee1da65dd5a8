//! The preprocessor's cost: generated books of 100, 1,000 and 5,000 chapters built in-process with
//! mdBook (`mdbook_driver::MDBook`, html with search, as `mdbook-hubcheck build` does) with and
//! without `mdbook_hubcheck::preprocess::HubCheck`, side by side in one run.
//!
//! Run: `cargo bench --bench preprocess` (optimised) or `cargo bench --profile dev --bench
//! preprocess`. Arguments: chapter counts (default `100 1000 5000`); `HUBCHECK_BENCH_REPS` sets the
//! builds per variant (default 3; at 5,000 chapters at most 2). Not a test: it prints figures,
//! which `docs/benchmarks.md` records.
//!
//! Chapters are the handbook's own chapters (`book/**/*.md`) repeated, so they carry the same
//! annotations, widget directives, placeholders and code blocks as the real book. Both variants
//! link the widget script and stylesheet, so their output differs only in what the preprocessor
//! changes. Builds alternate (without, with, without, with, ...) so load changes on a shared
//! machine hit both; the figure per variant is the fastest build.

use std::fs;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::{Duration, Instant};

use mdbook_driver::MDBook;
use mdbook_driver::config::Config;
use mdbook_hubcheck::preprocess::HubCheck;

const COMMON_TOML: &str = r#"
[book]
title = "Generated"
src = "src"

[build]
build-dir = "out"
create-missing = false

[output.html]
additional-js = ["target/hubcheck/assets/hubcheck.js"]
additional-css = ["target/hubcheck/assets/hubcheck.css"]

[output.html.search]
enable = true
"#;

const HUBCHECK_TOML: &str = r#"
[preprocessor.hubcheck]
after = ["links"]
hub-endpoint = "https://huggingface.co"

[preprocessor.hubcheck.placeholders]
"hf_your_token_here" = "{token}"
"your-username" = "{user}"
"#;

/// The handbook's chapters, the templates of generated ones.
fn templates() -> Vec<String> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in fs::read_dir(dir).expect("read book/") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "md")
                && path.file_name().is_some_and(|n| n != "SUMMARY.md")
            {
                out.push(path);
            }
        }
    }
    let mut paths = Vec::new();
    walk(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("book"),
        &mut paths,
    );
    paths.sort();
    paths
        .iter()
        .map(|p| fs::read_to_string(p).expect("chapter"))
        .collect()
}

/// Writes a book of `chapters` chapters under `root`; returns its total markdown size in bytes.
fn generate(root: &Path, chapters: usize, templates: &[String]) -> usize {
    let src = root.join("src");
    fs::create_dir_all(&src).unwrap();
    let mut summary = String::from("# Summary\n\n");
    let mut bytes = 0;
    for i in 0..chapters {
        let text = &templates[i % templates.len()];
        bytes += text.len();
        fs::write(src.join(format!("ch{i:05}.md")), text).unwrap();
        summary.push_str(&format!("- [Chapter {i}](ch{i:05}.md)\n"));
    }
    fs::write(src.join("SUMMARY.md"), summary).unwrap();
    bytes
}

/// Loads and builds the book at `root`, with or without the preprocessor; returns the wall time.
fn build(root: &Path, with: bool) -> Duration {
    let toml = if with {
        format!("{COMMON_TOML}{HUBCHECK_TOML}")
    } else {
        COMMON_TOML.to_string()
    };
    let start = Instant::now();
    let config = Config::from_str(&toml).expect("config");
    let mut book = MDBook::load_with_config(root, config).expect("load");
    if with {
        book.with_preprocessor(HubCheck::new());
    }
    book.build().expect("build");
    start.elapsed()
}

fn median(times: &mut [Duration]) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn main() {
    let sizes: Vec<usize> = {
        let args: Vec<usize> = std::env::args()
            .skip(1)
            .filter_map(|a| a.parse().ok())
            .collect();
        if args.is_empty() {
            vec![100, 1000, 5000]
        } else {
            args
        }
    };
    let reps: usize = std::env::var("HUBCHECK_BENCH_REPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3)
        .max(1);
    let templates = templates();
    println!(
        "machine: {} CPUs available; chapters from {} handbook chapters; {reps} builds per variant (2 at most from 5,000 chapters), alternating",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        templates.len()
    );
    println!(
        "{:>8} {:>9} {:>12} {:>12} {:>7} {:>14} {:>14}",
        "chapters", "MiB md", "without (s)", "with (s)", "ratio", "without ms/ch", "with ms/ch"
    );
    for &n in &sizes {
        let dir = tempfile::tempdir().expect("temp dir");
        let bytes = generate(dir.path(), n, &templates);
        // A first build with the preprocessor writes the widget assets both variants link, and
        // warms the file cache.
        build(dir.path(), true);
        let reps = if n >= 5000 { reps.min(2) } else { reps };
        let (mut without, mut with) = (Vec::new(), Vec::new());
        for _ in 0..reps {
            without.push(build(dir.path(), false));
            with.push(build(dir.path(), true));
        }
        let best_without = *without.iter().min().unwrap();
        let best_with = *with.iter().min().unwrap();
        let (med_without, med_with) = (median(&mut without), median(&mut with));
        println!(
            "{n:>8} {:>9.1} {:>12.3} {:>12.3} {:>7.3} {:>14.3} {:>14.3}   (medians {:.3} / {:.3} s, ratio {:.3})",
            bytes as f64 / (1024.0 * 1024.0),
            best_without.as_secs_f64(),
            best_with.as_secs_f64(),
            best_with.as_secs_f64() / best_without.as_secs_f64(),
            best_without.as_secs_f64() * 1e3 / n as f64,
            best_with.as_secs_f64() * 1e3 / n as f64,
            med_without.as_secs_f64(),
            med_with.as_secs_f64(),
            med_with.as_secs_f64() / med_without.as_secs_f64(),
        );
    }
}
