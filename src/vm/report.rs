//! `vnetgen vm run`'s reports: text for people (each scenario passed,
//! failed with its first failing step and the kernel's lines, or skipped),
//! JSON (`{"schema": 1, "kernels": [...]}`) and JUnit (a test suite per
//! kernel, a test case per scenario).

use std::fmt::Write;

use serde_json::{json, Value};

use super::plan::{ScenarioResult, Verdict};
use super::KernelReport;

fn kernel_line(k: &KernelReport) -> String {
    let mut s = format!("kernel {}", k.label);
    if let Some(info) = &k.info {
        let _ = write!(
            s,
            ": FreeBSD {} {} {}",
            k.release.as_deref().unwrap_or("?"),
            info.arch,
            info.config.name()
        );
        if let Some(v) = info.osreldate {
            let _ = write!(s, " (osreldate {v})");
        }
    }
    let boots: Vec<String> = k
        .boots
        .iter()
        .map(|b| {
            let mut t = format!("{:.1} s", b.seconds);
            if let Some(i) = b.init_at {
                let _ = write!(t, ", init at {i:.1} s");
            }
            t
        })
        .collect();
    if !boots.is_empty() {
        let _ = write!(
            s,
            "; {} boot{}: {}",
            boots.len(),
            if boots.len() == 1 { "" } else { "s" },
            boots.join("; ")
        );
    }
    s
}

fn scenario_text(out: &mut String, r: &ScenarioResult) {
    match &r.verdict {
        Verdict::Passed => {
            let _ = writeln!(out, "  passed   {} ({} steps)", r.name, r.steps.len());
        }
        Verdict::Skipped(why) => {
            let _ = writeln!(out, "  skipped  {}: {why}", r.name);
        }
        Verdict::Failed {
            line,
            command,
            message,
        } => {
            if *line == 0 {
                let _ = writeln!(out, "  FAILED   {}: {}", r.name, first_line(message));
            } else {
                let _ = writeln!(
                    out,
                    "  FAILED   {}:{line}: {command}: {}",
                    r.name,
                    first_line(message)
                );
            }
            for extra in message.lines().skip(1) {
                let _ = writeln!(out, "           {extra}");
            }
            let step_console: Vec<&str> = r
                .steps
                .last()
                .map(|s| s.console.lines().collect())
                .unwrap_or_default();
            let lines: Vec<&str> = if step_console.is_empty() {
                let n = r.console.len().saturating_sub(12);
                r.console[n..].iter().map(String::as_str).collect()
            } else {
                step_console
            };
            for l in lines {
                let _ = writeln!(out, "      | {l}");
            }
        }
    }
    for note in &r.notes {
        let _ = writeln!(out, "           note: {note}");
    }
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or("")
}

/// The text report.
pub fn text(reports: &[KernelReport]) -> String {
    let mut out = String::new();
    let (mut passed, mut failed, mut skipped) = (0, 0, 0);
    for k in reports {
        let _ = writeln!(out, "{}", kernel_line(k));
        if let Some(p) = &k.problem {
            let _ = writeln!(out, "  not run: {p}");
        }
        for r in &k.scenarios {
            match r.verdict {
                Verdict::Passed => passed += 1,
                Verdict::Failed { .. } => failed += 1,
                Verdict::Skipped(_) => skipped += 1,
            }
            scenario_text(&mut out, r);
        }
    }
    let _ = writeln!(
        out,
        "vm: {passed} passed, {failed} failed, {skipped} skipped on {} kernel{}",
        reports.len(),
        if reports.len() == 1 { "" } else { "s" }
    );
    out
}

fn scenario_json(r: &ScenarioResult) -> Value {
    let (verdict, failure, reason) = match &r.verdict {
        Verdict::Passed => ("passed", Value::Null, Value::Null),
        Verdict::Skipped(why) => ("skipped", Value::Null, json!(why)),
        Verdict::Failed {
            line,
            command,
            message,
        } => (
            "failed",
            json!({"line": line, "step": command, "message": message}),
            Value::Null,
        ),
    };
    json!({
        "name": r.name,
        "verdict": verdict,
        "failure": failure,
        "reason": reason,
        "steps": r.steps.iter().map(|s| json!({
            "line": s.line,
            "step": s.command,
            "ok": s.ok,
            "skipped": s.skipped,
            "text": s.text,
            "value": s.value,
            "console": s.console.lines().collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "console": r.console,
        "notes": r.notes,
    })
}

/// The JSON report.
pub fn json(reports: &[KernelReport]) -> String {
    let kernels: Vec<Value> = reports
        .iter()
        .map(|k| {
            json!({
                "kernel": k.label,
                "path": k.path.display().to_string(),
                "arch": k.info.as_ref().map(|i| i.arch),
                "config": k.info.as_ref().map(|i| i.config.name()),
                "osreldate": k.info.as_ref().and_then(|i| i.osreldate),
                "release": k.release,
                "problem": k.problem,
                "passed": k.passed(),
                "boots": k.boots.iter().map(|b| json!({
                    "log": b.log.display().to_string(),
                    "seconds": b.seconds,
                    "kernel_at": b.kernel_at,
                    "init_at": b.init_at,
                    "ended": b.ended,
                    "scenarios": b.scenarios,
                })).collect::<Vec<_>>(),
                "scenarios": k.scenarios.iter().map(scenario_json).collect::<Vec<_>>(),
            })
        })
        .collect();
    let mut s =
        serde_json::to_string_pretty(&json!({"schema": 1, "kernels": kernels})).unwrap_or_default();
    s.push('\n');
    s
}

fn xml(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '<' => "&lt;".to_string(),
            '>' => "&gt;".to_string(),
            '&' => "&amp;".to_string(),
            '"' => "&quot;".to_string(),
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' => " ".to_string(),
            c => c.to_string(),
        })
        .collect()
}

/// The JUnit report.
pub fn junit(reports: &[KernelReport]) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n");
    for k in reports {
        let failures = k
            .scenarios
            .iter()
            .filter(|r| matches!(r.verdict, Verdict::Failed { .. }))
            .count();
        let skipped = k
            .scenarios
            .iter()
            .filter(|r| matches!(r.verdict, Verdict::Skipped(_)))
            .count();
        let time: f64 = k.boots.iter().map(|b| b.seconds).sum();
        let _ = writeln!(
            out,
            "  <testsuite name=\"vm {}\" tests=\"{}\" failures=\"{failures}\" skipped=\"{skipped}\" time=\"{time:.1}\">",
            xml(&k.label),
            k.scenarios.len()
        );
        for r in &k.scenarios {
            let _ = write!(
                out,
                "    <testcase classname=\"vm.{}\" name=\"{}\"",
                xml(&k.label),
                xml(&r.name)
            );
            match &r.verdict {
                Verdict::Passed => out.push_str("/>\n"),
                Verdict::Skipped(why) => {
                    let _ = writeln!(
                        out,
                        ">\n      <skipped message=\"{}\"/>\n    </testcase>",
                        xml(why)
                    );
                }
                Verdict::Failed {
                    line,
                    command,
                    message,
                } => {
                    let _ = writeln!(
                        out,
                        ">\n      <failure message=\"line {line}: {}: {}\">{}</failure>\n    </testcase>",
                        xml(command),
                        xml(first_line(message)),
                        xml(&r.console.join("\n"))
                    );
                }
            }
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}
