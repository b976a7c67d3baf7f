//! `vnetgen-mutants`: mutation testing of the checks (`scripts/mutants`).
//! Applies each operator of `mutants/operators.toml` to a copy of the
//! generated headers, runs the checks, and prints a table that ends with
//! `mutants: K/N killed`.  Exit 0 when every mutant that the static checks
//! can kill is killed; 1 on an error; 4 when a mutant survives that is not
//! marked as needing the emulated kernel.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

use vnetgen::error::exit;
use vnetgen::mutants::{self, default_checks, Outcome};
use vnetgen::spec::Spec;

#[derive(Parser)]
#[command(
    name = "vnetgen-mutants",
    about = "Mutation testing of vnetgen's checks"
)]
struct Cli {
    /// Operators to run, by id or id prefix (default: all).
    #[arg(long = "only")]
    only: Vec<String>,
    /// Architectures of the checks (default: all of the spec's).
    #[arg(long = "arch")]
    archs: Vec<String>,
    /// Test modules for the lab.
    #[arg(long, default_value = "tests/kmods")]
    kmods: PathBuf,
    /// Working directory (the lab's build cache is kept there between runs).
    #[arg(long, default_value = "target/vnetgen-mutants")]
    work: PathBuf,
    #[arg(short = 'j', long)]
    jobs: Option<usize>,
    /// List the operators and exit.
    #[arg(long)]
    list: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => ExitCode::from(code as u8),
        Err(e) => {
            eprintln!("vnetgen-mutants: {e}");
            ExitCode::from(exit::ERROR as u8)
        }
    }
}

fn run(cli: Cli) -> Result<i32, Box<dyn std::error::Error>> {
    let spec = Spec::default_spec()?;
    let mut operators = mutants::operators()?;
    if !cli.only.is_empty() {
        operators.retain(|o| cli.only.iter().any(|p| o.id.starts_with(p.as_str())));
        if operators.is_empty() {
            return Err(format!("no operator matches {:?}", cli.only).into());
        }
    }
    if cli.list {
        for o in &operators {
            let class = o.class.map_or("-".to_string(), |c| c.to_string());
            println!("{:<40} {:<3} {:<16} {}", o.id, class, o.file, o.what);
        }
        return Ok(exit::OK);
    }
    let archs = if cli.archs.is_empty() {
        spec.archs.iter().map(|a| a.name.clone()).collect()
    } else {
        cli.archs
    };
    let jobs = cli
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    std::fs::create_dir_all(&cli.work)?;
    let mut checks = default_checks(&spec, &archs, &cli.kmods, &cli.work.join("lab"), jobs)?;
    eprintln!(
        "vnetgen-mutants: {} operators; checks {} on {}",
        operators.len(),
        checks
            .iter()
            .map(|c| c.name().to_string())
            .collect::<Vec<_>>()
            .join(", "),
        archs.join(", ")
    );
    let outcomes = mutants::run(&spec, &cli.work, &mut checks, &operators, |o: &Outcome| {
        eprintln!(
            "  {:<40} {}",
            o.operator.id,
            if o.killed() { "killed" } else { "survived" }
        );
    })?;
    print!("{}", mutants::table(&outcomes));
    let unexplained = outcomes
        .iter()
        .any(|o| !o.killed() && o.operator.needs.is_none());
    Ok(if unexplained {
        exit::CHECK_FAILED
    } else {
        exit::OK
    })
}
