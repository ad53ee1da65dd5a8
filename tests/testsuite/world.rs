//! The world file through the binary: a book's own world runs; a malformed one stops the run
//! before anything starts, naming its file and line; a scenario that names a token the world does
//! not declare stops it too; and no name of the handbook's world is written in the code.

use std::fs;
use std::path::Path;

use crate::prelude::{BookFixture, fixtures, hubcheck_test, repo_root, text};

#[test]
fn a_book_runs_against_the_world_its_file_declares() {
    let book = BookFixture::copy("world-book");
    let output = hubcheck_test(book.root(), &[]);
    let out = text(&output);
    assert!(output.status.success(), "{out}");
    assert!(out.contains("1 passed, 0 failed"), "{out}");
}

#[test]
fn malformed_world_files_stop_the_run_naming_file_and_line() {
    let mut seen = 0;
    for entry in fs::read_dir(fixtures().join("bad-worlds")).unwrap() {
        let path = entry.unwrap().path();
        let bad = fs::read_to_string(&path).unwrap();
        let expect = bad
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("# expect: "))
            .unwrap_or_else(|| {
                panic!(
                    "{}: first line must be `# expect: LINE: TEXT`",
                    path.display()
                )
            });
        let (line, says) = expect.split_once(": ").unwrap();
        let book = BookFixture::copy("world-book");
        fs::write(book.root().join("hub-world.toml"), &bad).unwrap();
        let output = hubcheck_test(book.root(), &[]);
        let out = text(&output);
        assert_eq!(output.status.code(), Some(1), "{}: {out}", path.display());
        let at = format!("hub-world.toml:{line}: ");
        assert!(
            out.contains(&at),
            "{}: expected `{at}` in:\n{out}",
            path.display()
        );
        assert!(
            out.contains(says),
            "{}: expected `{says}` in:\n{out}",
            path.display()
        );
        assert!(!out.contains("running "), "no run starts: {out}");
        assert!(!book.root().join("target/hubcheck/report.json").exists());
        seen += 1;
    }
    assert!(seen >= 4, "every kind of mistake has a fixture");
}

#[test]
fn a_scenario_naming_an_undeclared_token_stops_the_run_before_it_starts() {
    let book = BookFixture::copy("world-book");
    book.append(
        "src/whoami.md",
        "\n<!-- hubcheck\n[[scenario]]\nname = \"admin\"\ntoken = \"admin\"\n-->\n\n```bash\nhf auth whoami\n```\n",
    );
    let output = hubcheck_test(book.root(), &[]);
    let out = text(&output);
    assert_eq!(output.status.code(), Some(1), "{out}");
    assert!(
        out.contains("src/whoami.md:21: scenario `admin` asks for the token `admin`"),
        "{out}"
    );
    assert!(out.contains("course-read, invalid, none"), "{out}");
    assert!(!out.contains("running "), "{out}");
}

/// Every account, organisation, token display name and repository id of the handbook's world.
fn handbook_names() -> Vec<String> {
    let world: toml::Value =
        toml::from_str(&fs::read_to_string(repo_root().join("hub-world.toml")).unwrap()).unwrap();
    let mut names = vec![world["student"].as_str().unwrap().to_string()];
    for table in ["accounts", "organisations"] {
        if let Some(t) = world.get(table).and_then(toml::Value::as_table) {
            names.extend(t.keys().cloned());
        }
    }
    if let Some(tokens) = world.get("tokens").and_then(toml::Value::as_table) {
        names.extend(
            tokens
                .values()
                .filter_map(|t| t.get("display-name")?.as_str().map(String::from)),
        );
    }
    if let Some(repos) = world.get("repos").and_then(toml::Value::as_array) {
        names.extend(
            repos
                .iter()
                .filter_map(|r| r.get("id")?.as_str().map(String::from)),
        );
    }
    names
}

/// Whether `name` stands in `text` as a whole name (not inside a longer one).
fn names_it(text: &str, name: &str) -> bool {
    let part = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '/' | '.');
    text.match_indices(name).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + name.len()..].chars().next();
        !before.is_some_and(part) && !after.is_some_and(|c| part(c) && c != '.')
    })
}

fn files_below(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files_below(&path, out);
        } else {
            out.push(path);
        }
    }
}

#[test]
fn no_name_of_the_handbooks_world_is_written_in_the_code() {
    let names = handbook_names();
    assert!(names.len() >= 5, "{names:?}");
    let mut files = Vec::new();
    files_below(&repo_root().join("src"), &mut files);
    let mut found = Vec::new();
    for file in files {
        let Ok(text) = fs::read_to_string(&file) else {
            continue;
        };
        for name in &names {
            if names_it(&text, name) {
                found.push(format!("{}: {name}", file.display()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "the handbook's world belongs in hub-world.toml, not in the code:\n{}",
        found.join("\n")
    );
    // The check itself finds a name where one is written.
    assert!(names_it("repo = \"unidive/tiny\"", "unidive/tiny"));
    assert!(!names_it("unidive-student2", "unidive-student"));
}
