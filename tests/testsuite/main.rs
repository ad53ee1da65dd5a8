//! The integration test suite: one binary, one module per part of the brief.

mod hub;
mod prelude;
