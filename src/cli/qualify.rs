//! `vnetgen qualify`: FreeBSD's network modules built from real trees with
//! the stock headers and with vnetgen's, compared; report.md and
//! report.json written under `--out`.

use std::path::{Path, PathBuf};

use clap::Args;

use vnetgen::error::exit;
use vnetgen::review::qualify::{self, QualifyOptions, DEFAULT_ARCHS, MODULES};
use vnetgen::spec::DEFAULT_SPEC;
use vnetgen::Error;

use super::{absolute, jobs_or_cores, load, SPEC_HELP};

#[derive(Args)]
pub struct QualifyArgs {
    /// A FreeBSD source tree (`sys/` and `share/mk/`); its release is read
    /// from it. Repeat for several.
    #[arg(long = "tree", required = true)]
    pub trees: Vec<PathBuf>,
    /// A module, by its directory under sys/modules (default: the 25
    /// network modules). Repeatable.
    #[arg(long = "module")]
    pub modules: Vec<String>,
    /// An architecture (default: amd64, aarch64, i386). Repeatable.
    #[arg(long = "arch")]
    pub archs: Vec<String>,
    /// Parallel builds (default: the number of cores).
    #[arg(short = 'j', long)]
    pub jobs: Option<usize>,
    /// Where report.md and report.json go (default: qualify/ in the
    /// vnetgen tree, or in the current directory outside one; the builds
    /// then include the Makefile.inc built into vnetgen).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// The build cache (default: target/vnetgen-qualify in the vnetgen
    /// tree, or in the current directory).
    #[arg(long)]
    pub cache: Option<PathBuf>,
    /// The facts directory whose <release>/modules.json holds the stock
    /// fingerprints (default: facts/ in the vnetgen tree, or in the
    /// current directory).
    #[arg(long)]
    pub facts: Option<PathBuf>,
    /// Record the stock builds' fingerprints in the facts.
    #[arg(long)]
    pub record: bool,
    /// A bmake variable for every build, NAME=VALUE (WITHOUT_INET6_SUPPORT=yes
    /// builds the modules for a kernel without INET6). Repeatable; the
    /// default cache and report directory then get a subdirectory named by
    /// the variables (WITHOUT_INET6_SUPPORT-yes), and the stock
    /// fingerprints are not checked.
    #[arg(long = "make", value_name = "NAME=VALUE")]
    pub make_vars: Vec<String>,
    #[arg(long, help = SPEC_HELP)]
    pub spec: Option<PathBuf>,
}

/// The vnetgen tree: the nearest directory at or above the current one with
/// Makefile.inc and spec/vimage.toml.
fn repo_root() -> Option<PathBuf> {
    let is_root =
        |d: &Path| d.join("Makefile.inc").is_file() && d.join("spec/vimage.toml").is_file();
    absolute(Path::new("."))
        .ancestors()
        .find(|d| is_root(d))
        .map(Path::to_path_buf)
}

pub fn run(args: QualifyArgs) -> Result<i32, Error> {
    let spec = load(args.spec.as_deref())?;
    let spec_text = match &args.spec {
        Some(path) => std::fs::read_to_string(path).map_err(|source| Error::ReadSpec {
            path: path.clone(),
            source,
        })?,
        None => DEFAULT_SPEC.to_string(),
    };
    let repo = repo_root();
    // The defaults live in the vnetgen tree, or in the current directory
    // outside one.
    let base = repo.clone().unwrap_or_else(|| absolute(Path::new(".")));
    // Builds with other make variables are other builds: their own cache
    // and report, in a subdirectory named by the variables.
    let mut make_vars = args.make_vars.clone();
    make_vars.sort();
    make_vars.dedup();
    // `NAME-VALUE`: no `=` or `/` in the path, which flags such as
    // `-ffile-prefix-map=OLD=NEW` and scenario options could not take.
    let flavour: String = make_vars
        .join(",")
        .chars()
        .map(|c| match c {
            '=' => '-',
            c if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ',' | '-') => c,
            _ => '_',
        })
        .collect();
    let under = |dir: PathBuf| {
        if flavour.is_empty() {
            dir
        } else {
            dir.join(&flavour)
        }
    };
    let vnetgen = std::env::current_exe()
        .map_err(|e| Error::Usage(format!("cannot tell where vnetgen is: {e}")))?;
    let options = QualifyOptions {
        trees: args.trees.iter().map(|t| absolute(t)).collect(),
        modules: if args.modules.is_empty() {
            MODULES.iter().map(|m| m.to_string()).collect()
        } else {
            args.modules
        },
        archs: if args.archs.is_empty() {
            DEFAULT_ARCHS.iter().map(|a| a.to_string()).collect()
        } else {
            args.archs
        },
        jobs: jobs_or_cores(args.jobs),
        cache: args
            .cache
            .as_deref()
            .map_or_else(|| under(base.join("target/vnetgen-qualify")), absolute),
        facts: args
            .facts
            .as_deref()
            .map_or_else(|| base.join("facts"), absolute),
        record: args.record,
        repo,
        vnetgen,
        spec_text,
        make_vars,
    };
    let out = args
        .out
        .as_deref()
        .map_or_else(|| under(base.join("qualify")), absolute);
    let report = qualify::run(&spec, &options).map_err(|e| Error::Qualify(Box::new(e)))?;
    let written = qualify::report::write(&out, &report).map_err(|e| Error::Qualify(Box::new(e)))?;
    let t = &report.totals;
    println!(
        "{} builds ({} built, {} from the cache): {} compiled, {} failed; kld-tied: {} identical, {} differ; vimage-runtime: {} loads, {} load as stock, {} won't load, {} known limits, {} no kernel recorded; stock fingerprints: {} match, {} differ, {} not recorded",
        t.builds,
        report.built,
        t.builds - report.built,
        t.compiled,
        t.failed,
        t.identical,
        t.differ,
        t.predicted_loads,
        t.predicted_loads_as_stock,
        t.predicted_wont_load,
        t.known_limits,
        t.no_kernel_recorded,
        t.fingerprints_match,
        t.fingerprints_differ,
        t.fingerprints_not_recorded
    );
    for name in ["report.md", "report.json"] {
        let verb = if written.iter().any(|w| w == name) {
            "wrote"
        } else {
            "unchanged"
        };
        println!("{verb} {}", out.join(name).display());
    }
    Ok(if report.all_pass() {
        exit::OK
    } else {
        exit::QUALIFY_FAILED
    })
}
