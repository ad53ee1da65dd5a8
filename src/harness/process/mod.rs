//! Runs one snippet's process: in its own process group, with a timeout that kills the whole group,
//! output capped, and, when a person would type at it, on a real pseudo-terminal that answers each
//! prompt once its text is on screen.
//!
//! - [`invocation`]: what to run and what it did ([`Invocation`], [`Outcome`], [`ProcessError`]);
//! - [`supervise`]: the one loop that watches a child on pipes, on the terminal or forked warm;
//! - [`group`]: a run's process group from `/proc`: killed, waited for, seen waiting to read its
//!   terminal;
//! - [`terminal`]: the typist that answers prompts, and terminal text as a person reads it;
//! - [`direct`]: a new process for an invocation (or the warm interpreter's, when given).
//!
//! The warm interpreter ([`crate::harness::warm`]) takes `invocation`, `supervise` and `terminal`;
//! only `direct` takes the warm interpreter, so the two never import each other. This file only
//! names the parts and re-exports what the rest of the harness uses.

pub mod direct;
pub mod group;
pub mod invocation;
pub mod supervise;
pub mod terminal;

pub use direct::{run, run_with};
pub use invocation::{Answer, Invocation, Observer, Outcome, ProcessError};
pub use terminal::clean_terminal_text;
