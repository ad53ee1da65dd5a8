//! A fresh, throw-away home for each snippet run.
//!
//! Every run gets its own HOME, HF_HOME, working folder and temp folder, and an environment built
//! from nothing: the invoking user's variables (their `HF_TOKEN` above all) and files (their
//! `~/.cache/huggingface/token`) can never be seen by a snippet.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use tempfile::TempDir;

/// The sandbox's folders, under its root (the one place that names them, for the harness's own
/// paths and for the environment its processes get): HOME, the cache folder (XDG_CACHE_HOME),
/// HF_HOME, the working folder and the temporary folder.
const HOME: &str = "home";
const CACHE: &str = "home/.cache";
const HF_HOME: &str = "home/.cache/huggingface";
const WORK: &str = "work";
const TMP: &str = "tmp";

/// The folders of one run; removed when dropped.
pub struct Sandbox {
    dir: TempDir,
}

impl Sandbox {
    /// Creates the folders under the system temp folder.
    pub fn new() -> io::Result<Sandbox> {
        let dir = tempfile::Builder::new().prefix("hubcheck-run-").tempdir()?;
        for sub in [HOME, HF_HOME, WORK, TMP] {
            fs::create_dir_all(dir.path().join(sub))?;
        }
        Ok(Sandbox { dir })
    }

    /// The run's HOME.
    pub fn home(&self) -> PathBuf {
        self.dir.path().join(HOME)
    }

    /// The HOME of a sandbox whose root is seen at `root` (its own path, or the one path every
    /// case's sandbox is bound at inside its mount namespace).
    pub fn home_at(root: &Path) -> PathBuf {
        root.join(HOME)
    }

    /// The run's HF_HOME: where the CLI stores the token, as on a fresh machine.
    pub fn hf_home(&self) -> PathBuf {
        self.dir.path().join(HF_HOME)
    }

    /// The working folder the snippet runs in; its script files live here.
    pub fn work(&self) -> PathBuf {
        self.dir.path().join(WORK)
    }

    /// A folder for the harness's own helper files (not the snippet's working folder).
    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// The environment of a run: only what a fresh student machine with the pinned clients has,
    /// pointed at `endpoint` when there is one (none under the real addresses).
    pub fn environment(
        &self,
        venv_bin: &Path,
        endpoint: Option<&str>,
        terminal: bool,
    ) -> Vec<(String, String)> {
        environment_at(self.root(), venv_bin, endpoint, terminal)
    }

    /// Saves `token` as the active token, as `hf auth login` would have, under `name`.
    pub fn save_login(&self, token: &str, name: &str) -> io::Result<()> {
        let hf_home = self.hf_home();
        fs::write(hf_home.join("token"), token)?;
        fs::write(
            hf_home.join("stored_tokens"),
            format!("[{name}]\nhf_token = {token}\n\n"),
        )?;
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(hf_home.join("token"), fs::Permissions::from_mode(0o600))
    }

    /// Saves a browser (OAuth) login the way `hf auth login` stores it: the access token as the
    /// active token, plus its refresh token and expiry (Unix seconds) in `stored_tokens`.
    pub fn save_oauth_login(
        &self,
        access: &str,
        refresh: &str,
        expires_at: u64,
        name: &str,
    ) -> io::Result<()> {
        self.save_login(access, name)?;
        fs::write(
            self.hf_home().join("stored_tokens"),
            format!(
                "[{name}]\nhf_token = {access}\nrefresh_token = {refresh}\nexpires_at = {expires_at}\n\n"
            ),
        )
    }
}

/// The columns of every run's terminal: the pseudo-terminal's and `COLUMNS` (one definition, so
/// the two never disagree).
pub const TERMINAL_COLUMNS: u16 = 200;
/// The rows of every run's terminal: the pseudo-terminal's and `LINES`.
pub const TERMINAL_ROWS: u16 = 40;

/// The environment of a run whose sandbox its processes see at `root` (its own folder, or the one
/// path every case's sandbox is bound at in its mount namespace). `HF_ENDPOINT` is set only
/// when `endpoint` is given: under the real addresses the clients use their built-in one.
pub fn environment_at(
    root: &Path,
    venv_bin: &Path,
    endpoint: Option<&str>,
    terminal: bool,
) -> Vec<(String, String)> {
    let path = format!("{}:/usr/local/bin:/usr/bin:/bin", venv_bin.display());
    let mut env = vec![
        ("PATH", path),
        ("HOME", root.join(HOME).display().to_string()),
        ("HF_HOME", root.join(HF_HOME).display().to_string()),
        ("XDG_CACHE_HOME", root.join(CACHE).display().to_string()),
        ("TMPDIR", root.join(TMP).display().to_string()),
        ("HF_HUB_DISABLE_TELEMETRY", "1".into()),
        ("HF_HUB_DISABLE_UPDATE_CHECK", "1".into()),
        ("DO_NOT_TRACK", "1".into()),
        ("DISABLE_SAFETENSORS_CONVERSION", "1".into()),
        ("HF_HUB_DISABLE_PROGRESS_BARS", "1".into()),
        ("LANG", "C.UTF-8".into()),
        ("LC_ALL", "C.UTF-8".into()),
        ("PYTHONUNBUFFERED", "1".into()),
        ("PYTHONDONTWRITEBYTECODE", "1".into()),
        (
            "TERM",
            if terminal { "xterm-256color" } else { "dumb" }.into(),
        ),
    ];
    if let Some(endpoint) = endpoint {
        env.push(("HF_ENDPOINT", endpoint.to_string()));
    }
    if terminal {
        env.push(("COLUMNS", TERMINAL_COLUMNS.to_string()));
        env.push(("LINES", TERMINAL_ROWS.to_string()));
    }
    env.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_has_no_user_variables_and_points_at_the_endpoint() {
        let sandbox = Sandbox::new().unwrap();
        let env = sandbox.environment(Path::new("/venv/bin"), Some("http://127.0.0.1:1"), false);
        let get = |k: &str| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        assert_eq!(get("HF_ENDPOINT").as_deref(), Some("http://127.0.0.1:1"));
        assert!(get("PATH").unwrap().starts_with("/venv/bin:"));
        assert!(
            get("HF_HOME")
                .unwrap()
                .starts_with(&sandbox.root().display().to_string())
        );
        assert_eq!(get("HF_TOKEN"), None);
        assert_eq!(get("USER"), None);
    }

    #[test]
    fn without_an_endpoint_there_is_no_hf_endpoint() {
        let sandbox = Sandbox::new().unwrap();
        let env = sandbox.environment(Path::new("/venv/bin"), None, false);
        assert!(env.iter().all(|(k, _)| k != "HF_ENDPOINT"), "{env:?}");
    }

    #[test]
    fn folders_are_removed_when_dropped() {
        let sandbox = Sandbox::new().unwrap();
        let root = sandbox.root().to_path_buf();
        assert!(sandbox.hf_home().is_dir());
        drop(sandbox);
        assert!(!root.exists());
    }
}
