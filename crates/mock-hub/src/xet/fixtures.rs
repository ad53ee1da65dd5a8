//! The upload that hf_xet 1.8.0 made of the fixture files in `tests/fixtures/xet/`, which the
//! parser's and the store's tests read.

/// The xorb hf_xet uploaded for the three fixture files, named by its hash.
pub const XORB: &str = "3ae58bc9c11582c3d5c9b8fe66cf8691aa0b5e00fa234b3e4cb73ce8a3504e23";

/// The bytes of the fixture file `name`.
pub fn fixture(name: &str) -> Vec<u8> {
    let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/xet");
    std::fs::read(path.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}
