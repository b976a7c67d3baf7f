//! The macro table of a header, through the real preprocessor, and a
//! comparison of two tables that tells renames from functional changes.
//!
//! A header's table is every macro that the header itself defines for one
//! configuration (a target and a set of defines): clang runs `-E -dD` on a
//! translation unit that includes only the header, and a `#define` counts
//! when the line markers put it in that file.  Macros of the headers it
//! includes, of the command line and built-ins are left out, whatever the
//! include order; a macro the header `#undef`s is gone, and a redefinition
//! replaces the earlier one, as in the preprocessor.
//!
//! Bodies are compared as preprocessing tokens, so whitespace never counts,
//! and with the parameters renamed by position (`VNET(n)` and `VNET(x)` with
//! the same body in terms of their parameter are the same macro): two tables
//! whose [`MacroDiff`] is empty give every use of every macro the same
//! expansion.  `vnetgen diff` prints the diff; `vnetgen explain` uses the
//! table for where a macro is defined.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Serialize;

use crate::build::cflags::{self, Target};
use crate::spec::variant::{KernelConfig, Variant};
use crate::spec::Spec;

#[derive(Debug, thiserror::Error)]
pub enum MacroError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("running {}: {source}", clang.display())]
    Spawn {
        clang: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The preprocessor failed (a missing include, an `#error`, ...).
    #[error("{}: the preprocessor failed ({configuration}):\n{stderr}", header.display())]
    Preprocess {
        header: PathBuf,
        configuration: String,
        stderr: String,
    },
}

/// What to preprocess with: the compiler and its arguments (target, include
/// path, defines), and a name for messages and reports.
#[derive(Debug, Clone)]
pub struct Configuration {
    /// E.g. "kld-tied, vimage kernel, amd64".
    pub name: String,
    pub clang: PathBuf,
    pub args: Vec<String>,
}

impl Configuration {
    /// The configuration of one cell: the arguments of `vnetgen cflags`.
    pub fn cell(
        spec: &Spec,
        target: &Target<'_>,
        clang: &Path,
        generated: &Path,
        sysroot: &Path,
    ) -> Configuration {
        let mut args = cflags::cflags(spec, target, generated, sysroot, false);
        // A tied build in a FreeBSD tree reads the kernel build's offset.inc,
        // which only a kernel build makes; reading macros needs none of it,
        // so skip it as kmod.mk's own genoffset.c build does.
        if cflags::is_freebsd_sys(sysroot) && args.iter().any(|a| a == "-DKLD_TIED") {
            args.push("-DGENOFFSET".to_string());
        }
        Configuration {
            name: cell_name(target.variant, target.kernel, &target.arch.name),
            clang: clang.to_path_buf(),
            args,
        }
    }

    /// The `-D` arguments alone, for reports.
    pub fn defines(&self) -> Vec<String> {
        self.args
            .iter()
            .filter(|a| a.starts_with("-D"))
            .cloned()
            .collect()
    }
}

/// "kld-tied, vimage kernel, amd64"; the kernel is named for kld-tied only,
/// the one variant that follows it.
pub fn cell_name(variant: Variant, kernel: KernelConfig, arch: &str) -> String {
    if variant == Variant::KldTied {
        format!("{variant}, built for a {kernel} kernel, {arch}")
    } else {
        format!("{variant}, {arch}")
    }
}

/// One `#define`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MacroDef {
    pub name: String,
    /// `None` for an object-like macro.
    pub params: Option<Vec<String>>,
    /// The replacement list as the preprocessor prints it, whitespace
    /// collapsed.
    pub body: String,
    /// The line of the `#define` in the header.
    pub line: u32,
}

impl MacroDef {
    /// `NAME` or `NAME(a, b)`.
    pub fn head(&self) -> String {
        match &self.params {
            None => self.name.clone(),
            Some(p) => format!("{}({})", self.name, p.join(", ")),
        }
    }

    /// The body as tokens, parameters replaced by their position: what the
    /// macro means, independent of whitespace and parameter names.
    pub fn meaning(&self) -> (Option<usize>, Vec<String>) {
        let params = self.params.as_deref().unwrap_or(&[]);
        let tokens = tokenize(&self.body)
            .into_iter()
            .map(|t| match params.iter().position(|p| *p == t) {
                Some(i) => format!("${i}"),
                None if t == "__VA_ARGS__" && params.last().is_some_and(|p| p == "...") => {
                    format!("${}", params.len() - 1)
                }
                None => t,
            })
            .collect();
        (self.params.as_ref().map(Vec::len), tokens)
    }
}

/// Every macro a header defines in one configuration, by name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MacroTable {
    pub macros: BTreeMap<String, MacroDef>,
}

impl MacroTable {
    pub fn get(&self, name: &str) -> Option<&MacroDef> {
        self.macros.get(name)
    }

    pub fn len(&self) -> usize {
        self.macros.len()
    }

    pub fn is_empty(&self) -> bool {
        self.macros.is_empty()
    }
}

/// Runs `clang -E -dD` with a configuration's arguments on a translation
/// unit given on standard input: the macros defined, with line markers.
pub fn preprocess(config: &Configuration, tu: &str) -> std::io::Result<std::process::Output> {
    let mut child = Command::new(&config.clang)
        .args(&config.args)
        .args(["-E", "-dD", "-x", "c", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()?;
    if let Some(mut stdin) = child.stdin.take() {
        use std::io::Write;
        stdin.write_all(tu.as_bytes())?;
    }
    child.wait_with_output()
}

/// Runs the preprocessor on a translation unit that includes
/// `<sys/param.h>` and `header`, and returns the macros defined in `header`
/// itself.
pub fn macro_table(header: &Path, config: &Configuration) -> Result<MacroTable, MacroError> {
    let absolute = std::path::absolute(header).map_err(|source| MacroError::Io {
        path: header.to_path_buf(),
        source,
    })?;
    if !absolute.is_file() {
        return Err(MacroError::Io {
            path: header.to_path_buf(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"),
        });
    }
    let spelled = c_string(&absolute.display().to_string());
    // After <sys/param.h>, as every FreeBSD source includes the headers:
    // its __FreeBSD_version picks the release's forms.
    let tu = format!("#include <sys/param.h>\n#include \"{spelled}\"\n");
    let out = preprocess(config, &tu).map_err(|source| MacroError::Spawn {
        clang: config.clang.clone(),
        source,
    })?;
    if !out.status.success() {
        return Err(MacroError::Preprocess {
            header: header.to_path_buf(),
            configuration: config.name.clone(),
            stderr: String::from_utf8_lossy(&out.stderr).trim_end().to_string(),
        });
    }
    Ok(parse_dd(
        &String::from_utf8_lossy(&out.stdout),
        &absolute.display().to_string(),
    ))
}

/// A path as a C string literal's contents.
fn c_string(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

/// Undoes [`c_string`] on a line marker's file name.
fn c_unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(n) = chars.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// A line marker, `# LINE "FILE" FLAGS...`: the line and the file.
fn line_marker(line: &str) -> Option<(u32, String)> {
    let rest = line.strip_prefix("# ")?;
    let (number, rest) = rest.split_once(' ')?;
    let number: u32 = number.parse().ok()?;
    let rest = rest.strip_prefix('"')?;
    // The file name ends at the last quote (flags follow it).
    let end = rest.rfind('"')?;
    Some((number, c_unescape(&rest[..end])))
}

/// The `#define`s and `#undef`s of `-E -dD` output that line markers place
/// in `file`.
pub fn parse_dd(output: &str, file: &str) -> MacroTable {
    let mut table = MacroTable::default();
    let mut current = String::new();
    let mut line_no: u32 = 0;
    for line in output.lines() {
        if let Some((number, name)) = line_marker(line) {
            current = name;
            line_no = number;
            continue;
        }
        let here = current == file;
        if here {
            if let Some(def) = line.strip_prefix("#define ") {
                if let Some(m) = parse_define(def, line_no) {
                    table.macros.insert(m.name.clone(), m);
                }
            } else if let Some(name) = line.strip_prefix("#undef ") {
                table.macros.remove(name.trim());
            }
        }
        line_no = line_no.saturating_add(1);
    }
    table
}

/// `NAME body` or `NAME(a, b) body`, as `-dD` prints it.
fn parse_define(text: &str, line: u32) -> Option<MacroDef> {
    let name_end = text
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(text.len());
    let name = &text[..name_end];
    if name.is_empty() {
        return None;
    }
    let rest = &text[name_end..];
    let (params, body) = if let Some(after) = rest.strip_prefix('(') {
        let close = after.find(')')?;
        let params: Vec<String> = after[..close]
            .split(',')
            .map(|p| p.trim().to_string())
            .filter(|p| !p.is_empty())
            .collect();
        (Some(params), &after[close + 1..])
    } else {
        (None, rest)
    };
    Some(MacroDef {
        name: name.to_string(),
        params,
        body: collapse_whitespace(body),
        line,
    })
}

/// Runs of white space as one space, none at either end.
pub fn collapse_whitespace(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The preprocessing tokens of a replacement list (C11 6.4), enough to
/// compare bodies: identifiers, pp-numbers, character and string literals,
/// punctuators (longest match) and any other single character.
pub fn tokenize(body: &str) -> Vec<String> {
    const PUNCT3: [&str; 4] = ["...", "<<=", ">>=", "%:%"];
    const PUNCT2: [&str; 19] = [
        "->", "++", "--", "<<", ">>", "<=", ">=", "==", "!=", "&&", "||", "*=", "/=", "%=", "+=",
        "-=", "&=", "^=", "|=",
    ];
    let chars: Vec<char> = body.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        if c.is_ascii_alphabetic() || c == '_' {
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            // An encoding prefix of a literal (L"", u8'') stays with it.
            if i < chars.len() && (chars[i] == '"' || chars[i] == '\'') {
                i = literal_end(&chars, i);
            }
        } else if c.is_ascii_digit()
            || (c == '.' && chars.get(i + 1).is_some_and(|d| d.is_ascii_digit()))
        {
            i += 1;
            while i < chars.len() {
                let d = chars[i];
                let sign = matches!(d, '+' | '-') && matches!(chars[i - 1], 'e' | 'E' | 'p' | 'P');
                if !(sign || d.is_ascii_alphanumeric() || d == '_' || d == '.') {
                    break;
                }
                i += 1;
            }
        } else if c == '"' || c == '\'' {
            i = literal_end(&chars, i);
        } else {
            let rest: String = chars[i..chars.len().min(i + 3)].iter().collect();
            let len = if PUNCT3.iter().any(|p| rest.starts_with(p)) {
                3
            } else if rest.starts_with("##") || PUNCT2.iter().any(|p| rest.starts_with(p)) {
                2
            } else {
                1
            };
            i += len;
        }
        tokens.push(chars[start..i].iter().collect());
    }
    tokens
}

/// The index after the literal that opens at `i` (a quote).
fn literal_end(chars: &[char], mut i: usize) -> usize {
    let quote = chars[i];
    i += 1;
    while i < chars.len() {
        match chars[i] {
            '\\' => i += 2,
            c if c == quote => return i + 1,
            _ => i += 1,
        }
    }
    chars.len()
}

/// A macro whose meaning differs between the tables.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Changed {
    pub name: String,
    pub old: MacroDef,
    pub new: MacroDef,
}

/// A macro that the new table has under another name, with the same meaning.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Renamed {
    pub from: String,
    pub to: String,
    pub old: MacroDef,
    pub new: MacroDef,
}

/// How a new table differs from an old one.  Whitespace and parameter names
/// never make a difference.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MacroDiff {
    pub added: Vec<MacroDef>,
    pub removed: Vec<MacroDef>,
    pub changed: Vec<Changed>,
    pub renamed: Vec<Renamed>,
    /// Macros with the same name and meaning in both.
    pub unchanged: usize,
}

impl MacroDiff {
    /// True when the two tables give every macro the same meaning.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty()
            && self.removed.is_empty()
            && self.changed.is_empty()
            && self.renamed.is_empty()
    }
}

/// Compares two tables.  A removed and an added macro are a rename when they
/// mean the same and neither meaning is shared with another candidate (an
/// empty body, say, is no evidence of a rename when several macros have one).
pub fn compare(old: &MacroTable, new: &MacroTable) -> MacroDiff {
    let mut diff = MacroDiff::default();
    let mut removed = Vec::new();
    let mut added = Vec::new();
    for (name, o) in &old.macros {
        match new.macros.get(name) {
            Some(n) if n.meaning() == o.meaning() => diff.unchanged += 1,
            Some(n) => diff.changed.push(Changed {
                name: name.clone(),
                old: o.clone(),
                new: n.clone(),
            }),
            None => removed.push(o),
        }
    }
    for (name, n) in &new.macros {
        if !old.macros.contains_key(name) {
            added.push(n);
        }
    }
    let count = |list: &[&MacroDef]| {
        let mut counts: BTreeMap<(Option<usize>, Vec<String>), usize> = BTreeMap::new();
        for m in list {
            *counts.entry(m.meaning()).or_default() += 1;
        }
        counts
    };
    let removed_meanings = count(&removed);
    let added_meanings = count(&added);
    let mut renamed_to: BTreeSet<&str> = BTreeSet::new();
    for o in &removed {
        let meaning = o.meaning();
        let unique = removed_meanings.get(&meaning) == Some(&1)
            && added_meanings.get(&meaning) == Some(&1)
            && !meaning.1.is_empty();
        let partner = added.iter().find(|n| n.meaning() == meaning);
        match partner {
            Some(n) if unique => {
                renamed_to.insert(n.name.as_str());
                diff.renamed.push(Renamed {
                    from: o.name.clone(),
                    to: n.name.clone(),
                    old: (*o).clone(),
                    new: (*n).clone(),
                });
            }
            _ => diff.removed.push((*o).clone()),
        }
    }
    diff.added = added
        .into_iter()
        .filter(|n| !renamed_to.contains(n.name.as_str()))
        .cloned()
        .collect();
    diff
}

#[cfg(test)]
mod tests {
    use super::*;

    fn def(text: &str) -> MacroDef {
        parse_define(text, 1).expect("a define")
    }

    #[test]
    fn tokens_ignore_whitespace_and_keep_punctuators_whole() {
        assert_eq!(
            tokenize("a->b  +=c ## d ... 0x1e+5 \"x y\" L'c'"),
            vec!["a", "->", "b", "+=", "c", "##", "d", "...", "0x1e+5", "\"x y\"", "L'c'"]
        );
        assert_eq!(tokenize("(x)+1"), tokenize("( x ) + 1"));
    }

    #[test]
    fn meaning_ignores_parameter_names() {
        assert_eq!(
            def("VNET(n) (*VNET_PTR(n))").meaning(),
            def("VNET(x) (* VNET_PTR( x ))").meaning()
        );
        assert_ne!(
            def("VNET(n) (*VNET_PTR(n))").meaning(),
            def("VNET(n, m) (*VNET_PTR(n))").meaning()
        );
        assert_ne!(def("A 1").meaning(), def("A() 1").meaning());
    }

    #[test]
    fn line_markers_attribute_defines_to_their_file() {
        let out = "# 1 \"<built-in>\" 1\n#define __x86_64__ 1\n# 1 \"/h.h\" 1\n\n#define A 1\n\
                   # 1 \"/other.h\" 1\n#define B 2\n# 4 \"/h.h\" 2\n#define C(x) (x)\n#undef A\n";
        let t = parse_dd(out, "/h.h");
        let names: Vec<&str> = t.macros.keys().map(String::as_str).collect();
        assert_eq!(names, ["C"]);
        assert_eq!(t.get("C").map(|m| m.line), Some(4));
    }

    #[test]
    fn compare_sorts_into_added_removed_changed_and_renamed() {
        let table = |defs: &[&str]| MacroTable {
            macros: defs
                .iter()
                .map(|d| {
                    let m = def(d);
                    (m.name.clone(), m)
                })
                .collect(),
        };
        let old = table(&["A 1", "B(x) f(x)", "C 3", "E", "F", "G  2 +  2"]);
        let new = table(&["A 1", "B2(y) f( y )", "C 4", "D 5", "E2", "G 2+2"]);
        let d = compare(&old, &new);
        assert_eq!(d.unchanged, 2);
        assert_eq!(d.renamed.len(), 1);
        assert_eq!(
            (d.renamed[0].from.as_str(), d.renamed[0].to.as_str()),
            ("B", "B2")
        );
        assert_eq!(d.changed.len(), 1);
        assert_eq!(d.changed[0].name, "C");
        // Empty bodies are not matched as renames.
        let removed: Vec<&str> = d.removed.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(removed, ["E", "F"]);
        let added: Vec<&str> = d.added.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(added, ["D", "E2"]);
    }
}
