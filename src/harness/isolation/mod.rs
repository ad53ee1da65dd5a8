//! Isolation: what keeps one case from another and from the network, each piece a value that
//! cleans up when dropped.
//!
//! - [`namespaces`]: which isolation the machine allows, and a case's network and mount
//!   namespaces;
//! - [`addresses`]: which addresses a case's processes use (the real names, or an endpoint), and
//!   the `/etc/hosts` and CA bundle that make the real names reach the mock;
//! - [`network`]: the network guard, a case reaches its Hub and nothing else, and attempts to
//!   leave are refused and recorded;
//! - [`sandbox`]: a fresh HOME and HF_HOME per run, an environment built from nothing.
//!
//! Nothing here knows a snippet, a scenario, a Hub's contents or a process to run: the harness
//! asks for a case's isolation and gets paths, listeners and variables back. The files import in
//! one direction only: `network` → `addresses` → `namespaces`; `sandbox` stands alone.

pub mod addresses;
pub mod namespaces;
pub mod network;
pub mod sandbox;
