//! From scenarios to the guest's plan, and from the console back to each
//! step's outcome.
//!
//! A real kernel cannot call a module's function, so `call FUNC ARGS...`
//! reads the sysctl `debug.FUNC` with the arguments as its new value (an
//! array of longs): the test modules export such a handler per function
//! (`tests/kmods`, `tests/kld/kmods`).  `vnet create` is a vnet jail,
//! `vnet=N` runs the step in the jail of vnet N, `cpu=C` pins it to CPU C.
//! `kernel`, `cpus`, `expect-output` and `expect-load-error` are the
//! host's: it reads the kernel's console lines around each step.
//!
//! Each scenario ends with a clean-up (its vnets destroyed, its modules
//! unloaded), so that the scenarios of one boot do not see each other.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::kld::layout::errno_text;
use crate::kld::scenario::{Command, IfAction, Scenario, Step};
use crate::kld::StepOutcome;
use crate::spec::variant::KernelConfig;

/// The marker of the init's lines.
pub const MARKER: &str = "@@VNETGEN";

/// A module as the guest sees it.
#[derive(Debug, Clone)]
pub struct GuestModule {
    /// Its file name (`vnet_full.ko`): what kldunload finds it by.
    pub name: String,
    /// Its path in the root image.
    pub path: String,
    pub bytes: Vec<u8>,
}

/// A scenario ready to run on one kernel.
#[derive(Debug, Clone)]
pub struct Planned {
    /// Its number in the plan.
    pub id: usize,
    pub scenario: Scenario,
    /// Why it does not run on this kernel, if it does not.
    pub skip: Option<String>,
    /// The modules of each `load` step (by step index), or why there are none.
    pub modules: BTreeMap<usize, Vec<Result<GuestModule, String>>>,
}

impl Planned {
    /// The modules of its `preload` steps: the loader loads them with the
    /// kernel, and the scenario runs in a boot of its own.
    pub fn preloads(&self) -> Vec<&GuestModule> {
        self.scenario
            .steps
            .iter()
            .enumerate()
            .filter(|(_, s)| matches!(s.command, Command::Preload(_)))
            .flat_map(|(i, _)| self.modules.get(&i).into_iter().flatten())
            .filter_map(|m| m.as_ref().ok())
            .collect()
    }
}

fn applies(step: &Step, config: KernelConfig) -> bool {
    step.only_on.map_or(true, |k| k == config)
}

/// The jail of vnet `n` of scenario `id`.
pub fn jail_name(id: usize, n: u32) -> String {
    format!("vg{id}n{n}")
}

/// The sysctl a `call FUNC` reads.
pub fn call_sysctl(function: &str) -> String {
    format!("debug.{function}")
}

fn next_expects_error(steps: &[Step], i: usize, config: KernelConfig) -> bool {
    steps[i + 1..]
        .iter()
        .find(|s| applies(s, config))
        .is_some_and(|s| matches!(s.command, Command::ExpectLoadError { .. }))
}

fn options(vnet: Option<u32>, cpu: Option<u32>, id: usize) -> String {
    let mut s = String::new();
    if let Some(n) = vnet.filter(|&n| n != 0) {
        let _ = write!(s, " jail={}", jail_name(id, n));
    }
    if let Some(c) = cpu {
        let _ = write!(s, " cpu={c}");
    }
    s
}

/// The plan lines of one scenario, its clean-up included.
pub fn plan_lines(p: &Planned, config: KernelConfig) -> String {
    let id = p.id;
    let mut out = format!("begin {id}\n");
    let mut loaded: Vec<String> = Vec::new();
    let mut ever_loaded: Vec<String> = Vec::new();
    let mut vnets = 0u32;
    let mut created: Vec<String> = Vec::new();
    let steps = &p.scenario.steps;
    'steps: for (i, step) in steps.iter().enumerate() {
        if !applies(step, config) {
            continue;
        }
        let sid = format!("{id}.{}", step.line);
        match &step.command {
            Command::Kernel { .. }
            | Command::Cpus(_)
            | Command::ExpectLoadError { .. }
            | Command::ExpectOutput(_) => {}
            // Loaded with the kernel: the guest finds each, by its name.
            Command::Preload(_) => {
                for module in p.modules.get(&i).into_iter().flatten() {
                    match module {
                        Ok(m) => {
                            let _ = writeln!(out, "step {sid} kldfind {} want=ok", m.name);
                            ever_loaded.push(m.name.clone());
                            loaded.push(m.name.clone());
                        }
                        Err(_) => break 'steps,
                    }
                }
            }
            Command::Load(_) => {
                let expect_error = next_expects_error(steps, i, config);
                let want = if expect_error { "any" } else { "ok" };
                for module in p.modules.get(&i).into_iter().flatten() {
                    match module {
                        Ok(m) => {
                            let _ = writeln!(out, "step {sid} kldload {} want={want}", m.path);
                            if !ever_loaded.contains(&m.name) {
                                ever_loaded.push(m.name.clone());
                            }
                            if !expect_error {
                                loaded.push(m.name.clone());
                            }
                        }
                        // The host knows this one fails.
                        Err(_) if expect_error => break,
                        Err(_) => break 'steps,
                    }
                }
            }
            Command::VnetCreate => {
                vnets += 1;
                let _ = writeln!(
                    out,
                    "step {sid} vnet-create {} want=ok",
                    jail_name(id, vnets)
                );
            }
            Command::VnetDestroy(n) => {
                let _ = writeln!(out, "step {sid} vnet-destroy {} want=ok", jail_name(id, *n));
            }
            Command::Call {
                function,
                args,
                vnet,
                cpu,
                expect,
            } => {
                let shown: Vec<String> = args.iter().map(i64::to_string).collect();
                let want = expect.map_or("ok".to_string(), |e| e.to_string());
                let _ = writeln!(
                    out,
                    "step {sid} call {}{}{} want={want}",
                    call_sysctl(function),
                    shown.iter().map(|a| format!(" {a}")).collect::<String>(),
                    options(*vnet, *cpu, id)
                );
            }
            Command::Sysctl {
                name,
                set,
                vnet,
                cpu,
                expect,
            } => {
                let want = expect.map_or("ok".to_string(), |e| e.to_string());
                let new = set.map(|v| format!(" new={v}")).unwrap_or_default();
                let _ = writeln!(
                    out,
                    "step {sid} sysctl {name}{new}{} want={want}",
                    options(*vnet, *cpu, id)
                );
            }
            Command::Ifconfig {
                interface,
                action,
                vnet,
                expect,
                errno,
            } => {
                let want = match (errno, expect) {
                    (Some(e), _) => format!("errno:{e}"),
                    (None, Some(v)) => v.to_string(),
                    (None, None) => "ok".to_string(),
                };
                let words = action.plan_words(|n| jail_name(id, n));
                let _ = writeln!(
                    out,
                    "step {sid} ifconfig {interface} {words}{} want={want}",
                    options(*vnet, None, id)
                );
                // Made in the host: destroyed in the clean-up (made in a
                // vnet: gone with it).
                if *action == IfAction::Create
                    && vnet.map_or(true, |n| n == 0)
                    && !created.contains(interface)
                {
                    created.push(interface.clone());
                }
            }
            Command::Unload(which) => {
                let names: Vec<String> = match which {
                    Some(w) => {
                        let stem = w.trim_end_matches(".ko");
                        loaded
                            .iter()
                            .filter(|n| n.trim_end_matches(".ko") == stem)
                            .cloned()
                            .collect()
                    }
                    None => loaded.iter().rev().cloned().collect(),
                };
                if names.is_empty() {
                    break 'steps;
                }
                for n in &names {
                    let _ = writeln!(out, "step {sid} kldunload {n} want=ok");
                }
                loaded.retain(|l| !names.contains(l));
            }
        }
    }
    let _ = writeln!(out, "cleanup {id}");
    let mut k = 0;
    for n in (1..=vnets).rev() {
        k += 1;
        let _ = writeln!(
            out,
            "step {id}.c{k} vnet-destroy {} want=any",
            jail_name(id, n)
        );
    }
    // After the vnets, whose destruction sends moved interfaces home, and
    // before the modules, whose cloners they may be.
    for name in created.iter().rev() {
        k += 1;
        let _ = writeln!(out, "step {id}.c{k} ifconfig {name} destroy want=any");
    }
    for name in ever_loaded.iter().rev() {
        k += 1;
        let _ = writeln!(out, "step {id}.c{k} kldunload {name} want=any");
    }
    let _ = writeln!(out, "end {id}");
    out
}

/// One line of the init, split into its words and `key=value` fields.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InitLine {
    pub words: Vec<String>,
    pub fields: BTreeMap<String, String>,
}

impl InitLine {
    pub fn parse(text: &str) -> InitLine {
        let mut line = InitLine::default();
        for word in text.split_whitespace() {
            match word.split_once('=') {
                Some((k, v)) if !line.fields.contains_key(k) => {
                    line.fields.insert(k.to_string(), unescape(v));
                }
                Some(_) => {}
                None => line.words.push(word.to_string()),
            }
        }
        line
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.fields.get(key).map(String::as_str)
    }

    pub fn int(&self, key: &str) -> Option<i64> {
        self.get(key)?.parse().ok()
    }
}

/// `\xHH` escapes back to bytes.
fn unescape(v: &str) -> String {
    let mut out = Vec::new();
    let b = v.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 4 <= b.len() && b[i + 1] == b'x' {
            if let Some(byte) = std::str::from_utf8(&b[i + 2..i + 4])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                out.push(byte);
                i += 4;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    let s = String::from_utf8_lossy(&out).into_owned();
    if s == "\0" {
        String::new()
    } else {
        s
    }
}

/// A console line: the kernel's, or the init's.
#[derive(Debug, Clone)]
pub enum Entry {
    Kernel(String),
    Init(InitLine),
}

/// The length an init line ends with (` #N`), and the line without it.
fn length_mark(text: &str) -> Option<(&str, usize)> {
    let (body, n) = text.rsplit_once(" #")?;
    Some((body, n.trim_end().parse().ok()?))
}

/// How many console lines after a cut init line may hold its rest.
const MEND_WINDOW: usize = 8;

/// The console split into the init's lines and the kernel's.  A kernel
/// message that landed inside an init line (the kernel prints around the
/// tty's output) is told by the line's length mark and moved out of it.
pub fn entries(lines: &[String]) -> Vec<Entry> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = &lines[i];
        i += 1;
        let Some(at) = line.find(MARKER) else {
            out.push(Entry::Kernel(line.clone()));
            continue;
        };
        let before = line[..at].trim_end();
        if !before.is_empty() {
            out.push(Entry::Kernel(before.to_string()));
        }
        let body = line[at + MARKER.len()..].strip_prefix(' ').unwrap_or("");
        match length_mark(body) {
            Some((text, n)) if text.len() == n => {
                out.push(Entry::Init(InitLine::parse(text)));
            }
            Some(_) | None => {
                // Cut by kernel messages (a taskqueue's, printed while the
                // line was going out): the first ended the line, any others
                // are whole lines, and the rest of ours follows them, its
                // length saying where the cut was.
                let mended = (i..lines.len().min(i + MEND_WINDOW)).find_map(|at| {
                    let next = &lines[at];
                    if next.contains(MARKER) {
                        return None;
                    }
                    let (rest, n) = length_mark(next)?;
                    let keep = n.checked_sub(rest.len())?;
                    let head = body.get(..keep)?;
                    Some((at, format!("{head}{rest}"), body[keep..].to_string()))
                });
                match mended {
                    Some((at, text, kernel)) => {
                        if !kernel.trim().is_empty() {
                            out.push(Entry::Kernel(kernel));
                        }
                        out.extend(lines[i..at].iter().cloned().map(Entry::Kernel));
                        i = at + 1;
                        out.push(Entry::Init(InitLine::parse(&text)));
                    }
                    // Not mendable: what is there is all there is.
                    None => out.push(Entry::Init(InitLine::parse(
                        length_mark(body).map_or(body, |(t, _)| t),
                    ))),
                }
            }
        }
    }
    out
}

/// What the console says of one scenario.
#[derive(Debug, Clone, Default)]
pub struct ScenarioLog {
    /// The entries between `begin` and `cleanup` (or the end of the console).
    pub entries: Vec<Entry>,
    /// The entries of the clean-up.
    pub cleanup: Vec<Entry>,
    pub begun: bool,
    /// The guest printed `end`: the scenario ran to its end.
    pub ended: bool,
}

/// The log of each scenario, by id.
pub fn scenario_logs(entries: &[Entry]) -> BTreeMap<usize, ScenarioLog> {
    let mut logs: BTreeMap<usize, ScenarioLog> = BTreeMap::new();
    let mut current: Option<(usize, bool)> = None;
    for e in entries {
        if let Entry::Init(l) = e {
            let id = |k: &str| l.get(k).and_then(|v| v.parse::<usize>().ok());
            if let Some(n) = id("begin") {
                logs.entry(n).or_default().begun = true;
                current = Some((n, false));
                continue;
            }
            if let Some(n) = id("cleanup") {
                current = Some((n, true));
                continue;
            }
            if let Some(n) = id("end") {
                logs.entry(n).or_default().ended = true;
                current = None;
                continue;
            }
        }
        if let Some((n, cleanup)) = current {
            let log = logs.entry(n).or_default();
            if cleanup {
                log.cleanup.push(e.clone());
            } else {
                log.entries.push(e.clone());
            }
        }
    }
    logs
}

/// The result of a scenario on a real kernel.
#[derive(Debug, Clone)]
pub struct ScenarioResult {
    pub name: String,
    pub verdict: Verdict,
    /// Each step, in order, up to the first failure.
    pub steps: Vec<StepOutcome>,
    /// The kernel's console lines during the scenario.
    pub console: Vec<String>,
    /// Problems of the clean-up, which later scenarios of the boot may see.
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Passed,
    /// The first failing step: its line, its command, and why.
    Failed {
        line: usize,
        command: String,
        message: String,
    },
    /// The scenario does not apply to this kernel.
    Skipped(String),
}

impl ScenarioResult {
    pub fn passed(&self) -> bool {
        matches!(self.verdict, Verdict::Passed)
    }
}

/// Why the guest stopped before a step, when it did.
#[derive(Debug, Clone)]
pub struct Death {
    pub message: String,
    /// The last console lines.
    pub tail: Vec<String>,
}

struct Cursor<'a> {
    entries: &'a [Entry],
    at: usize,
    console: Vec<String>,
}

impl<'a> Cursor<'a> {
    /// The next init line of step `sid`, with the kernel lines before it;
    /// `None` when the next init line is another step's (or there is none).
    fn take(&mut self, sid: &str) -> Option<(Vec<String>, &'a InitLine)> {
        let mut kernel = Vec::new();
        let mut i = self.at;
        while let Some(e) = self.entries.get(i) {
            match e {
                Entry::Kernel(k) => kernel.push(k.clone()),
                Entry::Init(l) if l.get("step") == Some(sid) => {
                    self.at = i + 1;
                    self.console.extend(kernel.iter().cloned());
                    return Some((kernel, l));
                }
                Entry::Init(l) if l.get("skip").is_some() => {}
                Entry::Init(_) => return None,
            }
            i += 1;
        }
        None
    }
}

fn failed_line(l: &InitLine) -> String {
    let errno = l.int("errno").unwrap_or(0) as i32;
    let mut s = format!("errno {}", errno_text(errno));
    if let Some(m) = l.get("errmsg").filter(|m| !m.is_empty()) {
        let _ = write!(s, ": {m}");
    }
    if let Some(p) = l.get("phase") {
        let _ = write!(s, " (in {p})");
    }
    s
}

/// Each step's outcome, from the console of one boot.
pub fn evaluate(
    p: &Planned,
    log: &ScenarioLog,
    config: KernelConfig,
    kernel_text: &str,
    death: Option<&Death>,
) -> ScenarioResult {
    let mut cursor = Cursor {
        entries: &log.entries,
        at: 0,
        console: Vec::new(),
    };
    let mut steps = Vec::new();
    let mut failure = None;
    let mut last_load_error: Option<(String, i32)> = None;
    let mut loaded = 0usize;
    let mut vnets = 0u32;
    let all = &p.scenario.steps;
    for (i, step) in all.iter().enumerate() {
        let mut outcome = StepOutcome {
            line: step.line,
            command: step.text.clone(),
            ok: true,
            text: String::new(),
            value: None,
            skipped: false,
            console: String::new(),
            cycles: None,
        };
        if !applies(step, config) {
            outcome.skipped = true;
            outcome.text = format!(
                "skipped: {} kernels only",
                step.only_on.map_or("", |k| k.name())
            );
            steps.push(outcome);
            continue;
        }
        let sid = format!("{}.{}", p.id, step.line);
        let missing = |what: &str| match death {
            Some(d) => d.message.clone(),
            None => format!("the guest gave no line for {what}"),
        };
        let mut console = Vec::new();
        let result: Result<String, String> = match &step.command {
            Command::Kernel { .. } => Ok(kernel_text.to_string()),
            Command::Cpus(n) => Ok(format!("{n} CPUs")),
            Command::ExpectOutput(text) => {
                // The kernel's lines up to the last step run: those after
                // it belong to the next step.
                let so_far = cursor.console.join("\n");
                if so_far.contains(text.as_str()) {
                    Ok("as expected".into())
                } else {
                    Err(format!(
                        "the console output does not contain `{text}`; it is:\n{so_far}"
                    ))
                }
            }
            Command::ExpectLoadError { text, errno } => match last_load_error.take() {
                Some((e, n)) if errno.is_some_and(|want| want != n) => Err(format!(
                    "the load failed with {}, not {}: {e}",
                    errno_text(n),
                    errno_text(errno.unwrap_or(0))
                )),
                Some((e, _)) if e.contains(text.as_str()) => Ok("as expected".into()),
                Some((e, _)) => Err(format!(
                    "the load failed with `{e}`, which does not contain `{text}`"
                )),
                None => Err(format!(
                    "expected the preceding load to fail with `{text}`, but it succeeded"
                )),
            },
            Command::Preload(_) => {
                let mut done = Vec::new();
                let mut result = Ok(());
                for module in p.modules.get(&i).into_iter().flatten() {
                    let m = match module {
                        Ok(m) => m,
                        Err(e) => {
                            result = Err(e.clone());
                            break;
                        }
                    };
                    let Some((kernel, l)) = cursor.take(&sid) else {
                        result = Err(missing(&format!("kldfind {}", m.name)));
                        break;
                    };
                    console.extend(kernel.iter().cloned());
                    if l.int("rc").unwrap_or(-1) >= 0 {
                        loaded += 1;
                        done.push(format!(
                            "preloaded {} (file id {})",
                            m.name,
                            l.int("rc").unwrap_or(0)
                        ));
                    } else {
                        let errno = l.int("errno").unwrap_or(0) as i32;
                        result = Err(format!(
                            "{} is not loaded: the loader did not load it, or the kernel \
                             refused it (kldfind: {}); the boot's console says why",
                            m.name,
                            errno_text(errno)
                        ));
                        break;
                    }
                }
                result.map(|()| done.join("; "))
            }
            Command::Load(_) => {
                let expect_error = next_expects_error(all, i, config);
                last_load_error = None;
                let mut done = Vec::new();
                let mut result = Ok(());
                for module in p.modules.get(&i).into_iter().flatten() {
                    let m = match module {
                        Ok(m) => m,
                        Err(e) => {
                            result = Err((e.clone(), crate::kld::layout::ENOENT));
                            break;
                        }
                    };
                    let Some((kernel, l)) = cursor.take(&sid) else {
                        result = Err((missing(&format!("kldload {}", m.name)), 0));
                        break;
                    };
                    console.extend(kernel.iter().cloned());
                    if l.int("rc").unwrap_or(-1) >= 0 {
                        loaded += 1;
                        done.push(format!(
                            "loaded {} (file id {})",
                            m.name,
                            l.int("rc").unwrap_or(0)
                        ));
                    } else {
                        let errno = l.int("errno").unwrap_or(0) as i32;
                        let mut message = kernel.join("; ");
                        if !message.is_empty() {
                            message.push_str("; ");
                        }
                        let _ = write!(message, "kldload {}: {}", m.name, errno_text(errno));
                        result = Err((message, errno));
                        break;
                    }
                }
                match result {
                    Ok(()) => Ok(done.join("; ")),
                    Err((message, errno)) if expect_error && errno != 0 => {
                        last_load_error = Some((message.clone(), errno));
                        Ok(format!("load failed: {message}"))
                    }
                    Err((message, _)) => Err(format!("load failed: {message}")),
                }
            }
            Command::VnetCreate => {
                vnets += 1;
                match cursor.take(&sid) {
                    Some((kernel, l)) => {
                        console = kernel;
                        if l.int("rc").unwrap_or(-1) >= 0 {
                            Ok(format!("vnet {vnets} (jail {})", l.int("rc").unwrap_or(0)))
                        } else {
                            Err(format!("vnet create: {}", failed_line(l)))
                        }
                    }
                    None => Err(missing("vnet create")),
                }
            }
            Command::VnetDestroy(n) => match cursor.take(&sid) {
                Some((kernel, l)) => {
                    console = kernel;
                    if l.int("rc").unwrap_or(-1) >= 0 {
                        Ok(format!("destroyed vnet {n}"))
                    } else {
                        Err(format!("vnet destroy {n}: {}", failed_line(l)))
                    }
                }
                None => Err(missing("vnet destroy")),
            },
            Command::Call {
                function,
                args,
                expect,
                ..
            } => match cursor.take(&sid) {
                Some((kernel, l)) => {
                    console = kernel;
                    let shown: Vec<String> = args.iter().map(i64::to_string).collect();
                    let call = format!("{function}({})", shown.join(", "));
                    match (l.int("rc").unwrap_or(-1) >= 0, l.int("value")) {
                        (true, Some(v)) => {
                            outcome.value = Some(v);
                            match expect {
                                Some(e) if *e != v => {
                                    Err(format!("{call} = {v}: expected {e}, got {v}"))
                                }
                                _ => Ok(format!("{call} = {v}")),
                            }
                        }
                        (true, None) => Err(format!(
                            "{call}: sysctl {} gave no long",
                            call_sysctl(function)
                        )),
                        (false, _) => Err(format!(
                            "{call}: sysctl {}: {}",
                            call_sysctl(function),
                            failed_line(l)
                        )),
                    }
                }
                None => Err(missing("call")),
            },
            Command::Sysctl {
                name, set, expect, ..
            } => match cursor.take(&sid) {
                Some((kernel, l)) => {
                    console = kernel;
                    if l.int("rc").unwrap_or(-1) < 0 {
                        Err(format!("sysctl {name}: {}", failed_line(l)))
                    } else {
                        let shown = l.get("value").unwrap_or("?").to_string();
                        let text = match set {
                            Some(v) => format!("{name}: {v} written, reads {shown}"),
                            None => format!("{name} = {shown}"),
                        };
                        let value = l.int("value");
                        outcome.value = value;
                        match (expect, value) {
                            (Some(e), Some(v)) if *e != v => {
                                Err(format!("{text}: expected {e}, got {v}"))
                            }
                            (Some(e), None) => Err(format!("{text}: expected {e}, got no number")),
                            _ => Ok(text),
                        }
                    }
                }
                None => Err(missing("sysctl")),
            },
            Command::Ifconfig {
                interface,
                expect,
                errno,
                ..
            } => match cursor.take(&sid) {
                Some((kernel, l)) => {
                    console = kernel;
                    // The step as written: the plan's words name jails.
                    let what = &step.text;
                    let failed = l.int("rc").unwrap_or(-1) < 0;
                    let got = l.int("errno").unwrap_or(0) as i32;
                    let value = l.int("value");
                    outcome.value = value;
                    match (failed, errno, expect) {
                        (true, Some(e), _) if *e == got => {
                            Ok(format!("{what}: {}, as expected", errno_text(got)))
                        }
                        (true, Some(e), _) => Err(format!(
                            "{what}: {}, expected {}",
                            failed_line(l),
                            errno_text(*e)
                        )),
                        (true, None, _) => Err(format!("{what}: {}", failed_line(l))),
                        (false, Some(e), _) => {
                            Err(format!("{what} succeeded: expected {}", errno_text(*e)))
                        }
                        (false, None, Some(e)) if value != Some(*e) => Err(format!(
                            "{what}: expected {e}, got {}",
                            value.map_or("no number".to_string(), |v| v.to_string())
                        )),
                        (false, None, _) => Ok(match (value, l.get("name")) {
                            (Some(v), _) => format!("{what} = {v}"),
                            (None, Some(n)) if n != interface => format!("{what}: {n}"),
                            (None, _) => format!("{what}: done"),
                        }),
                    }
                }
                None => Err(missing("ifconfig")),
            },
            Command::Unload(_) => {
                let mut done = Vec::new();
                let mut result = Ok(());
                if loaded == 0 {
                    result = Err("unload: nothing is loaded".to_string());
                }
                while result.is_ok() {
                    let Some((kernel, l)) = cursor.take(&sid) else {
                        if done.is_empty() {
                            result = Err(missing("kldunload"));
                        }
                        break;
                    };
                    console.extend(kernel);
                    let name = l.get("arg").unwrap_or("?").to_string();
                    if l.int("rc").unwrap_or(-1) >= 0 {
                        loaded = loaded.saturating_sub(1);
                        done.push(format!("unloaded {name}"));
                    } else {
                        result = Err(format!("kldunload {name}: {}", failed_line(l)));
                    }
                }
                result.map(|()| done.join("; "))
            }
        };
        outcome.console = console.join("\n");
        if let (Err(message), Some(d)) = (&result, death) {
            if *message == d.message || message.ends_with(&d.message) {
                outcome.console = d.tail.join("\n");
            }
        }
        match result {
            Ok(text) => {
                outcome.text = text;
                steps.push(outcome);
            }
            Err(message) => {
                outcome.ok = false;
                outcome.text = message.clone();
                steps.push(outcome);
                failure = Some(Verdict::Failed {
                    line: step.line,
                    command: step.text.clone(),
                    message,
                });
                break;
            }
        }
    }
    // Everything the kernel printed in the scenario, the rest included.
    let mut console: Vec<String> = Vec::new();
    for e in &log.entries {
        if let Entry::Kernel(k) = e {
            console.push(k.clone());
        }
    }
    let mut notes = Vec::new();
    for e in &log.cleanup {
        match e {
            Entry::Kernel(k) => console.push(k.clone()),
            Entry::Init(l) => {
                let errno = l.int("errno").unwrap_or(0) as i32;
                let harmless = errno == 0
                    || (l.get("phase") == Some("kldfind") && errno == crate::kld::layout::ENOENT)
                    || (l.get("phase") == Some("jail_get"))
                    // Destroyed by the scenario, or with its module.
                    || (l.get("op") == Some("ifconfig") && errno == crate::kld::layout::ENXIO);
                if !harmless {
                    notes.push(format!(
                        "clean-up: {} {}: {}",
                        l.get("op").unwrap_or("?"),
                        l.get("arg").unwrap_or("?"),
                        failed_line(l)
                    ));
                }
            }
        }
    }
    if log.begun && !log.ended && failure.is_none() {
        if let Some(d) = death {
            notes.push(format!("the kernel died in the clean-up: {}", d.message));
        }
    }
    ScenarioResult {
        name: p.scenario.name.clone(),
        verdict: failure.unwrap_or(Verdict::Passed),
        steps,
        console,
        notes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn scenario(text: &str) -> Scenario {
        crate::kld::scenario::parse("t.kld", text, Path::new("/s"), &BTreeMap::new())
            .expect("parses")
    }

    /// An init line as the init ends it, with its length.
    fn marked(line: &str) -> String {
        match line.strip_prefix("@@VNETGEN ") {
            Some(body) => format!("{line} #{}", body.len()),
            None => line.to_string(),
        }
    }

    #[test]
    fn a_kernel_message_inside_an_init_line_is_moved_out_of_it() {
        let whole =
            marked("@@VNETGEN step=17.6 op=kldunload arg=plain.ko rc=0 errno=0 want=ok ok=1");
        let (head, tail) = whole.split_at(16);
        let lines = vec![
            format!("{head}random: unblocking device."),
            tail.to_string(),
            marked("@@VNETGEN end=17"),
        ];
        let e = entries(&lines);
        assert!(
            matches!(&e[0], Entry::Kernel(k) if k == "random: unblocking device."),
            "{e:?}"
        );
        let Entry::Init(l) = &e[1] else {
            panic!("{e:?}")
        };
        assert_eq!(l.get("step"), Some("17.6"));
        assert_eq!(l.get("ok"), Some("1"));
        assert!(matches!(&e[2], Entry::Init(l) if l.get("end") == Some("17")));
    }

    #[test]
    fn an_init_line_cut_by_several_kernel_messages_is_mended() {
        let whole = marked(
            "@@VNETGEN step=1.11 op=ifconfig arg=epair0 action=create rc=0 errno=0 name=epair0a want=ok ok=1",
        );
        let (head, tail) = whole.split_at(20);
        let lines = vec![
            format!("{head}epair0a: link state changed to UP"),
            "epair0b: link state changed to UP".to_string(),
            tail.to_string(),
        ];
        let e = entries(&lines);
        let kernel: Vec<&str> = e
            .iter()
            .filter_map(|x| match x {
                Entry::Kernel(k) => Some(k.as_str()),
                Entry::Init(_) => None,
            })
            .collect();
        assert_eq!(
            kernel,
            [
                "epair0a: link state changed to UP",
                "epair0b: link state changed to UP"
            ]
        );
        let Some(Entry::Init(l)) = e.last() else {
            panic!("{e:?}")
        };
        assert_eq!(l.get("step"), Some("1.11"));
        assert_eq!(l.get("name"), Some("epair0a"));
        assert_eq!(l.int("rc"), Some(0));
    }

    fn module(name: &str) -> GuestModule {
        GuestModule {
            name: name.into(),
            path: format!("/m/0/{name}"),
            bytes: Vec::new(),
        }
    }

    #[test]
    fn a_scenario_becomes_plan_lines_with_guards_and_a_clean_up() {
        let s = scenario(
            "kernel vimage\nload a.ko\nvnet create\ncall f 1 2 vnet=1 cpu=1 expect=3\nsysctl x.y set=4 expect=4\nload b.ko\nexpect-load-error \"nope\"\nunload\n",
        );
        let p = Planned {
            id: 7,
            scenario: s,
            skip: None,
            modules: BTreeMap::from([(1, vec![Ok(module("a.ko"))]), (5, vec![Ok(module("b.ko"))])]),
        };
        assert_eq!(
            plan_lines(&p, KernelConfig::Vimage),
            "begin 7\n\
             step 7.2 kldload /m/0/a.ko want=ok\n\
             step 7.3 vnet-create vg7n1 want=ok\n\
             step 7.4 call debug.f 1 2 jail=vg7n1 cpu=1 want=3\n\
             step 7.5 sysctl x.y new=4 want=4\n\
             step 7.6 kldload /m/0/b.ko want=any\n\
             step 7.8 kldunload a.ko want=ok\n\
             cleanup 7\n\
             step 7.c1 vnet-destroy vg7n1 want=any\n\
             step 7.c2 kldunload b.ko want=any\n\
             step 7.c3 kldunload a.ko want=any\n\
             end 7\n"
        );
    }

    #[test]
    fn the_console_gives_each_step_its_outcome_and_kernel_lines() {
        let s = scenario(
            "kernel novimage\nload a.ko\nexpect-output \"hello\"\ncall f expect=5\nload b.ko\nexpect-load-error \"symbol x undefined\" errno=ENOEXEC\nsysctl k expect=1\n",
        );
        let p = Planned {
            id: 1,
            scenario: s,
            skip: None,
            modules: BTreeMap::from([(1, vec![Ok(module("a.ko"))]), (4, vec![Ok(module("b.ko"))])]),
        };
        let console: Vec<String> = [
            "@@VNETGEN begin=1",
            "a: hello",
            "@@VNETGEN step=1.2 op=kldload arg=/m/0/a.ko rc=2 errno=0 want=ok ok=1",
            "@@VNETGEN step=1.4 op=call arg=debug.f rc=0 errno=0 value=5 want=5 ok=1",
            "link_elf_obj: symbol x undefined",
            "@@VNETGEN step=1.5 op=kldload arg=/m/0/b.ko rc=-1 errno=8 want=any ok=1",
            "@@VNETGEN step=1.7 op=sysctl arg=k rc=0 errno=0 type=int value=2 want=1 ok=0",
            "@@VNETGEN skip=1",
            "@@VNETGEN cleanup=1",
            "@@VNETGEN step=1.c1 op=kldunload arg=b.ko phase=kldfind rc=-1 errno=2 want=any ok=1",
            "@@VNETGEN step=1.c2 op=kldunload arg=a.ko rc=-1 errno=16 fileid=2 want=any ok=0",
            "@@VNETGEN end=1",
        ]
        .iter()
        .map(|s| marked(s))
        .collect();
        let logs = scenario_logs(&entries(&console));
        let r = evaluate(&p, &logs[&1], KernelConfig::Novimage, "13.2", None);
        let outcomes: Vec<(usize, bool, Option<i64>)> =
            r.steps.iter().map(|s| (s.line, s.ok, s.value)).collect();
        assert_eq!(
            outcomes,
            [
                (1, true, None),
                (2, true, None),
                (3, true, None),
                (4, true, Some(5)),
                (5, true, None),
                (6, true, None),
                (7, false, Some(2))
            ]
        );
        assert!(r.steps[4]
            .text
            .contains("link_elf_obj: symbol x undefined; kldload b.ko: ENOEXEC (8)"));
        assert_eq!(
            r.verdict,
            Verdict::Failed {
                line: 7,
                command: "sysctl k expect=1".into(),
                message: "k = 2: expected 1, got 2".into()
            }
        );
        assert_eq!(r.notes, ["clean-up: kldunload a.ko: errno EBUSY (16)"]);
        assert_eq!(r.console, ["a: hello", "link_elf_obj: symbol x undefined"]);
    }

    #[test]
    fn ifconfig_steps_become_ioctl_lines_and_host_made_interfaces_are_destroyed() {
        let s = scenario(
            "kernel vimage\nvnet create\nifconfig bridge0 create\nifconfig bridge0 addm epair0a errno=EBUSY\nifconfig bridge0 vnet 1\nifconfig vlan5 vlan vnet=1 errno=EPERM\nifconfig vlan5 vlan 5 vlandev epair0b\nifconfig vlan5 vlan expect=5\nifconfig lo3 create vnet=1\nifconfig bridge0 -vnet 1\n",
        );
        let p = Planned {
            id: 3,
            scenario: s,
            skip: None,
            modules: BTreeMap::new(),
        };
        assert_eq!(
            plan_lines(&p, KernelConfig::Vimage),
            "begin 3\n\
             step 3.2 vnet-create vg3n1 want=ok\n\
             step 3.3 ifconfig bridge0 create want=ok\n\
             step 3.4 ifconfig bridge0 addm epair0a want=errno:16\n\
             step 3.5 ifconfig bridge0 vnet vg3n1 want=ok\n\
             step 3.6 ifconfig vlan5 getvlan jail=vg3n1 want=errno:1\n\
             step 3.7 ifconfig vlan5 vlan 5 vlandev epair0b want=ok\n\
             step 3.8 ifconfig vlan5 getvlan want=5\n\
             step 3.9 ifconfig lo3 create jail=vg3n1 want=ok\n\
             step 3.10 ifconfig bridge0 -vnet vg3n1 want=ok\n\
             cleanup 3\n\
             step 3.c1 vnet-destroy vg3n1 want=any\n\
             step 3.c2 ifconfig bridge0 destroy want=any\n\
             end 3\n"
        );
        let console: Vec<String> = [
            "@@VNETGEN begin=3",
            "@@VNETGEN step=3.2 op=vnet-create arg=vg3n1 rc=1 errno=0 want=ok ok=1",
            "@@VNETGEN step=3.3 op=ifconfig arg=bridge0 action=create rc=0 errno=0 name=bridge0 want=ok ok=1",
            "@@VNETGEN step=3.4 op=ifconfig arg=bridge0 action=addm rc=-1 errno=16 want=errno:16 ok=1",
            "@@VNETGEN step=3.5 op=ifconfig arg=bridge0 action=vnet rc=0 errno=0 want=ok ok=1",
            "@@VNETGEN step=3.6 op=ifconfig arg=vlan5 action=getvlan jail=vg3n1 rc=0 errno=0 value=5 want=errno:1 ok=0",
            "@@VNETGEN skip=3",
            "@@VNETGEN cleanup=3",
            "@@VNETGEN step=3.c1 op=vnet-destroy arg=vg3n1 rc=0 errno=0 jid=1 want=any ok=1",
            "@@VNETGEN step=3.c2 op=ifconfig arg=bridge0 action=destroy rc=-1 errno=6 want=any ok=1",
            "@@VNETGEN end=3",
        ]
        .iter()
        .map(|s| marked(s))
        .collect();
        let logs = scenario_logs(&entries(&console));
        let r = evaluate(&p, &logs[&3], KernelConfig::Vimage, "13.2", None);
        assert!(
            r.steps[3].ok && r.steps[3].text.contains("EBUSY (16), as expected"),
            "{:?}",
            r.steps[3]
        );
        assert_eq!(
            r.verdict,
            Verdict::Failed {
                line: 6,
                command: "ifconfig vlan5 vlan vnet=1 errno=EPERM".into(),
                message: "ifconfig vlan5 vlan vnet=1 errno=EPERM succeeded: expected EPERM (1)"
                    .into()
            }
        );
        // An interface the scenario destroyed, or its module did, is no news.
        assert!(r.notes.is_empty(), "{:?}", r.notes);
    }
}
