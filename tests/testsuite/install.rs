//! `mdbook-hubcheck install` on a fixture book with comments, and the policy that `serve
//! --mock-hub` gives its pages.

use std::fs;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use mdbook_hubcheck::commands::build::{BuildOptions, build};
use mdbook_hubcheck::widgets::assets::{CSS_PATH, JS_PATH};
use mdbook_hubcheck::widgets::csp;

use crate::prelude::*;

fn install(book: &BookFixture) -> (bool, String) {
    let output = Command::new(binary())
        .args(["install", "--book", book.root().to_str().unwrap()])
        .output()
        .expect("run mdbook-hubcheck install");
    (output.status.success(), text(&output))
}

/// Whether `lines` holds every item of `wanted` in the same order.
fn in_order(lines: &[&str], wanted: &[&str]) -> bool {
    let mut rest = lines.iter();
    wanted.iter().all(|w| rest.any(|l| l == w))
}

#[test]
fn install_adds_the_table_once_keeps_comments_and_order_and_a_second_run_changes_nothing() {
    let book = BookFixture::copy("install-book");
    let before = fs::read_to_string(book.root().join("book.toml")).unwrap();
    let (ok, said) = install(&book);
    assert!(ok, "{said}");
    assert!(said.contains("added [preprocessor.hubcheck]"), "{said}");
    assert!(said.contains(JS_PATH) && said.contains(CSS_PATH), "{said}");
    assert!(said.contains("theme/head.hbs: written"), "{said}");

    let after = fs::read_to_string(book.root().join("book.toml")).unwrap();
    let lines: Vec<&str> = after.lines().collect();
    // Every line but the one whose list grew is still there, in the same order.
    let kept: Vec<&str> = before
        .lines()
        .filter(|l| !l.starts_with("additional-css"))
        .collect();
    assert!(in_order(&lines, &kept), "{after}");
    assert!(
        after.contains(&format!(
            "additional-css = [\"custom.css\", \"{CSS_PATH}\"] # our own colours"
        )),
        "{after}"
    );
    assert_eq!(
        after.matches("[preprocessor.hubcheck]").count(),
        1,
        "{after}"
    );
    let parsed: toml::Table = after.parse().unwrap();
    assert_eq!(
        parsed["output"]["html"]["additional-js"]
            .as_array()
            .unwrap()[0]
            .as_str(),
        Some(JS_PATH)
    );
    let head = fs::read_to_string(book.root().join("theme/head.hbs")).unwrap();
    assert!(
        head.contains("connect-src 'self' https://huggingface.co"),
        "{head}"
    );
    // A starter world and the pinned Python packages, so `test` runs at once.
    for (file, text) in [
        ("hub-world.toml", mdbook_hubcheck::hub::world_file::STARTER),
        (
            "hub-requirements.in",
            mdbook_hubcheck::harness::pyenv::TOP_LEVEL_REQUIREMENTS,
        ),
        (
            "hub-requirements.txt",
            mdbook_hubcheck::harness::pyenv::LOCKED_REQUIREMENTS,
        ),
    ] {
        assert!(said.contains(&format!("{file}: written")), "{said}");
        assert_eq!(fs::read_to_string(book.root().join(file)).unwrap(), text);
    }
    let world = mdbook_hubcheck::settings::load_book_world(book.root()).expect("starter world");
    assert!(world.token_named("read").is_some());

    let (ok, said) = install(&book);
    assert!(ok, "{said}");
    assert!(said.contains("nothing to do"), "{said}");
    assert_eq!(
        fs::read_to_string(book.root().join("book.toml")).unwrap(),
        after
    );
    assert_eq!(
        fs::read_to_string(book.root().join("theme/head.hbs")).unwrap(),
        head
    );

    // The installed book builds, each page with the policy once.
    let out = build(&BuildOptions {
        book: book.root().to_path_buf(),
        dest: Some(book.root().join("built")),
        hub_endpoint: None,
    })
    .unwrap();
    let page = fs::read_to_string(out.join("check.html")).unwrap();
    assert_eq!(
        page.matches("http-equiv=\"Content-Security-Policy\"")
            .count(),
        1
    );
    assert!(page.contains("https://huggingface.co;"), "{page}");
}

#[test]
fn a_book_with_its_own_head_hbs_is_left_alone_with_what_to_add() {
    let book = BookFixture::copy("install-book");
    fs::create_dir_all(book.root().join("theme")).unwrap();
    let own = "<link rel=\"preconnect\" href=\"https://example.org\">\n";
    fs::write(book.root().join("theme/head.hbs"), own).unwrap();
    let (ok, said) = install(&book);
    assert!(ok, "{said}");
    assert_eq!(
        fs::read_to_string(book.root().join("theme/head.hbs")).unwrap(),
        own
    );
    assert!(
        said.contains("theme/head.hbs: left alone, it is the book's own"),
        "{said}"
    );
    assert!(
        said.contains(csp::BEGIN) && said.contains(csp::END),
        "{said}"
    );
    assert!(
        said.contains("connect-src 'self' https://huggingface.co"),
        "{said}"
    );
    // book.toml was still set up.
    let after = fs::read_to_string(book.root().join("book.toml")).unwrap();
    assert!(after.contains("[preprocessor.hubcheck]"), "{after}");
}

/// `serve --mock-hub` gives its pages the mock's origin, and stops at Ctrl-C (SIGINT) or SIGTERM
/// with its built book's temporary folder removed.
#[test]
fn serve_with_a_mock_hub_gives_its_pages_the_mocks_origin() {
    let book = BookFixture::copy("install-book");
    for signal in [libc::SIGINT, libc::SIGTERM] {
        // The server's temporary folders go here, to see that none is left.
        let tmp = tempfile::tempdir().unwrap();
        let mut child = Command::new(binary())
            .args(["serve", "--book", book.root().to_str().unwrap()])
            .args(["--port", "0", "--mock-hub"])
            .env("TMPDIR", tmp.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start mdbook-hubcheck serve");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        // The URL on the next line `serve` prints, without its trailing slash.
        let mut next_url = |what: &str| {
            let line = lines.next().expect("serve prints").unwrap();
            line.split_whitespace()
                .find(|w| w.starts_with("http://"))
                .unwrap_or_else(|| panic!("no URL of {what} in {line:?}"))
                .trim_end_matches('/')
                .to_string()
        };
        let site = next_url("the book");
        let hub = next_url("the mock Hub");
        // The whole answer is read before the server is stopped: a body still streaming when the
        // server dies arrives cut short.
        let answer = reqwest::blocking::get(format!("{site}/check.html")).and_then(|response| {
            let header = response.headers().get("content-security-policy").cloned();
            Ok((header, response.text()?))
        });
        // SAFETY: sends a signal to the child this test started and has not yet reaped.
        unsafe {
            libc::kill(child.id() as libc::pid_t, signal);
        }
        let status = child.wait().unwrap();
        assert!(status.success(), "signal {signal}: {status:?}");
        let left: Vec<_> = fs::read_dir(tmp.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert!(left.is_empty(), "signal {signal} left {left:?} behind");
        let (header, page) = answer.unwrap();
        let header = header
            .expect("a policy header")
            .to_str()
            .unwrap()
            .to_string();
        let connect = format!("connect-src 'self' {hub};");
        assert!(header.contains(&connect), "{header} / {hub}");
        assert!(page.contains(&connect), "{page}");
        assert!(!page.contains("huggingface.co;"), "{page}");
    }
}
