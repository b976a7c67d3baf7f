//! Rules as data: each `rules/<id>.toml` names a check of the engine, a
//! severity and a message template.  The engine runs the checks on one
//! object against one kernel model and fills the templates.

mod checks;

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::inspect::classify::Classification;
use crate::inspect::ObjectInfo;
use crate::spec::kernel_model::KernelModel;
use crate::spec::{Arch, Spec};

pub use checks::CHECKS;

include!(concat!(env!("OUT_DIR"), "/rule_files.rs"));

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn name(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    summary: String,
    severity: Severity,
    check: String,
    message: String,
}

/// A rule, loaded from its file.
#[derive(Debug, Clone)]
pub struct Rule {
    pub id: String,
    pub summary: String,
    pub severity: Severity,
    pub check: String,
    pub message: String,
}

#[derive(Debug, thiserror::Error)]
pub enum RuleError {
    #[error("rules/{id}.toml: {source}")]
    Parse {
        id: String,
        #[source]
        source: toml::de::Error,
    },
    #[error("rules/{id}.toml: unknown check `{check}`; the engine has {known}")]
    UnknownCheck {
        id: String,
        check: String,
        known: String,
    },
    #[error(
        "rules/{id}.toml: the message names {{{var}}}, which check `{check}` does not provide"
    )]
    UnknownVariable {
        id: String,
        check: String,
        var: String,
    },
}

/// What one check found: where, and the values for the message.
#[derive(Debug, Clone, Default)]
pub struct Hit {
    pub section: Option<String>,
    pub symbol: Option<String>,
    pub relocation: Option<String>,
    pub vars: BTreeMap<&'static str, String>,
}

/// A finding: a rule's hit, with its message filled in.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Finding {
    pub rule: String,
    pub severity: Severity,
    pub message: String,
    pub object: String,
    pub section: Option<String>,
    pub symbol: Option<String>,
    pub relocation: Option<String>,
}

/// Everything a check may look at.
pub struct Context<'a> {
    pub spec: &'a Spec,
    pub arch: &'a Arch,
    pub object: &'a ObjectInfo,
    pub kernel: &'a KernelModel,
    pub classification: &'a Classification,
}

/// Loads and checks every embedded rule.
pub fn load_rules() -> Result<Vec<Rule>, RuleError> {
    let mut rules = Vec::new();
    for (id, text) in RULE_FILES {
        let file: RuleFile = toml::from_str(text).map_err(|source| RuleError::Parse {
            id: id.to_string(),
            source,
        })?;
        let Some(check) = CHECKS.iter().find(|c| c.name == file.check) else {
            let known: Vec<&str> = CHECKS.iter().map(|c| c.name).collect();
            return Err(RuleError::UnknownCheck {
                id: id.to_string(),
                check: file.check,
                known: known.join(", "),
            });
        };
        for var in template_vars(&file.message) {
            if !check.vars.contains(&var.as_str()) && !COMMON_VARS.contains(&var.as_str()) {
                return Err(RuleError::UnknownVariable {
                    id: id.to_string(),
                    check: file.check.clone(),
                    var,
                });
            }
        }
        rules.push(Rule {
            id: id.to_string(),
            summary: file.summary,
            severity: file.severity,
            check: file.check,
            message: file.message,
        });
    }
    Ok(rules)
}

/// Variables every message may use.
const COMMON_VARS: &[&str] = &["object", "linker", "arch", "kernel"];

fn template_vars(template: &str) -> Vec<String> {
    let mut vars = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        let after = &rest[start + 1..];
        match after.find('}') {
            Some(end) => {
                vars.push(after[..end].to_string());
                rest = &after[end + 1..];
            }
            None => break,
        }
    }
    vars
}

fn fill(template: &str, vars: &BTreeMap<&'static str, String>) -> String {
    let mut out = template.to_string();
    for (k, v) in vars {
        out = out.replace(&format!("{{{k}}}"), v);
    }
    out
}

/// Runs every rule on one object against one kernel.
pub fn evaluate(rules: &[Rule], ctx: &Context<'_>) -> Vec<Finding> {
    let mut common = BTreeMap::new();
    common.insert("object", ctx.object.name.clone());
    common.insert("linker", linker_name(ctx.object).to_string());
    common.insert("arch", ctx.arch.name.clone());
    common.insert("kernel", ctx.kernel.config.name().to_string());
    let mut findings = Vec::new();
    for rule in rules {
        let Some(check) = CHECKS.iter().find(|c| c.name == rule.check) else {
            continue;
        };
        for hit in (check.run)(ctx) {
            let mut vars = common.clone();
            vars.extend(hit.vars.clone());
            findings.push(Finding {
                rule: rule.id.clone(),
                severity: rule.severity,
                message: fill(&rule.message, &vars),
                object: ctx.object.name.clone(),
                section: hit.section,
                symbol: hit.symbol,
                relocation: hit.relocation,
            });
        }
    }
    findings
}

/// The kernel linker that loads this kind of object.
pub fn linker_name(object: &ObjectInfo) -> &'static str {
    match object.kind {
        crate::inspect::ObjectKind::Relocatable => "link_elf_obj",
        _ => "link_elf",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_file_loads_and_names_a_known_check() {
        let rules = load_rules().expect("rules load");
        assert!(rules.len() >= 11, "{} rules", rules.len());
        let ids: Vec<&str> = rules.iter().map(|r| r.id.as_str()).collect();
        for id in [
            "undefined-symbol",
            "modspace",
            "set-alignment",
            "static-in-set",
            "set-bounds-export",
            "set-pad",
            "storage-layout",
        ] {
            assert!(ids.contains(&id), "missing rule {id}");
        }
    }

    #[test]
    fn templates_are_filled() {
        let mut vars = BTreeMap::new();
        vars.insert("symbol", "vnet0".to_string());
        vars.insert("linker", "link_elf_obj".to_string());
        assert_eq!(
            fill("{linker}: symbol {symbol} undefined", &vars),
            "link_elf_obj: symbol vnet0 undefined"
        );
    }
}
