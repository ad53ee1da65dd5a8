//! The mock Hub's suite (`hub::`) a second time, against its HTTPS listener: this test runs the
//! test binary again with `HUBCHECK_HUB_TESTS_TLS=1` and the `hub::` filter, so the README's
//! `cargo test` covers both listeners.

use std::process::Command;

#[test]
fn the_mock_hub_suite_passes_against_its_https_listener() {
    let binary = std::env::current_exe().expect("the test binary");
    let out = Command::new(binary)
        .args(["hub::", "--test-threads", "2"])
        .env("HUBCHECK_HUB_TESTS_TLS", "1")
        .output()
        .expect("run the hub suite over HTTPS");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the hub suite fails over HTTPS:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let passed: usize = stdout
        .lines()
        .find_map(|line| line.strip_prefix("test result: ok. "))
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no result line:\n{stdout}"));
    assert!(
        passed >= 50,
        "only {passed} hub tests ran over HTTPS:\n{stdout}"
    );
    assert!(
        stdout.contains("test hub::the_suite_reaches_the_listener_it_runs_against ... ok"),
        "the run did not check that its requests arrived over HTTPS:\n{stdout}"
    );
}
