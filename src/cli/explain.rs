//! `vnetgen explain`: what a macro expands to in each variant, through the
//! preprocessor.

use vnetgen::error::exit;
use vnetgen::review::explain;
use vnetgen::Error;

use super::{kernels_or_both, load, sysroot_path, variants_or_all, CellArgs, ReportFormat};

#[derive(clap::Args)]
pub struct ExplainArgs {
    /// The macro's name.
    pub name: String,
    /// Its arguments (default: its parameter names).
    pub args: Vec<String>,
    #[command(flatten)]
    pub cells: CellArgs,
}

pub fn run(args: ExplainArgs) -> Result<i32, Error> {
    let cells = args.cells;
    let loaded = load(cells.spec.as_deref())?;
    let request = explain::ExplainRequest {
        name: args.name,
        args: args.args,
        variants: variants_or_all(cells.variants),
        kernels: kernels_or_both(cells.kernel),
        arch: cells.arch,
        sysroot: sysroot_path(&cells.sysroot),
    };
    let explanation = explain::explain(&loaded, &request)?;
    match cells.format {
        ReportFormat::Text => print!("{}", explain::text(&explanation)),
        ReportFormat::Json => println!(
            "{}",
            serde_json::to_string_pretty(&explanation).unwrap_or_default()
        ),
    }
    Ok(exit::OK)
}
