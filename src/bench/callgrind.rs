//! The executed measure: the probe loops of `vnet_probe` run in the
//! emulated kernel (`vnetgen kld run`) under `valgrind --tool=callgrind`.
//!
//! Module code is mapped by vnetgen's own loader, so valgrind has no symbols
//! for it; the cost of an access is taken by difference instead.  The bench
//! scenario calls every loop; it runs once with every loop at 0 iterations
//! and once per access with that loop at `iterations`.  The difference of
//! the instructions counted (parent and forked child together) over the
//! iterations is the cost of one iteration: the loop's own increment,
//! compare and branch, the call, the probe function with its one access,
//! and the return.  Instruction counts do not depend on the machine's load.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use super::{BenchError, BenchOptions, ACCESSES};
use crate::spec::variant::KernelConfig;
use crate::spec::Spec;

/// The scenario, with `$n_<access>` iterations for each loop.
const SCENARIO: &str = "bench.kld";

/// Instructions per iteration of each access's loop, by access name.
pub fn per_iteration(
    exe: &Path,
    options: &BenchOptions,
    spec: &Spec,
    kernel: KernelConfig,
    ko: &Path,
) -> Result<BTreeMap<String, f64>, BenchError> {
    let dir = tempfile::tempdir().map_err(|source| BenchError::Spawn {
        tool: "tempdir".into(),
        source,
    })?;
    let run = |active: Option<&str>, tag: &str| -> Result<u64, BenchError> {
        let out_file = dir.path().join(format!("cg.{tag}.%p"));
        let mut cmd = Command::new("valgrind");
        cmd.arg("--tool=callgrind")
            .arg(format!("--callgrind-out-file={}", out_file.display()))
            .arg(exe)
            .args(["kld", "run"])
            .arg(options.probe.join(SCENARIO))
            .args(["--timeout", "600"])
            .arg("--cache")
            .arg(&options.cache)
            .args(["--set", &format!("kernel={kernel}")])
            .args(["--set", &format!("detect={}", spec.detect.name())])
            .args(["--set", &format!("module={}", ko.display())]);
        for (access, _) in ACCESSES {
            let n = if Some(access) == active {
                options.iterations
            } else {
                0
            };
            cmd.args(["--set", &format!("n_{access}={n}")]);
        }
        let out = cmd.output().map_err(|source| BenchError::Spawn {
            tool: "valgrind".into(),
            source,
        })?;
        if !out.status.success() {
            return Err(BenchError::Tool {
                tool: "valgrind --tool=callgrind vnetgen kld run".into(),
                output: format!(
                    "{}{}",
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                ),
            });
        }
        total(dir.path(), &format!("cg.{tag}."))
    };
    let base = run(None, "base")?;
    let mut out = BTreeMap::new();
    for (access, _) in ACCESSES {
        let with = run(Some(access), access)?;
        let per = (with as f64 - base as f64) / options.iterations.max(1) as f64;
        out.insert(access.to_string(), (per * 100.0).round() / 100.0);
    }
    Ok(out)
}

/// The sum of the `totals:` lines of the callgrind files whose names start
/// with `prefix` (one per process).
fn total(dir: &Path, prefix: &str) -> Result<u64, BenchError> {
    let entries = std::fs::read_dir(dir).map_err(|source| BenchError::Spawn {
        tool: "callgrind output".into(),
        source,
    })?;
    let mut sum = 0;
    let mut files = 0;
    for e in entries.flatten() {
        if !e.file_name().to_string_lossy().starts_with(prefix) {
            continue;
        }
        let text = std::fs::read_to_string(e.path()).map_err(|source| BenchError::Spawn {
            tool: "callgrind output".into(),
            source,
        })?;
        let n = text
            .lines()
            .find_map(|l| {
                l.strip_prefix("totals:")
                    .or_else(|| l.strip_prefix("summary:"))
            })
            .and_then(|v| v.trim().parse::<u64>().ok())
            .ok_or_else(|| BenchError::Missing(format!("no totals in {}", e.path().display())))?;
        sum += n;
        files += 1;
    }
    if files == 0 {
        return Err(BenchError::Missing(format!(
            "callgrind wrote no {prefix}* file"
        )));
    }
    Ok(sum)
}
