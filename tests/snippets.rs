//! One named test per snippet-scenario of the handbook: `cargo test -- <part of a name>` runs just
//! those. Each runs the snippet for real, with the pinned clients, against an in-process mock Hub,
//! and checks what the book promises. A block declared `not-run` is an ignored trial that gives
//! its reason. One more test, `the_handbook_runs_at_the_real_addresses`, says the run was the
//! student's world: HTTPS at the Hub's real names with no `HF_ENDPOINT`, where a case passes only
//! if every request it made arrived that way. After the run, `target/hubcheck/report.json` and
//! `junit.xml` hold the results, for the verification badges.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use libtest_mimic::{Arguments, Completion, Failed, Trial};
use mdbook_hubcheck::commands::test::prepare_harness;
use mdbook_hubcheck::harness::isolation::addresses::Addresses;
use mdbook_hubcheck::harness::runner::{CaseResult, Harness, cases, github_annotation};
use mdbook_hubcheck::report::Status;
use mdbook_hubcheck::settings::Settings;
use mdbook_hubcheck::snippets::extract_book;

/// The name of the test that the run used the real addresses.
const REAL_ADDRESSES: &str = "the_handbook_runs_at_the_real_addresses";

/// Every case of this run passes only if each of its Hub requests arrived over HTTPS at a Hub
/// name (the harness's `check_addresses`), but only when the run uses the real addresses: this
/// test fails when it does not (no network namespace, or `HUBCHECK_REAL_ADDRESSES=0`), so a green
/// run means that every Hub request of the handbook arrived as on a student's machine.
fn real_addresses_trial(harness: &Harness) -> Trial {
    let addresses = harness.hubs.addresses(harness.isolation);
    Trial::test(REAL_ADDRESSES, move || {
        if addresses == Addresses::Real {
            Ok(())
        } else {
            Err(Failed::from(format!(
                "the handbook ran with `addresses: {}`, not the real ones (https://huggingface.co \
                 with no HF_ENDPOINT): that needs the network namespace isolation",
                addresses.as_str()
            )))
        }
    })
}

fn main() {
    let args = Arguments::from_args();
    let book = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    if args.list {
        // Listing needs no Python and no Hub: names come from the book alone.
        let snippets = extract_book(&book).expect("the handbook loads");
        let trials = cases(&snippets)
            .into_iter()
            .map(|case| Trial::test(case.name, || Ok(())))
            .chain([Trial::test(REAL_ADDRESSES, || Ok(()))])
            .collect();
        libtest_mimic::run(&args, trials).exit();
    }
    let mut harness = prepare_harness(&book, None).unwrap_or_else(|e| {
        eprintln!("error: {e:#}");
        std::process::exit(1)
    });
    // The warm interpreter every test thread forks from, as in `mdbook-hubcheck test`.
    if let Err(e) = harness.use_warm_interpreters() {
        eprintln!("error: {e:#}");
        drop(harness);
        std::process::exit(1)
    }
    let harness = Arc::new(harness);
    let results: Arc<Mutex<Vec<CaseResult>>> = Arc::default();
    let trials: Vec<Trial> = cases(&harness.snippets)
        .into_iter()
        .map(|case| {
            let harness = Arc::clone(&harness);
            let results = Arc::clone(&results);
            Trial::ignorable_test(case.name.clone(), move || {
                let result = harness.run_case(&case);
                let outcome = match result.status {
                    Status::Passed => Ok(Completion::Completed),
                    // A block declared `not-run`: ignored, with the reason, never a pass.
                    Status::NotRun => Ok(Completion::ignored_with(
                        result.message.clone().unwrap_or_default(),
                    )),
                    Status::Failed | Status::Flaky => {
                        Err(Failed::from(result.message.clone().unwrap_or_default()))
                    }
                };
                results.lock().expect("results lock").push(result);
                outcome
            })
        })
        .chain([real_addresses_trial(&harness)])
        .collect();
    let conclusion = libtest_mimic::run(&args, trials);
    let results = std::mem::take(&mut *results.lock().expect("results lock"));
    if std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true") {
        // Shown on the pull request's diff, at the failing snippet's line.
        for result in results.iter().filter(|r| r.status.is_failure()) {
            println!("{}", github_annotation(result));
        }
    }
    if !results.is_empty() {
        let filtered = args.filter.is_some() || !args.skip.is_empty();
        let settings = Settings::load(&book).expect("book.toml loads");
        let json = settings.report_path(&book);
        let junit = settings.junit_path(&book);
        match harness.report(&results).write(&json, &junit, filtered) {
            Ok(()) => eprintln!("report: {}", json.display()),
            Err(e) => eprintln!("warning: could not write the report: {e}"),
        }
    }
    // `exit` runs no destructor: the warm interpreter (and its temporary folder) goes first.
    drop(harness);
    conclusion.exit();
}
