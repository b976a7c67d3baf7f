//! `vnetgen diff`: the macros of a reference header against the generated
//! one.

use std::path::PathBuf;

use vnetgen::error::exit;
use vnetgen::gen::output::OutputError;
use vnetgen::review::diff;
use vnetgen::Error;

use super::{
    absolute, kernels_or_both, load, sysroot_path, variants_or_all, CellArgs, ReportFormat,
};

#[derive(clap::Args)]
pub struct DiffArgs {
    /// The reference header, e.g. FreeBSD's sys/net/vnet.h.
    pub reference: PathBuf,
    /// The header to compare with (default: the generated header of the
    /// same file name, rendered from the spec).
    #[arg(long)]
    pub against: Option<PathBuf>,
    #[command(flatten)]
    pub cells: CellArgs,
}

pub fn run(args: DiffArgs) -> Result<i32, Error> {
    let cells = args.cells;
    let loaded = load(cells.spec.as_deref())?;
    // The generated tree, rendered from the spec: the new header's own
    // includes resolve there.
    let tree = tempfile::tempdir().map_err(|source| {
        Error::Output(OutputError::Io {
            path: std::env::temp_dir(),
            source,
        })
    })?;
    let files = vnetgen::gen::render::render(&loaded)?;
    vnetgen::gen::output::write_outputs(tree.path(), &files, true)?;
    let generated = match args.against {
        Some(path) => path,
        None => match diff::matching_header(&loaded, &args.reference) {
            Some(header) => tree.path().join(header),
            None => {
                let names: Vec<&str> = loaded.headers.iter().map(|h| h.path.as_str()).collect();
                return Err(Error::Usage(format!(
                    "{}: no generated header of that file name ({}); name one with --against",
                    args.reference.display(),
                    names.join(", ")
                )));
            }
        },
    };
    let request = diff::DiffRequest {
        reference: args.reference,
        generated,
        variants: variants_or_all(cells.variants),
        kernels: kernels_or_both(cells.kernel),
        arch: cells.arch,
        generated_tree: absolute(tree.path()),
        sysroot: sysroot_path(&cells.sysroot),
    };
    let report = diff::diff(&loaded, &request)?;
    match cells.format {
        ReportFormat::Text => print!("{}", diff::text(&report)),
        ReportFormat::Json => print!("{}", diff::json(&report)),
    }
    Ok(if report.differs() {
        exit::DIFFERS
    } else {
        exit::OK
    })
}
