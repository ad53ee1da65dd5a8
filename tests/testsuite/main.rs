//! The integration test suite: one binary, one module per part of the brief.

mod prelude;

/// The stdin/stdout protocol, run through the real binary.
mod protocol;

/// Building books in-process and under mdBook's own command preprocessor.
mod build;

/// The mock Hub, over real HTTP.
mod hub;

/// The mock Hub's suite again, over its HTTPS listener.
mod hub_over_https;

/// The pinned Python environment.
mod pyenv;

/// The snippet harness on fixture books.
mod harness;

/// The real addresses: HTTPS at the Hub's names inside each scenario's namespaces.
mod addresses;

/// `test --bless`: expected texts rewritten from what the runs printed.
mod bless;

/// `test --journey` and `test --rerun`: a student's account has a history.
mod journey;

/// Datasets and Inference Providers fixture books under the real addresses.
mod services;

/// Lines after and inside `{{#include}}`, in every place that names one.
mod lines;

/// SIGINT and SIGTERM stop a run, and it leaves nothing behind.
mod interrupt;

/// Books not written for the plugin: sessions, unlabelled fences, a login that waits.
mod other_books;

/// The real Python clients against the mock Hub, one fixture snippet per flow.
mod client_flows;

/// `test --clients`: other client versions than the lock.
mod clients;

/// `install` into another book, and `serve`'s page policy.
mod install;

/// Another course's book through the packaged, installed binary.
mod package;

/// The world file: its errors before any run, and the handbook's names kept out of the code.
mod world;

/// The GitHub workflows: jobs and README commands.
mod workflows;

/// Chromium for the widget tests: installed once when missing, where the machine allows.
mod chromium;

/// Headless Chromium over WebDriver, shared by the browser tests.
mod browser;

/// The token checker and badges in headless Chromium, against the mock Hub.
mod widgets;

/// axe-core on every page of the built handbook, in the light and navy themes; the token checker
/// by keyboard alone.
mod a11y;

/// The versions the handbook names are the ones the harness measures.
mod version_claims;

/// The house rules: no import circle, docs/ARCHITECTURE.md names every folder and its invariants' tests.
mod architecture;
