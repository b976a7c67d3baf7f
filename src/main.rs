//! The `vnetgen` command: parses arguments and hands each command to its
//! file under `cli/`; maps errors to the exit codes documented in README.md.

mod cli;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use vnetgen::error::exit;

#[derive(Parser)]
#[command(
    name = "vnetgen",
    version,
    about = "FreeBSD VNET and DPCPU headers for modules that work on VIMAGE and non-VIMAGE kernels"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Render the spec and write the files that changed.
    Generate(cli::generate::GenerateArgs),
    /// Exit non-zero when an output is missing, stale or edited by hand.
    Check(cli::check::CheckArgs),
    /// Print the clang arguments that compile a kmod source.
    Cflags(cli::cflags::CflagsArgs),
    /// Put the generated files into a FreeBSD source tree, or write them as
    /// a patch series for review.
    Vendor(cli::vendor::VendorArgs),
    /// Build test kmods for every variant, kernel and architecture, inspect
    /// the objects, and tell which build loads on which kernel.
    Abi(cli::abi::AbiArgs),
    /// Tell, for built modules, their build kind, VNET and DPCPU variables,
    /// the kernel symbols they need, and whether they load on each kernel.
    Inspect(cli::inspect::InspectArgs),
    /// Show what a macro expands to in each variant, through the preprocessor.
    Explain(cli::explain::ExplainArgs),
    /// Compare the macros of a reference header with the generated one:
    /// renames apart from added, removed and changed macros.
    Diff(cli::diff::DiffArgs),
    /// The emulated kernel linker: load amd64 modules into an emulated
    /// VIMAGE or non-VIMAGE kernel and run their code.
    Kld {
        #[command(subcommand)]
        command: cli::kld::KldCommand,
    },
    /// Real FreeBSD kernels in QEMU: boot each once and run `kld`
    /// scenarios on it, with kldload, sysctls and vnet jails.
    Vm {
        #[command(subcommand)]
        command: cli::vm::VmCommand,
    },
    /// What the run-time variant costs against the compiled-in builds, for
    /// each accessor strategy of the spec: instructions per access (from the
    /// disassembly, and executed under callgrind on amd64) and `.text` size.
    Bench(cli::bench::BenchArgs),
    /// Record what each release's stock headers define (from a FreeBSD
    /// tree), and hold the generated headers to those facts.
    Facts {
        #[command(subcommand)]
        command: cli::facts::FactsCommand,
    },
    /// Join a module's VIMAGE and non-VIMAGE builds into one dual module,
    /// which hands the kernel the side of its kind.
    Dual(cli::dual::DualArgs),
    /// Build FreeBSD's own network modules from real FreeBSD trees with the
    /// stock headers and with vnetgen's (through Makefile.inc), compare the
    /// objects, and write a report.
    Qualify(cli::qualify::QualifyArgs),
}

fn run(command: Command) -> Result<i32, vnetgen::Error> {
    match command {
        Command::Generate(args) => cli::generate::run(args),
        Command::Check(args) => cli::check::run(args),
        Command::Cflags(args) => cli::cflags::run(args),
        Command::Vendor(args) => cli::vendor::run(args),
        Command::Abi(args) => cli::abi::run(args),
        Command::Inspect(args) => cli::inspect::run(args),
        Command::Explain(args) => cli::explain::run(args),
        Command::Diff(args) => cli::diff::run(args),
        Command::Kld { command } => cli::kld::run(command),
        Command::Vm { command } => cli::vm::run(command),
        Command::Bench(args) => cli::bench::run(args),
        Command::Facts { command } => cli::facts::run(command),
        Command::Qualify(args) => cli::qualify::run(args),
        Command::Dual(args) => cli::dual::run(args),
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { exit::USAGE as u8 } else { 0 });
        }
    };
    match run(cli.command) {
        Ok(code) => ExitCode::from(code as u8),
        Err(e) => {
            eprintln!("vnetgen: {e}");
            ExitCode::from(e.exit_code() as u8)
        }
    }
}
