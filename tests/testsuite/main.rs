//! The integration test suite: one binary, one module per part of the brief.

mod hub;
mod prelude;

/// The stdin/stdout protocol, run through the real binary.
mod protocol;

/// Building books in-process and under mdBook's own command preprocessor.
mod build;

/// The token checker and badges in headless Chromium, against the mock Hub.
mod widgets;
