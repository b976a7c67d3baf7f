//! Mutation testing of the checks: a check that cannot fail proves nothing.
//!
//! The operators ([`operators`], data in `mutants/operators.toml`) each make
//! one defect in a copy of the generated headers.  For each mutant the
//! [`Check`]s run in order until one fails: the mutant is then killed.  The
//! built-in checks ([`default_checks`]) compile the headers, build the test
//! modules through the ABI lab and compare everything with the unmutated
//! headers' results; a check that runs the modules (the emulated kernel
//! linker's scenarios) plugs in as one more [`Check`], e.g. a [`FnCheck`].
//!
//! `vnetgen-mutants` (`scripts/mutants`) prints the table.
//!
//! Uses: every stage before it.

mod checks;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::Deserialize;

pub use checks::{default_checks, CompileCheck, HygieneCheck, LabCheck, LayoutCheck};

use crate::gen::output::write_outputs;
use crate::gen::render::render;
use crate::spec::Spec;

/// The operators, embedded.
pub const OPERATORS: &str = include_str!("../../mutants/operators.toml");

#[derive(Debug, thiserror::Error)]
pub enum MutantError {
    #[error("mutants/operators.toml: {0}")]
    Operators(String),
    #[error("operator {id}: {file} has no `{find}`")]
    NoMatch {
        id: String,
        file: String,
        find: String,
    },
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A check fails on the unmutated headers: it could kill nothing.
    #[error("check {check} fails on the unmutated headers: {why}")]
    Baseline { check: String, why: String },
    #[error("{0}")]
    Setup(String),
}

pub(crate) fn io(path: &Path) -> impl FnOnce(std::io::Error) -> MutantError + '_ {
    move |source| MutantError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// One textual edit of a generated file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Edit {
    pub find: String,
    pub replace: String,
    /// Every occurrence; otherwise the first only.
    #[serde(default)]
    pub all: bool,
}

/// One mutation operator.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Operator {
    pub id: String,
    /// The defect class of DOMAIN.md section 8, if it is one.
    pub class: Option<u8>,
    pub what: String,
    /// The generated file edited, relative to the output directory.
    pub file: String,
    #[serde(rename = "edit")]
    pub edits: Vec<Edit>,
    /// "kld": only running the module can show the defect.
    pub needs: Option<String>,
    /// Why the static checks cannot kill it, where `needs` is set.
    pub reason: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OperatorFile {
    operator: Vec<Operator>,
}

/// The operators of `mutants/operators.toml`, in file order.
pub fn operators() -> Result<Vec<Operator>, MutantError> {
    parse_operators(OPERATORS)
}

pub fn parse_operators(text: &str) -> Result<Vec<Operator>, MutantError> {
    let file: OperatorFile =
        toml::from_str(text).map_err(|e| MutantError::Operators(e.to_string()))?;
    let mut seen = std::collections::BTreeSet::new();
    for op in &file.operator {
        if !seen.insert(op.id.as_str()) {
            return Err(MutantError::Operators(format!("duplicate id {}", op.id)));
        }
        if op.edits.is_empty() {
            return Err(MutantError::Operators(format!("{}: no edit", op.id)));
        }
        if op.needs.is_some() != op.reason.is_some() {
            return Err(MutantError::Operators(format!(
                "{}: `needs` and `reason` go together",
                op.id
            )));
        }
    }
    Ok(file.operator)
}

impl Operator {
    /// The text of `file` with the edits made.
    pub fn mutate(&self, text: &str) -> Result<String, MutantError> {
        let mut text = text.to_string();
        for edit in &self.edits {
            if !text.contains(&edit.find) {
                return Err(MutantError::NoMatch {
                    id: self.id.clone(),
                    file: self.file.clone(),
                    find: edit.find.clone(),
                });
            }
            text = if edit.all {
                text.replace(&edit.find, &edit.replace)
            } else {
                text.replacen(&edit.find, &edit.replace, 1)
            };
        }
        Ok(text)
    }

    /// Makes the edits in `dir/file`.
    pub fn apply(&self, dir: &Path) -> Result<(), MutantError> {
        let path = dir.join(&self.file);
        let text = std::fs::read_to_string(&path).map_err(io(&path))?;
        let mutated = self.mutate(&text)?;
        std::fs::write(&path, mutated).map_err(io(&path))
    }
}

/// What a check says about one set of headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Pass,
    /// The check failed: why, in one line.
    Fail(String),
}

/// One check of a set of headers.  `baseline` runs first, on the unmutated
/// headers, which it must pass; the check may keep what it saw there to
/// compare each mutant with.
pub trait Check: Send + Sync {
    fn name(&self) -> &str;
    fn baseline(&mut self, headers: &Path) -> Result<(), MutantError> {
        match self.run(headers)? {
            Verdict::Pass => Ok(()),
            Verdict::Fail(why) => Err(MutantError::Baseline {
                check: self.name().to_string(),
                why,
            }),
        }
    }
    fn run(&self, headers: &Path) -> Result<Verdict, MutantError>;
}

/// A check made of a function of the headers' directory: how a check from
/// elsewhere (the emulated kernel's scenarios) plugs in.
pub struct FnCheck<F> {
    pub name: String,
    pub f: F,
}

impl<F> Check for FnCheck<F>
where
    F: Fn(&Path) -> Result<Verdict, MutantError> + Send + Sync,
{
    fn name(&self) -> &str {
        &self.name
    }
    fn run(&self, headers: &Path) -> Result<Verdict, MutantError> {
        (self.f)(headers)
    }
}

/// What happened to one mutant.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub operator: Operator,
    /// The check that failed, and why.
    pub killed_by: Option<(String, String)>,
}

impl Outcome {
    pub fn killed(&self) -> bool {
        self.killed_by.is_some()
    }
}

/// Renders the spec's files into `dir`.
pub fn render_into(spec: &Spec, dir: &Path) -> Result<(), MutantError> {
    let files = render(spec).map_err(|e| MutantError::Setup(e.to_string()))?;
    write_outputs(dir, &files, true).map_err(|e| MutantError::Setup(e.to_string()))?;
    Ok(())
}

fn copy_tree(from: &Path, to: &Path) -> Result<(), MutantError> {
    std::fs::create_dir_all(to).map_err(io(to))?;
    for entry in std::fs::read_dir(from).map_err(io(from))? {
        let entry = entry.map_err(io(from))?;
        let path = entry.path();
        let target = to.join(entry.file_name());
        if path.is_dir() {
            copy_tree(&path, &target)?;
        } else {
            std::fs::copy(&path, &target).map_err(io(&path))?;
        }
    }
    Ok(())
}

/// Runs every operator against the checks, which run in order until one
/// fails.  The unmutated headers, rendered from `spec` into `work`, must
/// pass every check first.  `each` hears of every outcome as it comes.
pub fn run(
    spec: &Spec,
    work: &Path,
    checks: &mut [Box<dyn Check>],
    operators: &[Operator],
    mut each: impl FnMut(&Outcome),
) -> Result<Vec<Outcome>, MutantError> {
    let base = work.join("base");
    let _ = std::fs::remove_dir_all(&base);
    render_into(spec, &base)?;
    // Every operator must apply before anything slow runs.
    for op in operators {
        let path = base.join(&op.file);
        let text = std::fs::read_to_string(&path).map_err(io(&path))?;
        op.mutate(&text)?;
    }
    for check in checks.iter_mut() {
        check.baseline(&base)?;
    }
    let mut outcomes = Vec::new();
    for op in operators {
        let dir = work.join(format!("mutant-{}", op.id));
        let _ = std::fs::remove_dir_all(&dir);
        copy_tree(&base, &dir)?;
        op.apply(&dir)?;
        let mut killed_by = None;
        for check in checks.iter() {
            if let Verdict::Fail(why) = check.run(&dir)? {
                killed_by = Some((check.name().to_string(), why));
                break;
            }
        }
        let _ = std::fs::remove_dir_all(&dir);
        let outcome = Outcome {
            operator: op.clone(),
            killed_by,
        };
        each(&outcome);
        outcomes.push(outcome);
    }
    Ok(outcomes)
}

/// The table: one row per operator, the survivors with their reason, and
/// the closing `mutants: K/N killed` line.
pub fn table(outcomes: &[Outcome]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<40} {:<5} {:<9} by / why",
        "operator", "class", "result"
    );
    for o in outcomes {
        let class = o.operator.class.map_or("-".to_string(), |c| c.to_string());
        let (result, detail) = match &o.killed_by {
            Some((check, why)) => ("killed", format!("{check}: {why}")),
            None => ("SURVIVED", String::new()),
        };
        let _ = writeln!(
            out,
            "{:<40} {:<5} {:<9} {detail}",
            o.operator.id, class, result
        );
    }
    let survivors: Vec<&Outcome> = outcomes.iter().filter(|o| !o.killed()).collect();
    if !survivors.is_empty() {
        let _ = writeln!(out, "\nsurvivors:");
        for o in &survivors {
            let reason = match (&o.operator.needs, &o.operator.reason) {
                (Some(needs), Some(reason)) => format!("needs {needs}: {reason}"),
                _ => "no check fails: a gap in the checks".to_string(),
            };
            let _ = writeln!(out, "  {} ({}): {reason}", o.operator.id, o.operator.what);
        }
    }
    let classes: std::collections::BTreeSet<u8> =
        outcomes.iter().filter_map(|o| o.operator.class).collect();
    let classes_killed: std::collections::BTreeSet<u8> = classes
        .iter()
        .copied()
        .filter(|c| {
            outcomes
                .iter()
                .filter(|o| o.operator.class == Some(*c))
                .all(Outcome::killed)
        })
        .collect();
    let _ = writeln!(
        out,
        "\nsection 8 classes with every mutant killed: {}/{}",
        classes_killed.len(),
        classes.len()
    );
    let killed = outcomes.iter().filter(|o| o.killed()).count();
    let _ = writeln!(out, "mutants: {killed}/{} killed", outcomes.len());
    out
}

/// One line, cut to `max` characters.
pub(crate) fn one_line(text: &str, max: usize) -> String {
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("");
    if line.chars().count() > max {
        let cut: String = line.chars().take(max).collect();
        format!("{cut}...")
    } else {
        line.to_string()
    }
}
