//! Spec errors: each names the file, the line and the column, with a short
//! code that the README's spec reference explains.

use std::fmt;

/// The short codes of spec errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpecErrorCode {
    /// The file is not valid TOML.
    Syntax,
    /// A key the schema does not know.
    UnknownKey,
    /// A value of the wrong type, or a required key missing.
    BadValue,
    /// Two entries with the same name.
    Duplicate,
    /// A name that must be a C identifier is not one.
    BadIdentifier,
    /// A body keyed by a variant that does not exist.
    UnknownVariant,
    /// A reference to a header, group or placeholder that does not exist.
    UnknownReference,
    /// A schema version this vnetgen does not read.
    Schema,
    /// An entry with no body for any variant, or a contradictory one.
    BadBody,
}

impl SpecErrorCode {
    pub fn code(self) -> &'static str {
        match self {
            SpecErrorCode::Syntax => "S001",
            SpecErrorCode::UnknownKey => "S002",
            SpecErrorCode::BadValue => "S003",
            SpecErrorCode::Duplicate => "S004",
            SpecErrorCode::BadIdentifier => "S005",
            SpecErrorCode::UnknownVariant => "S006",
            SpecErrorCode::UnknownReference => "S007",
            SpecErrorCode::Schema => "S008",
            SpecErrorCode::BadBody => "S009",
        }
    }
}

/// An error in a spec, located in its source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecError {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub code: SpecErrorCode,
    pub message: String,
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: error[{}]: {}",
            self.file,
            self.line,
            self.column,
            self.code.code(),
            self.message
        )
    }
}

impl std::error::Error for SpecError {}

/// Turns byte offsets into 1-based lines and columns (in characters).
pub struct Locator<'a> {
    file: &'a str,
    text: &'a str,
}

impl<'a> Locator<'a> {
    pub fn new(file: &'a str, text: &'a str) -> Self {
        Locator { file, text }
    }

    pub fn error(
        &self,
        offset: usize,
        code: SpecErrorCode,
        message: impl Into<String>,
    ) -> SpecError {
        let offset = offset.min(self.text.len());
        let before = self.text.get(..offset).unwrap_or(self.text);
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before[line_start..].chars().count() + 1;
        SpecError {
            file: self.file.to_string(),
            line,
            column,
            code,
            message: message.into(),
        }
    }
}
