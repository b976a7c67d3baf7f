//! What can go wrong reading an object.  Every message starts with the
//! object's name, and names the section and symbol where there is one.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum InspectError {
    #[error("{object}: cannot read {}: {source}", path.display())]
    Read {
        object: String,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// No ELF magic; `detail` says what was found instead.
    #[error("{object}: not an ELF object ({detail})")]
    NotElf { object: String, detail: String },
    /// The file ends before a structure that it declares.
    #[error("{object}: truncated: {what}")]
    Truncated { object: String, what: String },
    /// The ELF header is inconsistent.
    #[error("{object}: bad ELF header: {what}")]
    Header { object: String, what: String },
    #[error("{object}: unsupported machine {machine}")]
    UnsupportedMachine { object: String, machine: String },
    /// Neither `EI_OSABI` nor a note says FreeBSD.
    #[error("{object}: built for {os}, not FreeBSD")]
    NotFreeBsd { object: String, os: String },
    #[error("{object}: section {section}: {what}")]
    Section {
        object: String,
        section: String,
        what: String,
    },
    /// `symbol` is the symbol's name, or `#index` when it has none.
    #[error("{object}: {table} symbol {symbol}: {what}")]
    Symbol {
        object: String,
        table: String,
        symbol: String,
        what: String,
    },
    /// `section` and `offset` locate the patched place (for a dynamic
    /// relocation, `offset` is relative to the section's address); `detail`
    /// names the relocation section, the entry and the symbol table.
    #[error(
        "{object}: symbol index {index} out of range in relocation at {section}+{offset:#x} \
         ({detail})"
    )]
    SymbolIndex {
        object: String,
        index: u32,
        section: String,
        offset: u64,
        detail: String,
    },
}

impl InspectError {
    /// The object the error is about, as it was named to `inspect_*`.
    pub fn object(&self) -> &str {
        match self {
            InspectError::Read { object, .. }
            | InspectError::NotElf { object, .. }
            | InspectError::Truncated { object, .. }
            | InspectError::Header { object, .. }
            | InspectError::UnsupportedMachine { object, .. }
            | InspectError::NotFreeBsd { object, .. }
            | InspectError::Section { object, .. }
            | InspectError::Symbol { object, .. }
            | InspectError::SymbolIndex { object, .. } => object,
        }
    }
}
