//! `vnetgen kld`: the emulated kernel linker from the command line.

use std::path::PathBuf;

use clap::Subcommand;

use vnetgen::error::exit;
use vnetgen::kld;
use vnetgen::Error;

use super::{absolute, load, sysroot_path, SPEC_HELP, SYSROOT_HELP};

#[derive(Subcommand)]
pub enum KldCommand {
    /// Run scenario files and print their transcripts.
    Run(RunArgs),
}

#[derive(clap::Args)]
pub struct RunArgs {
    /// Scenario files (one command a line; see README.md).
    #[arg(required = true)]
    pub scenarios: Vec<PathBuf>,
    /// Set a scenario variable: `--set module=path/to/x.ko`; repeatable.
    #[arg(long = "set", value_name = "NAME=VALUE")]
    pub vars: Vec<String>,
    /// The time limit of each scenario, in seconds.
    #[arg(long, default_value_t = 20.0)]
    pub timeout: f64,
    /// The build cache, for modules loaded from their sources.
    #[arg(long, default_value = "target/vnetgen-lab")]
    pub cache: PathBuf,
    #[arg(long, help = SPEC_HELP)]
    pub spec: Option<PathBuf>,
    #[arg(long, default_value = "stub", help = SYSROOT_HELP)]
    pub sysroot: String,
    /// The FreeBSD release the emulated kernel follows: its copy order,
    /// and the structure layouts modules built from sources get (default:
    /// the spec's newest).
    #[arg(long)]
    pub release: Option<String>,
    /// The architecture whose kernel linker to model: amd64 (link_elf_obj)
    /// or i386 (link_elf: its messages, errno and set copies); modules still
    /// run as amd64 code.
    #[arg(long, value_parser = ["amd64", "i386"])]
    pub arch: Option<String>,
}

pub fn run(command: KldCommand) -> Result<i32, Error> {
    let KldCommand::Run(args) = command;
    let mut options = kld::RunOptions {
        spec: load(args.spec.as_deref())?,
        release: args.release,
        arch: args.arch,
        cache: absolute(&args.cache),
        sysroot: sysroot_path(&args.sysroot),
        timeout: std::time::Duration::from_secs_f64(args.timeout.max(0.001)),
        vars: Default::default(),
    };
    for v in args.vars {
        let Some((name, value)) = v.split_once('=') else {
            return Err(Error::Usage(format!("--set {v}: NAME=VALUE")));
        };
        options.vars.insert(name.to_string(), value.to_string());
    }
    let mut code = exit::OK;
    for scenario in args.scenarios {
        let transcript = kld::run_file(&scenario, &options).map_err(|e| Error::Kld(Box::new(e)))?;
        print!("{}", transcript.text);
        if !transcript.passed() {
            code = exit::SCENARIO_FAILED;
        }
    }
    Ok(code)
}
