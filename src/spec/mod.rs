//! The spec: parsing and validation of the TOML that describes the macro
//! families, into a model that the renderer reads and never second-guesses;
//! the variants a module is built in ([`variant`]) and what each kind of
//! kernel exports ([`kernel_model`]).
//!
//! Uses: nothing else of the crate.

mod error;
pub mod kernel_model;
mod raw;
mod validate;
pub mod variant;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use error::{SpecError, SpecErrorCode};

/// Why a spec file could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadSpecError {
    #[error("reading spec {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Invalid(#[from] SpecError),
}

/// Reads and validates a spec file.
pub fn load_spec(path: &Path) -> Result<Spec, LoadSpecError> {
    let text = std::fs::read_to_string(path).map_err(|source| LoadSpecError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(Spec::parse(&spec_display_name(path), &text)?)
}

/// How a spec file is named in banners: relative paths as given, absolute
/// ones by file name, so the output does not depend on where the tree is.
pub fn spec_display_name(path: &Path) -> String {
    if path.is_absolute() {
        path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        )
    } else {
        path.to_string_lossy().replace('\\', "/")
    }
}

use crate::spec::variant::{BodyVariant, Detect, ModuleFormat};

/// The default spec, embedded so that `vnetgen generate` needs no argument.
pub const DEFAULT_SPEC: &str = include_str!("../../spec/vimage.toml");
/// The name under which the embedded spec is reported.
pub const DEFAULT_SPEC_NAME: &str = "spec/vimage.toml";
/// The schema version this vnetgen reads.
pub const SCHEMA: i64 = 1;

/// A validated spec.  Every list is sorted, so the order of the source's
/// tables never shows in the output.
#[derive(Debug, Clone)]
pub struct Spec {
    /// How the spec is named in banners and messages.
    pub source: String,
    pub detect: Detect,
    /// The run-time flag that `detect = "kernel"` exports.
    pub flag: String,
    /// The accessor strategy whose bodies the run-time variant uses
    /// (`[runtime] accessor`); `None` when the spec names none.
    pub accessor: Option<String>,
    /// Every strategy the spec defines, sorted by name.
    pub strategies: Vec<Strategy>,
    pub cflags_common: Vec<String>,
    pub cflags_warnings: Vec<String>,
    /// What every kernel exports to modules, whatever its configuration.
    pub kernel_symbols: Vec<String>,
    pub archs: Vec<Arch>,
    /// The FreeBSD releases served, oldest first.
    pub releases: Vec<Release>,
    pub headers: Vec<Header>,
    pub families: Vec<Family>,
    pub support: Option<Support>,
}

/// `[[runtime.strategy]]`: a named set of run-time bodies for the accessor
/// macros.  Only the selected one's bodies are in the items.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Strategy {
    pub name: String,
    pub doc: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Arch {
    pub name: String,
    pub triple: String,
    /// FreeBSD's MACHINE (`arm64` for aarch64): `sys/<machine>/include` is
    /// what `<machine/...>` means in a FreeBSD tree.
    pub machine: String,
    /// The macro the compiler predefines for this architecture.
    pub cpp: String,
    pub module_format: ModuleFormat,
    pub pointer_bytes: u32,
    /// Bytes of padding the linker script adds after each set (i386).
    pub set_pad: u32,
    /// Module code reaches local data PC-relative here, with no relocation
    /// the kernel linker could move: set storage must not be `static`.
    pub global_set_storage: bool,
    pub cflags: Vec<String>,
    pub ldflags: Vec<String>,
}

impl Arch {
    /// The clang target for modules of `release`: the spec's triple with
    /// the release's version, as that release's own cc is configured
    /// (`x86_64-unknown-freebsd13.2`, `armv7-unknown-freebsd15.1-gnueabihf`);
    /// the spec's triple as it is without a release.
    pub fn triple_for(&self, release: Option<&Release>) -> String {
        let Some(release) = release else {
            return self.triple.clone();
        };
        match self.triple.split_once("freebsd") {
            Some((head, tail)) => {
                let rest = tail.trim_start_matches(|c: char| c.is_ascii_digit() || c == '.');
                format!("{head}freebsd{}{rest}", release.name)
            }
            None => self.triple.clone(),
        }
    }
}

/// How a release's kernel linker fills the instances that exist when a
/// module loads (the vnets, or the CPUs) with the module's set image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum VnetCopyOrder {
    /// 13.2: the image is copied before relocation, so a statically
    /// initialised pointer is unrelocated in every copy.
    BeforeRelocation,
    /// 15.1: the initial image is saved and copied after relocation
    /// (`vnet_save_init`).
    AfterRelocation,
}

/// A FreeBSD release the generated headers serve.
#[derive(Debug, Clone)]
pub struct Release {
    /// `13.2`, `15.1`.
    pub name: String,
    /// The reference tree (repository and commit) its facts come from.
    pub tree: String,
    /// Its `__FreeBSD_version`.
    pub freebsd_version: u32,
    pub vnet_copy: VnetCopyOrder,
    /// Architectures whose modules keep `_STATIC` set storage global.
    pub global_set_storage: Vec<String>,
    /// The word `ldscript.kmod.i386` pads each set with.
    pub i386_set_pad_value: u32,
    /// By architecture: kmod.mk's compile flags for a module (the flags
    /// that shape code, as `facts/<release>/kmod_flags.json` records them).
    /// An architecture without them is built with its own `cflags`.
    pub kmod_cflags: BTreeMap<String, Vec<String>>,
    /// By architecture: kmod.mk's link flags.
    pub kmod_ldflags: BTreeMap<String, Vec<String>>,
}

impl Release {
    /// `13.2` and `13.2-RELEASE`: whether a kernel's `osreldate` is this
    /// release's (the same major and minor, `__FreeBSD_version / 1000`).
    pub fn matches_osreldate(&self, osreldate: u32) -> bool {
        self.freebsd_version / 1000 == osreldate / 1000
    }
}

#[derive(Debug, Clone)]
pub struct Header {
    /// Path under the output directory, e.g. `sys/net/vnet.h`.
    pub path: String,
    pub guard: String,
    /// Condition under which the userland part is visible.
    pub userland: String,
    pub doc: Option<String>,
    /// SHA-256 of versions of this header that `vnetgen vendor` may
    /// replace, besides its own output.
    pub known: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Family {
    pub name: String,
    pub header: String,
    pub prefix: String,
    pub section: String,
    pub base: String,
    pub modspace: u64,
    /// Instances exist only in VIMAGE kernels (VNET), or in every kernel (DPCPU).
    pub virtualized: bool,
    /// Kernel variables of the family: `prefix` + name in kernels that have
    /// the family's instances, the plain name in the others.
    pub kernel_variables: Vec<String>,
    pub groups: Vec<String>,
    pub kernel_symbols: Vec<KernelSymbol>,
    /// Code and macros, sorted by (group, code before macros, name).
    pub items: Vec<Item>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SymbolKind {
    Data,
    Function,
}

/// Which kernels export a symbol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnlyIn {
    All,
    Vimage,
    Novimage,
}

#[derive(Debug, Clone)]
pub struct KernelSymbol {
    pub name: String,
    pub kind: SymbolKind,
    pub only_in: OnlyIn,
}

/// What kind of C a macro expands to; statements are wrapped in
/// `do { } while (0)` by the generator, never by hand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MacroForm {
    Expression,
    Statement,
    Declaration,
    /// Tokens exactly as written, as FreeBSD's own headers have them: no
    /// `do { } while (0)` added, and a trailing `;` allowed (`CURVNET_SET`
    /// declares a variable and ends with one).
    Verbatim,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItemKind {
    /// Verbatim C: includes, structures, declarations.
    Code,
    /// A `#define`; `params` is `None` for an object-like macro.
    Macro {
        params: Option<Vec<String>>,
        form: MacroForm,
    },
}

#[derive(Debug, Clone)]
pub struct Item {
    pub name: String,
    pub kind: ItemKind,
    pub group: usize,
    pub userland: bool,
    /// The `#if` condition under which the item is there: on
    /// `__FreeBSD_version` when it serves only some releases, and the
    /// macro's own `only_if`.
    pub release_condition: Option<String>,
    /// The oldest release it serves (an index into the spec's releases):
    /// entries of one macro for different releases come oldest first.
    pub release_rank: usize,
    pub doc: Option<String>,
    pub body: Bodies,
    /// Bodies for module builds on architectures whose modules are shared objects.
    pub shared_module: Option<Bodies>,
}

/// C text keyed by the variant it serves, placeholders expanded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Bodies {
    pub all: Option<String>,
    pub novimage: Option<String>,
    pub vimage: Option<String>,
    pub runtime: Option<String>,
    pub runtime_probe: Option<String>,
    pub runtime_kernel: Option<String>,
}

impl Bodies {
    /// The body for one variant: the most specific key that is present.
    pub fn resolve(&self, variant: BodyVariant, detect: Detect) -> Option<&str> {
        let specific = match variant {
            BodyVariant::Novimage => self.novimage.as_deref(),
            BodyVariant::Vimage => self.vimage.as_deref(),
            BodyVariant::Runtime => {
                let by_detect = match detect {
                    Detect::Probe => self.runtime_probe.as_deref(),
                    Detect::Kernel => self.runtime_kernel.as_deref(),
                };
                by_detect.or(self.runtime.as_deref())
            }
        };
        specific.or(self.all.as_deref())
    }
}

#[derive(Debug, Clone)]
pub struct Support {
    pub path: String,
    pub doc: Option<String>,
    /// Sorted by name.
    pub code: Vec<Item>,
    /// Sorted by name.
    pub functions: Vec<Function>,
}

#[derive(Debug, Clone)]
pub struct Function {
    pub name: String,
    pub returns: String,
    pub params: String,
    pub doc: Option<String>,
    pub body: Bodies,
}

impl Spec {
    /// Parses and validates a spec.  `source` names it in errors and banners.
    pub fn parse(source: &str, text: &str) -> Result<Spec, SpecError> {
        validate::validate(source, text, None)
    }

    /// Parses and validates a spec with another accessor strategy than the
    /// one its `[runtime] accessor` names (`vnetgen bench` renders each).
    pub fn parse_with_accessor(
        source: &str,
        text: &str,
        accessor: &str,
    ) -> Result<Spec, SpecError> {
        validate::validate(source, text, Some(accessor))
    }

    /// The embedded default spec with the accessor strategy `accessor`.
    pub fn default_spec_with_accessor(accessor: &str) -> Result<Spec, SpecError> {
        Spec::parse_with_accessor(DEFAULT_SPEC_NAME, DEFAULT_SPEC, accessor)
    }

    /// The embedded default spec.
    pub fn default_spec() -> Result<Spec, SpecError> {
        Spec::parse(DEFAULT_SPEC_NAME, DEFAULT_SPEC)
    }

    pub fn arch(&self, name: &str) -> Option<&Arch> {
        self.archs.iter().find(|a| a.name == name)
    }

    /// A release by name (`13.2`).
    pub fn release(&self, name: &str) -> Option<&Release> {
        self.releases.iter().find(|r| r.name == name)
    }

    /// The release of a kernel that says `osreldate`: the one with its major
    /// and minor version.
    pub fn release_of_osreldate(&self, osreldate: u32) -> Option<&Release> {
        self.releases
            .iter()
            .find(|r| r.matches_osreldate(osreldate))
    }

    /// The newest release: the default of every `--release`.
    pub fn newest_release(&self) -> Option<&Release> {
        self.releases.last()
    }

    /// A release by name, or the newest without one; an unknown name is an
    /// error that lists the known ones.
    pub fn release_or_newest(&self, name: Option<&str>) -> Result<&Release, String> {
        let names = || {
            self.releases
                .iter()
                .map(|r| r.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        match name {
            Some(n) => self
                .release(n)
                .ok_or_else(|| format!("unknown release `{n}`; the spec knows: {}", names())),
            None => self
                .newest_release()
                .ok_or_else(|| "the spec describes no release ([[release]])".to_string()),
        }
    }

    /// The C condition under which a module build must keep set storage
    /// global (the `shared_module` bodies): the architectures every release
    /// lists, and those only some list under their releases' versions.
    pub fn shared_module_condition(&self) -> String {
        let mut terms = Vec::new();
        for arch in &self.archs {
            let listing: Vec<usize> = (0..self.releases.len())
                .filter(|&i| self.releases[i].global_set_storage.contains(&arch.name))
                .collect();
            if self.releases.is_empty() {
                if arch.global_set_storage {
                    terms.push(format!("defined({})", arch.cpp));
                }
            } else if listing.len() == self.releases.len() {
                terms.push(format!("defined({})", arch.cpp));
            } else if !listing.is_empty() {
                let runs: Vec<String> = runs(&listing)
                    .iter()
                    .filter_map(|run| release_condition(&self.releases, run))
                    .collect();
                let versions = if runs.len() == 1 {
                    runs.join("")
                } else {
                    runs.iter()
                        .map(|c| format!("({c})"))
                        .collect::<Vec<_>>()
                        .join(" || ")
                };
                terms.push(format!("(defined({}) && ({versions}))", arch.cpp));
            }
        }
        if terms.is_empty() {
            "0".to_string()
        } else {
            format!("defined(KLD_MODULE) && ({})", terms.join(" || "))
        }
    }
}

/// The condition on `__FreeBSD_version` that holds for the consecutive
/// releases at `run` (indices into `releases`, oldest first) and for no
/// other, or `None` when they are all of them.  A release's versions run
/// from its x.y000 to the next release's.  Where `__FreeBSD_version` is not
/// defined (a header read without `sys/param.h` before it) the newest
/// release is meant, and `-Wundef` has nothing to say.
pub fn release_condition(releases: &[Release], run: &[usize]) -> Option<String> {
    let (&first, &last) = (run.first()?, run.last()?);
    let floor = |r: &Release| r.freebsd_version / 1000 * 1000;
    let lower = (first > 0).then(|| floor(&releases[first]));
    let upper = releases.get(last + 1).map(floor);
    match (lower, upper) {
        (None, None) => None,
        (Some(lo), None) => Some(format!(
            "!defined(__FreeBSD_version) || __FreeBSD_version >= {lo}"
        )),
        (None, Some(hi)) => Some(format!(
            "defined(__FreeBSD_version) && __FreeBSD_version < {hi}"
        )),
        (Some(lo), Some(hi)) => Some(format!(
            "defined(__FreeBSD_version) && __FreeBSD_version >= {lo} && __FreeBSD_version < {hi}"
        )),
    }
}

/// Sorted indices split into runs of consecutive ones.
fn runs(indices: &[usize]) -> Vec<Vec<usize>> {
    let mut out: Vec<Vec<usize>> = Vec::new();
    for &i in indices {
        match out.last_mut() {
            Some(run) if run.last() == Some(&(i - 1)) => run.push(i),
            _ => out.push(vec![i]),
        }
    }
    out
}
