//! `vnetgen facts`: record what the stock headers of a FreeBSD release
//! define, and hold the generated compiled-in variants to it.

use std::path::PathBuf;

use clap::Subcommand;

use vnetgen::build::toolchain::Toolchain;
use vnetgen::error::exit;
use vnetgen::gen::output::write_atomic;
use vnetgen::review::facts::{self, Difference, FactsError};
use vnetgen::review::kmod_flags;
use vnetgen::Error;

use super::{absolute, load, ReportFormat, SPEC_HELP};

#[derive(Subcommand)]
pub enum FactsCommand {
    /// Read a FreeBSD source tree's net/vnet.h and sys/pcpu.h and write
    /// their facts (includes, macro fingerprints) for its release.
    Extract(ExtractArgs),
    /// Compare the generated headers with the recorded facts of every
    /// release: each stock macro missing or changed in the compiled-in
    /// variants.
    Check(CheckArgs),
    /// Record the symbols real kernels export to modules, from a directory
    /// of kernels laid out as `<release>/<arch>/<CONFIG>/kernel`, into
    /// `facts/kernels/<release>/<arch>/{vimage,novimage}.txt`, which
    /// `vnetgen inspect` uses.
    KernelSymbols(KernelSymbolsArgs),
}

#[derive(clap::Args)]
pub struct KernelSymbolsArgs {
    /// The directory of kernels (`<release>/<arch>/<CONFIG>/kernel`).
    #[arg(long)]
    pub kernels: PathBuf,
    /// The facts directory.
    #[arg(long, default_value = "facts")]
    pub out: PathBuf,
    #[arg(long, help = SPEC_HELP)]
    pub spec: Option<PathBuf>,
}

#[derive(clap::Args)]
pub struct ExtractArgs {
    /// The root of the FreeBSD source tree (the directory holding `sys/`
    /// and `share/mk`).
    #[arg(long)]
    pub tree: PathBuf,
    /// The release the tree is, by the spec's name (checked against the
    /// tree's __FreeBSD_version) (default: the newest).
    #[arg(long)]
    pub release: Option<String>,
    /// The facts directory.
    #[arg(long, default_value = "facts")]
    pub out: PathBuf,
    #[arg(long, help = SPEC_HELP)]
    pub spec: Option<PathBuf>,
}

#[derive(clap::Args)]
pub struct CheckArgs {
    /// The facts directory.
    #[arg(long, default_value = "facts")]
    pub facts: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: ReportFormat,
    #[arg(long, help = SPEC_HELP)]
    pub spec: Option<PathBuf>,
}

fn facts_error(e: FactsError) -> Error {
    match e {
        FactsError::Usage(message) => Error::Usage(message),
        other => Error::Facts(Box::new(other)),
    }
}

pub fn run(command: FactsCommand) -> Result<i32, Error> {
    let clang = Toolchain::locate()?.clang;
    match command {
        FactsCommand::Extract(args) => {
            let spec = load(args.spec.as_deref())?;
            let release = spec
                .release_or_newest(args.release.as_deref())
                .map_err(Error::Usage)?;
            let tree = absolute(&args.tree);
            let out = absolute(&args.out);
            let all = facts::extract(&spec, release, &tree, &clang).map_err(facts_error)?;
            let flags = kmod_flags::extract(&spec, release, &tree).map_err(facts_error)?;
            // Everything is read before anything is written.
            let mut files: Vec<(PathBuf, String)> = all
                .iter()
                .map(|h| {
                    (
                        facts::facts_file(&out, &h.release, &h.header),
                        facts::to_json(h),
                    )
                })
                .collect();
            files.push((
                kmod_flags::file(&out, &release.name),
                kmod_flags::to_json(&flags),
            ));
            for (path, text) in &files {
                if std::fs::read_to_string(path).ok().as_deref() != Some(text.as_str()) {
                    write_atomic(path, text.as_bytes())?;
                    println!("wrote     {}", path.display());
                } else {
                    println!("unchanged {}", path.display());
                }
            }
            Ok(exit::OK)
        }
        FactsCommand::KernelSymbols(args) => kernel_symbols(&args),
        FactsCommand::Check(args) => {
            let spec = load(args.spec.as_deref())?;
            let differences = check(&spec, &absolute(&args.facts), &clang)?;
            match args.format {
                ReportFormat::Text => print!("{}", text(&differences)),
                ReportFormat::Json => println!(
                    "{}",
                    serde_json::to_string_pretty(&differences).unwrap_or_default()
                ),
            }
            Ok(if differences.is_empty() {
                exit::OK
            } else {
                exit::DIFFERS
            })
        }
    }
}

fn check(
    spec: &vnetgen::spec::Spec,
    facts_dir: &std::path::Path,
    clang: &std::path::Path,
) -> Result<Vec<Difference>, Error> {
    let files = vnetgen::gen::render::render(spec)?;
    let mut out = Vec::new();
    for stock in facts::load_all(facts_dir).map_err(facts_error)? {
        let path = format!("sys/{}", stock.header);
        let Some(generated) = files.iter().find(|f| f.path == path) else {
            return Err(Error::Usage(format!(
                "the spec generates no {path}, which the facts record"
            )));
        };
        let Some(release) = spec.release(&stock.release) else {
            return Err(Error::Usage(format!(
                "the facts are of release {}, which the spec does not describe",
                stock.release
            )));
        };
        // One header serves every release; each reads it with its own
        // __FreeBSD_version.
        let ours =
            facts::read_all(&generated.contents, spec, release, clang).map_err(facts_error)?;
        out.extend(facts::compare(&stock, &ours));
        out.extend(facts::unknown_stock(&stock, spec));
    }
    for release in &spec.releases {
        let path = kmod_flags::file(facts_dir, &release.name);
        if !facts_dir.join(&release.name).is_dir() {
            continue;
        }
        let text = std::fs::read_to_string(&path).map_err(|e| {
            Error::Usage(format!(
                "{}: {e}; `vnetgen facts extract --tree TREE --release {}` records it",
                path.display(),
                release.name
            ))
        })?;
        let recorded: kmod_flags::KmodFlags = serde_json::from_str(&text)
            .map_err(|e| Error::Usage(format!("{}: {e}", path.display())))?;
        for (arch, which, _, _) in kmod_flags::compare(&recorded, release) {
            out.push(Difference {
                release: release.name.clone(),
                header: "kmod.mk".to_string(),
                name: arch,
                kind: facts::DifferenceKind::KmodFlags,
                configs: vec![which.to_string()],
            });
        }
    }
    Ok(out)
}

fn text(differences: &[Difference]) -> String {
    let mut out = String::new();
    for d in differences {
        if d.kind == facts::DifferenceKind::KmodFlags {
            out.push_str(&format!(
                "{} kmod.mk: the spec's kmod_{} for {} differ from the recorded ones\n",
                d.release,
                d.configs.join(""),
                d.name
            ));
            continue;
        }
        if d.kind == facts::DifferenceKind::UnknownStock {
            out.push_str(&format!(
                "{} {}: the spec's `known` list lacks the stock file's SHA-256 {}; vendor would refuse the release's tree\n",
                d.release, d.header, d.name
            ));
            continue;
        }
        out.push_str(&format!(
            "{} {}: {} {:?} in {}\n",
            d.release,
            d.header,
            d.name,
            d.kind,
            d.configs.join(", ")
        ));
    }
    out.push_str(&format!(
        "{} differences from the stock headers\n",
        differences.len()
    ));
    out
}

/// The kernels of a directory: (release, arch, kernel path), the releases
/// and architectures the spec knows, in a fixed order.
fn kernels_in(
    spec: &vnetgen::spec::Spec,
    dir: &std::path::Path,
) -> Result<Vec<(String, String, PathBuf)>, Error> {
    let mut out = Vec::new();
    let list = |d: &std::path::Path| -> Result<Vec<PathBuf>, Error> {
        let mut v: Vec<PathBuf> = std::fs::read_dir(d)
            .map_err(|source| {
                Error::Facts(Box::new(FactsError::Io {
                    path: d.to_path_buf(),
                    source,
                }))
            })?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.is_dir())
            .collect();
        v.sort();
        Ok(v)
    };
    for release_dir in list(dir)? {
        let release = release_dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned());
        let Some(release) = release.filter(|r| spec.release(r).is_some()) else {
            continue;
        };
        for arch_dir in list(&release_dir)? {
            let arch = arch_dir
                .file_name()
                .map(|n| n.to_string_lossy().into_owned());
            let Some(arch) = arch.filter(|a| spec.arch(a).is_some()) else {
                continue;
            };
            for config_dir in list(&arch_dir)? {
                let kernel = config_dir.join("kernel");
                if kernel.is_file() {
                    out.push((release.clone(), arch.clone(), kernel));
                }
            }
        }
    }
    if out.is_empty() {
        return Err(Error::Usage(format!(
            "{}: no kernels there (expected <release>/<arch>/<CONFIG>/kernel for a release and arch the spec knows)",
            dir.display()
        )));
    }
    Ok(out)
}

fn kernel_symbols(args: &KernelSymbolsArgs) -> Result<i32, Error> {
    let spec = load(args.spec.as_deref())?;
    let out = absolute(&args.out);
    let mut written = std::collections::BTreeSet::new();
    for (release, arch, kernel) in kernels_in(&spec, &absolute(&args.kernels))? {
        let (names, vimage) = facts::kernel_symbols(&kernel).map_err(facts_error)?;
        // One file per kind of kernel: an INVARIANTS kernel is a VIMAGE
        // one, and the plain VIMAGE kernel is the one recorded.  A kernel
        // that carries vnet_support.c (it exports the flag: a vendored tree
        // with detect = "kernel") is recorded apart, as `<kind>-support`.
        let support = names.contains(&spec.flag);
        let config = match (vimage, support) {
            (true, false) => "vimage",
            (false, false) => "novimage",
            (true, true) => "vimage-support",
            (false, true) => "novimage-support",
        };
        let plain = kernel
            .parent()
            .and_then(|p| p.file_name())
            .is_some_and(|n| n == "VIMAGE" || n == "NOVIMAGE");
        if !plain || !written.insert((release.clone(), arch.clone(), config)) {
            continue;
        }
        let sha = facts::file_sha256(&kernel).map_err(facts_error)?;
        let text = facts::kernel_symbols_text(&release, &arch, vimage, support, &sha, &names);
        let path = out
            .join("kernels")
            .join(&release)
            .join(&arch)
            .join(format!("{config}.txt"));
        if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
            write_atomic(&path, text.as_bytes())?;
            println!("wrote     {} ({} symbols)", path.display(), names.len());
        } else {
            println!("unchanged {}", path.display());
        }
    }
    Ok(exit::OK)
}
