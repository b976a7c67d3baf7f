//! The qualification report: Markdown for people, JSON for programs, both
//! from the same [`QualifyReport`], written atomically and only when their
//! text changed.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use super::{io, BuildKind, Check, QualifyError, QualifyReport, Recorded, Row, Verdict};
use crate::gen::output::write_atomic;

/// Today's date (UTC), `YYYY-MM-DD`.
pub fn today() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    civil_date(secs / 86_400)
}

/// The proleptic Gregorian date of a day count since 1970-01-01.
pub fn civil_date(days: u64) -> String {
    // Howard Hinnant's days-to-civil, for days >= 0.
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + u64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

fn verdict(v: &Verdict) -> &'static str {
    match v {
        Verdict::Loads => "loads",
        Verdict::LoadsAsStock { .. } => "loads as stock",
        Verdict::WontLoad { .. } => "**won't load**",
        Verdict::KnownLimit { .. } => "won't load (a limit)",
        Verdict::NoKernelRecorded => "no kernel recorded",
    }
}

fn cell(row: &Row) -> String {
    if !row.compiles {
        return "**fails**".to_string();
    }
    let mut out = match &row.check {
        Check::None => "ok".to_string(),
        Check::Identity {
            identical: true, ..
        } => "identical".to_string(),
        Check::Identity { .. } => "**differs**".to_string(),
        Check::Prediction { vimage, novimage } => {
            format!("V: {}, N: {}", verdict(vimage), verdict(novimage))
        }
        Check::NotMade { why } => format!("not compared ({why})"),
    };
    if row.warnings > 0 {
        let _ = write!(out, ", {} warning{}", row.warnings, plural(row.warnings));
    }
    match row.recorded {
        Some(Recorded::Differs) => out.push_str(", **fingerprint differs**"),
        Some(Recorded::NotRecorded) => out.push_str(", fingerprint not recorded"),
        _ => {}
    }
    out
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// The Markdown report.
pub fn markdown(r: &QualifyReport) -> String {
    let mut s = String::new();
    let t = &r.totals;
    let _ = writeln!(s, "# vnetgen qualify: FreeBSD's network modules\n");
    let _ = writeln!(
        s,
        "Run on {} by `vnetgen qualify`; vnetgen's headers {}. {} module{} × {} architecture{} ({}) × {} tree{}, {} builds each.\n",
        r.date,
        &r.headers[..16.min(r.headers.len())],
        r.modules.len(),
        plural(r.modules.len()),
        r.archs.len(),
        plural(r.archs.len()),
        r.archs.join(", "),
        r.trees.len(),
        plural(r.trees.len()),
        BuildKind::ALL.len()
    );
    if !r.make_vars.is_empty() {
        let vars: Vec<String> = r.make_vars.iter().map(|v| format!("`{v}`")).collect();
        let _ = writeln!(
            s,
            "Every build with the make variables {} (`--make`): the stock fingerprints are not checked, as the facts record the builds with the tree's defaults.\n",
            vars.join(", ")
        );
    }
    let _ = writeln!(s, "| tree | release | commit | content (SHA-256) |");
    let _ = writeln!(s, "|---|---|---|---|");
    for tree in &r.trees {
        let _ = writeln!(
            s,
            "| `{}` | {} | {} | `{}` |",
            tree.path,
            tree.release,
            tree.commit,
            &tree.fingerprint[..16.min(tree.fingerprint.len())]
        );
    }
    let _ = writeln!(s, "\n## Totals\n");
    let _ = writeln!(s, "| | |\n|---|---|");
    for (what, n) in [
        ("builds", t.builds),
        ("compiled", t.compiled),
        ("failed", t.failed),
        ("warnings printed", t.warnings),
        (
            "vnetgen builds printing more warnings than their stock build",
            t.new_warnings,
        ),
        ("kld-tied identical to stock", t.identical),
        ("kld-tied differing from stock", t.differ),
        (
            "kld-tied or vimage-runtime not checked (no build)",
            t.checks_not_made,
        ),
        (
            "vimage-runtime predicted to load (per kernel)",
            t.predicted_loads,
        ),
        (
            "vimage-runtime predicted to load where the stock build does (the recorded kernel lacks options both need)",
            t.predicted_loads_as_stock,
        ),
        (
            "vimage-runtime predicted not to load",
            t.predicted_wont_load,
        ),
        (
            "vimage-runtime not loading for a known limit (the module's own #ifdef VIMAGE)",
            t.known_limits,
        ),
        ("vimage-runtime: no kernel recorded", t.no_kernel_recorded),
        (
            "stock fingerprints matching the facts",
            t.fingerprints_match,
        ),
        (
            "stock fingerprints differing from the facts",
            t.fingerprints_differ,
        ),
        (
            "stock fingerprints not recorded",
            t.fingerprints_not_recorded,
        ),
        ("dual modules joined (amd64, i386, aarch64)", t.dual_joined),
        ("dual modules not joined", t.dual_failed),
        ("dual predicted to load (per kernel)", t.dual_loads),
        (
            "dual predicted to load where the stock build does",
            t.dual_loads_as_stock,
        ),
        ("dual predicted not to load", t.dual_wont_load),
        (
            "dual not loading for a known limit",
            t.dual_known_limits,
        ),
        ("dual: no kernel recorded", t.dual_no_kernel_recorded),
    ] {
        let _ = writeln!(s, "| {what} | {n} |");
    }
    let _ = writeln!(
        s,
        "\nBuilds: `stock-*` with FreeBSD's headers (`tied`: `MODULE_TIED=yes`; \
         `novimage`: opt_global.h without VIMAGE); `kld-tied-*` the tied builds through \
         Makefile.inc (VNETGEN_VARIANT=kld-tied), compared with `stock-tied-*` (sections, \
         symbols, relocations of the `.ko` and every `.o`), and `kld-untied-*` the untied \
         ones, compared with `stock-*`; `vimage-runtime` untied through \
         Makefile.inc, predicted by `vnetgen inspect` on the recorded real kernels \
         (V: VIMAGE, N: without), with the symbols the other modules export; \
         \"loads as stock\": the recorded kernel refuses it only for symbols the stock \
         build for that kind of kernel needs too (options the small recorded kernel \
         lacks, such as INET6 or MAC), so it loads wherever the stock build does; \
         `dual` (amd64, i386, aarch64) the two `kld-untied-*` builds joined into one module \
         (`vnetgen dual`), predicted the same way."
    );

    let mut groups: BTreeMap<(&str, &str), Vec<&Row>> = BTreeMap::new();
    for row in &r.rows {
        groups
            .entry((&row.release, &row.arch))
            .or_default()
            .push(row);
    }
    // Trees and architectures in the order they were asked for.
    let order: Vec<(&str, &str)> = r
        .trees
        .iter()
        .flat_map(|t| {
            r.archs
                .iter()
                .map(move |a| (t.release.as_str(), a.as_str()))
        })
        .collect();
    for (release, arch) in order {
        let Some(rows) = groups.get(&(release, arch)) else {
            continue;
        };
        let _ = writeln!(s, "\n## {release} {arch}\n");
        let mut header = "| module |".to_string();
        let mut rule = "|---|".to_string();
        let columns: Vec<BuildKind> = BuildKind::columns()
            .filter(|k| rows.iter().any(|row| row.build == *k))
            .collect();
        for k in &columns {
            let _ = write!(header, " {} |", k.name());
            rule.push_str("---|");
        }
        let _ = writeln!(s, "{header}\n{rule}");
        let mut by_module: BTreeMap<&str, BTreeMap<BuildKind, &Row>> = BTreeMap::new();
        for row in rows {
            by_module
                .entry(&row.module)
                .or_default()
                .insert(row.build, row);
        }
        for module in &r.modules {
            let Some(cells) = by_module.get(module.as_str()) else {
                continue;
            };
            let mut line = format!("| {module} |");
            for k in &columns {
                let text = cells
                    .get(k)
                    .map_or_else(|| "—".to_string(), |row| cell(row));
                let _ = write!(line, " {text} |");
            }
            let _ = writeln!(s, "{line}");
        }
    }

    // The same first error in many builds is listed once.
    let mut errors: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    let mut findings = Vec::new();
    for row in &r.rows {
        let name = format!(
            "{} {} {} {}",
            row.release,
            row.arch,
            row.module,
            row.build.name()
        );
        if let Some(e) = &row.first_error {
            errors.entry(e).or_default().push(name.clone());
        }
        match &row.check {
            Check::Identity {
                difference: Some(d),
                ..
            } => findings.push(format!("- {name}: {d}")),
            Check::Prediction { vimage, novimage } => {
                for (k, v) in [("VIMAGE", vimage), ("non-VIMAGE", novimage)] {
                    match v {
                        Verdict::WontLoad { reason } => {
                            findings.push(format!("- {name}, {k} kernel: {reason}"));
                        }
                        Verdict::KnownLimit { construct, .. } => {
                            findings.push(format!("- {name}, {k} kernel: a limit: {construct}"));
                        }
                        _ => {}
                    }
                }
            }
            _ => {}
        }
        if row.recorded == Some(Recorded::Differs) {
            findings.push(format!("- {name}: fingerprint differs from the facts"));
        }
    }
    if !errors.is_empty() {
        let _ = writeln!(s, "\n## First errors\n");
        let _ = writeln!(
            s,
            "Each build's log and command are in its directory of the cache \
             (`build_dir` in report.json: `build.log`, `command`).\n"
        );
        for (error, builds) in &errors {
            let _ = writeln!(
                s,
                "- `{}` ({} build{}): {}",
                error.replace('`', "'"),
                builds.len(),
                plural(builds.len()),
                builds.join("; ")
            );
        }
    }
    if !findings.is_empty() {
        let _ = writeln!(s, "\n## Differences and predictions\n");
        for f in &findings {
            let _ = writeln!(s, "{f}");
        }
    }
    s
}

/// The JSON report.
pub fn json(r: &QualifyReport) -> String {
    let mut text = serde_json::to_string_pretty(r).unwrap_or_default();
    text.push('\n');
    text
}

/// Writes `report.md` and `report.json` under `out`, each only when its
/// text changed; returns the files written.
pub fn write(out: &Path, r: &QualifyReport) -> Result<Vec<String>, QualifyError> {
    std::fs::create_dir_all(out).map_err(io(out))?;
    let mut written = Vec::new();
    for (name, text) in [("report.md", markdown(r)), ("report.json", json(r))] {
        let path = out.join(name);
        if std::fs::read(&path).is_ok_and(|old| old == text.as_bytes()) {
            continue;
        }
        write_atomic(&path, text.as_bytes()).map_err(|e| QualifyError::Setup(e.to_string()))?;
        written.push(name.to_string());
    }
    Ok(written)
}
