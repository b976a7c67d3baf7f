//! The spec as written: serde types that mirror the TOML, with spans kept
//! for every value that validation may have to point at.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSpec {
    pub schema: Spanned<i64>,
    pub runtime: RawRuntime,
    #[serde(default)]
    pub kernel: RawKernel,
    pub cflags: RawCflags,
    #[serde(default)]
    pub arch: Vec<RawArch>,
    #[serde(default)]
    pub release: Vec<RawRelease>,
    #[serde(default)]
    pub header: Vec<RawHeader>,
    #[serde(default)]
    pub family: Vec<RawFamily>,
    pub support: Option<RawSupport>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRuntime {
    pub detect: Spanned<String>,
    pub flag: Spanned<String>,
    /// The accessor strategy the run-time variant uses: a `strategy` name.
    #[serde(default)]
    pub accessor: Option<Spanned<String>>,
    #[serde(default, rename = "strategy")]
    pub strategies: Vec<RawStrategy>,
}

/// `[[runtime.strategy]]`: a named set of run-time bodies for the accessor
/// macros and their helpers.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStrategy {
    pub name: Spanned<String>,
    #[serde(default)]
    pub doc: Option<String>,
    #[serde(default)]
    pub code: Vec<RawStrategyItem>,
    #[serde(default, rename = "macro")]
    pub macros: Vec<RawStrategyItem>,
}

/// An entry of a strategy: the run-time bodies of a family's item of that
/// name, or (with `family` and `group`) an item of the strategy's own.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStrategyItem {
    pub name: Spanned<String>,
    #[serde(default)]
    pub family: Option<Spanned<String>>,
    #[serde(default)]
    pub group: Option<Spanned<String>>,
    #[serde(default)]
    pub params: Option<Vec<Spanned<String>>>,
    #[serde(default)]
    pub form: Option<Spanned<String>>,
    #[serde(default)]
    pub doc: Option<String>,
    pub body: Spanned<RawBodies>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawKernel {
    #[serde(default)]
    pub symbols: Vec<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCflags {
    #[serde(default)]
    pub common: Vec<String>,
    #[serde(default)]
    pub warnings: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawArch {
    pub name: Spanned<String>,
    pub triple: String,
    /// FreeBSD's MACHINE: the directory of `<machine/...>` under `sys/`.
    #[serde(default)]
    pub machine: Option<String>,
    pub cpp: Spanned<String>,
    pub module_format: Spanned<String>,
    pub pointer_bytes: Spanned<i64>,
    #[serde(default)]
    pub set_pad: i64,
    #[serde(default)]
    pub global_set_storage: bool,
    #[serde(default)]
    pub cflags: Vec<String>,
    #[serde(default)]
    pub ldflags: Vec<String>,
}

/// `[[release]]`: a FreeBSD release the headers serve, and what differs
/// between releases.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRelease {
    pub name: Spanned<String>,
    /// The reference tree the release's facts come from.
    pub tree: String,
    pub freebsd_version: Spanned<i64>,
    pub vnet_copy: Spanned<String>,
    #[serde(default)]
    pub global_set_storage: Vec<Spanned<String>>,
    #[serde(default)]
    pub i386_set_pad_value: i64,
    /// By architecture: the flags kmod.mk compiles a module with.
    #[serde(default)]
    pub kmod_cflags: BTreeMap<Spanned<String>, Vec<String>>,
    /// By architecture: the flags kmod.mk links a module with.
    #[serde(default)]
    pub kmod_ldflags: BTreeMap<Spanned<String>, Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHeader {
    pub path: Spanned<String>,
    pub guard: Spanned<String>,
    pub userland: String,
    #[serde(default)]
    pub doc: Option<String>,
    #[serde(default)]
    pub known: Vec<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFamily {
    pub name: Spanned<String>,
    pub header: Spanned<String>,
    pub prefix: Spanned<String>,
    pub section: Spanned<String>,
    pub base: String,
    pub modspace: Spanned<i64>,
    pub virtualized: bool,
    #[serde(default)]
    pub kernel_variables: Vec<Spanned<String>>,
    pub groups: Vec<Spanned<String>>,
    #[serde(default)]
    pub kernel_symbol: Vec<RawKernelSymbol>,
    #[serde(default)]
    pub code: Vec<RawCode>,
    #[serde(default, rename = "macro")]
    pub macros: Vec<RawMacro>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawKernelSymbol {
    pub name: Spanned<String>,
    pub kind: Spanned<String>,
    pub only_in: Spanned<String>,
}

/// Bodies keyed by the variant they serve.  An unknown key is an unknown
/// variant name, which serde reports with its position.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBodies {
    pub all: Option<Spanned<String>>,
    pub novimage: Option<Spanned<String>>,
    pub vimage: Option<Spanned<String>>,
    pub runtime: Option<Spanned<String>>,
    #[serde(rename = "runtime-probe")]
    pub runtime_probe: Option<Spanned<String>>,
    #[serde(rename = "runtime-kernel")]
    pub runtime_kernel: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCode {
    pub name: Spanned<String>,
    pub group: Option<Spanned<String>>,
    #[serde(default)]
    pub userland: bool,
    /// The releases the entry is for (default: every one).
    #[serde(default)]
    pub releases: Option<Spanned<Vec<Spanned<String>>>>,
    #[serde(default)]
    pub doc: Option<String>,
    pub body: Spanned<RawBodies>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMacro {
    pub name: Spanned<String>,
    pub group: Spanned<String>,
    #[serde(default)]
    pub params: Option<Vec<Spanned<String>>>,
    #[serde(default)]
    pub form: Option<Spanned<String>>,
    #[serde(default)]
    pub userland: bool,
    /// The releases the macro is for (default: every one).
    #[serde(default)]
    pub releases: Option<Spanned<Vec<Spanned<String>>>>,
    /// A preprocessor condition the macro is defined under, e.g.
    /// `defined(SYSCTL_OID)`.
    #[serde(default)]
    pub only_if: Option<String>,
    #[serde(default)]
    pub doc: Option<String>,
    pub body: Spanned<RawBodies>,
    #[serde(default)]
    pub shared_module: Option<Spanned<RawBodies>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSupport {
    pub path: Spanned<String>,
    #[serde(default)]
    pub doc: Option<String>,
    pub groups: Vec<Spanned<String>>,
    #[serde(default)]
    pub code: Vec<RawCode>,
    #[serde(default)]
    pub function: Vec<RawFunction>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFunction {
    pub name: Spanned<String>,
    pub returns: String,
    pub params: String,
    #[serde(default)]
    pub doc: Option<String>,
    pub body: Spanned<RawBodies>,
}
