//! `vnetgen inspect`: what built modules need, and whether they load on
//! each kernel.

use std::path::PathBuf;

use vnetgen::error::exit;
use vnetgen::inspect::predict;
use vnetgen::spec::variant::KernelConfig;
use vnetgen::Error;

use super::{load, KernelArg, ReportFormat, SPEC_HELP};

#[derive(clap::Args)]
pub struct InspectArgs {
    /// The modules (.ko, or .o).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Predict for this kernel configuration only (default: both).
    #[arg(long = "kernel-config", value_enum)]
    pub kernel_config: Option<KernelArg>,
    /// Predict against this kernel image's own symbol table (default: the
    /// spec's kernel models).
    #[arg(long, conflicts_with = "kernel_config")]
    pub kernel: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: ReportFormat,
    /// The release whose kernels to predict for: their recorded symbol
    /// tables where the module's architecture has one (facts/kernels/),
    /// the spec's models otherwise (default: the newest).
    #[arg(long, conflicts_with = "kernel")]
    pub release: Option<String>,
    #[arg(long, help = SPEC_HELP)]
    pub spec: Option<PathBuf>,
}

pub fn run(args: InspectArgs) -> Result<i32, Error> {
    let loaded = load(args.spec.as_deref())?;
    let kernels = match (args.kernel, args.kernel_config) {
        (Some(path), _) => predict::Kernels::Elf(path),
        (None, configs) => predict::Kernels::Recorded {
            release: loaded
                .release_or_newest(args.release.as_deref())
                .map_err(Error::Usage)?
                .name
                .clone(),
            configs: configs.map_or_else(|| KernelConfig::ALL.to_vec(), |k| vec![k.into()]),
        },
    };
    let report = predict::inspect(&loaded, &args.files, &kernels)?;
    match args.format {
        ReportFormat::Text => print!("{}", predict::text(&report)),
        ReportFormat::Json => print!("{}", predict::json(&report)),
    }
    Ok(if report.all_load() {
        exit::OK
    } else {
        exit::WONT_LOAD
    })
}
