//! The native measure: the probe loops of `vnet_probe` run natively in the
//! emulated kernel (`vnetgen kld run`, amd64 code on an x86-64 host), each
//! loop's call timed with the time-stamp counter.  Every build is run once
//! per round, side by side, and a build's ratio to the compiled-in build is
//! taken within each round, so drift of the machine's clock and load
//! between rounds cancels; the report gives the median ratio over the
//! rounds and its spread (lowest and highest).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::{BenchError, BenchOptions, ACCESSES};
use crate::kld::{self, RunOptions};
use crate::spec::variant::KernelConfig;
use crate::spec::Spec;

/// One build to time: its name in the report, the spec it was built with
/// (the accessor strategy), and the module.
pub struct Timed<'a> {
    pub name: String,
    pub spec: &'a Spec,
    pub ko: PathBuf,
}

/// Ticks per iteration of one build's loops, against the compiled-in build
/// of the same round.
#[derive(Debug, Clone, Serialize)]
pub struct NativeRow {
    pub kernel: KernelConfig,
    pub access: String,
    pub build: String,
    /// Median ticks per iteration over the rounds.
    pub ticks: f64,
    pub compiled_in_ticks: f64,
    /// The median ratio to the compiled-in build, and its first and third
    /// quartiles over the rounds.
    pub ratio: f64,
    pub ratio_low: f64,
    pub ratio_high: f64,
    pub rounds: usize,
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => 0.0,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

/// Ticks per iteration of each access's loop, in one run of the scenario.
fn one_run(
    options: &BenchOptions,
    spec: &Spec,
    kernel: KernelConfig,
    ko: &Path,
    iterations: u64,
) -> Result<BTreeMap<String, f64>, BenchError> {
    let mut vars = BTreeMap::new();
    vars.insert("kernel".to_string(), kernel.to_string());
    vars.insert("detect".to_string(), spec.detect.name().to_string());
    vars.insert("module".to_string(), ko.display().to_string());
    for (access, _) in ACCESSES {
        vars.insert(format!("n_{access}"), iterations.to_string());
    }
    let run = RunOptions {
        spec: spec.clone(),
        release: None,
        arch: None,
        cache: options.cache.clone(),
        sysroot: options.sysroot.clone(),
        timeout: std::time::Duration::from_secs(120),
        vars,
    };
    let transcript = kld::run_file(&options.probe.join("bench.kld"), &run)?;
    if let Some(f) = &transcript.failure {
        return Err(BenchError::Missing(format!(
            "the bench scenario failed on {}: line {}: {}",
            ko.display(),
            f.line,
            f.message
        )));
    }
    let mut out = BTreeMap::new();
    for (access, function) in ACCESSES {
        let looped = function.replacen("probe_", "probe_loop_", 1);
        let step = transcript
            .steps
            .iter()
            .find(|s| s.command.split_whitespace().nth(1) == Some(looped.as_str()));
        let Some(ticks) = step.and_then(|s| s.cycles) else {
            return Err(BenchError::Missing(format!(
                "no timed call of {looped} in the bench scenario"
            )));
        };
        out.insert(access.to_string(), ticks as f64 / iterations.max(1) as f64);
    }
    Ok(out)
}

/// Times `compiled_in` and every build of `others` on `kernel`, `rounds`
/// times, side by side.
pub fn measure(
    options: &BenchOptions,
    kernel: KernelConfig,
    compiled_in: &Timed<'_>,
    others: &[Timed<'_>],
    rounds: usize,
    iterations: u64,
) -> Result<Vec<NativeRow>, BenchError> {
    // (build, access) -> per-round ticks and ratios.
    let mut ticks: BTreeMap<(usize, String), Vec<f64>> = BTreeMap::new();
    let mut ratios: BTreeMap<(usize, String), Vec<f64>> = BTreeMap::new();
    let mut base_ticks: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for _ in 0..rounds {
        let base = one_run(
            options,
            compiled_in.spec,
            kernel,
            &compiled_in.ko,
            iterations,
        )?;
        for (access, t) in &base {
            base_ticks.entry(access.clone()).or_default().push(*t);
        }
        for (i, b) in others.iter().enumerate() {
            let run = one_run(options, b.spec, kernel, &b.ko, iterations)?;
            for (access, t) in run {
                let c = base.get(&access).copied().unwrap_or(0.0);
                ratios
                    .entry((i, access.clone()))
                    .or_default()
                    .push(if c > 0.0 { t / c } else { 0.0 });
                ticks.entry((i, access)).or_default().push(t);
            }
        }
    }
    let mut rows = Vec::new();
    for (i, b) in others.iter().enumerate() {
        for (access, _) in ACCESSES {
            let key = (i, access.to_string());
            let mut r = ratios.remove(&key).unwrap_or_default();
            let mut t = ticks.remove(&key).unwrap_or_default();
            let mut c = base_ticks.get(access).cloned().unwrap_or_default();
            r.sort_by(f64::total_cmp);
            let quartile = |q: usize| r.get(r.len() * q / 4).copied().unwrap_or(0.0);
            let (low, high) = (quartile(1), quartile(3));
            rows.push(NativeRow {
                kernel,
                access: access.to_string(),
                build: b.name.clone(),
                ticks: median(&mut t),
                compiled_in_ticks: median(&mut c),
                ratio: median(&mut r),
                ratio_low: low,
                ratio_high: high,
                rounds,
            });
        }
    }
    Ok(rows)
}
