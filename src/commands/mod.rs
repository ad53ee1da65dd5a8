//! The glue behind each subcommand of `mdbook-hubcheck`, one file per command; [`crate::cli`]
//! parses the arguments and calls these.
//!
//! - [`build`]: the book built in-process with mdBook, the preprocessor registered, the output
//!   scanned for tokens;
//! - [`serve`]: a built book on 127.0.0.1, optionally with a mock Hub for the token checker;
//! - [`test`](mod@test): every snippet of the book run by the [`crate::harness`] against a mock Hub;
//! - [`mock_hub`]: the mock Hub ([`crate::hub`]) on its own;
//! - [`install`]: another book's `book.toml` and theme set up for a stock `mdbook build`.
//!
//! The parts themselves (preprocessor, widgets, harness, Hub) start no servers and run no
//! commands: that happens here.

pub mod build;
pub mod install;
pub mod mock_hub;
pub mod serve;
pub mod test;
