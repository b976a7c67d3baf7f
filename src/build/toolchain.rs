//! The C toolchain: clang-19 and ld.lld-19 from Debian's packages.  A missing
//! tool is an error that says how to install it, never a reason to skip.

use std::env;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// The Debian packages that provide the toolchain.
pub const INSTALL_HINT: &str = "install it with: apt-get install -y clang-19 lld-19 bmake";

#[derive(Debug, thiserror::Error)]
#[error("{tool} not found ({looked}); {INSTALL_HINT} (or set {env_var} to its path)")]
pub struct ToolchainError {
    pub tool: &'static str,
    pub env_var: &'static str,
    looked: String,
}

#[derive(Debug, Clone)]
pub struct Toolchain {
    pub clang: PathBuf,
    pub lld: PathBuf,
}

fn find(
    tool: &'static str,
    env_var: &'static str,
    path_var: Option<&OsString>,
) -> Result<PathBuf, ToolchainError> {
    if let Some(explicit) = env::var_os(env_var) {
        let p = PathBuf::from(&explicit);
        if p.is_file() {
            return Ok(p);
        }
        return Err(ToolchainError {
            tool,
            env_var,
            looked: format!("{env_var}={} is not a file", p.display()),
        });
    }
    if let Some(path_var) = path_var {
        for dir in env::split_paths(path_var) {
            let candidate = dir.join(tool);
            if is_executable(&candidate) {
                return Ok(candidate);
            }
        }
    }
    Err(ToolchainError {
        tool,
        env_var,
        looked: "not on PATH".to_string(),
    })
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    p.metadata()
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

impl Toolchain {
    /// Finds clang-19 and ld.lld-19 on PATH, or where VNETGEN_CLANG and
    /// VNETGEN_LLD say.
    pub fn locate() -> Result<Toolchain, ToolchainError> {
        Toolchain::locate_in(env::var_os("PATH").as_ref())
    }

    /// The same, searching the given PATH value.
    pub fn locate_in(path_var: Option<&OsString>) -> Result<Toolchain, ToolchainError> {
        Ok(Toolchain {
            clang: find("clang-19", "VNETGEN_CLANG", path_var)?,
            lld: find("ld.lld-19", "VNETGEN_LLD", path_var)?,
        })
    }
}
