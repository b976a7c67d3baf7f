//! The bench's reports: a table of ratios, or the same data as JSON.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::{BenchReport, StrategyReport};

/// The report as JSON (`{"schema": 1, ...}`).
pub fn json(report: &BenchReport) -> String {
    serde_json::to_string_pretty(report).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}

/// The report as text: per strategy, the summary, then the static counts
/// (compiled-in/run-time instructions per access, per architecture and
/// kernel), the `.text` ratios and the executed counts.
pub fn text(report: &BenchReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "targets: at most {} extra instructions per access, .text at most {:.2}x the compiled-in build",
        report.targets.max_extra_instructions, report.targets.max_text_ratio
    );
    let _ = writeln!(
        out,
        "default accessor: {}\n",
        report.default_accessor.as_deref().unwrap_or("(none)")
    );
    let _ = writeln!(
        out,
        "{:<10} {:>8} {:>10} {:>10} {:>8}",
        "strategy", "correct", "max extra", "max .text", "targets"
    );
    for s in &report.strategies {
        let _ = writeln!(
            out,
            "{:<10} {:>8} {:>10} {:>9.3}x {:>8}",
            s.name,
            if s.correct { "yes" } else { "NO" },
            format!("{:+}", s.max_extra),
            s.max_text_ratio,
            if s.meets_targets { "met" } else { "missed" }
        );
    }
    for s in &report.strategies {
        strategy(&mut out, s);
    }
    if !report.native.is_empty() {
        let _ = writeln!(
            out,
            "\n== native (amd64, time-stamp counter) ==\n\nticks per iteration, the build against the compiled-in one in the same round: median ratio [first, third quartile] over the rounds"
        );
        for r in &report.native {
            let _ = writeln!(
                out,
                "{:<9} {:<20} {:<24} {:>6.2} vs {:>6.2}  {:.3}x [{:.3}, {:.3}] ({} rounds)",
                r.kernel.to_string(),
                r.access,
                r.build,
                r.ticks,
                r.compiled_in_ticks,
                r.ratio,
                r.ratio_low,
                r.ratio_high,
                r.rounds
            );
        }
    }
    if !report.dual.is_empty() {
        let _ = writeln!(
            out,
            "\n== dual (amd64) ==\n\nstatic: instructions on the path, compiled-in -> the active side (extra)"
        );
        for r in &report.dual {
            let executed = match (r.executed_compiled_in, r.executed_dual) {
                (Some(c), Some(d)) => {
                    format!("; executed {c:.2} -> {d:.2} ({:+.2})", d - c)
                }
                _ => String::new(),
            };
            let _ = writeln!(
                out,
                "{:<9} {:<20} {:>3} -> {:>3} ({:+}){executed}",
                r.kernel.to_string(),
                r.access,
                r.compiled_in,
                r.dual,
                r.extra
            );
        }
        let _ = writeln!(
            out,
            "\n.text: bytes of the probe module's functions, compiled-in -> the active side; the whole dual module"
        );
        for t in &report.dual_text {
            let _ = writeln!(
                out,
                "{:<9} {:>5} -> {:>5}; module .text {} ({:.2}x the compiled-in functions)",
                t.kernel.to_string(),
                t.compiled_in,
                t.active,
                t.module,
                t.module as f64 / t.compiled_in.max(1) as f64
            );
        }
    }
    side_by_side(&mut out, report);
    out
}

/// Every amd64 build of the probe module side by side, per kind of kernel:
/// instructions on the path, executed instructions, the native ratio and
/// the sizes, as Markdown tables (BENCHMARKS.md takes them as they are).
fn side_by_side(out: &mut String, report: &BenchReport) {
    if report.probe_sizes.is_empty() {
        return;
    }
    let strategies: Vec<&StrategyReport> = report.strategies.iter().collect();
    let mut builds = vec!["compiled-in".to_string()];
    builds.extend(strategies.iter().map(|s| s.name.clone()));
    builds.push("dual".to_string());
    let header = |out: &mut String| {
        let _ = writeln!(out, "| kernel | access | {} |", builds.join(" | "));
        let _ = writeln!(out, "|---|---|{}", "---|".repeat(builds.len()));
    };
    // One row per kernel and access the dual build measured.
    let rows = |out: &mut String, cells: &dyn Fn(&super::DualRow) -> Vec<String>| {
        for kernel in super::KERNELS {
            for (access, _) in super::ACCESSES {
                if let Some(d) = report
                    .dual
                    .iter()
                    .find(|r| r.kernel == kernel && r.access == access)
                {
                    let _ = writeln!(out, "| {kernel} | {access} | {} |", cells(d).join(" | "));
                }
            }
        }
    };
    let _ = writeln!(
        out,
        "\n== side by side (amd64) ==\n\ninstructions on the path of one access (disassembly walk)\n"
    );
    header(out);
    rows(out, &|d| {
        let mut cells = vec![d.compiled_in.to_string()];
        for s in &strategies {
            cells.push(
                s.static_rows
                    .iter()
                    .find(|r| r.arch == "amd64" && r.kernel == d.kernel && r.access == d.access)
                    .map_or("-".to_string(), |r| r.runtime.to_string()),
            );
        }
        cells.push(d.dual.to_string());
        cells
    });
    if report.dual.iter().any(|r| r.executed_dual.is_some()) {
        let _ = writeln!(
            out,
            "\ninstructions executed per loop iteration (callgrind)\n"
        );
        header(out);
        let cell = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.2}"));
        rows(out, &|d| {
            let mut cells = vec![cell(d.executed_compiled_in)];
            for s in &strategies {
                cells.push(cell(
                    s.executed
                        .iter()
                        .find(|r| r.kernel == d.kernel && r.access == d.access)
                        .map(|r| r.runtime),
                ));
            }
            cells.push(cell(d.executed_dual));
            cells
        });
    }
    if !report.native.is_empty() {
        let _ = writeln!(
            out,
            "\nnative: ticks per iteration (compiled-in), and each build's ratio to it: median [first, third quartile] over the rounds\n"
        );
        header(out);
        for kernel in super::KERNELS {
            for (access, _) in super::ACCESSES {
                let rows: Vec<_> = report
                    .native
                    .iter()
                    .filter(|r| r.kernel == kernel && r.access == access)
                    .collect();
                let Some(first) = rows.first() else {
                    continue;
                };
                let mut cells = vec![format!("{:.2}", first.compiled_in_ticks)];
                for build in builds.iter().skip(1) {
                    let full = full_name(build);
                    cells.push(
                        rows.iter()
                            .find(|r| r.build == full)
                            .map_or("-".to_string(), |r| {
                                format!("{:.3} [{:.3}, {:.3}]", r.ratio, r.ratio_low, r.ratio_high)
                            }),
                    );
                }
                let _ = writeln!(out, "| {kernel} | {access} | {} |", cells.join(" | "));
            }
        }
    }
    let _ = writeln!(
        out,
        "\nsizes, bytes: the functions the kernel runs / the module's .text / the .ko file\n"
    );
    let _ = writeln!(out, "| kernel | {} |", builds.join(" | "));
    let _ = writeln!(out, "|---|{}", "---|".repeat(builds.len()));
    for kernel in super::KERNELS {
        let mut cells = Vec::new();
        for build in &builds {
            let full = full_name(build);
            cells.push(
                report
                    .probe_sizes
                    .iter()
                    .find(|p| p.kernel == kernel && p.build == full)
                    .map_or("-".to_string(), |p| {
                        format!("{} / {} / {}", p.active, p.text, p.file)
                    }),
            );
        }
        let _ = writeln!(out, "| {kernel} | {} |", cells.join(" | "));
    }
}

/// The name a build has in the native rows and the sizes: a strategy's is
/// its run-time build's.
fn full_name(build: &str) -> String {
    match build {
        "compiled-in" | "dual" => build.to_string(),
        strategy => format!("vimage-runtime {strategy}"),
    }
}

/// `.text` of the test modules of one architecture and kernel.
#[derive(Default)]
struct TextSum {
    compiled_in: u64,
    runtime: u64,
    worst: f64,
    worst_kmod: String,
    support: u64,
}

fn strategy(out: &mut String, s: &StrategyReport) {
    let _ = writeln!(out, "\n== strategy {} ==", s.name);
    for f in &s.failures {
        let _ = writeln!(out, "FAILS: {f}");
    }
    // Static: one line per (arch, kernel), a column per access.
    let accesses: Vec<&str> = super::ACCESSES.iter().map(|(a, _)| *a).collect();
    let _ = writeln!(
        out,
        "\nstatic: instructions on the path, compiled-in -> run-time (extra)"
    );
    let _ = write!(out, "{:<10} {:<9}", "arch", "kernel");
    for a in &accesses {
        let _ = write!(out, " {a:>18}");
    }
    let _ = writeln!(out);
    let mut rows: BTreeMap<(String, String), BTreeMap<String, String>> = BTreeMap::new();
    for r in &s.static_rows {
        rows.entry((r.arch.clone(), r.kernel.to_string()))
            .or_default()
            .insert(
                r.access.clone(),
                format!("{}->{} ({:+})", r.compiled_in, r.runtime, r.extra),
            );
    }
    for ((arch, kernel), cells) in &rows {
        let _ = write!(out, "{arch:<10} {kernel:<9}");
        for a in &accesses {
            let _ = write!(out, " {:>18}", cells.get(*a).map_or("-", |s| s.as_str()));
        }
        let _ = writeln!(out);
    }
    // Text: per arch and kernel, the total and the worst module.
    let _ = writeln!(
        out,
        "\n.text: bytes of the test modules' own code, compiled-in -> run-time (ratio; worst module)"
    );
    let mut text: BTreeMap<(String, String), TextSum> = BTreeMap::new();
    for r in &s.text_rows {
        let e = text
            .entry((r.arch.clone(), r.kernel.to_string()))
            .or_default();
        e.compiled_in += r.compiled_in;
        e.runtime += r.runtime;
        e.support = e.support.max(r.support);
        if r.ratio > e.worst {
            e.worst = r.ratio;
            e.worst_kmod = r.kmod.clone();
        }
    }
    for ((arch, kernel), t) in &text {
        let _ = writeln!(
            out,
            "{arch:<10} {kernel:<9} {:>7} -> {:>7} ({:.3}x; worst {} {:.3}x; + vnet_support.c {} per module)",
            t.compiled_in,
            t.runtime,
            t.runtime as f64 / t.compiled_in.max(1) as f64,
            t.worst_kmod,
            t.worst,
            t.support
        );
    }
    if !s.executed.is_empty() {
        let _ = writeln!(
            out,
            "\nexecuted (amd64, callgrind): instructions per loop iteration, compiled-in -> run-time (extra)"
        );
        for r in &s.executed {
            let _ = writeln!(
                out,
                "{:<9} {:<20} {:>7.2} -> {:>7.2} ({:+.2})",
                r.kernel.to_string(),
                r.access,
                r.compiled_in,
                r.runtime,
                r.extra
            );
        }
    }
}
