//! Where a case runs: a sandbox (HOME, HF_HOME, the working folder), a network and a Hub.
//!
//! Every case normally gets a stage of its own, so no result depends on what ran before it.
//! `test --rerun` runs a case twice on one stage (a re-run cell), and `test --journey` runs the
//! whole book on one, as one student with one account and one machine.

use std::path::Path;
use std::sync::Arc;

use super::CaseError;
use super::case_hub::{CaseHub, HubSource};
use super::isolation::namespaces::Isolation;
use super::isolation::network::CaseNetwork;
use super::isolation::sandbox::Sandbox;

/// A world and a home that one or more runs share.
pub struct Stage {
    // Fields drop in this order: the Hub stops before its network's namespace goes, and the
    // sandbox folders go last.
    /// The Hub, in the state the book's world file declares when the stage is made.
    pub hub: Arc<dyn CaseHub>,
    /// The network its processes run in and what they tried to reach.
    pub network: CaseNetwork,
    /// HOME, HF_HOME, the working folder.
    pub sandbox: Sandbox,
}

impl Stage {
    /// A new stage: fresh folders, a network under `isolation` for the Python environment whose
    /// `bin` folder is `venv_bin`, and a Hub from `hubs`.
    pub fn new(
        isolation: Isolation,
        hubs: &HubSource,
        venv_bin: &Path,
    ) -> Result<Stage, CaseError> {
        let sandbox = Sandbox::new()?;
        let addresses = hubs.addresses(isolation);
        let network = CaseNetwork::with_addresses(isolation, addresses, sandbox.root(), venv_bin)?;
        let hub = Arc::from(hubs.world_for_case(&network).map_err(CaseError::Hub)?);
        Ok(Stage {
            hub,
            network,
            sandbox,
        })
    }
}
