//! `vnetgen bench`: what the run-time variant costs against the compiled-in
//! builds.

use std::path::PathBuf;

use vnetgen::error::exit;
use vnetgen::Error;

use super::{absolute, ReportFormat, SPEC_HELP};

#[derive(clap::Args)]
pub struct BenchArgs {
    #[arg(long, help = SPEC_HELP)]
    pub spec: Option<PathBuf>,
    /// Strategies to measure; repeatable (default: every one of the spec's).
    #[arg(long = "strategy")]
    pub strategies: Vec<String>,
    /// Architectures; repeatable (default: every one of the spec's).
    #[arg(long = "arch")]
    pub archs: Vec<String>,
    /// Skip the executed measure (valgrind).
    #[arg(long)]
    pub no_callgrind: bool,
    /// Rounds of the native measure (amd64 builds timed with the
    /// time-stamp counter, side by side); 0 skips it.
    #[arg(long, default_value_t = 15)]
    pub native_rounds: usize,
    /// Loop iterations of the executed measure.
    #[arg(long, default_value_t = 1_000_000)]
    pub iterations: u64,
    /// The directory holding tests/kmods and tests/bench_kmods.
    #[arg(long, default_value = ".")]
    pub root: PathBuf,
    /// Parallel builds (default: the number of cores).
    #[arg(long, short = 'j')]
    pub jobs: Option<usize>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,
}

pub fn run(args: BenchArgs) -> Result<i32, Error> {
    let mut options = vnetgen::bench::BenchOptions::new(&absolute(&args.root));
    if let Some(path) = &args.spec {
        options.spec_text = std::fs::read_to_string(path).map_err(|source| Error::ReadSpec {
            path: path.clone(),
            source,
        })?;
        options.spec_name = vnetgen::spec_display_name(path);
    }
    options.strategies = args.strategies;
    options.archs = args.archs;
    options.iterations = args.iterations.max(1);
    options.native_rounds = args.native_rounds;
    if let Some(j) = args.jobs {
        options.jobs = j.max(1);
    }
    if !args.no_callgrind {
        options.callgrind_exe = Some(
            std::env::current_exe().map_err(|e| Error::Usage(format!("locating vnetgen: {e}")))?,
        );
    }
    let report = vnetgen::bench::run(&options).map_err(|e| Error::Bench(Box::new(e)))?;
    match args.format {
        ReportFormat::Text => print!("{}", vnetgen::bench::report::text(&report)),
        ReportFormat::Json => println!("{}", vnetgen::bench::report::json(&report)),
    }
    Ok(exit::OK)
}
