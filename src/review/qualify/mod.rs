//! `vnetgen qualify`: FreeBSD's own network modules built from real FreeBSD
//! trees with the tree's `share/mk` and `sys/conf/kmod.mk`, once with the
//! stock headers and once with vnetgen's through `Makefile.inc`, and the
//! objects compared: a kld-tied build must be identical to the stock build
//! of the same configuration, a vimage-runtime build must be predicted to
//! load on the recorded real kernels.  The stock builds' fingerprints are
//! facts (`facts/<release>/modules.json`) that a rerun is checked against.
//!
//! Builds run in parallel, each in its own object directory under the
//! cache, keyed by the content of everything that goes into it (the tree,
//! the rendered headers, Makefile.inc, the toolchain, the command line),
//! so a rerun with nothing changed builds nothing ([`build`]).
//! [`objects`] reduces an object to what is compared; [`report`] writes the
//! Markdown and JSON reports.
//!
//! Uses: `spec`, `gen` (rendering the headers, atomic writes), `lab` (the
//! cache key), `inspect` (the load prediction), `review::facts` (what a
//! FreeBSD tree is).

pub mod build;
pub mod objects;
pub mod report;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::inspect::predict::{inspect_providing, InspectCmdError, Kernels};
use crate::review::facts::{check_tree, FactsError};
use crate::spec::kernel_model::recorded;
use crate::spec::variant::{KernelConfig, ModuleFormat};
use crate::spec::{Release, Spec};

/// The modules qualified by default: 13.2's network modules, by their
/// directory under `sys/modules` (15.1 has them all under the same names).
pub const MODULES: [&str; 25] = [
    "if_bridge",
    "bridgestp",
    "if_tuntap",
    "if_epair",
    "if_vxlan",
    "if_gif",
    "if_gre",
    "if_lagg",
    "if_vlan",
    "if_stf",
    "if_me",
    "carp",
    "pf",
    "pflog",
    "pfsync",
    "ipfw",
    "dummynet",
    "ipdivert",
    "netgraph/netgraph",
    "netgraph/eiface",
    "netgraph/ether",
    "if_enc",
    "ipsec",
    "if_wg",
    "ip_mroute_mod",
];

/// The architectures qualified by default.
pub const DEFAULT_ARCHS: [&str; 3] = ["amd64", "aarch64", "i386"];

/// An architecture as kmod.mk knows it, from the spec: MACHINE, and the
/// clang target of `release` (the spec's triple with the release's version,
/// `x86_64-unknown-freebsd13.2`, `armv7-unknown-freebsd15.1-gnueabihf`).
pub fn kmod_target(arch: &crate::spec::Arch, release: &Release) -> (String, String) {
    (arch.machine.clone(), arch.triple_for(Some(release)))
}

#[derive(Debug, thiserror::Error)]
pub enum QualifyError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Tree(#[from] FactsError),
    #[error(
        "{}: __FreeBSD_version {found} is not a release of the spec (it knows {known})",
        tree.display()
    )]
    UnknownRelease {
        tree: PathBuf,
        found: String,
        known: String,
    },
    #[error("{}: no module {module} ({} is missing)", tree.display(), tree.join("sys/modules").join(module).join("Makefile").display())]
    UnknownModule { tree: PathBuf, module: String },
    #[error(
        "unknown architecture `{0}`; qualify knows amd64, aarch64, i386, armv7, powerpc64, riscv64"
    )]
    UnknownArch(String),
    #[error("{tool} not found on PATH; install it with: apt-get install -y {package}")]
    Tool {
        tool: &'static str,
        package: &'static str,
    },
    #[error("{}: not an object qualify can read: {what}", path.display())]
    BadObject { path: PathBuf, what: String },
    #[error("{}: {what}", path.display())]
    BadFacts { path: PathBuf, what: String },
    #[error("--make {var}: {why}")]
    BadMakeVar { var: String, why: String },
    #[error("--record with --make: the facts record the stock builds with the tree's defaults")]
    RecordWithMake,
    #[error("{0}")]
    Setup(String),
    #[error(transparent)]
    Inspect(#[from] InspectCmdError),
}

impl QualifyError {
    /// Bad input on the command line (a tree, a release, a module, an
    /// architecture), as opposed to a failure on the way.
    pub fn is_bad_input(&self) -> bool {
        matches!(
            self,
            QualifyError::Tree(FactsError::NotATree { .. } | FactsError::WrongRelease { .. })
                | QualifyError::UnknownRelease { .. }
                | QualifyError::UnknownModule { .. }
                | QualifyError::UnknownArch(_)
                | QualifyError::BadMakeVar { .. }
                | QualifyError::RecordWithMake
        )
    }
}

pub(crate) fn io(path: &Path) -> impl FnOnce(std::io::Error) -> QualifyError + '_ {
    move |source| QualifyError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The builds of one module, release and architecture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BuildKind {
    /// Stock headers, untied, kmod.mk's own opt_global.h (VIMAGE).
    StockVimage,
    /// Stock headers, untied, opt_global.h without VIMAGE.
    StockNovimage,
    /// Stock headers, `MODULE_TIED=yes`: what kld-tied is compared with.
    StockTiedVimage,
    StockTiedNovimage,
    /// `MODULE_TIED=yes` with Makefile.inc, VNETGEN_VARIANT=kld-tied.
    KldTiedVimage,
    KldTiedNovimage,
    /// Untied with Makefile.inc, VNETGEN_VARIANT=kld-tied: the same headers
    /// in the stock untied build.
    KldUntiedVimage,
    KldUntiedNovimage,
    /// Untied with Makefile.inc, VNETGEN_VARIANT=vimage-runtime.
    VimageRuntime,
    /// The two `kld-untied-*` builds joined into one dual module (amd64):
    /// not a bmake build of its own.
    Dual,
}

impl BuildKind {
    pub const ALL: [BuildKind; 9] = [
        BuildKind::StockVimage,
        BuildKind::StockNovimage,
        BuildKind::StockTiedVimage,
        BuildKind::StockTiedNovimage,
        BuildKind::KldTiedVimage,
        BuildKind::KldTiedNovimage,
        BuildKind::KldUntiedVimage,
        BuildKind::KldUntiedNovimage,
        BuildKind::VimageRuntime,
    ];

    /// The report's columns: every build, then the dual modules.
    pub fn columns() -> impl Iterator<Item = BuildKind> {
        BuildKind::ALL.into_iter().chain([BuildKind::Dual])
    }

    pub fn name(self) -> &'static str {
        match self {
            BuildKind::StockVimage => "stock-vimage",
            BuildKind::StockNovimage => "stock-novimage",
            BuildKind::StockTiedVimage => "stock-tied-vimage",
            BuildKind::StockTiedNovimage => "stock-tied-novimage",
            BuildKind::KldTiedVimage => "kld-tied-vimage",
            BuildKind::KldTiedNovimage => "kld-tied-novimage",
            BuildKind::KldUntiedVimage => "kld-untied-vimage",
            BuildKind::KldUntiedNovimage => "kld-untied-novimage",
            BuildKind::VimageRuntime => "vimage-runtime",
            BuildKind::Dual => "dual",
        }
    }

    /// Does its opt_global.h keep `#define VIMAGE 1`?
    pub fn vimage(self) -> bool {
        !matches!(
            self,
            BuildKind::StockNovimage
                | BuildKind::StockTiedNovimage
                | BuildKind::KldTiedNovimage
                | BuildKind::KldUntiedNovimage
        )
    }

    /// Built with `MODULE_TIED=yes`?
    pub fn tied(self) -> bool {
        matches!(
            self,
            BuildKind::StockTiedVimage
                | BuildKind::StockTiedNovimage
                | BuildKind::KldTiedVimage
                | BuildKind::KldTiedNovimage
        )
    }

    /// vnetgen's `VNETGEN_VARIANT`, for the builds through Makefile.inc.
    pub fn variant(self) -> Option<&'static str> {
        match self {
            BuildKind::KldTiedVimage
            | BuildKind::KldTiedNovimage
            | BuildKind::KldUntiedVimage
            | BuildKind::KldUntiedNovimage => Some("kld-tied"),
            BuildKind::VimageRuntime => Some("vimage-runtime"),
            _ => None,
        }
    }

    /// The stock build a kld-tied build must be identical to.
    pub fn reference(self) -> Option<BuildKind> {
        match self {
            BuildKind::KldTiedVimage => Some(BuildKind::StockTiedVimage),
            BuildKind::KldTiedNovimage => Some(BuildKind::StockTiedNovimage),
            BuildKind::KldUntiedVimage => Some(BuildKind::StockVimage),
            BuildKind::KldUntiedNovimage => Some(BuildKind::StockNovimage),
            _ => None,
        }
    }
}

/// What to qualify.
#[derive(Debug, Clone)]
pub struct QualifyOptions {
    /// FreeBSD trees (`sys/` and `share/mk/`), absolute.
    pub trees: Vec<PathBuf>,
    pub modules: Vec<String>,
    pub archs: Vec<String>,
    pub jobs: usize,
    /// The build cache, absolute.
    pub cache: PathBuf,
    /// The facts directory (`facts/`), for the stock fingerprints.
    pub facts: PathBuf,
    /// Write the stock builds' fingerprints into the facts.
    pub record: bool,
    /// The vnetgen tree whose Makefile.inc the builds include; `None`:
    /// the copy built into vnetgen, written into the cache.
    pub repo: Option<PathBuf>,
    /// The vnetgen binary Makefile.inc runs.
    pub vnetgen: PathBuf,
    /// The spec's text, written for Makefile.inc's `VNETGEN_SPEC`.
    pub spec_text: String,
    /// bmake variables every build gets besides qualify's own
    /// (`WITHOUT_INET6_SUPPORT=yes`), each `NAME=VALUE`, checked by
    /// [`check_make_var`].
    pub make_vars: Vec<String>,
}

/// A `--make` variable: `NAME=VALUE`, NAME a make variable's name.
pub fn check_make_var(var: &str) -> Result<(), QualifyError> {
    let bad = |why: &str| QualifyError::BadMakeVar {
        var: var.to_string(),
        why: why.to_string(),
    };
    let (name, _) = var.split_once('=').ok_or_else(|| bad("not NAME=VALUE"))?;
    let mut chars = name.chars();
    let starts = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    if !starts || !chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.') {
        return Err(bad(
            "NAME must start with a letter or `_`, then letters, digits, `_` or `.`",
        ));
    }
    Ok(())
}

/// One tree as qualified.
#[derive(Debug, Clone, Serialize)]
pub struct TreeInfo {
    pub path: String,
    pub release: String,
    /// The spec's record of the tree it describes (repository and commit).
    pub commit: String,
    /// SHA-256 of every file under `sys/` and `share/mk/`.
    pub fingerprint: String,
}

/// How a kld-tied build compares with its stock build, or a vimage-runtime
/// build is predicted to load.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Check {
    /// Stock builds: no check but the fingerprint.
    None,
    Identity {
        identical: bool,
        /// The first difference, naming the object and section or symbol.
        difference: Option<String>,
    },
    Prediction {
        vimage: Verdict,
        novimage: Verdict,
    },
    /// The check could not be made (the build, or the stock build, failed).
    NotMade {
        why: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "verdict", rename_all = "kebab-case")]
pub enum Verdict {
    Loads,
    /// Refused by the recorded kernel, but only for symbols the stock build
    /// of the same kind of kernel needs too: kernel options the recorded
    /// (small) kernel lacks (INET6, MAC, ...), not a VIMAGE difference.  It
    /// loads wherever the stock build does.
    LoadsAsStock {
        kernel_lacks: Vec<String>,
    },
    WontLoad {
        reason: String,
    },
    /// Refused for a symbol that the module's own `#ifdef VIMAGE` code
    /// references: a limit no header can lift (README, Limitations).
    KnownLimit {
        reason: String,
        construct: String,
    },
    NoKernelRecorded,
}

/// The modules whose own code decides VIMAGE at compile time: (module,
/// the symbol a VIMAGE build references strongly, where and how).
pub const KNOWN_LIMITS: [(&str, &str, &str); 2] = [
    (
        "if_bridge",
        "ether_reassign",
        "net/if_bridge.c (13.2: 677-695, 15.1: 787-805): bridge_reassign() calls ether_reassign(), a VIMAGE kernel's only, under #ifdef VIMAGE",
    ),
    (
        "if_tuntap",
        "prison_owns_vnet",
        "net/if_tuntap.c (15.1: 802-806): tuntap_prison_remove() calls prison_owns_vnet(), a VIMAGE kernel's only, under #ifdef VIMAGE",
    ),
];

/// A stock build's fingerprint against the recorded one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Recorded {
    Matches,
    Differs,
    NotRecorded,
}

#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub module: String,
    pub release: String,
    pub arch: String,
    pub build: BuildKind,
    pub compiles: bool,
    pub warnings: usize,
    pub first_error: Option<String>,
    pub check: Check,
    /// Stock builds: SHA-256 of their normalised objects.
    pub fingerprint: Option<String>,
    pub recorded: Option<Recorded>,
    /// Its directory in the cache, with `build.log` and `command`.
    pub build_dir: String,
}

impl Row {
    /// Compiles, and its check (if any) passes.
    pub fn passes(&self) -> bool {
        self.compiles
            && self.recorded != Some(Recorded::Differs)
            && match &self.check {
                Check::None => true,
                Check::Identity { identical, .. } => *identical,
                Check::Prediction { vimage, novimage } => ![vimage, novimage]
                    .iter()
                    .any(|v| matches!(v, Verdict::WontLoad { .. })),
                Check::NotMade { .. } => false,
            }
    }
}

#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Totals {
    pub builds: usize,
    pub compiled: usize,
    pub failed: usize,
    pub warnings: usize,
    /// vnetgen builds that print more warnings than the stock untied build
    /// of the same module, release, architecture and VIMAGE option.
    pub new_warnings: usize,
    pub identical: usize,
    pub differ: usize,
    pub predicted_loads: usize,
    pub predicted_loads_as_stock: usize,
    pub predicted_wont_load: usize,
    pub known_limits: usize,
    pub no_kernel_recorded: usize,
    pub checks_not_made: usize,
    pub fingerprints_match: usize,
    pub fingerprints_differ: usize,
    pub fingerprints_not_recorded: usize,
    /// Dual modules (amd64), counted apart from the builds above.
    pub dual_joined: usize,
    pub dual_failed: usize,
    pub dual_loads: usize,
    pub dual_loads_as_stock: usize,
    pub dual_wont_load: usize,
    pub dual_known_limits: usize,
    pub dual_no_kernel_recorded: usize,
}

impl Totals {
    pub fn of(rows: &[Row]) -> Totals {
        let mut t = Totals::default();
        for r in rows.iter().filter(|r| r.build == BuildKind::Dual) {
            if r.compiles {
                t.dual_joined += 1;
            } else {
                t.dual_failed += 1;
            }
            if let Check::Prediction { vimage, novimage } = &r.check {
                for v in [vimage, novimage] {
                    match v {
                        Verdict::Loads => t.dual_loads += 1,
                        Verdict::LoadsAsStock { .. } => t.dual_loads_as_stock += 1,
                        Verdict::WontLoad { .. } => t.dual_wont_load += 1,
                        Verdict::KnownLimit { .. } => t.dual_known_limits += 1,
                        Verdict::NoKernelRecorded => t.dual_no_kernel_recorded += 1,
                    }
                }
            }
        }
        let rows: Vec<&Row> = rows.iter().filter(|r| r.build != BuildKind::Dual).collect();
        t.builds = rows.len();
        let stock: HashMap<(&str, &str, &str, bool), usize> = rows
            .iter()
            .filter(|r| matches!(r.build, BuildKind::StockVimage | BuildKind::StockNovimage))
            .map(|r| {
                (
                    (&*r.release, &*r.arch, &*r.module, r.build.vimage()),
                    r.warnings,
                )
            })
            .collect();
        for r in rows {
            let r: &Row = r;
            if r.build.variant().is_some()
                && stock
                    .get(&(&*r.release, &*r.arch, &*r.module, r.build.vimage()))
                    .is_some_and(|&w| r.warnings > w)
            {
                t.new_warnings += 1;
            }
            if r.compiles {
                t.compiled += 1;
            } else {
                t.failed += 1;
            }
            t.warnings += r.warnings;
            match &r.check {
                Check::None => {}
                Check::Identity {
                    identical: true, ..
                } => t.identical += 1,
                Check::Identity { .. } => t.differ += 1,
                Check::Prediction { vimage, novimage } => {
                    for v in [vimage, novimage] {
                        match v {
                            Verdict::Loads => t.predicted_loads += 1,
                            Verdict::LoadsAsStock { .. } => t.predicted_loads_as_stock += 1,
                            Verdict::WontLoad { .. } => t.predicted_wont_load += 1,
                            Verdict::KnownLimit { .. } => t.known_limits += 1,
                            Verdict::NoKernelRecorded => t.no_kernel_recorded += 1,
                        }
                    }
                }
                Check::NotMade { .. } => t.checks_not_made += 1,
            }
            match r.recorded {
                Some(Recorded::Matches) => t.fingerprints_match += 1,
                Some(Recorded::Differs) => t.fingerprints_differ += 1,
                Some(Recorded::NotRecorded) => t.fingerprints_not_recorded += 1,
                None => {}
            }
        }
        t
    }
}

/// The result of a run.
#[derive(Debug, Clone, Serialize)]
pub struct QualifyReport {
    pub schema: u32,
    /// The day of the run (UTC), so that a rerun on the same day with the
    /// same outcome writes the same report.
    pub date: String,
    /// SHA-256 of the rendered headers the vnetgen builds use.
    pub headers: String,
    pub trees: Vec<TreeInfo>,
    pub modules: Vec<String>,
    pub archs: Vec<String>,
    /// The `--make` variables every build had (none: the tree's defaults).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub make_vars: Vec<String>,
    pub totals: Totals,
    pub rows: Vec<Row>,
    /// How many builds ran (the others came from the cache); not part of
    /// the written report.
    #[serde(skip)]
    pub built: usize,
}

impl QualifyReport {
    pub fn all_pass(&self) -> bool {
        self.rows.iter().all(Row::passes)
    }
}

/// The release of the tree at `tree`: the spec's release whose
/// `__FreeBSD_version` the tree's `sys/sys/param.h` has.
pub fn release_of_tree<'a>(spec: &'a Spec, tree: &Path) -> Result<&'a Release, QualifyError> {
    let mut found = None;
    for release in &spec.releases {
        match check_tree(tree, release) {
            Ok(()) => return Ok(release),
            Err(FactsError::WrongRelease { found: f, .. }) => found = Some(f),
            Err(e) => return Err(e.into()),
        }
    }
    Err(QualifyError::UnknownRelease {
        tree: tree.to_path_buf(),
        found: found.unwrap_or_else(|| "none".to_string()),
        known: spec
            .releases
            .iter()
            .map(|r| format!("{} ({})", r.name, r.freebsd_version))
            .collect::<Vec<_>>()
            .join(", "),
    })
}

/// Checks every input before anything is built or written: the trees (and
/// their releases), the modules in each tree, the architectures.
pub fn check_inputs<'a>(
    spec: &'a Spec,
    options: &QualifyOptions,
) -> Result<Vec<(PathBuf, &'a Release)>, QualifyError> {
    for arch in &options.archs {
        if spec.arch(arch).is_none() {
            return Err(QualifyError::UnknownArch(arch.clone()));
        }
    }
    for var in &options.make_vars {
        check_make_var(var)?;
    }
    if options.record && !options.make_vars.is_empty() {
        return Err(QualifyError::RecordWithMake);
    }
    let mut trees = Vec::new();
    for tree in &options.trees {
        let release = release_of_tree(spec, tree)?;
        for module in &options.modules {
            let makefile = tree.join("sys/modules").join(module).join("Makefile");
            // A name must stay below sys/modules.
            let plain = module
                .split('/')
                .all(|part| !part.is_empty() && part != "." && part != "..");
            if !plain || !makefile.is_file() {
                return Err(QualifyError::UnknownModule {
                    tree: tree.clone(),
                    module: module.clone(),
                });
            }
        }
        trees.push((tree.clone(), release));
    }
    Ok(trees)
}

/// The stock fingerprints recorded for a release: `<arch>/<module>/<build>`
/// to SHA-256.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct ModuleFacts {
    pub schema: u32,
    pub release: String,
    pub tree: String,
    pub note: String,
    pub fingerprints: BTreeMap<String, String>,
}

pub fn module_facts_file(facts: &Path, release: &str) -> PathBuf {
    facts.join(release).join("modules.json")
}

/// Reads a release's recorded fingerprints (none when there is no file).
pub fn load_module_facts(facts: &Path, release: &str) -> Result<ModuleFacts, QualifyError> {
    let path = module_facts_file(facts, release);
    match std::fs::read_to_string(&path) {
        Ok(text) => serde_json::from_str(&text).map_err(|e| QualifyError::BadFacts {
            path: path.clone(),
            what: e.to_string(),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(ModuleFacts::default()),
        Err(source) => Err(QualifyError::Io { path, source }),
    }
}

fn fact_key(arch: &str, module: &str, build: BuildKind) -> String {
    format!("{arch}/{module}/{}", build.name())
}

/// Runs the qualification.
pub fn run(spec: &Spec, options: &QualifyOptions) -> Result<QualifyReport, QualifyError> {
    let trees = check_inputs(spec, options)?;
    build::check_tools()?;
    let setup = build::Setup::prepare(spec, options)?;

    let mut infos = Vec::new();
    let mut jobs = Vec::new();
    for (tree, release) in &trees {
        let fingerprint = build::tree_fingerprint(tree)?;
        let mpath = build::mpath(tree);
        infos.push(TreeInfo {
            path: tree.display().to_string(),
            release: release.name.clone(),
            commit: release.tree.clone(),
            fingerprint: fingerprint.clone(),
        });
        for arch in &options.archs {
            for module in &options.modules {
                for kind in BuildKind::ALL {
                    let Some(spec_arch) = spec.arch(arch) else {
                        return Err(QualifyError::UnknownArch(arch.clone()));
                    };
                    let (machine, triple) = kmod_target(spec_arch, release);
                    jobs.push(build::Job {
                        tree: tree.clone(),
                        tree_fingerprint: fingerprint.clone(),
                        mpath: mpath.clone(),
                        release: (*release).clone(),
                        arch: arch.clone(),
                        machine,
                        triple,
                        module: module.clone(),
                        kind,
                    });
                }
            }
        }
    }
    let outcomes = build::run_all(&setup, &jobs, options.jobs)?;
    let built = outcomes.iter().filter(|o| !o.cached).count();

    // The objects of each build, normalised once.
    let mut normalised = Vec::with_capacity(outcomes.len());
    for o in &outcomes {
        normalised.push(if o.result.compiled {
            Some(
                o.result
                    .objects
                    .iter()
                    .map(|name| {
                        objects::normalise_file(&o.objdir.join(name)).map(|n| (name.clone(), n))
                    })
                    .collect::<Result<Vec<_>, _>>()?,
            )
        } else {
            None
        });
    }
    let index: BTreeMap<(String, String, String, BuildKind), usize> = jobs
        .iter()
        .enumerate()
        .map(|(i, j)| {
            (
                (
                    j.release.name.clone(),
                    j.arch.clone(),
                    j.module.clone(),
                    j.kind,
                ),
                i,
            )
        })
        .collect();

    let mut facts: BTreeMap<String, ModuleFacts> = BTreeMap::new();
    for (_, release) in &trees {
        facts.insert(
            release.name.clone(),
            load_module_facts(&options.facts, &release.name)?,
        );
    }

    // What the modules export to each other (if_bridge needs bridgestp,
    // pflog pf): the globals of every stock VIMAGE build of a release and
    // architecture, offered to the prediction besides the kernel's.
    let mut provided: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    for (i, j) in jobs.iter().enumerate() {
        if j.kind == BuildKind::StockVimage {
            if let Some(objs) = &normalised[i] {
                let set = provided
                    .entry((j.release.name.clone(), j.arch.clone()))
                    .or_default();
                for (name, n) in objs {
                    if name.ends_with(".ko") {
                        set.extend(
                            n.symbols
                                .iter()
                                .filter(|s| s.binding != "local" && s.section != "undefined")
                                .map(|s| s.name.clone()),
                        );
                    }
                }
            }
        }
    }

    let mut rows = Vec::new();
    let mut new_facts: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for (i, (j, o)) in jobs.iter().zip(&outcomes).enumerate() {
        let r = &o.result;
        let mut row = Row {
            module: j.module.clone(),
            release: j.release.name.clone(),
            arch: j.arch.clone(),
            build: j.kind,
            compiles: r.compiled,
            warnings: r.warnings,
            first_error: r.first_error.clone(),
            check: Check::None,
            fingerprint: None,
            recorded: None,
            build_dir: o.dir.clone(),
        };
        match (j.kind.variant(), &normalised[i]) {
            (None, Some(objs)) => {
                name_stock_module(options, j, o, objs)?;
                let fp = build_fingerprint(objs);
                let key = fact_key(&j.arch, &j.module, j.kind);
                // The facts record the builds with the tree's defaults:
                // a build with other make variables has no fingerprint there.
                let known = facts
                    .get(&j.release.name)
                    .and_then(|f| f.fingerprints.get(&key))
                    .filter(|_| options.make_vars.is_empty());
                row.recorded = Some(match known {
                    Some(known) if *known == fp => Recorded::Matches,
                    Some(_) => Recorded::Differs,
                    None => Recorded::NotRecorded,
                });
                new_facts
                    .entry(j.release.name.clone())
                    .or_default()
                    .insert(key, fp.clone());
                row.fingerprint = Some(fp);
            }
            (None, None) => {}
            (Some(_), None) => {
                row.check = Check::NotMade {
                    why: "did not compile".to_string(),
                }
            }
            (Some(_), Some(objs)) => {
                if let Some(reference) = j.kind.reference() {
                    let k = (
                        j.release.name.clone(),
                        j.arch.clone(),
                        j.module.clone(),
                        reference,
                    );
                    row.check = match index.get(&k).and_then(|&r| normalised[r].as_ref()) {
                        Some(stock) => {
                            let difference = compare_builds(stock, objs);
                            Check::Identity {
                                identical: difference.is_none(),
                                difference,
                            }
                        }
                        None => Check::NotMade {
                            why: format!("{} did not compile", reference.name()),
                        },
                    };
                } else {
                    let empty = BTreeSet::new();
                    let extra = provided
                        .get(&(j.release.name.clone(), j.arch.clone()))
                        .unwrap_or(&empty);
                    // The stock untied builds, to tell the kernel's missing
                    // options from what vnetgen's headers would add.
                    let stock = |kind: BuildKind| {
                        let k = (
                            j.release.name.clone(),
                            j.arch.clone(),
                            j.module.clone(),
                            kind,
                        );
                        index.get(&k).and_then(|&r| {
                            let objs = normalised[r].as_ref()?;
                            let (ko, _) = objs.iter().find(|(n, _)| n.ends_with(".ko"))?;
                            Some(outcomes[r].objdir.join(ko))
                        })
                    };
                    let stock = [
                        (KernelConfig::Vimage, stock(BuildKind::StockVimage)),
                        (KernelConfig::Novimage, stock(BuildKind::StockNovimage)),
                    ];
                    row.check = predict(spec, &j.release.name, &j.arch, o, objs, extra, &stock)?;
                    row.check = known_limit(&j.module, row.check);
                }
            }
        }
        rows.push(row);
    }

    // The dual modules: each amd64, i386 and aarch64 module's two
    // kld-untied builds joined (i386, aarch64: the relocatable `.kld` each
    // is linked from).
    let dual_archs: Vec<&str> = ["amd64", "i386", "aarch64"]
        .into_iter()
        .filter(|a| options.archs.iter().any(|x| x == a))
        .collect();
    if !dual_archs.is_empty() {
        let toolchain = crate::build::toolchain::Toolchain::locate()
            .map_err(|e| QualifyError::Setup(e.to_string()))?;
        let ko_of = |release: &str, arch: &str, module: &str, kind: BuildKind| {
            let k = (
                release.to_string(),
                arch.to_string(),
                module.to_string(),
                kind,
            );
            index.get(&k).and_then(|&r| {
                let objs = normalised[r].as_ref()?;
                let (ko, _) = objs.iter().find(|(n, _)| n.ends_with(".ko"))?;
                Some((r, outcomes[r].objdir.join(ko)))
            })
        };
        let mut dual_kos: Vec<(usize, PathBuf)> = Vec::new();
        for arch in &dual_archs {
            let Some(arch_spec) = spec.arch(arch) else {
                return Err(QualifyError::UnknownArch(arch.to_string()));
            };
            for (tree, release) in &trees {
                for module in &options.modules {
                    let dir = format!("dual/{}-{arch}-{}", release.name, module.replace('/', "-"));
                    let mut row = Row {
                        module: module.clone(),
                        release: release.name.clone(),
                        arch: arch.to_string(),
                        build: BuildKind::Dual,
                        compiles: false,
                        warnings: 0,
                        first_error: None,
                        check: Check::NotMade {
                            why: "a side did not compile".to_string(),
                        },
                        fingerprint: None,
                        recorded: None,
                        build_dir: dir.clone(),
                    };
                    let (Some((_, v_ko)), Some((n, n_ko))) = (
                        ko_of(&release.name, arch, module, BuildKind::KldUntiedVimage),
                        ko_of(&release.name, arch, module, BuildKind::KldUntiedNovimage),
                    ) else {
                        rows.push(row);
                        continue;
                    };
                    // A shared-object module's sides: the `.kld` beside it.
                    let side = |ko: &Path| match arch_spec.module_format {
                        ModuleFormat::Relocatable => ko.to_path_buf(),
                        ModuleFormat::Shared => ko.with_extension("kld"),
                    };
                    let work = options.cache.join(&dir);
                    let name = v_ko
                        .file_stem()
                        .map(|s| s.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    let ko = work.join(format!("{name}.ko"));
                    let assembled = crate::build::dual::Assembly {
                        spec,
                        arch: arch_spec,
                        release: Some(release),
                        name: &name,
                        generated: &outcomes[n].objdir.join("vnetgen"),
                        sysroot: &tree.join("sys"),
                        out_dir: &work,
                        mutant: None,
                    }
                    .assemble(&toolchain, &side(&v_ko), &side(&n_ko), &ko);
                    match assembled {
                        Err(e) => {
                            row.first_error = Some(e.to_string());
                            row.check = Check::NotMade {
                                why: "not joined".to_string(),
                            };
                        }
                        Ok(ko) => {
                            row.compiles = true;
                            dual_kos.push((rows.len(), ko));
                        }
                    }
                    rows.push(row);
                }
            }
        }
        // What the dual modules export under their own names, for the
        // other dual modules of their release and architecture.
        type Key = (String, String, String);
        let mut dual_exported: BTreeMap<Key, BTreeSet<String>> = BTreeMap::new();
        for (i, ko) in &dual_kos {
            let r = &rows[*i];
            let set = dual_exported
                .entry((r.release.clone(), r.arch.clone(), r.module.clone()))
                .or_default();
            set.extend(crate::build::dual::exported_names(ko).unwrap_or_default());
        }
        for (i, ko) in &dual_kos {
            let (release, arch, module) = (
                rows[*i].release.clone(),
                rows[*i].arch.clone(),
                rows[*i].module.clone(),
            );
            let stock = [
                (
                    KernelConfig::Vimage,
                    ko_of(&release, &arch, &module, BuildKind::StockVimage).map(|x| x.1),
                ),
                (
                    KernelConfig::Novimage,
                    ko_of(&release, &arch, &module, BuildKind::StockNovimage).map(|x| x.1),
                ),
            ];
            // The dual module reaches the other dual modules' exports; the
            // stock builds it is compared with reach the stock modules'.
            let others: BTreeSet<String> = dual_exported
                .iter()
                .filter(|((r, a, m), _)| *r == release && *a == arch && *m != module)
                .flat_map(|(_, s)| s.iter().cloned())
                .collect();
            let empty = BTreeSet::new();
            let stock_provided = provided
                .get(&(release.clone(), arch.clone()))
                .unwrap_or(&empty);
            rows[*i].check =
                predict_ko(spec, &release, &arch, ko, &others, &stock, stock_provided)?;
        }
    }

    if options.record {
        for (_, release) in &trees {
            let mut f = facts.remove(&release.name).unwrap_or_default();
            f.schema = 1;
            f.release = release.name.clone();
            f.tree = release.tree.clone();
            f.note = "SHA-256 of each stock build's normalised objects (vnetgen qualify --record): sections, symbols, relocations; build IDs left out".to_string();
            if let Some(new) = new_facts.remove(&release.name) {
                f.fingerprints.extend(new);
            }
            let path = module_facts_file(&options.facts, &release.name);
            let mut text = serde_json::to_string_pretty(&f).unwrap_or_default();
            text.push('\n');
            build::write_if_changed(&path, text.as_bytes())?;
        }
    }

    let totals = Totals::of(&rows);
    Ok(QualifyReport {
        schema: 1,
        date: report::today(),
        headers: setup.headers_key.clone(),
        trees: infos,
        modules: options.modules.clone(),
        archs: options.archs.clone(),
        make_vars: options.make_vars.clone(),
        totals,
        rows,
        built,
    })
}

type Objects = Vec<(String, objects::Normalised)>;

/// The untied stock modules under names a scenario can give:
/// `<cache>/stock-vimage/<release>-<arch>-<module>/<name>.ko` (and
/// `stock-novimage`), beside the dual modules' `dual/...`, so that one
/// scenario loads either (`qualify/ifnet.kld`).
fn name_stock_module(
    options: &QualifyOptions,
    job: &build::Job,
    outcome: &build::Outcome,
    objs: &Objects,
) -> Result<(), QualifyError> {
    if !matches!(job.kind, BuildKind::StockVimage | BuildKind::StockNovimage) {
        return Ok(());
    }
    let Some((ko, _)) = objs.iter().find(|(n, _)| n.ends_with(".ko")) else {
        return Ok(());
    };
    let from = outcome.objdir.join(ko);
    let bytes = std::fs::read(&from).map_err(io(&from))?;
    let dir = format!(
        "{}/{}-{}-{}",
        job.kind.name(),
        job.release.name,
        job.arch,
        job.module.replace('/', "-")
    );
    let name = Path::new(ko).file_name().unwrap_or(ko.as_ref());
    build::write_if_changed(&options.cache.join(dir).join(name), &bytes)
}

/// One fingerprint over a build's objects, each with its name.
fn build_fingerprint(objs: &Objects) -> String {
    let mut text = String::new();
    for (name, n) in objs {
        text.push_str(&format!("{name} {}\n", objects::fingerprint(n)));
    }
    crate::gen::stamp::hex_sha256(text.as_bytes())
}

/// The first difference between two builds' objects (the `.ko` first).
pub fn compare_builds(reference: &Objects, build: &Objects) -> Option<String> {
    let names = |o: &Objects| o.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    let (a, b) = (names(reference), names(build));
    if a != b {
        if let Some(only) = a.iter().find(|n| !b.contains(n)) {
            return Some(format!("{only}: only in the stock build"));
        }
        if let Some(only) = b.iter().find(|n| !a.contains(n)) {
            return Some(format!("{only}: not in the stock build"));
        }
    }
    for ((name, x), (_, y)) in reference.iter().zip(build) {
        if let Some(d) = objects::compare(x, y) {
            return Some(format!("{name}: {d}"));
        }
    }
    None
}

/// The symbols a refusal names, when every reason it gives is an undefined
/// symbol (`link_elf_obj: symbol X undefined`).
fn undefined_symbols(reason: &str) -> Option<BTreeSet<String>> {
    reason
        .split("; ")
        .map(|part| {
            let (_, rest) = part.split_once("symbol ")?;
            rest.strip_suffix(" undefined").map(str::to_string)
        })
        .collect()
}

/// The load verdict of each recorded kernel of `release` and `arch` for the
/// `.ko`s at `paths`, with `provided` exported by other modules.
fn verdicts(
    spec: &Spec,
    release: &str,
    configs: &[KernelConfig],
    ko: &Path,
    provided: &HashSet<String>,
) -> Result<BTreeMap<KernelConfig, Verdict>, QualifyError> {
    let mut out = BTreeMap::new();
    let report = inspect_providing(
        spec,
        &[ko.to_path_buf()],
        &Kernels::Recorded {
            release: release.to_string(),
            configs: configs.to_vec(),
        },
        provided,
    )?;
    if let Some(m) = report.modules.first() {
        for (config, load) in &m.loads {
            out.insert(
                *config,
                if load.ok {
                    Verdict::Loads
                } else {
                    Verdict::WontLoad {
                        reason: load.reason.clone().unwrap_or_default(),
                    }
                },
            );
        }
    }
    Ok(out)
}

/// A refusal of a known limit's module for its symbol becomes that limit.
/// A check with each refusal of its prediction passed through `mark`.
fn mark_refusals(check: Check, mark: impl Fn(String) -> Verdict) -> Check {
    let marked = |v: Verdict| match v {
        Verdict::WontLoad { reason } => mark(reason),
        other => other,
    };
    match check {
        Check::Prediction { vimage, novimage } => Check::Prediction {
            vimage: marked(vimage),
            novimage: marked(novimage),
        },
        other => other,
    }
}

fn known_limit(module: &str, check: Check) -> Check {
    mark_refusals(check, |reason| {
        match KNOWN_LIMITS
            .iter()
            .find(|(m, sym, _)| *m == module && reason.contains(&format!("symbol {sym} undefined")))
        {
            Some((_, _, construct)) => Verdict::KnownLimit {
                reason,
                construct: construct.to_string(),
            },
            None => Verdict::WontLoad { reason },
        }
    })
}

fn predict(
    spec: &Spec,
    release: &str,
    arch: &str,
    outcome: &build::Outcome,
    objs: &Objects,
    provided: &BTreeSet<String>,
    stock: &[(KernelConfig, Option<PathBuf>)],
) -> Result<Check, QualifyError> {
    let Some((ko, _)) = objs.iter().find(|(n, _)| n.ends_with(".ko")) else {
        return Ok(Check::NotMade {
            why: "no .ko".to_string(),
        });
    };
    predict_ko(
        spec,
        release,
        arch,
        &outcome.objdir.join(ko),
        provided,
        stock,
        provided,
    )
}

/// [`predict`] for a module file.
fn predict_ko(
    spec: &Spec,
    release: &str,
    arch: &str,
    ko: &Path,
    provided: &BTreeSet<String>,
    stock: &[(KernelConfig, Option<PathBuf>)],
    stock_provided: &BTreeSet<String>,
) -> Result<Check, QualifyError> {
    let configs: Vec<KernelConfig> = [KernelConfig::Vimage, KernelConfig::Novimage]
        .into_iter()
        .filter(|&c| recorded::symbols(release, arch, c).is_some())
        .collect();
    let mut verdicts: BTreeMap<KernelConfig, Verdict> = BTreeMap::new();
    if !configs.is_empty() {
        let extra: HashSet<String> = provided.iter().cloned().collect();
        verdicts = self::verdicts(spec, release, &configs, ko, &extra)?;
        for (config, stock_ko) in stock {
            let Some(Verdict::WontLoad { reason }) = verdicts.get(config) else {
                continue;
            };
            let (Some(ours), Some(stock_ko)) = (undefined_symbols(reason), stock_ko) else {
                continue;
            };
            let theirs_extra: HashSet<String> = stock_provided.iter().cloned().collect();
            let theirs = self::verdicts(spec, release, &[*config], stock_ko, &theirs_extra)?;
            if let Some(Verdict::WontLoad { reason }) = theirs.get(config) {
                if undefined_symbols(reason).is_some_and(|t| ours.is_subset(&t)) {
                    verdicts.insert(
                        *config,
                        Verdict::LoadsAsStock {
                            kernel_lacks: ours.into_iter().collect(),
                        },
                    );
                }
            }
        }
    }
    let mut take = |c| verdicts.remove(&c).unwrap_or(Verdict::NoKernelRecorded);
    Ok(Check::Prediction {
        vimage: take(KernelConfig::Vimage),
        novimage: take(KernelConfig::Novimage),
    })
}
