//! The real clients in the pinned environment, against the mock Hub, for every flow the handbook
//! relies on: each snippet of `tests/fixtures/client-flows-book` asserts what a user sees.

use crate::prelude::*;

/// Scenarios in the fixture book; update it when adding one.
const SCENARIOS: usize = 65;

#[test]
fn every_client_flow_shows_what_a_user_sees() {
    let book = BookFixture::copy("client-flows-book");
    let output = hubcheck_test(book.root(), &[]);
    let all = text(&output);
    assert!(
        all.contains(&format!("{SCENARIOS} passed, 0 failed")),
        "expected {SCENARIOS} passed, 0 failed:\n{all}"
    );
    assert_eq!(output.status.code(), Some(0), "{all}");
}
