//! The real addresses under the namespace isolation: a scenario reaches the mock Hub at
//! `https://huggingface.co` and `https://router.huggingface.co` with no `HF_ENDPOINT`, other
//! names are refused and recorded, a request that arrives otherwise fails its case, and
//! `HUBCHECK_REAL_ADDRESSES=0` (or the proxy isolation) keeps the endpoint path.
//!
//! That every Hub request of the handbook arrives over HTTPS at a real name is shown where the
//! handbook already runs, in `tests/snippets.rs`: each case there fails on a request that did not
//! (the fixture here shows that failure), and `the_handbook_runs_at_the_real_addresses` fails
//! unless the run used the real addresses. A run of its own here would repeat that run.

use std::fs;

use crate::prelude::*;

fn report(book: &std::path::Path) -> serde_json::Value {
    serde_json::from_str(&fs::read_to_string(book.join("target/hubcheck/report.json")).unwrap())
        .unwrap()
}

/// The status of each snippet id (one scenario each in the fixture).
fn status_of(report: &serde_json::Value, id: &str) -> String {
    report["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == id)
        .map(|r| r["status"].as_str().unwrap().to_string())
        .unwrap_or_else(|| panic!("no result for {id}"))
}

#[test]
fn scenarios_reach_the_hub_names_over_https_and_nothing_else() {
    let book = BookFixture::copy("real-addresses-book");
    let output = hubcheck_test(book.root(), &[]);
    let all = text(&output);
    assert!(
        all.contains("addresses: the real addresses"),
        "the run must say which addresses it used:\n{all}"
    );
    let report = report(book.root());
    assert_eq!(report["isolation"], "namespace", "{all}");
    assert_eq!(report["addresses"], "real", "{all}");
    // No HF_ENDPOINT, the built-in endpoint, the Hub's names on the mock's loopback address, a
    // whoami over HTTPS; the router with nothing patched; curl through the system CA bundle; a
    // mistyped name refused and recorded (declared, so the scenario passes).
    for id in ["resolves-hub", "router", "curl", "mistyped"] {
        assert_eq!(status_of(&report, id), "passed", "{id}:\n{all}");
    }
    // The one that talked to the harness's plain listener through an HF_ENDPOINT of its own
    // worked, but not as a student's machine would: it fails, naming the request.
    assert_eq!(status_of(&report, "own-endpoint"), "failed", "{all}");
    assert!(
        all.contains("the Hub must be reached over HTTPS at its real names")
            && all.contains("GET http://127.0.0.1:18080/api/whoami-v2"),
        "{all}"
    );
    assert!(all.contains("4 passed, 1 failed"), "{all}");
}

#[test]
fn the_endpoint_path_stays_without_the_real_addresses() {
    for (label, envs) in [
        (
            "HUBCHECK_REAL_ADDRESSES=0",
            ("HUBCHECK_REAL_ADDRESSES", "0"),
        ),
        ("proxy isolation", ("HUBCHECK_ISOLATION", "proxy")),
    ] {
        let book = BookFixture::copy("real-addresses-book");
        let output = hubcheck_test(book.root(), &[envs]);
        let all = text(&output);
        let report = report(book.root());
        assert_eq!(report["addresses"], "endpoint", "{label}:\n{all}");
        // HF_ENDPOINT is set, so the first snippet's promise is broken.
        assert_eq!(
            status_of(&report, "resolves-hub"),
            "failed",
            "{label}:\n{all}"
        );
        assert!(
            !all.contains("the Hub must be reached over HTTPS"),
            "{label}: the endpoint path asks for no real names:\n{all}"
        );
        if envs.0 == "HUBCHECK_REAL_ADDRESSES" {
            // Inside the namespace the mock's plain listener is at the one port every scenario
            // shares: a snippet with that HF_ENDPOINT of its own passes here.
            assert_eq!(
                status_of(&report, "own-endpoint"),
                "passed",
                "{label}:\n{all}"
            );
        }
    }
}
