//! `vnetgen explain`: what a macro expands to in each variant, through the
//! real preprocessor.
//!
//! For each cell (variant, and the kernel a kld-tied build follows) clang
//! runs `-E -dD` on a small translation unit that includes the generated
//! `sys/pcpu.h` and `net/vnet.h` with the cell's `vnetgen cflags`, and
//! expands the macro between two marker lines.  The same run gives the
//! `#define` that the preprocessor used and its line, and so the branch of
//! the header's variant selection it sits in.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::build::cflags::Target;
use crate::build::toolchain::Toolchain;
use crate::gen::render::render;
use crate::review::macros::{parse_dd, Configuration, MacroDef};
use crate::spec::variant::{BodyVariant, KernelConfig, Variant};
use crate::spec::{ItemKind, Spec};

#[derive(Debug, thiserror::Error)]
pub enum ExplainError {
    /// The macro is not one of the spec's; `suggestions` are the closest.
    #[error("unknown macro `{name}`{}", suggest(suggestions))]
    UnknownMacro {
        name: String,
        suggestions: Vec<String>,
    },
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    Setup(String),
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the preprocessor failed ({cell}):\n{stderr}")]
    Preprocess { cell: String, stderr: String },
}

fn suggest(names: &[String]) -> String {
    match names {
        [] => String::new(),
        [one] => format!("; did you mean {one}?"),
        _ => format!("; did you mean one of {}?", names.join(", ")),
    }
}

/// The spec's macros: name, parameters and header.
pub fn spec_macros(spec: &Spec) -> Vec<(String, Option<Vec<String>>, String)> {
    let mut out = Vec::new();
    for f in &spec.families {
        for item in &f.items {
            if let ItemKind::Macro { params, .. } = &item.kind {
                out.push((item.name.clone(), params.clone(), f.header.clone()));
            }
        }
    }
    out.sort();
    out.dedup_by(|a, b| a.0 == b.0);
    out
}

/// The closest names to `name`: the same name in another case if there is
/// one, else the best by Jaro-Winkler or Levenshtein similarity
/// (case-insensitive) above a threshold.
pub fn closest<'a>(name: &str, known: impl Iterator<Item = &'a str> + Clone) -> Vec<String> {
    let wanted = name.to_ascii_uppercase();
    let same: Vec<String> = known
        .clone()
        .filter(|k| k.to_ascii_uppercase() == wanted)
        .map(str::to_string)
        .collect();
    if !same.is_empty() {
        return same;
    }
    let mut scored: Vec<(f64, &str)> = known
        .map(|k| {
            let upper = k.to_ascii_uppercase();
            let score = strsim::jaro_winkler(&wanted, &upper)
                .max(strsim::normalized_levenshtein(&wanted, &upper));
            (score, k)
        })
        .filter(|(s, _)| *s >= 0.8)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
    scored
        .into_iter()
        .take(4)
        .map(|(_, k)| k.to_string())
        .collect()
}

#[derive(Debug, Clone)]
pub struct ExplainRequest {
    pub name: String,
    pub args: Vec<String>,
    pub variants: Vec<Variant>,
    /// Kernels for kld-tied builds.
    pub kernels: Vec<KernelConfig>,
    pub arch: String,
    pub sysroot: PathBuf,
}

/// One cell's answer.
#[derive(Debug, Clone, Serialize)]
pub struct CellExpansion {
    pub variant: Variant,
    pub kernel: Option<KernelConfig>,
    pub defines: Vec<String>,
    /// "runtime", "vimage" or "novimage": the header's branch.
    pub selected: &'static str,
    /// Why the header selected it.
    pub why: String,
    /// The `#define` the preprocessor used, with its header and line.
    pub definition: Option<MacroDef>,
    pub header: String,
    /// The `#if`/`#elif`/`#else` of the selection whose branch holds the
    /// definition, with its line; None when it is outside the selection.
    pub branch: Option<(u32, String)>,
    pub expansion: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Explanation {
    pub invocation: String,
    pub arch: String,
    pub cells: Vec<CellExpansion>,
}

const BEGIN: &str = "__vnetgen_explain_begin__";
const END: &str = "__vnetgen_explain_end__";

/// Expands the macro in every cell asked for.
pub fn explain(spec: &Spec, request: &ExplainRequest) -> Result<Explanation, ExplainError> {
    use rayon::prelude::*;
    let macros = spec_macros(spec);
    let Some((name, params, header)) = macros.iter().find(|m| m.0 == request.name) else {
        return Err(ExplainError::UnknownMacro {
            name: request.name.clone(),
            suggestions: closest(&request.name, macros.iter().map(|m| m.0.as_str())),
        });
    };
    let invocation = invocation(name, params.as_deref(), &request.args)?;
    let Some(arch) = spec.arch(&request.arch) else {
        let names: Vec<&str> = spec.archs.iter().map(|a| a.name.as_str()).collect();
        return Err(ExplainError::Usage(format!(
            "unknown arch `{}`; known: {}",
            request.arch,
            names.join(", ")
        )));
    };
    let toolchain = Toolchain::locate().map_err(|e| ExplainError::Setup(e.to_string()))?;
    let dir = tempfile::tempdir().map_err(|source| ExplainError::Io {
        path: std::env::temp_dir(),
        source,
    })?;
    let files = render(spec).map_err(|e| ExplainError::Setup(e.to_string()))?;
    crate::gen::output::write_outputs(dir.path(), &files, true)
        .map_err(|e| ExplainError::Setup(e.to_string()))?;
    let generated = std::path::absolute(dir.path()).map_err(|source| ExplainError::Io {
        path: dir.path().to_path_buf(),
        source,
    })?;
    let header_path = generated.join(header);
    let header_text = std::fs::read_to_string(&header_path).map_err(|source| ExplainError::Io {
        path: header_path.clone(),
        source,
    })?;
    let selection = selection_lines(&header_text);
    let include_name = header.strip_prefix("sys/").unwrap_or(header).to_string();
    let cells = crate::review::diff::cells(&request.variants, &request.kernels);
    let results: Vec<Result<CellExpansion, ExplainError>> = cells
        .par_iter()
        .map(|&(variant, kernel)| {
            let target = Target {
                variant,
                kernel,
                arch,
                release: None,
            };
            let config = Configuration::cell(
                spec,
                &target,
                &toolchain.clang,
                &generated,
                &request.sysroot,
            );
            let (definition, expansion) = expand(&config, &generated, &header_path, &invocation)?;
            let body = variant.body_variant(kernel);
            let branch = definition.as_ref().and_then(|d| {
                selection
                    .iter()
                    .rev()
                    .find(|(start, end, _)| *start < d.line && d.line < *end)
                    .map(|(start, _, text)| (*start, text.clone()))
            });
            Ok(CellExpansion {
                variant,
                kernel: (variant == Variant::KldTied).then_some(kernel),
                defines: config.defines(),
                selected: body_name(body),
                why: why(body, spec),
                definition,
                header: include_name.clone(),
                branch,
                expansion,
            })
        })
        .collect();
    let mut out = Vec::new();
    for r in results {
        out.push(r?);
    }
    Ok(Explanation {
        invocation,
        arch: arch.name.clone(),
        cells: out,
    })
}

/// `NAME`, or `NAME(args)`; without arguments a function-like macro is
/// shown with its parameter names.
fn invocation(
    name: &str,
    params: Option<&[String]>,
    args: &[String],
) -> Result<String, ExplainError> {
    match params {
        None if args.is_empty() => Ok(name.to_string()),
        None => Err(ExplainError::Usage(format!(
            "{name} is an object-like macro: it takes no arguments, {} given",
            args.len()
        ))),
        Some(params) => {
            let variadic = params.last().is_some_and(|p| p.ends_with("..."));
            let fixed = params.len() - usize::from(variadic);
            let args: Vec<String> = if args.is_empty() {
                params
                    .iter()
                    .map(|p| p.trim_end_matches("...").to_string())
                    .map(|p| {
                        if p.is_empty() {
                            "__VA_ARGS__".to_string()
                        } else {
                            p
                        }
                    })
                    .collect()
            } else if args.len() == params.len() || (variadic && args.len() >= fixed) {
                args.to_vec()
            } else {
                return Err(ExplainError::Usage(format!(
                    "{name}({}) takes {} argument{}, {} given",
                    params.join(", "),
                    params.len(),
                    if params.len() == 1 { "" } else { "s" },
                    args.len()
                )));
            };
            Ok(format!("{name}({})", args.join(", ")))
        }
    }
}

fn body_name(body: BodyVariant) -> &'static str {
    match body {
        BodyVariant::Runtime => "runtime",
        BodyVariant::Vimage => "vimage",
        BodyVariant::Novimage => "novimage",
    }
}

/// The header's rule, applied to one variant's defines.
fn why(body: BodyVariant, spec: &Spec) -> String {
    match body {
        BodyVariant::Runtime => format!(
            "VIMAGE_RUNTIME is defined, so the run-time variant (rule 1: it wins over VIMAGE); \
             detection: {}",
            spec.detect.name()
        ),
        BodyVariant::Vimage => {
            "VIMAGE is defined and VIMAGE_RUNTIME is not, so VIMAGE compiled in (rule 2)"
                .to_string()
        }
        BodyVariant::Novimage => {
            "neither VIMAGE_RUNTIME nor VIMAGE is defined, so no VIMAGE (rule 3)".to_string()
        }
    }
}

/// The branches of the header's variant selection: (first line, last line,
/// directive), for the chain that starts at `#if defined(VIMAGE_RUNTIME)`
/// or `#ifdef VIMAGE`.
fn selection_lines(header: &str) -> Vec<(u32, u32, String)> {
    let mut branches: Vec<(u32, u32, String)> = Vec::new();
    let mut depth = 0usize;
    let mut in_chain = false;
    for (i, line) in header.lines().enumerate() {
        let n = i as u32 + 1;
        let t = line.trim_start();
        let directive = t.strip_prefix('#').map(str::trim_start).unwrap_or("");
        let word = directive.split_whitespace().next().unwrap_or("");
        if !in_chain {
            if word.starts_with("if") {
                let starts = matches!(
                    directive,
                    "if defined(VIMAGE_RUNTIME)" | "ifdef VIMAGE" | "if defined(VIMAGE)"
                );
                if starts {
                    in_chain = true;
                    depth = 0;
                    branches.push((n, u32::MAX, t.to_string()));
                }
            }
            continue;
        }
        match word {
            w if w.starts_with("if") => depth += 1,
            "endif" if depth > 0 => depth -= 1,
            "endif" => {
                if let Some(last) = branches.last_mut() {
                    last.1 = n;
                }
                in_chain = false;
            }
            "elif" | "else" if depth == 0 => {
                if let Some(last) = branches.last_mut() {
                    last.1 = n;
                }
                branches.push((n, u32::MAX, t.to_string()));
            }
            _ => {}
        }
    }
    branches
}

/// Runs the preprocessor on the unit; returns the definition and the
/// expansion.
fn expand(
    config: &Configuration,
    generated: &Path,
    header: &Path,
    invocation: &str,
) -> Result<(Option<MacroDef>, String), ExplainError> {
    let pcpu = generated.join("sys/sys/pcpu.h");
    let mut tu = String::new();
    for h in [pcpu.as_path(), header] {
        let _ = writeln!(tu, "#include \"{}\"", h.display());
    }
    let _ = writeln!(tu, "{BEGIN}\n{invocation}\n{END}");
    let out =
        crate::review::macros::preprocess(config, &tu).map_err(|source| ExplainError::Io {
            path: config.clang.clone(),
            source,
        })?;
    if !out.status.success() {
        return Err(ExplainError::Preprocess {
            cell: config.name.clone(),
            stderr: String::from_utf8_lossy(&out.stderr).trim_end().to_string(),
        });
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let table = parse_dd(&stdout, &header.display().to_string());
    let pcpu_table = parse_dd(&stdout, &pcpu.display().to_string());
    let name = invocation.split('(').next().unwrap_or(invocation);
    let definition = table.get(name).or_else(|| pcpu_table.get(name)).cloned();
    let mut inside = false;
    let mut lines = Vec::new();
    for line in stdout.lines() {
        match line.trim() {
            BEGIN => inside = true,
            END => inside = false,
            l if inside && !l.starts_with("# ") => lines.push(l.to_string()),
            _ => {}
        }
    }
    Ok((
        definition,
        crate::review::macros::collapse_whitespace(&lines.join(" ")),
    ))
}

/// Breaks a long expansion after `;`, `{` and `}` outside parentheses, with
/// a tab of indentation per brace.
pub fn layout(expansion: &str) -> String {
    if expansion.len() <= 72 {
        return expansion.to_string();
    }
    let mut out = String::new();
    let mut parens = 0usize;
    let mut braces = 0usize;
    let mut line = String::new();
    let flush = |line: &mut String, braces: usize, out: &mut String| {
        let t = line.trim();
        if !t.is_empty() {
            out.push_str(&"\t".repeat(braces));
            out.push_str(t);
            out.push('\n');
        }
        line.clear();
    };
    for c in expansion.chars() {
        match c {
            '(' => {
                parens += 1;
                line.push(c);
            }
            ')' => {
                parens = parens.saturating_sub(1);
                line.push(c);
            }
            '{' if parens == 0 => {
                line.push(c);
                flush(&mut line, braces, &mut out);
                braces += 1;
            }
            '}' if parens == 0 => {
                flush(&mut line, braces, &mut out);
                braces = braces.saturating_sub(1);
                line.push(c);
            }
            ';' if parens == 0 => {
                line.push(c);
                flush(&mut line, braces, &mut out);
            }
            _ => line.push(c),
        }
    }
    flush(&mut line, braces, &mut out);
    out.trim_end().to_string()
}

/// The explanation as text: one block per cell; a cell whose expansion is
/// the same as an earlier one's says so.
pub fn text(e: &Explanation) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{} on {}", e.invocation, e.arch);
    let mut seen: Vec<(String, String)> = Vec::new();
    for c in &e.cells {
        let name = crate::review::macros::cell_name(
            c.variant,
            c.kernel.unwrap_or(KernelConfig::Vimage),
            &e.arch,
        );
        let _ = writeln!(out, "\n== {name}");
        let _ = writeln!(out, "defines:  {}", c.defines.join(" "));
        let _ = writeln!(out, "selected: {}: {}", c.selected, c.why);
        match &c.definition {
            Some(d) => {
                let place = match &c.branch {
                    Some((line, directive)) => {
                        format!("in the `{directive}` branch at line {line}")
                    }
                    None => "outside the variant selection: the same in every variant".to_string(),
                };
                let _ = writeln!(out, "defined:  {}:{}, {place}", c.header, d.line);
                let _ = writeln!(out, "#define\t{}\t{}", d.head(), d.body);
            }
            None => {
                let _ = writeln!(out, "defined:  not defined in this variant");
            }
        }
        match seen.iter().find(|(_, x)| *x == c.expansion) {
            Some((other, _)) => {
                let _ = writeln!(out, "expands to the same as {other}");
            }
            None => {
                let _ = writeln!(out, "expands to:");
                for l in layout(&c.expansion).lines() {
                    let _ = writeln!(out, "\t{l}");
                }
                seen.push((name, c.expansion.clone()));
            }
        }
    }
    out
}
