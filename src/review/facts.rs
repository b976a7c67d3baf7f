//! Facts about the stock headers of each FreeBSD release, recorded so that
//! CI can hold the generated headers to them without a FreeBSD tree.
//!
//! For each release, header and configuration (architecture, VIMAGE or not,
//! INVARIANTS or not) the facts are the header's own `#include`s in order
//! and a fingerprint of every macro it defines: SHA-256 of the macro's
//! meaning (its parameter count and its replacement tokens with the
//! parameters replaced by their position), so whitespace and parameter
//! names do not count and nothing of FreeBSD's text is kept.
//!
//! A header is read on its own: its `#include` lines become pragmas that the
//! preprocessor passes through, so only its own conditionals decide what it
//! defines, and the result does not depend on an include root.
//! `vnetgen facts extract` writes `facts/<release>/<header>.json` from a
//! tree; [`compare`] tells where the generated compiled-in variants differ.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::gen::stamp::hex_sha256;
use serde::{Deserialize, Serialize};

use super::macros::{parse_dd, preprocess, Configuration, MacroDef, MacroError};
use crate::spec::{Release, Spec};

/// The headers whose facts are recorded, as paths under `sys/`.
pub const HEADERS: [&str; 2] = ["net/vnet.h", "sys/pcpu.h"];
/// The architectures of the recorded configurations.
pub const ARCHS: [&str; 3] = ["amd64", "i386", "aarch64"];
/// The facts schema.
pub const SCHEMA: u32 = 2;

#[derive(Debug, thiserror::Error)]
pub enum FactsError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: not a FreeBSD source tree: {missing} is missing", tree.display())]
    NotATree { tree: PathBuf, missing: String },
    #[error(
        "{}: this tree is __FreeBSD_version {found}, release {release} is {expected} in the spec",
        tree.display()
    )]
    WrongRelease {
        tree: PathBuf,
        release: String,
        expected: u32,
        found: String,
    },
    #[error("{}: {message}", path.display())]
    BadFacts { path: PathBuf, message: String },
    #[error(transparent)]
    Macro(#[from] MacroError),
    #[error("{0}")]
    Usage(String),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> FactsError + '_ {
    move |source| FactsError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// One configuration a header is read in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FactConfig {
    pub arch: &'static str,
    pub vimage: bool,
    pub invariants: bool,
}

impl FactConfig {
    /// Every recorded configuration, in a fixed order.
    pub fn all() -> Vec<FactConfig> {
        let mut out = Vec::new();
        for arch in ARCHS {
            for vimage in [false, true] {
                for invariants in [false, true] {
                    out.push(FactConfig {
                        arch,
                        vimage,
                        invariants,
                    });
                }
            }
        }
        out
    }

    /// E.g. `amd64 vimage invariants`, `i386 novimage`.
    pub fn name(&self) -> String {
        let mut name = format!(
            "{} {}",
            self.arch,
            if self.vimage { "vimage" } else { "novimage" }
        );
        if self.invariants {
            name.push_str(" invariants");
        }
        name
    }

    /// A compiled-in module build: `KLD_MODULE`, and the kernel's options.
    /// `SYSCTL_OID` is defined as `sys/sysctl.h` would, so that the parts
    /// of a header that need it are read too.
    pub fn defines(&self) -> Vec<String> {
        let mut d = vec!["-D_KERNEL".to_string(), "-DKLD_MODULE".to_string()];
        d.push("-DSYSCTL_OID(...)=".to_string());
        if self.vimage {
            d.push("-DVIMAGE".to_string());
        }
        if self.invariants {
            d.push("-DINVARIANTS".to_string());
        }
        d
    }

    /// The preprocessor of this configuration in a build of `release`:
    /// `__FreeBSD_version` as `sys/param.h` defines it, for the parts of a
    /// generated header that serve one release.
    fn preprocessor(
        &self,
        spec: &Spec,
        release: &Release,
        clang: &Path,
    ) -> Result<Configuration, FactsError> {
        let arch = spec
            .arch(self.arch)
            .ok_or_else(|| FactsError::Usage(format!("the spec has no arch `{}`", self.arch)))?;
        let mut args = vec![
            format!("--target={}", arch.triple),
            "-nostdinc".to_string(),
            "-ffreestanding".to_string(),
        ];
        args.extend(self.defines());
        args.push(format!("-D__FreeBSD_version={}", release.freebsd_version));
        Ok(Configuration {
            name: self.name(),
            clang: clang.to_path_buf(),
            args,
        })
    }
}

/// What one header is in one configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigFacts {
    /// The header's own `#include`s, in order.
    pub includes: Vec<String>,
    /// Every macro it defines: `NAME(a, b)` or `NAME`, to its fingerprint.
    pub macros: BTreeMap<String, MacroFact>,
}

/// A macro's head as written and the fingerprint of its meaning.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MacroFact {
    pub head: String,
    pub sha256: String,
}

/// The facts of one header of one release.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeaderFacts {
    pub schema: u32,
    pub release: String,
    /// The reference tree (repository and commit).
    pub tree: String,
    /// Under `sys/`, e.g. `net/vnet.h`.
    pub header: String,
    /// SHA-256 of the stock file: the spec's `known` list must hold it, or
    /// `vendor` refuses the release's own tree.
    pub file_sha256: String,
    /// By configuration name.
    pub configs: BTreeMap<String, ConfigFacts>,
}

/// The fingerprint of a macro's meaning.
pub fn fingerprint(def: &MacroDef) -> String {
    let (arity, tokens) = def.meaning();
    let text = format!(
        "{}\n{}",
        arity.map_or("-".to_string(), |n| n.to_string()),
        tokens.join("\u{1f}")
    );
    hex_sha256(text.as_bytes())
}

/// `text` with every `#include` made a pragma that `-E` passes through.
pub fn neutralise_includes(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let trimmed = line.trim_start();
        let directive = trimmed
            .strip_prefix('#')
            .map(str::trim_start)
            .and_then(|d| d.strip_prefix("include"));
        match directive {
            Some(target) if target.starts_with([' ', '\t', '<', '"']) => {
                let target = target.split("/*").next().unwrap_or("").trim();
                out.push_str("#pragma vnetgen_include ");
                out.push_str(target);
            }
            _ => out.push_str(line),
        }
        out.push('\n');
    }
    out
}

/// Reads `header_text` in one configuration of `release`: its includes and
/// macros.
pub fn read_header(
    header_text: &str,
    config: &FactConfig,
    spec: &Spec,
    release: &Release,
    clang: &Path,
) -> Result<ConfigFacts, FactsError> {
    let dir = tempfile::tempdir().map_err(io(&std::env::temp_dir()))?;
    let path = dir.path().join("header.h");
    std::fs::write(&path, neutralise_includes(header_text)).map_err(io(&path))?;
    let pre = config.preprocessor(spec, release, clang)?;
    let tu = format!("#include \"{}\"\n", path.display());
    let out = preprocess(&pre, &tu).map_err(|source| MacroError::Spawn {
        clang: clang.to_path_buf(),
        source,
    })?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(MacroError::Preprocess {
            header: path.clone(),
            configuration: config.name(),
            stderr: String::from_utf8_lossy(&out.stderr).trim_end().to_string(),
        }
        .into());
    }
    let table = parse_dd(&stdout, &path.display().to_string());
    let includes = stdout
        .lines()
        .filter_map(|l| l.trim().strip_prefix("#pragma vnetgen_include "))
        .map(|t| t.trim().to_string())
        .collect();
    let macros = table
        .macros
        .values()
        .map(|m| {
            (
                m.name.clone(),
                MacroFact {
                    head: m.head(),
                    sha256: fingerprint(m),
                },
            )
        })
        .collect();
    Ok(ConfigFacts { includes, macros })
}

/// Facts of one header text in every configuration.
pub fn header_facts(
    spec: &Spec,
    release: &Release,
    header: &str,
    text: &str,
    clang: &Path,
) -> Result<HeaderFacts, FactsError> {
    Ok(HeaderFacts {
        schema: SCHEMA,
        release: release.name.clone(),
        tree: release.tree.clone(),
        header: header.to_string(),
        file_sha256: hex_sha256(text.as_bytes()),
        configs: read_all(text, spec, release, clang)?,
    })
}

/// The value `sys/param.h` (its text) defines `__FreeBSD_version` to.
pub fn freebsd_version(param_h: &str) -> Option<&str> {
    param_h.lines().find_map(|l| {
        l.trim()
            .strip_prefix("#define")
            .map(str::trim_start)
            .and_then(|r| r.strip_prefix("__FreeBSD_version"))
            .and_then(|r| r.split_whitespace().next())
    })
}

/// Checks that `tree` is a FreeBSD source tree of `release`.
pub fn check_tree(tree: &Path, release: &Release) -> Result<(), FactsError> {
    for needed in [
        "sys/sys/param.h",
        "sys/net/vnet.h",
        "sys/sys/pcpu.h",
        "share/mk",
    ] {
        if !tree.join(needed).exists() {
            return Err(FactsError::NotATree {
                tree: tree.to_path_buf(),
                missing: needed.to_string(),
            });
        }
    }
    let param = tree.join("sys/sys/param.h");
    let text = std::fs::read_to_string(&param).map_err(io(&param))?;
    let found = freebsd_version(&text).unwrap_or("none").to_string();
    if found != release.freebsd_version.to_string() {
        return Err(FactsError::WrongRelease {
            tree: tree.to_path_buf(),
            release: release.name.clone(),
            expected: release.freebsd_version,
            found,
        });
    }
    Ok(())
}

/// The file of one header's facts under the facts directory.
pub fn facts_file(facts_dir: &Path, release: &str, header: &str) -> PathBuf {
    facts_dir
        .join(release)
        .join(format!("{}.json", header.replace('/', "_")))
}

/// Facts of every recorded header of a tree.
pub fn extract(
    spec: &Spec,
    release: &Release,
    tree: &Path,
    clang: &Path,
) -> Result<Vec<HeaderFacts>, FactsError> {
    check_tree(tree, release)?;
    let mut out = Vec::new();
    for header in HEADERS {
        let path = tree.join("sys").join(header);
        let text = std::fs::read_to_string(&path).map_err(io(&path))?;
        out.push(header_facts(spec, release, header, &text, clang)?);
    }
    Ok(out)
}

/// The text a facts file holds: pretty JSON, one trailing newline.
pub fn to_json(facts: &HeaderFacts) -> String {
    let mut text = serde_json::to_string_pretty(facts).unwrap_or_default();
    text.push('\n');
    text
}

/// Reads every facts file under `facts_dir`.
pub fn load_all(facts_dir: &Path) -> Result<Vec<HeaderFacts>, FactsError> {
    let mut out = Vec::new();
    let releases = std::fs::read_dir(facts_dir).map_err(io(facts_dir))?;
    let mut dirs: Vec<PathBuf> = releases
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    for dir in dirs {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .map_err(io(&dir))?
            .filter_map(Result::ok)
            .map(|e| e.path())
            // A header's facts (`net_vnet.h.json`); modules.json is qualify's.
            .filter(|p| p.to_str().is_some_and(|s| s.ends_with(".h.json")))
            .collect();
        files.sort();
        for file in files {
            let text = std::fs::read_to_string(&file).map_err(io(&file))?;
            let facts: HeaderFacts =
                serde_json::from_str(&text).map_err(|e| FactsError::BadFacts {
                    path: file.clone(),
                    message: e.to_string(),
                })?;
            out.push(facts);
        }
    }
    Ok(out)
}

/// How the generated header differs from the stock one in a configuration.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DifferenceKind {
    /// The stock header defines it; the generated one does not.
    Missing,
    /// Both define it, with another meaning (or other parameters).
    Changed,
    /// The includes differ.
    Includes,
    /// The spec's `known` list lacks the stock file's SHA-256 (`name` is
    /// that hash): `vendor` would refuse the release's tree.
    UnknownStock,
    /// The spec's kmod.mk flags for an architecture (`name`) differ from
    /// the recorded ones (`configs`: `cflags` or `ldflags`).
    KmodFlags,
}

/// One difference, for the configurations where it shows.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Difference {
    pub release: String,
    pub header: String,
    /// The macro (`#include` for the includes).
    pub name: String,
    pub kind: DifferenceKind,
    pub configs: Vec<String>,
}

/// What a header text is in every configuration of `release`, by
/// configuration name.
pub fn read_all(
    header_text: &str,
    spec: &Spec,
    release: &Release,
    clang: &Path,
) -> Result<BTreeMap<String, ConfigFacts>, FactsError> {
    FactConfig::all()
        .iter()
        .map(|config| {
            Ok((
                config.name(),
                read_header(header_text, config, spec, release, clang)?,
            ))
        })
        .collect()
}

/// Where the compiled-in variant of a generated header (`generated`, what
/// [`read_all`] read of it) differs from the stock facts.
pub fn compare(stock: &HeaderFacts, generated: &BTreeMap<String, ConfigFacts>) -> Vec<Difference> {
    let mut found: BTreeMap<(String, DifferenceKind), Vec<String>> = BTreeMap::new();
    for config in FactConfig::all() {
        let name = config.name();
        let (Some(stock_config), Some(ours)) = (stock.configs.get(&name), generated.get(&name))
        else {
            continue;
        };
        for (macro_name, fact) in &stock_config.macros {
            let kind = match ours.macros.get(macro_name) {
                None => Some(DifferenceKind::Missing),
                Some(o) if o.sha256 != fact.sha256 => Some(DifferenceKind::Changed),
                Some(_) => None,
            };
            if let Some(kind) = kind {
                found
                    .entry((macro_name.clone(), kind))
                    .or_default()
                    .push(name.clone());
            }
        }
        if ours.includes != stock_config.includes {
            found
                .entry(("#include".to_string(), DifferenceKind::Includes))
                .or_default()
                .push(name.clone());
        }
    }
    found
        .into_iter()
        .map(|((name, kind), configs)| Difference {
            release: stock.release.clone(),
            header: stock.header.clone(),
            name,
            kind,
            configs,
        })
        .collect()
}

/// The difference when the spec's header does not list the stock file's
/// hash among the versions `vendor` may replace.
pub fn unknown_stock(stock: &HeaderFacts, spec: &Spec) -> Option<Difference> {
    let path = format!("sys/{}", stock.header);
    let known = spec
        .headers
        .iter()
        .find(|h| h.path == path)
        .is_some_and(|h| h.known.contains(&stock.file_sha256));
    (!known).then(|| Difference {
        release: stock.release.clone(),
        header: stock.header.clone(),
        name: stock.file_sha256.clone(),
        kind: DifferenceKind::UnknownStock,
        configs: Vec::new(),
    })
}

/// The symbols a kernel image exports to modules: the defined global and
/// weak symbols of its `.dynsym`, which the kernel linker resolves a
/// module's references against; and whether it is a VIMAGE kernel (it
/// defines `vnet0`).
pub fn kernel_symbols(path: &Path) -> Result<(Vec<String>, bool), FactsError> {
    use object::{Object, ObjectSymbol};
    let data = std::fs::read(path).map_err(io(path))?;
    let bad = |message: String| FactsError::BadFacts {
        path: path.to_path_buf(),
        message,
    };
    let file = object::File::parse(&*data).map_err(|e| bad(format!("not an ELF kernel: {e}")))?;
    if file.kind() != object::ObjectKind::Executable && file.kind() != object::ObjectKind::Dynamic {
        return Err(bad("not a kernel image (ET_EXEC or ET_DYN)".to_string()));
    }
    let mut names: Vec<String> = file
        .dynamic_symbols()
        .filter(|s| !s.is_undefined() && (s.is_global() || s.is_weak()))
        .filter_map(|s| s.name().ok().map(str::to_string))
        .filter(|n| !n.is_empty())
        .collect();
    if names.is_empty() {
        return Err(bad("no .dynsym: not a FreeBSD kernel".to_string()));
    }
    names.sort();
    names.dedup();
    let vimage = names.binary_search_by(|n| n.as_str().cmp("vnet0")).is_ok();
    Ok((names, vimage))
}

/// The text of a recorded kernel symbol file.
pub fn kernel_symbols_text(
    release: &str,
    arch: &str,
    vimage: bool,
    support: bool,
    kernel_sha256: &str,
    names: &[String],
) -> String {
    let mut text = format!(
        "# The symbols a FreeBSD {release} {arch} kernel {} VIMAGE exports to modules:\n\
         # the defined symbols of its .dynsym.  Recorded by `vnetgen facts kernel-symbols`\n\
         # from the kernel with sha256 {kernel_sha256}.\n",
        if vimage { "with" } else { "without" }
    );
    if support {
        text.push_str(
            "# The kernel carries vnet_support.c: its tree was vendored with `vnetgen vendor\n\
             # --detect kernel`.\n",
        );
    }
    for n in names {
        text.push_str(n);
        text.push('\n');
    }
    text
}

/// SHA-256 of a file, in hex.
pub fn file_sha256(path: &Path) -> Result<String, FactsError> {
    let data = std::fs::read(path).map_err(io(path))?;
    Ok(hex_sha256(&data))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn includes_become_pragmas_and_nothing_else_changes() {
        let text = "#include <sys/queue.h>\n# include \"x.h\" /* why */\n#define A 1\n#includex\n";
        assert_eq!(
            neutralise_includes(text),
            "#pragma vnetgen_include <sys/queue.h>\n#pragma vnetgen_include \"x.h\"\n#define A 1\n#includex\n"
        );
    }

    #[test]
    fn fingerprints_ignore_whitespace_and_parameter_names() {
        let def = |params: &[&str], body: &str| MacroDef {
            name: "M".to_string(),
            params: Some(params.iter().map(|p| p.to_string()).collect()),
            body: body.to_string(),
            line: 1,
        };
        assert_eq!(
            fingerprint(&def(&["a"], "(a)+1")),
            fingerprint(&def(&["x"], "( x ) + 1"))
        );
        assert_ne!(
            fingerprint(&def(&["a"], "(a)+1")),
            fingerprint(&def(&["a"], "(a)+2"))
        );
        assert_ne!(
            fingerprint(&def(&["a", "b"], "(a)+1")),
            fingerprint(&def(&["a"], "(a)+1"))
        );
    }
}
