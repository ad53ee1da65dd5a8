use super::*;

fn with_endpoint(endpoint: &str) -> Settings {
    Settings {
        hub_endpoint: endpoint.into(),
        ..Settings::default()
    }
}

#[test]
fn empty_table_gives_defaults() {
    let s = Settings::from_table(None).unwrap();
    assert_eq!(s.hub_endpoint, DEFAULT_HUB_ENDPOINT);
    assert!(s.placeholders.is_empty());
    assert_eq!(s.report, PathBuf::from("target/hubcheck/report.json"));
}

#[test]
fn accepts_mdbooks_own_keys() {
    let table: toml::Value = toml::from_str(
        "command = \"mdbook-hubcheck\"\nafter = [\"links\"]\noptional = true\nhub-endpoint = \"http://127.0.0.1:9\"",
    )
    .unwrap();
    let s = Settings::from_table(Some(table)).unwrap();
    assert_eq!(s.hub_endpoint, "http://127.0.0.1:9");
}

#[test]
fn rejects_unknown_keys_by_name() {
    let table: toml::Value = toml::from_str("hub-endpont = \"x\"").unwrap();
    let err = Settings::from_table(Some(table)).unwrap_err().to_string();
    assert!(err.contains("hub-endpont"), "{err}");
}

#[test]
fn https_and_loopback_http_are_allowed() {
    for ok in [
        "https://huggingface.co",
        "http://127.0.0.1:8080",
        "http://localhost:1",
        "http://[::1]:3",
    ] {
        assert!(with_endpoint(ok).validate().is_ok(), "{ok}");
    }
}

#[test]
fn other_http_is_refused() {
    for bad in [
        "http://huggingface.co",
        "http://127.0.0.1.evil.example",
        "http://localhost.example",
        "ftp://x",
        "",
    ] {
        assert!(with_endpoint(bad).validate().is_err(), "{bad}");
    }
}

#[test]
fn load_reads_the_table_and_derives_report_and_junit_paths() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("book.toml"),
        "[book]\ntitle = \"t\"\n[preprocessor.hubcheck]\nreport = \"out/r.json\"\n\
         [preprocessor.hubcheck.placeholders]\n\"hf_your_token_here\" = \"{token}\"\n",
    )
    .unwrap();
    let s = Settings::load(dir.path()).unwrap();
    assert_eq!(s.report_path(dir.path()), dir.path().join("out/r.json"));
    assert_eq!(s.junit_path(dir.path()), dir.path().join("out/junit.xml"));
    assert_eq!(s.token_placeholders(), vec!["hf_your_token_here"]);
    assert!(s.is_declared_placeholder("hf_your_token_here"));
}

#[test]
fn load_names_a_missing_book_and_a_bad_key() {
    let dir = tempfile::tempdir().unwrap();
    let missing = Settings::load(dir.path()).unwrap_err().to_string();
    assert!(missing.contains("no book.toml"), "{missing}");
    std::fs::write(
        dir.path().join("book.toml"),
        "[preprocessor.hubcheck]\nrepot = \"x\"\n",
    )
    .unwrap();
    let bad = Settings::load(dir.path()).unwrap_err().to_string();
    assert!(bad.contains("repot"), "{bad}");
}

#[test]
fn an_insecure_endpoint_fails_loading() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("book.toml"),
        "[preprocessor.hubcheck]\nhub-endpoint = \"http://example.org\"\n",
    )
    .unwrap();
    let err = Settings::load(dir.path()).unwrap_err();
    assert!(matches!(err, SettingsError::InsecureEndpoint(_)), "{err}");
}

#[test]
fn transcript_may_differ_names_kinds_of_values_and_refuses_others() {
    let table: toml::Value =
        toml::from_str("transcript-may-differ = [\"home-paths\", \"commit-hashes\"]").unwrap();
    let settings = Settings::from_table(Some(table)).unwrap();
    assert_eq!(
        settings.transcript_may_differ,
        [MayDiffer::HomePaths, MayDiffer::CommitHashes]
    );
    let wrong: toml::Value = toml::from_str("transcript-may-differ = [\"names\"]").unwrap();
    let error = Settings::from_table(Some(wrong)).unwrap_err().to_string();
    assert!(error.contains("names"), "{error}");
}
