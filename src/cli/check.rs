//! `vnetgen check`: exit non-zero when an output is missing, stale or
//! edited by hand, with the diff of what `generate` would write.

use std::path::PathBuf;

use vnetgen::build::cflags::shell_quote;
use vnetgen::error::exit;
use vnetgen::gen::output::Problem;
use vnetgen::Error;

use super::{absolute, load, SPEC_HELP};

#[derive(clap::Args)]
pub struct CheckArgs {
    #[arg(long, help = SPEC_HELP)]
    pub spec: Option<PathBuf>,
    /// The directory of the generated files to check.
    #[arg(long, default_value = "generated")]
    pub out: PathBuf,
}

pub fn run(args: CheckArgs) -> Result<i32, Error> {
    let loaded = load(args.spec.as_deref())?;
    let findings = vnetgen::check(&loaded, &absolute(&args.out))?;
    let out = &args.out;
    if findings.is_empty() {
        println!("{}: up to date", out.display());
        return Ok(exit::OK);
    }
    for f in &findings {
        print!("{}", f.diff);
    }
    for f in &findings {
        eprintln!("{}: {}", out.join(&f.path).display(), f.problem.describe());
    }
    let spec_arg = args
        .spec
        .map(|s| format!(" --spec {}", shell_quote(&s.display().to_string())))
        .unwrap_or_default();
    let hand_edited = findings
        .iter()
        .any(|f| f.problem != Problem::Missing && f.problem != Problem::Stale);
    eprintln!(
        "to regenerate: vnetgen generate{spec_arg} --out {}{}",
        shell_quote(&out.display().to_string()),
        if hand_edited { " --force" } else { "" }
    );
    Ok(exit::CHECK_FAILED)
}
