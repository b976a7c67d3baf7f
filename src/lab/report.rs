//! The lab's reports: a text table (colored on a terminal), JSON, JUnit
//! for CI systems, and one self-contained HTML page.

use std::fmt::Write;

use serde::Serialize;

use super::{Cell, LabReport, Verdict};
use crate::inspect::rules::Severity;

/// The JSON document: `{"schema": 1, "cells": [...]}`.
#[derive(Serialize)]
struct JsonReport<'a> {
    schema: u32,
    cells: &'a [Cell],
}

pub fn json(report: &LabReport) -> String {
    let doc = JsonReport {
        schema: 1,
        cells: &report.cells,
    };
    serde_json::to_string_pretty(&doc).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}")) + "\n"
}

fn variant_label(cell: &Cell) -> String {
    match cell.built_for {
        Some(k) => format!("{} ({k})", cell.variant),
        None => cell.variant.to_string(),
    }
}

/// A plain table; `color` adds ANSI colors for a terminal.
pub fn text(report: &LabReport, color: bool) -> String {
    let paint = |s: &str, code: &str| {
        if color {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    };
    let mut out = String::new();
    // The `real` column only where real kernels were booted.
    let booted = report.cells.iter().any(|c| c.real.is_some());
    let _ = writeln!(
        out,
        "{:<14} {:<10} {:<26} {:<9} {:<15} {:<8} {:<6} {}findings",
        "kmod",
        "arch",
        "variant",
        "kernel",
        "layout",
        "verdict",
        "runs",
        if booted { "real   " } else { "" }
    );
    for c in &report.cells {
        let verdict = match (c.verdict, c.unexpected_failure() || c.verdict != c.expected) {
            (Verdict::Loads, false) => paint("loads", "32"),
            (Verdict::Fails, false) => paint("fails", "31"),
            (v, true) => paint(&format!("{}!", v.name()), "1;33"),
        };
        let pad = if color { 8 + 9 } else { 8 };
        let errors = c
            .findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .count();
        // The scenario's verdict: "-" where none ran (not amd64).
        let runs = match c.runs {
            None => "-".to_string(),
            Some(r) if r == c.expected => r.name().to_string(),
            Some(r) => format!("{}!", r.name()),
        };
        let real = match c.real {
            _ if !booted => String::new(),
            None => format!("{:<7}", "-"),
            Some(r) if r == c.expected => format!("{:<7}", r.name()),
            Some(r) => format!("{:<7}", format!("{}!", r.name())),
        };
        let _ = writeln!(
            out,
            "{:<14} {:<10} {:<26} {:<9} {:<15} {:<pad$} {:<6} {}{} ({} errors)",
            c.kmod,
            c.arch,
            variant_label(c),
            c.kernel,
            c.layout,
            verdict,
            runs,
            real,
            c.findings.len(),
            errors
        );
        if c.disagrees() {
            let _ = writeln!(out, "    disagree: {}", c.answers());
        }
        if let (Some(r), Some(detail)) = (c.real, &c.real_detail) {
            if r != c.expected {
                let _ = writeln!(out, "    real: {detail}");
            }
        }
        if let (Some(r), Some(detail)) = (c.runs, &c.runs_detail) {
            if r != c.expected {
                let _ = writeln!(out, "    runs: {detail}");
            }
        }
        for f in c.findings.iter().filter(|f| f.severity == Severity::Error) {
            let _ = writeln!(out, "    {} [{}] {}", f.severity.name(), f.rule, f.message);
        }
    }
    let unexpected = report.cells.iter().filter(|c| c.differs()).count();
    let _ = writeln!(
        out,
        "{} cells, {} builds ({} compiled, {} cached), {} differ from the expected matrix",
        report.cells.len(),
        report.builds.len(),
        report.compiled(),
        report.builds.len() - report.compiled(),
        unexpected
    );
    out
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// JUnit XML: one test case per cell; a cell whose verdict differs from the
/// expected matrix is a failure.
pub fn junit(report: &LabReport) -> String {
    let failures = report
        .cells
        .iter()
        .filter(|c| c.verdict != c.expected)
        .count();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"vnetgen abi\" tests=\"{}\" failures=\"{failures}\">",
        report.cells.len()
    );
    let _ = writeln!(
        out,
        "  <testsuite name=\"vnetgen abi\" tests=\"{}\" failures=\"{failures}\">",
        report.cells.len()
    );
    for c in &report.cells {
        let name = xml_escape(&format!(
            "{} on a {} kernel: {}",
            variant_label(c),
            c.kernel,
            c.verdict.name()
        ));
        let _ = write!(
            out,
            "    <testcase classname=\"vnetgen.abi.{}.{}\" name=\"{name}\"",
            xml_escape(&c.kmod),
            xml_escape(&c.arch)
        );
        let findings: String = c
            .findings
            .iter()
            .map(|f| format!("{} [{}] {}\n", f.severity.name(), f.rule, f.message))
            .collect();
        if c.verdict != c.expected {
            let _ = writeln!(out, ">");
            let _ = writeln!(
                out,
                "      <failure message=\"expected {}, got {}\">{}</failure>",
                c.expected.name(),
                c.verdict.name(),
                xml_escape(&findings)
            );
            let _ = writeln!(out, "    </testcase>");
        } else if findings.is_empty() {
            let _ = writeln!(out, "/>");
        } else {
            let _ = writeln!(
                out,
                ">\n      <system-out>{}</system-out>\n    </testcase>",
                xml_escape(&findings)
            );
        }
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}

/// One self-contained page: the matrix as a colored grid, findings below
/// each cell.
pub fn html(report: &LabReport) -> String {
    let mut columns: Vec<(String, String)> = Vec::new();
    for c in &report.cells {
        let col = (variant_label(c), c.kernel.to_string());
        if !columns.contains(&col) {
            columns.push(col);
        }
    }
    let mut rows: Vec<(String, String)> = Vec::new();
    for c in &report.cells {
        let row = (c.kmod.clone(), c.arch.clone());
        if !rows.contains(&row) {
            rows.push(row);
        }
    }
    let mut out = String::from(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>vnetgen abi</title>\n<style>\n\
         body { font-family: system-ui, sans-serif; margin: 1.5em; }\n\
         table { border-collapse: collapse; }\n\
         th, td { border: 1px solid #999; padding: 0.3em 0.5em; vertical-align: top; font-size: 0.9em; }\n\
         td.loads { background: #d4f4d4; } td.fails { background: #f8d0d0; }\n\
         td.unexpected { outline: 3px solid #e0a000; outline-offset: -3px; }\n\
         details { max-width: 28em; } summary { cursor: pointer; font-weight: bold; }\n\
         .error { color: #900; } .warning { color: #850; } .info { color: #555; }\n\
         </style>\n</head>\n<body>\n<h1>vnetgen abi: which build loads on which kernel</h1>\n",
    );
    let _ = writeln!(
        out,
        "<p>{} cells; green loads, red fails; an orange frame marks a verdict that differs from the expected matrix.</p>",
        report.cells.len()
    );
    out.push_str("<table>\n<tr><th>kmod</th><th>arch</th>");
    for (variant, kernel) in &columns {
        let _ = write!(
            out,
            "<th>{}<br>on {}</th>",
            xml_escape(variant),
            xml_escape(kernel)
        );
    }
    out.push_str("</tr>\n");
    for (kmod, arch) in &rows {
        let _ = write!(
            out,
            "<tr><th>{}</th><th>{}</th>",
            xml_escape(kmod),
            xml_escape(arch)
        );
        for (variant, kernel) in &columns {
            let cell = report.cells.iter().find(|c| {
                &c.kmod == kmod
                    && &c.arch == arch
                    && &variant_label(c) == variant
                    && &c.kernel.to_string() == kernel
            });
            match cell {
                None => out.push_str("<td></td>"),
                Some(c) => {
                    let class = if c.verdict != c.expected {
                        format!("{} unexpected", c.verdict.name())
                    } else {
                        c.verdict.name().to_string()
                    };
                    let _ = write!(
                        out,
                        "<td class=\"{class}\"><details><summary>{}</summary>",
                        c.verdict.name()
                    );
                    let _ = write!(out, "<div>layout: {}</div>", c.layout);
                    for f in &c.findings {
                        let _ = write!(
                            out,
                            "<div class=\"{}\">{} [{}] {}</div>",
                            f.severity.name(),
                            f.severity.name(),
                            xml_escape(&f.rule),
                            xml_escape(&f.message)
                        );
                    }
                    out.push_str("</details></td>");
                }
            }
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table>\n</body>\n</html>\n");
    out
}
