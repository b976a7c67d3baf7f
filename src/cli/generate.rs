//! `vnetgen generate`: render the spec and write the files that changed.

use std::path::{Path, PathBuf};

use vnetgen::error::exit;
use vnetgen::gen::output::{write_atomic, WriteOutcome};
use vnetgen::Error;

use super::{absolute, load, SPEC_HELP};

#[derive(clap::Args)]
pub struct GenerateArgs {
    #[arg(long, help = SPEC_HELP)]
    pub spec: Option<PathBuf>,
    /// Output directory.
    #[arg(long, default_value = "generated")]
    pub out: PathBuf,
    /// Also write a make dependency file here: the outputs depend on the
    /// spec and on vnetgen (default: none).
    #[arg(long)]
    pub depfile: Option<PathBuf>,
    /// Overwrite outputs even where they were edited by hand.
    #[arg(long)]
    pub force: bool,
    /// Print only the files that changed.
    #[arg(long, short)]
    pub quiet: bool,
}

pub fn run(args: GenerateArgs) -> Result<i32, Error> {
    // The banner names the spec as given; the depfile by its absolute path.
    let loaded = load(args.spec.as_deref())?;
    let spec_path = args.spec.as_deref().map(absolute);
    let out = absolute(&args.out);
    let report = vnetgen::generate(&loaded, &out, args.force)?;
    for (path, outcome) in &report {
        if !args.quiet || *outcome != WriteOutcome::Unchanged {
            println!("{:<9} {}", outcome.verb(), args.out.join(path).display());
        }
    }
    if let Some(depfile) = args.depfile.as_deref().map(absolute) {
        let files: Vec<String> = report.iter().map(|(p, _)| p.clone()).collect();
        let text = depfile_text(&out, &files, spec_path.as_deref());
        if std::fs::read_to_string(&depfile).ok().as_deref() != Some(text.as_str()) {
            write_atomic(&depfile, text.as_bytes())?;
        }
    }
    Ok(exit::OK)
}

/// A make rule: every output depends on the spec and on this binary.
fn depfile_text(out: &Path, files: &[String], spec: Option<&Path>) -> String {
    let mut prerequisites: Vec<PathBuf> = spec.into_iter().map(Path::to_path_buf).collect();
    if let Ok(exe) = std::env::current_exe() {
        prerequisites.push(exe);
    }
    let escape = |p: &Path| p.display().to_string().replace(' ', "\\ ");
    let targets: Vec<String> = files.iter().map(|f| escape(&out.join(f))).collect();
    let prereqs: Vec<String> = prerequisites.iter().map(|p| escape(p)).collect();
    let mut text = format!("{}: {}\n", targets.join(" \\\n    "), prereqs.join(" "));
    for p in &prereqs {
        text.push_str(&format!("{p}:\n"));
    }
    text
}
