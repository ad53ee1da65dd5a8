//! Another course's book, run the way its staff would: the crate packaged (`cargo package
//! --workspace`, which packages the mock Hub crate beside it and resolves it from a local registry
//! overlay), installed from the package (the unpublished mock Hub patched in from its own package) into a folder of its own (`cargo install --path`), then that binary's
//! `install` and `test` on a copy of `tests/fixtures/other-course-book`, from a folder outside this
//! repository. The book brings its own world (another organisation, a dataset from its own files, a
//! causal language model, a gated model with automatic approval) and its own Python requirements
//! (tabulate added to the clients), so a pass shows that nothing of the handbook is needed.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::prelude::{BookFixture, repo_root, run_cargo, text};

/// Where the unpacked package and its installed binary are kept between runs, so that an
/// unchanged package is not compiled again.
fn package_dir() -> PathBuf {
    repo_root().join("target/hubcheck-package")
}

/// The workspace's packages (`cargo package --workspace`): the plugin's and the mock Hub's
/// sources, each its `.crate` unpacked into [`package_dir`].
fn packaged_sources() -> (PathBuf, PathBuf) {
    run_cargo([
        "package",
        "--workspace",
        "--allow-dirty",
        "--no-verify",
        "--quiet",
    ]);
    let version = env!("CARGO_PKG_VERSION");
    (
        unpack("mdbook-hubcheck", version, "source"),
        unpack("hubcheck-mock-hub", version, "mock-hub-source"),
    )
}

/// The package `name`-`version` unpacked into `package_dir()/folder`; files whose content did not
/// change keep their modification time (cargo then finds the build fresh).
fn unpack(name: &str, version: &str, folder: &str) -> PathBuf {
    let crate_file = repo_root().join(format!("target/package/{name}-{version}.crate"));
    let unpacked = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let status = Command::new("tar")
        .arg("xzf")
        .arg(&crate_file)
        .arg("-C")
        .arg(unpacked.path())
        .status()
        .expect("run tar");
    assert!(status.success(), "cannot unpack {}", crate_file.display());
    let source = package_dir().join(folder);
    sync_tree(&unpacked.path().join(format!("{name}-{version}")), &source);
    source
}

/// Makes `to` hold exactly the files of `from`, rewriting only those that differ.
fn sync_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    let wanted: Vec<_> = fs::read_dir(from).unwrap().map(|e| e.unwrap()).collect();
    for existing in fs::read_dir(to).unwrap().map(|e| e.unwrap()) {
        if !wanted.iter().any(|w| w.file_name() == existing.file_name()) {
            let path = existing.path();
            if path.is_dir() {
                fs::remove_dir_all(&path).unwrap();
            } else {
                fs::remove_file(&path).unwrap();
            }
        }
    }
    for entry in wanted {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            sync_tree(&entry.path(), &target);
        } else {
            let new = fs::read(entry.path()).unwrap();
            if fs::read(&target).ok().as_ref() != Some(&new) {
                fs::write(&target, new).unwrap();
            }
        }
    }
}

/// Installs the packaged crate into `target/hubcheck-package/root` and returns its binary. The
/// dependencies' builds are shared with the test build (same target folder and profile). The mock
/// Hub crate is not published: its package stands in for the registry's (a `[patch]`).
fn installed_binary() -> PathBuf {
    let (source, mock_hub) = packaged_sources();
    let root = package_dir().join("root");
    let patch = format!(
        "patch.crates-io.hubcheck-mock-hub.path={:?}",
        mock_hub.display().to_string()
    );
    let target = repo_root().join("target");
    let os = std::ffi::OsStr::new;
    run_cargo([
        os("install"),
        os("--debug"),
        os("--locked"),
        os("--force"),
        os("--quiet"),
        os("--path"),
        source.as_os_str(),
        os("--config"),
        os(&patch),
        os("--root"),
        root.as_os_str(),
        os("--target-dir"),
        target.as_os_str(),
    ]);
    root.join("bin/mdbook-hubcheck")
}

/// The registry crates that `cargo test --no-run`, run as a person runs it, compiled (not found
/// fresh). Asked before and after the install below: when the inner cargo ran with `cargo test`'s
/// variables, ring and everything above it were rebuilt after it, every run.
fn registry_crates_rebuilt_by_cargo_test() -> Vec<String> {
    let output = run_cargo([
        "test",
        "--no-run",
        "--offline",
        "--message-format=json",
        "--quiet",
    ]);
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["fresh"] == false)
        .filter_map(|m| m["package_id"].as_str().map(str::to_string))
        .filter(|id| !id.starts_with("path+file://"))
        .collect()
}

#[test]
fn another_course_runs_its_book_with_the_packaged_binary_and_its_own_world() {
    let package = fs::read_to_string(repo_root().join("Cargo.toml")).unwrap();
    assert!(
        package.contains("license = "),
        "the package names its licence"
    );
    // The test build as a person's `cargo test` leaves it (already so, unless only some of the
    // workspace was built), then the install, then the same build must be fresh.
    registry_crates_rebuilt_by_cargo_test();
    let binary = installed_binary();
    let rebuilt = registry_crates_rebuilt_by_cargo_test();
    assert!(
        rebuilt.is_empty(),
        "installing the package made the test build rebuild registry crates: {rebuilt:?}"
    );
    let book = BookFixture::copy("other-course-book");
    // Run from a folder outside the repository, as another course's staff would.
    let elsewhere = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        Command::new(&binary)
            .args(args)
            .arg("--book")
            .arg(book.root())
            .current_dir(elsewhere.path())
            .output()
            .expect("run the installed binary")
    };

    let installed = run(&["install"]);
    assert!(installed.status.success(), "{}", text(&installed));
    let said = text(&installed);
    assert!(said.contains("to output.html.additional-js"), "{said}");
    assert!(
        !said.contains("hub-world.toml: written"),
        "the book's own world is kept: {said}"
    );

    let tested = run(&["test", "--jobs", "2"]);
    let out = text(&tested);
    assert!(tested.status.success(), "{out}");
    assert!(out.contains("6 passed, 0 failed"), "{out}");
    for line in [
        "src/token.md:19 bash token-19 read-token",
        "src/data-and-models.md:14 python greetings read-token",
        "src/data-and-models.md:39 python tiny-lm read-token",
        "src/data-and-models.md:72 python gated-lm not-asked-yet",
    ] {
        assert!(out.contains(&format!("ok     {line}")), "{line} in:\n{out}");
    }
    // The greetings snippet imports tabulate, which only the lab's own requirements bring.
    let report: serde_json::Value = serde_json::from_str(
        &fs::read_to_string(book.root().join("target/hubcheck/report.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        report["results"].as_array().map(Vec::len),
        Some(6),
        "{report}"
    );
}
