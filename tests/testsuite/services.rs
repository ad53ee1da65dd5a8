//! Datasets and Inference Providers with the real clients, as a student's machine reaches them
//! (the real addresses over HTTPS, namespace isolation): fixture books that must pass whole.

use crate::prelude::*;

/// Runs the fixture book `name` and asserts every scenario passed under the real addresses.
fn passes_with_the_real_addresses(name: &str, scenarios: usize) {
    let book = BookFixture::copy(name);
    let output = hubcheck_test(book.root(), &[]);
    let all = text(&output);
    assert!(
        all.contains("addresses: the real addresses"),
        "this test needs the namespace isolation (root) for the real addresses:\n{all}"
    );
    assert_eq!(output.status.code(), Some(0), "{all}");
    assert!(
        all.contains(&format!("{scenarios} passed, 0 failed")),
        "{all}"
    );
}

#[test]
fn a_book_loads_public_private_and_gated_datasets_and_is_refused_as_the_hub_refuses() {
    passes_with_the_real_addresses("datasets-book", 6);
}

#[test]
fn inference_providers_answer_read_and_permitted_tokens_and_refuse_the_others_with_the_routers_texts()
 {
    passes_with_the_real_addresses("inference-book", 7);
}
