//! An emulated run (`vnetgen kld`) against a real one, step by step: the
//! same steps, each passing or failing alike, and each `call` and `sysctl`
//! giving the same number.  Messages may differ (the emulator words its
//! own); outcomes may not.

use crate::kld::{StepOutcome, Transcript};

use super::plan::{ScenarioResult, Verdict};

fn describe(s: &StepOutcome) -> String {
    let state = if s.skipped {
        "skipped".to_string()
    } else if s.ok {
        match s.value {
            Some(v) => format!("ok, {v}"),
            None => "ok".to_string(),
        }
    } else {
        format!("failed: {}", s.text.lines().next().unwrap_or(""))
    };
    format!("line {} `{}`: {state}", s.line, s.command)
}

/// How the runs differ; empty when they agree (or the scenario does not
/// run on the real kernel).
pub fn differences(emulated: &Transcript, real: &ScenarioResult) -> Vec<String> {
    if matches!(real.verdict, Verdict::Skipped(_)) {
        return Vec::new();
    }
    let mut out = Vec::new();
    let n = emulated.steps.len().max(real.steps.len());
    for i in 0..n {
        match (emulated.steps.get(i), real.steps.get(i)) {
            (Some(e), Some(r)) => {
                let same = e.line == r.line
                    && e.skipped == r.skipped
                    && e.ok == r.ok
                    && (!e.ok || e.value.is_none() || r.value.is_none() || e.value == r.value);
                if !same {
                    out.push(format!(
                        "emulator: {}\n    real kernel: {}",
                        describe(e),
                        describe(r)
                    ));
                    break;
                }
            }
            (Some(e), None) => {
                out.push(format!(
                    "the real kernel stopped before {}: {}",
                    describe(e),
                    match &real.verdict {
                        Verdict::Failed { message, .. } => message.clone(),
                        _ => "no more steps".into(),
                    }
                ));
                break;
            }
            (None, Some(r)) => {
                out.push(format!(
                    "the emulator stopped before {}: {}",
                    describe(r),
                    emulated
                        .failure
                        .as_ref()
                        .map_or("no more steps".into(), |f| f.message.clone())
                ));
                break;
            }
            (None, None) => break,
        }
    }
    out
}
