//! The steps of a scenario, as the child runs them against the emulated
//! kernel: one [`Event`] per step, and on the first failed step, the end.

use std::collections::HashMap;
use std::sync::atomic::Ordering;

use crate::spec::variant::{Detect, KernelConfig};
use crate::spec::{Release, Spec, VnetCopyOrder};

use super::child::{emit, set_fault_table, Event, CURRENT};
use super::kernel::{self, try_console, with, Kernel, KernelOptions, VnetCopy};
use super::kpi::{self, call1};
use super::layout::{ModuleData, EINVAL, EOPNOTSUPP, MOD_QUIESCE, MOD_UNLOAD};
use super::scenario::{Command, Scenario, Step};
use super::{elf, link};

/// A module to load: its name, and its bytes or why there are none.
pub struct Prepared {
    pub name: String,
    pub bytes: Result<Vec<u8>, String>,
}

/// Why a step failed.
enum StepError {
    /// A load that failed, with kldload's errno: a following
    /// `expect-load-error` may expect it.
    Load(String, i32),
    Failed(String),
}

impl From<String> for StepError {
    fn from(s: String) -> Self {
        StepError::Failed(s)
    }
}

struct Runner<'a> {
    spec: &'a Spec,
    options: KernelOptions,
    booted: bool,
    last_load_error: Option<(String, i32)>,
    /// The number the last `call` or `sysctl` gave.
    last_value: Option<i64>,
    /// The ticks of the last `call`.
    last_cycles: Option<u64>,
    console: String,
}

/// The copy order a release's kernel linker uses.
pub fn copy_of_release(release: &Release) -> VnetCopy {
    match release.vnet_copy {
        VnetCopyOrder::BeforeRelocation => VnetCopy::BeforeRelocation,
        VnetCopyOrder::AfterRelocation => VnetCopy::AfterRelocation,
    }
}

fn applies(step: &Step, config: KernelConfig) -> bool {
    step.only_on.map_or(true, |k| k == config)
}

/// The files step `i` loads.  The loader loads every `preload` file before
/// the kernel runs any SYSINIT, so the first of consecutive `preload`
/// steps takes all of their files, and the others none.
fn step_loads<'a>(
    scenario: &Scenario,
    loads: &'a HashMap<usize, Vec<Prepared>>,
    i: usize,
) -> Vec<&'a Prepared> {
    let is_preload = |j: usize| {
        scenario
            .steps
            .get(j)
            .is_some_and(|s| matches!(s.command, Command::Preload(_)))
    };
    if !is_preload(i) {
        return loads.get(&i).into_iter().flatten().collect();
    }
    if i > 0 && is_preload(i - 1) {
        return Vec::new();
    }
    (i..)
        .take_while(|&j| is_preload(j))
        .flat_map(|j| loads.get(&j).into_iter().flatten())
        .collect()
}

/// The name and bytes of each file a step loads; a file that could not be
/// built or read fails the step as a kldload of a missing file does.
fn prepared_files<'a>(prepared: &[&'a Prepared]) -> Result<Vec<(&'a str, &'a [u8])>, StepError> {
    prepared
        .iter()
        .map(|p| match &p.bytes {
            Ok(bytes) => Ok((p.name.as_str(), bytes.as_slice())),
            Err(e) => Err(StepError::Load(e.clone(), super::layout::ENOENT)),
        })
        .collect()
}

/// Runs the scenario in this (child) process, on a kernel of `release`.
pub fn execute(
    spec: &Spec,
    release: &Release,
    loader: kernel::Loader,
    scenario: &Scenario,
    loads: &HashMap<usize, Vec<Prepared>>,
) {
    let Some(Command::Kernel {
        config,
        detect,
        vnet_copy,
        ..
    }) = scenario.steps.first().map(|s| s.command.clone())
    else {
        return;
    };
    let mut runner = Runner {
        spec,
        options: KernelOptions {
            config,
            detect: detect.unwrap_or(spec.detect),
            cpus: 2,
            vnet_copy: vnet_copy.unwrap_or_else(|| copy_of_release(release)),
            layout: super::abi::layout_for(release.freebsd_version),
            loader,
        },
        booted: false,
        last_load_error: None,
        last_value: None,
        last_cycles: None,
        console: String::new(),
    };
    for (i, step) in scenario.steps.iter().enumerate() {
        CURRENT.store(i, Ordering::SeqCst);
        if !applies(step, config) {
            emit(&Event {
                index: i,
                ok: true,
                text: format!(
                    "skipped: {} kernels only",
                    step.only_on.map_or("", |k| k.name())
                ),
                console: String::new(),
                value: None,
                skipped: true,
                cycles: None,
            });
            continue;
        }
        runner.last_value = None;
        runner.last_cycles = None;
        let mut result = runner.step(step, &step_loads(scenario, loads, i));
        if runner.booted {
            if let Err(e) = with(|k| k.pcpu_intact()) {
                result = Err(StepError::Failed(format!("panic: {e}")));
            }
        }
        let console = if runner.booted {
            try_console()
        } else {
            String::new()
        };
        runner.console.push_str(&console);
        let next_expects_error = scenario.steps[i + 1..]
            .iter()
            .find(|s| applies(s, config))
            .is_some_and(|s| matches!(s.command, Command::ExpectLoadError { .. }));
        let (ok, text) = match result {
            Ok(text) => (true, text),
            Err(StepError::Load(message, errno)) if next_expects_error => {
                runner.last_load_error = Some((message.clone(), errno));
                (true, format!("load failed: {message}"))
            }
            Err(StepError::Load(message, _)) => (false, format!("load failed: {message}")),
            Err(StepError::Failed(message)) => (false, message),
        };
        emit(&Event {
            index: i,
            ok,
            text,
            console,
            value: runner.last_value.take(),
            skipped: false,
            cycles: runner.last_cycles.take(),
        });
        if !ok {
            return;
        }
    }
}

impl Runner<'_> {
    fn boot(&mut self) -> Result<(), String> {
        if !self.booted {
            let k = Kernel::boot(self.spec, self.options, kpi::function)?;
            kernel::install(k);
            self.booted = true;
            with(|k| k.enter(0, k.vnet0()))?;
        }
        Ok(())
    }

    fn vnet_arg(&self, vnet: Option<u32>) -> Result<u64, String> {
        with(|k| match vnet {
            None => Ok(k.vnet0()),
            Some(0) if !k.vimage() => Ok(0),
            Some(n) if !k.vimage() => Err(format!("vnet={n}: this kernel has no VIMAGE")),
            Some(n) => k.vnet(n).ok_or_else(|| format!("vnet={n}: no such vnet")),
        })
    }

    fn step(&mut self, step: &Step, prepared: &[&Prepared]) -> Result<String, StepError> {
        match &step.command {
            Command::Kernel { config, .. } => Ok(format!(
                "{} kernel, detect={}, vnet-copy={}",
                config.name(),
                self.options.detect.name(),
                self.options.vnet_copy.name()
            )),
            Command::Cpus(n) => {
                if self.booted {
                    return Err("cpus must come before the kernel is used"
                        .to_string()
                        .into());
                }
                self.options.cpus = *n;
                Ok(format!("{n} CPUs"))
            }
            Command::Load(_) => {
                self.boot()?;
                self.last_load_error = None;
                let mut done = Vec::new();
                for (name, bytes) in prepared_files(prepared)? {
                    done.push(load(name, bytes).map_err(|(m, e)| StepError::Load(m, e))?);
                }
                Ok(done.join("; "))
            }
            Command::Preload(_) if prepared.is_empty() => {
                Ok("preloaded with the files above".to_string())
            }
            Command::Preload(_) => {
                self.boot()?;
                self.last_load_error = None;
                let files = prepared_files(prepared)?;
                let done = preload(&files).map_err(|(m, e)| StepError::Load(m, e))?;
                Ok(done.join("; "))
            }
            Command::ExpectLoadError { text, errno } => match self.last_load_error.take() {
                Some((e, n)) if errno.is_some_and(|want| want != n) => Err(format!(
                    "the load failed with {}, not {}: {e}",
                    super::layout::errno_text(n),
                    super::layout::errno_text(errno.unwrap_or(0))
                )
                .into()),
                Some((e, _)) if e.contains(text.as_str()) => Ok("as expected".into()),
                Some((e, _)) => Err(format!(
                    "the load failed with `{e}`, which does not contain `{text}`"
                )
                .into()),
                None => Err(format!(
                    "expected the preceding load to fail with `{text}`, but it succeeded"
                )
                .into()),
            },
            Command::ExpectOutput(text) => {
                if self.console.contains(text.as_str()) {
                    Ok("as expected".into())
                } else {
                    Err(format!(
                        "the console output does not contain `{text}`; it is:\n{}",
                        self.console
                    )
                    .into())
                }
            }
            Command::Ifconfig { .. } => Err("ifconfig: the emulator has no network stack; \
                 run the scenario on a real kernel (vnetgen vm run)"
                .to_string()
                .into()),
            Command::VnetCreate => {
                self.boot()?;
                let (number, vnet) = with(|k| k.create_vnet())?;
                // vnet_alloc: the constructors, in order, in the new vnet,
                // and only then onto the list.
                let constructors = with(|k| k.constructors.clone());
                run_each_in(&constructors, vnet);
                with(|k| k.list_vnet(number));
                Ok(format!("vnet {number}"))
            }
            Command::VnetDestroy(n) => {
                self.boot()?;
                let vnet = with(|k| {
                    if !k.vimage() {
                        return Err("vnet destroy: this kernel has no VIMAGE".to_string());
                    }
                    if *n == 0 {
                        return Err("vnet 0 is vnet0, which is never destroyed".to_string());
                    }
                    k.vnet(*n).ok_or_else(|| format!("vnet {n}: no such vnet"))
                })?;
                // vnet_destroy: unlisted, vnet_shutdown set, then the
                // destructors, last first.
                with(|k| k.unlist_vnet(*n));
                let mut destructors = with(|k| k.destructors.clone());
                destructors.reverse();
                run_each_in(&destructors, vnet);
                with(|k| k.drop_vnet(*n));
                let vnet0 = with(|k| k.vnet0());
                with(|k| k.set_curvnet(vnet0));
                Ok(format!("destroyed vnet {n}"))
            }
            Command::Call {
                function,
                args,
                vnet,
                cpu,
                expect,
            } => {
                self.boot()?;
                // A dual module's functions carry their side's prefix; the
                // one called is the side that runs on this kernel, as the
                // real kernels reach it (by the active side's sysctls).
                let side = format!(
                    "{}{function}",
                    crate::build::dual::side_prefix(with(|k| k.vimage()))
                );
                let addr = with(|k| {
                    k.files.iter().rev().find_map(|f| {
                        f.functions
                            .iter()
                            .find(|(n, _, _)| n == function || *n == side)
                            .map(|x| x.1)
                    })
                })
                .ok_or_else(|| format!("no function {function} in the loaded modules"))?;
                let vnet = self.vnet_arg(*vnet)?;
                let cpu = cpu.unwrap_or(0);
                with(|k| k.enter(cpu, vnet))?;
                let mut a = [0i64; 6];
                a[..args.len()].copy_from_slice(args);
                // SAFETY: a function of the module, called as long f(long...).
                let f: unsafe extern "C" fn(i64, i64, i64, i64, i64, i64) -> i64 =
                    unsafe { std::mem::transmute(addr as usize) };
                let started = time_stamp();
                let ret = unsafe { f(a[0], a[1], a[2], a[3], a[4], a[5]) };
                self.last_cycles = Some(time_stamp().saturating_sub(started));
                with(|k| k.enter(0, k.vnet0()))?;
                let shown: Vec<String> = args.iter().map(i64::to_string).collect();
                let text = format!("{function}({}) = {ret}", shown.join(", "));
                self.last_value = Some(ret);
                match expect {
                    Some(e) if *e != ret => Err(format!("{text}: expected {e}, got {ret}").into()),
                    _ => Ok(text),
                }
            }
            Command::Sysctl {
                name,
                set,
                vnet,
                cpu,
                expect,
            } => {
                self.boot()?;
                let vnet = self.vnet_arg(*vnet)?;
                let cpu = cpu.unwrap_or(0);
                let (value, shown) = if name == LEAK_LOCALS {
                    // The kernel linker's own tunable, a bool.
                    if let Some(v) = set {
                        with(|k| k.leak_locals = *v != 0);
                    }
                    let on = i64::from(with(|k| k.leak_locals));
                    (Some(on), on.to_string())
                } else {
                    if let Some(v) = set {
                        sysctl_request(name, vnet, cpu, Some(*v))?;
                    }
                    let (kind, bytes) = sysctl_request(name, vnet, cpu, None)?;
                    sysctl_value(kind, &bytes)
                };
                self.last_value = value;
                let text = match set {
                    Some(v) => format!("{name}: {v} written, reads {shown}"),
                    None => format!("{name} = {shown}"),
                };
                match (expect, value) {
                    (Some(e), Some(v)) if *e != v => {
                        Err(format!("{text}: expected {e}, got {v}").into())
                    }
                    (Some(e), None) => Err(format!("{text}: expected {e}, got no number").into()),
                    _ => Ok(text),
                }
            }
            Command::Unload(which) => {
                self.boot()?;
                let names: Vec<String> =
                    with(|k| k.files.iter().rev().map(|f| f.name.clone()).collect());
                let names: Vec<String> = match which {
                    None => names,
                    Some(w) => {
                        let stem = |n: &str| n.trim_end_matches(".ko").to_string();
                        let found: Vec<String> =
                            names.into_iter().filter(|n| stem(n) == stem(w)).collect();
                        if found.is_empty() {
                            return Err(format!("kldunload: can't find file {w}").into());
                        }
                        found
                    }
                };
                if names.is_empty() {
                    return Err("unload: nothing is loaded".to_string().into());
                }
                let mut done = Vec::new();
                for n in names {
                    done.push(unload(&n)?);
                }
                Ok(done.join("; "))
            }
        }
    }
}

/// One request to the handler of sysctl `name`, in `vnet` on `cpu`, as
/// `sysctl_root` makes it: with a new value to write (an integer of the
/// OID's type's width), or a read.  The OID's kind and the bytes it gave.
/// Whether another file's local and weak definitions link a module.
const LEAK_LOCALS: &str = "debug.link_elf_obj_leak_locals";

fn sysctl_request(
    name: &str,
    vnet: u64,
    cpu: u32,
    new: Option<i64>,
) -> Result<(u32, Vec<u8>), String> {
    use super::layout::*;
    let (oid, arg1, arg2, kind) =
        with(|k| k.sysctl_target(name, vnet)).ok_or_else(|| format!("no sysctl {name}"))?;
    if new.is_some() && kind & CTLFLAG_WR == 0 {
        // sysctl_root: a write to an OID without CTLFLAG_WR.
        return Err(format!(
            "sysctl {name}: error {}: it is read-only",
            errno_text(EPERM)
        ));
    }
    let handler =
        with(|k| k.sysctl_handler(oid)).ok_or_else(|| format!("sysctl {name} has no handler"))?;
    let new_bytes: Vec<u8> = match (new, kind & CTLTYPE) {
        (None, _) => Vec::new(),
        (Some(v), CTLTYPE_INT | CTLTYPE_UINT) => (v as i32).to_le_bytes().to_vec(),
        (Some(v), _) => v.to_le_bytes().to_vec(),
    };
    with(|k| k.enter(cpu, vnet))?;
    let thread = with(|k| k.thread);
    let mut req = SysctlReq {
        td: thread as *mut _,
        lock: 0,
        oldptr: std::ptr::null_mut(),
        oldlen: 0,
        oldidx: 0,
        oldfunc: Some(kpi::sysctl_old),
        newptr: if new.is_some() {
            new_bytes.as_ptr().cast()
        } else {
            std::ptr::null()
        },
        newlen: new_bytes.len(),
        newidx: 0,
        newfunc: Some(kpi::sysctl_new),
        validlen: 0,
        flags: 0,
    };
    kpi::take_sysctl_output();
    // SAFETY: the OID's handler, by SYSCTL_HANDLER_ARGS.
    let error = unsafe { handler(oid as *mut SysctlOid, arg1 as *mut _, arg2, &mut req) };
    with(|k| k.enter(0, k.vnet0()))?;
    let bytes = kpi::take_sysctl_output();
    if error != 0 {
        let what = super::layout::errno_text(error);
        return Err(format!("sysctl {name}: error {what}"));
    }
    Ok((kind, bytes))
}

/// The time-stamp counter (modules run natively on an x86-64 host only).
fn time_stamp() -> u64 {
    #[cfg(target_arch = "x86_64")]
    {
        // SAFETY: RDTSC has no preconditions.
        unsafe { core::arch::x86_64::_rdtsc() }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        0
    }
}

/// Runs each `struct vnet_sysinit` in `vnet`, curvnet set to it and its
/// `vnet_state` to each one's subsystem (`vnet_sysinit`, `vnet_sysuninit`).
fn run_each_in(list: &[u64], vnet: u64) {
    for &vs in list {
        // SAFETY: a registered struct vnet_sysinit.
        let v = unsafe { &*(vs as *const super::layout::VnetSysinit) };
        let (func, arg) = (v.func.map_or(0, |f| f as usize as u64), v.arg as u64);
        // SAFETY: a live struct vnet.
        unsafe { (*(vnet as *mut super::layout::Vnet)).vnet_state = v.subsystem };
        let saved = with(|k| {
            let saved = k.curvnet();
            k.set_curvnet(vnet);
            saved
        });
        if func != 0 {
            call1(func, arg);
        }
        with(|k| k.set_curvnet(saved));
    }
}

/// The number a sysctl's bytes hold, and how to show them.
fn sysctl_value(kind: u32, bytes: &[u8]) -> (Option<i64>, String) {
    use super::layout::*;
    let word = |n: usize| -> Option<i64> {
        let b = bytes.get(..n)?;
        Some(match n {
            4 => i32::from_le_bytes(b.try_into().ok()?) as i64,
            _ => i64::from_le_bytes(b.try_into().ok()?),
        })
    };
    match kind & CTLTYPE {
        CTLTYPE_INT | CTLTYPE_UINT => {
            let v = word(4);
            (v, v.map_or("?".into(), |v| v.to_string()))
        }
        CTLTYPE_LONG | CTLTYPE_ULONG | CTLTYPE_S64 | CTLTYPE_U64 => {
            let v = word(8);
            (v, v.map_or("?".into(), |v| v.to_string()))
        }
        CTLTYPE_STRING => (
            None,
            String::from_utf8_lossy(bytes.split(|&b| b == 0).next().unwrap_or(&[])).into_owned(),
        ),
        _ => {
            let words: Vec<String> = bytes
                .chunks(8)
                .map(|c| {
                    let mut w = [0u8; 8];
                    w[..c.len()].copy_from_slice(c);
                    u64::from_le_bytes(w).to_string()
                })
                .collect();
            (word(8), words.join(" "))
        }
    }
}

fn update_fault_table(extra: &[(String, u64, u64)], object: &str) {
    let mut table: Vec<super::child::FaultEntry> = with(|k| {
        k.files
            .iter()
            .flat_map(|f| {
                f.functions
                    .iter()
                    .map(move |(n, a, s)| (*a, a + s, n.clone(), f.name.clone()))
            })
            .collect()
    });
    table.extend(
        extra
            .iter()
            .map(|(n, a, s)| (*a, a + s, n.clone(), object.to_string())),
    );
    set_fault_table(table);
}

/// `SI_SUB_DUMMY`: entries of this subsystem are never run.
const SI_SUB_DUMMY: u32 = 0;

/// A `struct sysinit`'s function and argument, at the release's layout.
fn read_sysinit(p: u64) -> (u64, u64) {
    let (func, udata, _) = with(|k| k.options.layout.sysinit_amd64());
    (kernel::read_at(p, func), kernel::read_at(p, udata))
}

/// What `linker_load_file` makes of a linker's failure.  amd64 tries
/// `link_elf_obj` then `link_elf`, which takes an ET_REL object for an
/// unsupported file type: it says so, and kldload fails with ENOEXEC,
/// whatever the first linker said.  i386's `link_elf` gives ENOENT for an
/// undefined symbol (nothing else found the file), ENOEXEC otherwise.
fn linker_load_file_error(loader: kernel::Loader, name: &str, e: link::LoadError) -> (String, i32) {
    use super::layout::{ENOENT, ENOEXEC};
    match loader {
        kernel::Loader::LinkElfObj => (
            format!(
                "{}; linker_load_file: {name} - unsupported file type",
                e.message
            ),
            ENOEXEC,
        ),
        kernel::Loader::LinkElf if e.errno == ENOENT => (e.message, ENOENT),
        kernel::Loader::LinkElf => (e.message, ENOEXEC),
    }
}

/// Links one file into the kernel and registers its sysctls, as both a
/// kldload and the boot do before any SYSINIT of the file runs: the file's
/// SYSINITs in its set's order, and the sysctls registered.
fn link_file(name: &str, bytes: &[u8]) -> Result<(Vec<u64>, Vec<String>), (String, i32)> {
    if with(|k| k.files.iter().any(|f| f.name == name)) {
        return Err((
            format!("kldload: can't load {name}: module already loaded or in kernel"),
            super::layout::EEXIST,
        ));
    }
    let object = elf::read(name, bytes).map_err(|e| (e.to_string(), super::layout::ENOEXEC))?;
    let linked = with(|k| link::link(k, &object))
        .map_err(|e| with(|k| linker_load_file_error(k.options.loader, name, e)))?;
    update_fault_table(&linked.file.functions, name);
    let sysctls = with(|k| k.register_sysctls(name, &linked.sysctls));
    with(|k| k.enter(0, k.vnet0())).map_err(|e| (e, super::layout::EINVAL))?;
    with(|k| k.files.push(linked.file));
    Ok((linked.sysinits, sysctls))
}

/// Runs SYSINITs in the order given, each as part of the load of its file.
fn run_sysinits(entries: &[(&str, u64)]) {
    for &(file, p) in entries {
        if link::sysinit_key(p).0 == SI_SUB_DUMMY {
            continue;
        }
        with(|k| k.loading = Some(file.to_string()));
        let (func, udata) = read_sysinit(p);
        if func != 0 {
            call1(func, udata);
        }
    }
    with(|k| k.loading = None);
}

fn loaded_text(verb: &str, name: &str, sysinits: usize, sysctls: &[String]) -> String {
    let mut text = format!("{verb} {name}: {sysinits} SYSINITs");
    if !sysctls.is_empty() {
        text.push_str(&format!(", sysctls {}", sysctls.join(" ")));
    }
    text
}

/// kldload of one file: link, then its SYSINITs in the order of
/// `linker_file_sysinit`'s exchange sort.  An error is the kernel's
/// message and kldload's errno.
fn load(name: &str, bytes: &[u8]) -> Result<String, (String, i32)> {
    with(|k| {
        k.module_attempts = 0;
        k.module_failures.clear();
    });
    let (mut sysinits, sysctls) = link_file(name, bytes)?;
    link::exchange_sort(&mut sysinits, |a, b| {
        link::sysinit_key(a) > link::sysinit_key(b)
    });
    let entries: Vec<(&str, u64)> = sysinits.iter().map(|&p| (name, p)).collect();
    run_sysinits(&entries);
    let n = sysinits.len();
    let (attempts, failures, left) = with(|k| {
        (
            k.module_attempts,
            std::mem::take(&mut k.module_failures),
            k.registered.iter().filter(|m| m.file == name).count(),
        )
    });
    // linker_load_file: every module of the file failed its MOD_LOAD, so
    // the file is unloaded (its SYSUNINITs run) and kldload fails.
    if attempts > 0 && left == 0 {
        teardown(name);
        let mut message = failures.join("; ");
        message.push_str(&format!(
            "; every module of {name} failed to load: the file is unloaded"
        ));
        return Err((message, super::layout::ENOEXEC));
    }
    Ok(loaded_text("loaded", name, n, &sysctls))
}

/// The loader's files at boot: each linked and its sysctls registered in
/// turn (`linker_preload`), then the SYSINITs of all of them sorted with
/// the boot's list, by a stable sort (15.1's merge sort; 13.2's exchange
/// sort of the whole list gives the same wherever its result does not
/// depend on the kernel's own SYSINITs), while `cold` is 1.  A module whose
/// MOD_LOAD fails leaves its file loaded, as at boot.
fn preload(files: &[(&str, &[u8])]) -> Result<Vec<String>, (String, i32)> {
    let mut linked = Vec::new();
    for &(name, bytes) in files {
        linked.push((name, link_file(name, bytes)?));
    }
    let mut entries: Vec<(&str, u64)> = linked
        .iter()
        .flat_map(|(name, (sysinits, _))| sysinits.iter().map(|&p| (*name, p)))
        .collect();
    entries.sort_by_key(|&(_, p)| link::sysinit_key(p));
    with(|k| k.set_cold(true));
    run_sysinits(&entries);
    with(|k| {
        k.set_cold(false);
        k.module_attempts = 0;
        k.module_failures.clear();
    });
    Ok(linked
        .iter()
        .map(|(name, (sysinits, sysctls))| loaded_text("preloaded", name, sysinits.len(), sysctls))
        .collect())
}

/// kldunload of one file, as `linker_file_unload`: MOD_QUIESCE to every
/// module of the file (any may veto), then MOD_UNLOAD to each, the most
/// recently loaded first, then [`teardown`].
fn unload(name: &str) -> Result<String, String> {
    with(|k| k.enter(0, k.vnet0()))?;
    let modules: Vec<(String, u64, u64)> = with(|k| {
        k.registered
            .iter()
            .rev()
            .filter(|m| m.file == name)
            .map(|m| (m.name.clone(), m.data, m.handle))
            .collect()
    });
    let event = |data: u64, handle: u64, what: i32| -> i32 {
        // SAFETY: the moduledata_t the module registered.
        let md = unsafe { &*(data as *const ModuleData) };
        match md.evhand {
            // SAFETY: the module's handler, by modeventhand_t.
            Some(h) => unsafe { h(handle as *mut _, what, md.priv_) },
            None => 0,
        }
    };
    for (module, data, handle) in &modules {
        let q = event(*data, *handle, MOD_QUIESCE);
        if q != 0 && q != EOPNOTSUPP && q != EINVAL {
            return Err(format!(
                "kldunload: {module}: MOD_QUIESCE failed with error {q}; {name} stays loaded"
            ));
        }
    }
    for (module, data, handle) in &modules {
        let u = event(*data, *handle, MOD_UNLOAD);
        if u != 0 {
            return Err(format!(
                "kldunload: {module}: MOD_UNLOAD failed with error {u}; {name} stays loaded"
            ));
        }
        with(|k| k.registered.retain(|m| m.handle != *handle));
    }
    let n = teardown(name);
    Ok(format!("unloaded {name}: {n} SYSUNINITs"))
}

/// The end of an unload: the file's SYSUNINITs, then its sysctls, memory
/// and module space.  The number of SYSUNINITs.
fn teardown(name: &str) -> usize {
    let sysuninits = with(|k| {
        k.files
            .iter()
            .find(|f| f.name == name)
            .map(|f| f.sysuninits.clone())
    })
    .unwrap_or_default();
    for &p in &sysuninits {
        if link::sysinit_key(p).0 == SI_SUB_DUMMY {
            continue;
        }
        let (func, udata) = read_sysinit(p);
        if func != 0 {
            call1(func, udata);
        }
    }
    with(|k| {
        k.registered.retain(|m| m.file != name);
        k.sysctls.retain(|s| s.file != name);
        if let Some(i) = k.files.iter().position(|f| f.name == name) {
            let file = k.files.remove(i);
            for &(set, offset, size) in &file.set_allocations {
                k.sets[set].modspace.free(offset, size);
            }
            // An event handler in the module's code outlives it: a real
            // kernel calls it at the event (at shutdown, say) and crashes.
            let (start, end) = (
                file.image.base(),
                file.image.base() + file.image.len() as u64,
            );
            for h in k
                .eventhandlers
                .iter()
                .filter(|h| (start..end).contains(&h.func))
            {
                let function = file
                    .functions
                    .iter()
                    .find(|(_, a, _)| *a == h.func)
                    .map_or_else(|| format!("{:#x}", h.func), |(n, _, _)| n.clone());
                k.console.push_str(&format!(
                    "kld: {name} is unloaded with its {} handler {function} still registered; \
                     the kernel calls it at that event and crashes\n",
                    h.event
                ));
            }
        }
    });
    update_fault_table(&[], "");
    sysuninits.len()
}

/// The detection mode a scenario's builds use.
pub fn detect_of(spec: &Spec, scenario: &Scenario) -> Detect {
    match scenario.steps.first().map(|s| &s.command) {
        Some(Command::Kernel {
            detect: Some(d), ..
        }) => *d,
        _ => spec.detect,
    }
}
