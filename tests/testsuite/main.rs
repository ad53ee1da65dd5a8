//! The integration test suite: one binary, one module per part of the brief.

mod prelude;
mod pyenv;
