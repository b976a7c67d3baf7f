//! The source layout shows the data flow: one folder per concept, and no
//! concept uses one that comes later in the flow.  The CLI: every command
//! and every option says what it does.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The library's concepts in the order the data flows.
const STAGES: [&str; 10] = [
    "spec", "gen", "build", "inspect", "lab", "kld", "vm", "review", "bench", "mutants",
];

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The names that follow `prefix` in the code of `text` (comments left out).
fn referenced(text: &str, prefix: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for line in text.lines() {
        let code = line.split("//").next().unwrap_or("");
        let mut rest = code;
        while let Some(at) = rest.find(prefix) {
            let after = &rest[at + prefix.len()..];
            let name: String = after
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                names.insert(name);
            }
            rest = after;
        }
    }
    names
}

#[test]
fn src_top_level_holds_only_the_crate_roots() {
    let mut loose = Vec::new();
    for entry in std::fs::read_dir(src()).expect("read src") {
        let path = entry.expect("entry").path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("")
            .to_string();
        if path.is_file() && !["lib.rs", "main.rs", "error.rs"].contains(&name.as_str()) {
            loose.push(name);
        }
    }
    assert!(
        loose.is_empty(),
        "files at src/ top level: {loose:?}: each belongs in a concept's folder"
    );
    for stage in STAGES {
        assert!(
            src().join(stage).join("mod.rs").is_file(),
            "src/{stage}/mod.rs is missing"
        );
    }
}

#[test]
fn no_stage_uses_a_later_one() {
    let mut violations = Vec::new();
    for (rank, stage) in STAGES.iter().enumerate() {
        let mut files = Vec::new();
        rust_files(&src().join(stage), &mut files);
        for file in files {
            let text = std::fs::read_to_string(&file).expect("read a source");
            for used in referenced(&text, "crate::") {
                match STAGES.iter().position(|s| *s == used) {
                    Some(r) if r > rank => violations.push(format!(
                        "{}: uses crate::{used}, a later stage than {stage}",
                        file.display()
                    )),
                    None if used == "error" || used == "Error" => violations.push(format!(
                        "{}: uses the crate-wide error; a stage returns its own",
                        file.display()
                    )),
                    _ => {}
                }
            }
        }
    }
    assert!(violations.is_empty(), "{}", violations.join("\n"));
}

#[test]
fn lib_lists_the_stages_in_order() {
    let lib = std::fs::read_to_string(src().join("lib.rs")).expect("read lib.rs");
    let listed: Vec<&str> = lib
        .lines()
        .filter_map(|l| l.trim().strip_prefix("pub mod "))
        .map(|l| l.trim_end_matches(';'))
        .filter(|m| STAGES.contains(m))
        .collect();
    assert_eq!(
        listed, STAGES,
        "lib.rs should declare the stages in the order of the data flow"
    );
}

/// Within each folder, the modules' `super::` uses form no cycle (the
/// emulated kernel's loader uses the kernel and the KPI, never the reverse).
#[test]
fn no_import_cycle_inside_a_folder() {
    for stage in STAGES {
        let dir = src().join(stage);
        let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for entry in std::fs::read_dir(&dir).expect("read a stage") {
            let path = entry.expect("entry").path();
            if path.extension().is_some_and(|e| e == "rs") {
                let name = path
                    .file_stem()
                    .and_then(|n| n.to_str())
                    .unwrap_or("")
                    .to_string();
                if name == "mod" {
                    continue;
                }
                let text = std::fs::read_to_string(&path).expect("read a source");
                let mut uses = referenced(&text, "super::");
                uses.extend(referenced(&text, &format!("crate::{stage}::")));
                uses.remove(&name);
                graph.insert(name, uses);
            }
        }
        let names: Vec<String> = graph.keys().cloned().collect();
        for start in &names {
            // Depth-first from `start`: reaching it again is a cycle.
            let mut stack: Vec<(String, Vec<String>)> = vec![(start.clone(), vec![start.clone()])];
            let mut seen = BTreeSet::new();
            while let Some((node, path)) = stack.pop() {
                for next in graph.get(&node).into_iter().flatten() {
                    if next == start {
                        panic!("src/{stage}: import cycle {} -> {start}", path.join(" -> "));
                    }
                    if graph.contains_key(next) && seen.insert(next.clone()) {
                        let mut p = path.clone();
                        p.push(next.clone());
                        stack.push((next.clone(), p));
                    }
                }
            }
        }
    }
}

fn help(args: &[&str], flag: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_vnetgen"))
        .args(args)
        .arg(flag)
        .output()
        .expect("run vnetgen");
    assert!(out.status.success(), "vnetgen {args:?} -h failed");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The entries of a help section (`Commands:`, `Arguments:`, `Options:`):
/// the name, and its description (empty when there is none), whether clap
/// put it on the entry's line or on the lines below.
fn entries(help: &str, section: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut inside = false;
    for line in help.lines() {
        if line.ends_with(':') && !line.starts_with(' ') {
            inside = line == section;
            continue;
        }
        if !inside || line.trim().is_empty() {
            continue;
        }
        let indent = line.len() - line.trim_start().len();
        let body = line.trim_start();
        if indent <= 6 {
            let (name, description) = match body.find("  ") {
                Some(at) => (body[..at].to_string(), body[at..].trim().to_string()),
                None => (body.to_string(), String::new()),
            };
            out.push((name, description));
        } else if let Some(last) = out.last_mut() {
            if !last.1.is_empty() {
                last.1.push(' ');
            }
            last.1.push_str(body);
        }
    }
    out
}

#[test]
fn every_command_and_option_has_help() {
    let mut missing = Vec::new();
    let mut commands: Vec<Vec<String>> = vec![vec![]];
    let mut checked = 0;
    while let Some(path) = commands.pop() {
        let args: Vec<&str> = path.iter().map(String::as_str).collect();
        let text = help(&args, "--help");
        for (name, description) in entries(&text, "Commands:") {
            if name == "help" {
                continue;
            }
            if description.is_empty() {
                missing.push(format!("vnetgen {} {name}: no description", args.join(" ")));
            }
            let mut sub = path.clone();
            sub.push(name);
            commands.push(sub);
        }
        for section in ["Arguments:", "Options:"] {
            for (name, description) in entries(&text, section) {
                if description.is_empty() {
                    missing.push(format!("vnetgen {}: {name} has no help", args.join(" ")));
                }
            }
        }
        checked += 1;
    }
    assert!(checked >= 12, "only {checked} help pages found");
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}
