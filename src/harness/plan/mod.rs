//! Turns a snippet and one of its scenarios into the processes to run, as a person would run them.
//!
//! - Python, Colab, AI Studio and Jupyter snippets run as a script with the pinned interpreter;
//!   Colab gets the simulated `google.colab` (see `python/colab/`), AI Studio gets its secrets as
//!   environment variables, Jupyter's `getpass` prompt is answered on a pseudo-terminal.
//! - `>>>` sessions run statement by statement (`python/pycon_runner.py`); shell sessions (`$ `
//!   prompts) command by command; [`super::transcript`] compares each prompt's output with the page.
//! - Shell snippets run with bash, stopping at the first failing command.
//!
//! A snippet that continues another runs after it in the same sandbox: Python after Python in the
//! same process (the earlier code first), anything else as an earlier process of its own.
//!
//! Its parts, each using only those above it:
//!
//! - `setup.rs`: what every process of a case shares ([`Setup`]), one process ([`Step`]) and
//!   which processes a run is made of ([`Pass`]);
//! - `values.rs`: the values placeholders and `{...}` templates stand for, and their replacement;
//! - `command.rs`: the program, arguments, environment and observers of one process;
//! - `compose.rs`: [`prepare`], which composes a run's processes from the snippet's chain and
//!   puts the Hub and the home in the state the scenario starts from.
//!
//! It makes processes and never runs one: running them is [`super::runner`]'s.

mod command;
mod compose;
mod setup;
mod values;

pub use command::shell_commands;
pub use compose::prepare;
pub use setup::{DEFAULT_TIMEOUT, OUTPUT_CAP, Pass, Setup, Step, is_notebook};
pub use values::{Values, substitute};
