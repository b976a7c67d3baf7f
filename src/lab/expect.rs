//! What the lab expects of a module: `expect.toml` beside its sources says
//! whether it keeps virtualized (VNET) variables; the expected verdict of
//! every cell follows from that and the variant.

use std::path::Path;

use serde::Deserialize;

use crate::spec::variant::{KernelConfig, Variant};

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expectation {
    /// The module keeps VNET variables (or uses the VNET kernel API).
    /// Absent: learnt from the objects.
    pub vnet: Option<bool>,
}

#[derive(Debug, thiserror::Error)]
#[error("{}: {message}", path.display())]
pub struct ExpectError {
    pub path: std::path::PathBuf,
    pub message: String,
}

impl Expectation {
    /// Reads `expect.toml` in a module's directory; none is no expectation.
    pub fn load(dir: &Path) -> Result<Expectation, ExpectError> {
        let path = dir.join("expect.toml");
        match std::fs::read_to_string(&path) {
            Ok(text) => toml::from_str(&text).map_err(|e| ExpectError {
                path,
                message: e.to_string(),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Expectation::default()),
            Err(e) => Err(ExpectError {
                path,
                message: e.to_string(),
            }),
        }
    }
}

/// Does a module built as `variant` (for `built_for`) load and work on `kernel`?
pub fn expected_loads(
    uses_vnet: bool,
    variant: Variant,
    built_for: KernelConfig,
    kernel: KernelConfig,
) -> bool {
    if !uses_vnet {
        return true;
    }
    match variant {
        Variant::VimageRuntime => true,
        Variant::Vimage => kernel == KernelConfig::Vimage,
        Variant::KldTied => kernel == built_for,
    }
}
