//! `vnetgen inspect`: will this `.ko` load on that kernel?
//!
//! For each module: its build (from [`crate::inspect::classify`], with the sections,
//! symbols and relocations that decided it), its VNET and DPCPU variables
//! and module-space use, the kernel symbols it needs that only one kind of
//! kernel has, and the prediction for each kernel asked about, from the same
//! rules ([`crate::inspect::rules::evaluate`]) and kernel models
//! ([`crate::spec::kernel_model`]) as the ABI lab, so the two always agree.
//!
//! With a kernel ELF, the prediction is against that kernel's own symbol
//! table ([`read_kernel`]): only the section headers, the symbol table and
//! its string table are read, never the rest of the image.
//!
//! Limitation: a module built without VIMAGE keeps its VNET variables as
//! plain globals, which look like any other global.  Unless it references a
//! kernel VNET variable by its plain name (`ip_defttl`, `ifnet`), such a
//! build is indistinguishable from one with no VNET at all, and is reported
//! as `neutral`.

use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;
use std::fs::File;
use std::path::{Path, PathBuf};

use object::elf;
use object::read::elf::{FileHeader, SectionHeader, Sym};
use object::read::{ReadCache, ReadRef, StringTable};
use object::Endianness;
use serde::Serialize;

use crate::inspect::classify::{classify, Classification, Layout};
use crate::inspect::rules::{evaluate, load_rules, Context, RuleError, Severity};
use crate::inspect::{inspect_file, Binding, InspectError, ObjectInfo, ObjectKind, SymbolKind};
use crate::spec::kernel_model::{recorded, KernelModel};
use crate::spec::variant::{Detect, KernelConfig};
use crate::spec::Spec;

#[derive(Debug, thiserror::Error)]
pub enum InspectCmdError {
    #[error(transparent)]
    Inspect(#[from] InspectError),
    #[error(transparent)]
    Rules(#[from] RuleError),
    /// The kernel ELF could not be read.
    #[error("{file}: {what}")]
    Kernel { file: String, what: String },
    #[error("{file}: {arch} is not an architecture of the spec")]
    UnknownArch { file: String, arch: String },
}

/// The kernels to predict for.
#[derive(Debug, Clone)]
pub enum Kernels {
    /// Kernels of these configurations, modelled from the spec.
    Models(Vec<KernelConfig>),
    /// Kernels of these configurations of a release: the symbol tables of
    /// real kernels recorded in `facts/kernels/` where the module's
    /// architecture has one, the spec's model otherwise.
    Recorded {
        release: String,
        configs: Vec<KernelConfig>,
    },
    /// A kernel image: its own symbol table decides.
    Elf(PathBuf),
}

/// What a kernel image offers: whether it has VIMAGE, why we think so, and
/// which of the symbols asked about it defines.
#[derive(Debug, Clone, Serialize)]
pub struct KernelImage {
    pub file: String,
    pub vimage: bool,
    pub evidence: Vec<String>,
    /// The symbols asked about that the kernel defines (global or weak).
    #[serde(skip)]
    pub defined: HashSet<String>,
    /// How many symbols the table has.
    pub symbols: usize,
    /// `.symtab` or `.dynsym`.
    pub table: &'static str,
}

/// Names whose presence tells a VIMAGE kernel.
const VIMAGE_SIGNS: [&str; 2] = ["vnet0", "__start_set_vnet"];

/// Reads the symbol table of a kernel image (`.symtab`, or `.dynsym` when it
/// is stripped) and reports which of `wanted` it defines, and whether it has
/// VIMAGE (`vnet0`, `__start_set_vnet`, `vnet_entry_*` symbols, a `set_vnet`
/// section).  Reads the section headers, the table and its strings only.
pub fn read_kernel(path: &Path, wanted: &HashSet<String>) -> Result<KernelImage, InspectCmdError> {
    let file_name = path.display().to_string();
    let fail = |what: String| InspectCmdError::Kernel {
        file: file_name.clone(),
        what,
    };
    let file = File::open(path).map_err(|e| fail(format!("cannot read: {e}")))?;
    let cache = ReadCache::new(file);
    let ident = cache
        .read_bytes_at(0, 16)
        .map_err(|()| fail("truncated: no ELF identification".to_string()))?;
    if !ident.starts_with(&elf::ELFMAG) {
        return Err(fail("not an ELF file".to_string()));
    }
    // EI_CLASS
    match elf::FileClass(ident[4]) {
        elf::ELFCLASS64 => {
            read_kernel_class::<elf::FileHeader64<Endianness>>(&cache, wanted, &fail)
        }
        elf::ELFCLASS32 => {
            read_kernel_class::<elf::FileHeader32<Endianness>>(&cache, wanted, &fail)
        }
        c => Err(fail(format!("bad ELF class {c}"))),
    }
    .map(|mut k| {
        k.file = file_name.clone();
        k
    })
}

fn read_kernel_class<Elf: FileHeader<Endian = Endianness>>(
    cache: &ReadCache<File>,
    wanted: &HashSet<String>,
    fail: &dyn Fn(String) -> InspectCmdError,
) -> Result<KernelImage, InspectCmdError> {
    let header = Elf::parse(cache).map_err(|e| fail(format!("bad ELF header: {e}")))?;
    let endian = header
        .endian()
        .map_err(|e| fail(format!("bad ELF header: {e}")))?;
    let e_type = header.e_type(endian);
    if e_type != elf::ET_EXEC && e_type != elf::ET_DYN {
        return Err(fail(format!(
            "not a kernel image: ELF type {e_type}, a kernel is ET_EXEC (or ET_DYN)"
        )));
    }
    let sections = header
        .sections(endian, cache)
        .map_err(|e| fail(format!("section headers: {e}")))?;
    let mut evidence = Vec::new();
    for section in sections.iter() {
        if sections.section_name(endian, section).ok() == Some(b"set_vnet".as_slice()) {
            evidence.push(format!(
                "section set_vnet ({} bytes)",
                section.sh_size(endian).into()
            ));
        }
    }
    let (table, kind) = match sections
        .iter()
        .enumerate()
        .find(|(_, s)| s.sh_type(endian) == elf::SHT_SYMTAB)
    {
        Some(found) => (found, ".symtab"),
        None => match sections
            .iter()
            .enumerate()
            .find(|(_, s)| s.sh_type(endian) == elf::SHT_DYNSYM)
        {
            Some(found) => (found, ".dynsym"),
            None => return Err(fail("no symbol table (.symtab or .dynsym)".to_string())),
        },
    };
    let (_, symtab) = table;
    let read = |s: &Elf::SectionHeader, what: &str| -> Result<&[u8], InspectCmdError> {
        let (offset, size) = s
            .file_range(endian)
            .ok_or_else(|| fail(format!("{what} has no data")))?;
        cache
            .read_bytes_at(offset, size)
            .map_err(|()| fail(format!("truncated: {what} ends past the end of the file")))
    };
    let symbol_bytes = read(symtab, kind)?;
    let strtab = sections
        .section(object::read::SectionIndex(symtab.sh_link(endian) as usize))
        .map_err(|e| fail(format!("{kind}'s string table: {e}")))?;
    let string_bytes = read(strtab, "the string table")?;
    let symbols: &[Elf::Sym] = object::pod::slice_from_all_bytes(symbol_bytes).map_err(|()| {
        fail(format!(
            "{kind}: size or alignment does not fit its entries"
        ))
    })?;
    let strings = StringTable::new(string_bytes, 0, string_bytes.len() as u64);
    let mut defined = HashSet::new();
    let mut vnet_entries = 0usize;
    let mut signs = Vec::new();
    for sym in symbols.iter().skip(1) {
        if sym.st_shndx(endian) == elf::SHN_UNDEF || sym.st_bind() == elf::STB_LOCAL {
            continue;
        }
        let Ok(name) = sym.name(endian, strings) else {
            continue;
        };
        if name.starts_with(b"vnet_entry_") {
            vnet_entries += 1;
        }
        let Ok(name) = std::str::from_utf8(name) else {
            continue;
        };
        if VIMAGE_SIGNS.contains(&name) {
            signs.push(name.to_string());
        }
        if wanted.contains(name) {
            defined.insert(name.to_string());
        }
    }
    signs.sort();
    if !signs.is_empty() {
        evidence.push(format!("defines {}", signs.join(", ")));
    }
    if vnet_entries > 0 {
        evidence.push(format!("{vnet_entries} vnet_entry_ symbols"));
    }
    let vimage = !evidence.is_empty();
    if !vimage {
        evidence.push("no set_vnet section, vnet0 or vnet_entry_ symbol".to_string());
    }
    Ok(KernelImage {
        file: String::new(),
        vimage,
        evidence,
        defined,
        symbols: symbols.len().saturating_sub(1),
        table: kind,
    })
}

/// One piece of evidence for the build kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evidence {
    /// "section", "symbol", "relocation" or "rule".
    pub kind: &'static str,
    pub detail: String,
}

/// A VNET or DPCPU variable of the module.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Variable {
    /// The name in C (without the storage prefix).
    pub name: String,
    pub symbol: String,
    pub size: u64,
    /// The alignment its placement guarantees: the set's alignment, or less
    /// when its offset in the set is a smaller power of two.  ELF keeps no
    /// alignment per symbol.
    pub align: u64,
}

/// A set's use of the kernel's module space.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ModspaceUse {
    pub set: String,
    /// Bytes, rounded to pointer size as the kernel's allocator does.
    pub size: u64,
    pub limit: u64,
    /// "vimage" (VNET: only VIMAGE kernels copy the set) or "all".
    pub kernels: &'static str,
}

/// A kernel symbol the module needs that only one kind of kernel has.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Need {
    pub symbol: String,
    pub strong: bool,
    pub only_in: KernelConfig,
}

/// The prediction on one kernel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Load {
    pub ok: bool,
    /// What FreeBSD's kernel linker would print, or why it would misbehave.
    pub reason: Option<String>,
    /// Symbols the module needs strongly and this kernel lacks.
    pub missing: Vec<String>,
    /// The messages behind `reason`, one per finding.
    #[serde(skip)]
    pub messages: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ModuleReport {
    pub file: String,
    pub arch: String,
    /// "ET_REL" (amd64, link_elf_obj) or "ET_DYN" (link_elf).
    #[serde(rename = "type")]
    pub elf_type: &'static str,
    pub build: &'static str,
    pub detect: Option<&'static str>,
    pub evidence: Vec<Evidence>,
    pub vnet_vars: Vec<Variable>,
    pub dpcpu_vars: Vec<Variable>,
    pub modspace: Vec<ModspaceUse>,
    pub needs: Vec<Need>,
    pub loads: BTreeMap<KernelConfig, Load>,
}

impl ModuleReport {
    pub fn loads_everywhere(&self) -> bool {
        self.loads.values().all(|l| l.ok)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct InspectReport {
    pub schema: u32,
    /// With `--kernel`: the kernel image the predictions are for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kernel: Option<KernelImage>,
    pub modules: Vec<ModuleReport>,
}

impl InspectReport {
    /// Every module loads on every kernel asked about.
    pub fn all_load(&self) -> bool {
        self.modules.iter().all(ModuleReport::loads_everywhere)
    }
}

/// Inspects modules and predicts for the kernels asked about.
pub fn inspect(
    spec: &Spec,
    files: &[PathBuf],
    kernels: &Kernels,
) -> Result<InspectReport, InspectCmdError> {
    inspect_providing(spec, files, kernels, &HashSet::new())
}

/// [`inspect`], with `provided` symbols defined besides the kernel's: those
/// of the modules a module depends on (`MODULE_DEPEND`), which the kernel
/// linker resolves against as it does against the kernel.
pub fn inspect_providing(
    spec: &Spec,
    files: &[PathBuf],
    kernels: &Kernels,
    provided: &HashSet<String>,
) -> Result<InspectReport, InspectCmdError> {
    let rules = load_rules()?;
    let mut objects = Vec::new();
    for f in files {
        objects.push(inspect_file(f)?);
    }
    let image = match kernels {
        Kernels::Elf(path) => {
            let mut wanted: HashSet<String> = VIMAGE_SIGNS.iter().map(|s| s.to_string()).collect();
            for o in &objects {
                wanted.extend(o.undefined().map(|u| u.name.clone()));
            }
            Some(read_kernel(path, &wanted)?)
        }
        Kernels::Models(_) | Kernels::Recorded { .. } => None,
    };
    let mut modules = Vec::new();
    for object in &objects {
        modules.push(report_module(
            spec,
            &rules,
            object,
            kernels,
            image.as_ref(),
            provided,
        )?);
    }
    Ok(InspectReport {
        schema: 1,
        kernel: image,
        modules,
    })
}

fn report_module(
    spec: &Spec,
    rules: &[crate::inspect::rules::Rule],
    object: &ObjectInfo,
    kernels: &Kernels,
    image: Option<&KernelImage>,
    provided: &HashSet<String>,
) -> Result<ModuleReport, InspectCmdError> {
    let Some(arch) = spec.arch(object.arch) else {
        return Err(InspectCmdError::UnknownArch {
            file: object.name.clone(),
            arch: object.arch.to_string(),
        });
    };
    let classification = classify(spec, object, false);
    let detect = match classification.layout {
        Layout::Runtime(d) => d,
        _ => spec.detect,
    };
    let mut loads = BTreeMap::new();
    let predict = |model: &KernelModel| {
        let with_modules;
        let model = if provided.is_empty() {
            model
        } else {
            let mut m = model.clone();
            m.symbols.extend(provided.iter().cloned());
            with_modules = m;
            &with_modules
        };
        let ctx = Context {
            spec,
            arch,
            object,
            kernel: model,
            classification: &classification,
        };
        let findings = evaluate(rules, &ctx);
        let errors: Vec<_> = findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .collect();
        let mut messages: Vec<String> = errors.iter().map(|f| f.message.clone()).collect();
        let mut missing: Vec<String> = errors
            .iter()
            .filter(|f| f.rule == "undefined-symbol")
            .filter_map(|f| f.symbol.clone())
            .collect();
        // A dual module's active side needs what it references weakly
        // (its dispatcher fails MOD_LOAD without it).
        if classification.layout == Layout::Dual {
            let tag = if model.config == KernelConfig::Vimage {
                "v"
            } else {
                "n"
            };
            let prefix = format!("{}{tag}_", crate::build::dual::NEED_PREFIX);
            for s in &object.symbols {
                if let Some(need) = s.name.strip_prefix(&prefix) {
                    if !model.provides(need) {
                        // Said as the kernel says a missing symbol, for
                        // whoever compares it with a stock build's refusal.
                        messages.push(format!("link_elf_obj: symbol {need} undefined"));
                        missing.push(need.to_string());
                    }
                }
            }
        }
        Load {
            ok: messages.is_empty(),
            reason: (!messages.is_empty()).then(|| messages.join("; ")),
            messages,
            missing,
        }
    };
    match (kernels, image) {
        (Kernels::Elf(_), Some(image)) => {
            let config = if image.vimage {
                KernelConfig::Vimage
            } else {
                KernelConfig::Novimage
            };
            let mut model = KernelModel::new(spec, config, detect);
            model.symbols = image.defined.iter().cloned().collect();
            loads.insert(config, predict(&model));
        }
        (Kernels::Models(configs), _) => {
            for &config in configs {
                loads.insert(config, predict(&KernelModel::new(spec, config, detect)));
            }
        }
        (Kernels::Recorded { release, configs }, _) => {
            for &config in configs {
                let mut model = KernelModel::new(spec, config, detect);
                if let Some(symbols) = recorded::symbols(release, object.arch, config) {
                    model.symbols = symbols;
                }
                loads.insert(config, predict(&model));
            }
        }
        (Kernels::Elf(_), None) => {}
    }
    Ok(ModuleReport {
        file: object.name.clone(),
        arch: object.arch.to_string(),
        elf_type: match object.kind {
            ObjectKind::Relocatable => "ET_REL",
            ObjectKind::Shared => "ET_DYN",
            ObjectKind::Executable => "ET_EXEC",
            ObjectKind::Other => "other",
        },
        build: classification.layout.name(),
        detect: match classification.layout {
            Layout::Runtime(d) => Some(d.name()),
            _ => None,
        },
        evidence: evidence(spec, object, &classification),
        vnet_vars: variables(spec, object, true),
        dpcpu_vars: variables(spec, object, false),
        modspace: modspace(spec, object),
        needs: needs(spec, object, detect),
        loads,
    })
}

/// The sections, symbols and relocations behind the classification.
fn evidence(spec: &Spec, object: &ObjectInfo, c: &Classification) -> Vec<Evidence> {
    let mut out: Vec<Evidence> = c
        .evidence
        .iter()
        .map(|e| match e.strip_prefix("section ") {
            Some(rest) => Evidence {
                kind: "section",
                detail: rest.to_string(),
            },
            None => Evidence {
                kind: "symbol",
                detail: e.clone(),
            },
        })
        .collect();
    // The references that pick the run-time or the compiled-in path: to the
    // probe, to the flag, and to VNET storage.
    let mut signs: Vec<&str> = vec!["vnet0", spec.flag.as_str()];
    let prefixes: Vec<&str> = spec
        .families
        .iter()
        .filter(|f| f.virtualized)
        .map(|f| f.prefix.as_str())
        .collect();
    signs.dedup();
    let mut counts: BTreeMap<(String, String, String), usize> = BTreeMap::new();
    for r in &object.relocations {
        let Some(symbol) = r.symbol.as_deref() else {
            continue;
        };
        let virtualized_set = spec
            .families
            .iter()
            .any(|f| f.virtualized && f.section == symbol);
        if signs.contains(&symbol)
            || prefixes.iter().any(|p| symbol.starts_with(p))
            || virtualized_set
        {
            *counts
                .entry((
                    r.type_name.clone(),
                    r.relocation_section.clone(),
                    symbol.to_string(),
                ))
                .or_default() += 1;
        }
    }
    for ((type_name, section, symbol), n) in counts {
        out.push(Evidence {
            kind: "relocation",
            detail: if n == 1 {
                format!("{type_name} in {section} against {symbol}")
            } else {
                format!("{type_name} in {section} against {symbol} (x{n})")
            },
        });
    }
    out
}

fn variables(spec: &Spec, object: &ObjectInfo, virtualized: bool) -> Vec<Variable> {
    let mut vars = Vec::new();
    // A dual module names a variable once per side, and once more where it
    // is exported; where the names are of one copy, it is listed once.
    let mut seen = std::collections::BTreeSet::new();
    for f in spec
        .families
        .iter()
        .filter(|f| f.virtualized == virtualized)
    {
        let Some(section) = object.section(&f.section) else {
            continue;
        };
        for s in object.symbols_in(&f.section) {
            if s.kind != SymbolKind::Data
                || s.name.starts_with("__start_")
                || s.name.starts_with("__stop_")
            {
                continue;
            }
            let offset = if object.kind == ObjectKind::Relocatable {
                s.value
            } else {
                s.value.wrapping_sub(section.address)
            };
            let set_align = section.align.max(1);
            let align = if offset == 0 {
                set_align
            } else {
                set_align.min(1u64 << offset.trailing_zeros().min(63))
            };
            let unrenamed = crate::build::dual::unrenamed(&s.name);
            let name = unrenamed
                .strip_prefix(&f.prefix)
                .unwrap_or(unrenamed)
                .to_string();
            if !seen.insert((name.clone(), offset)) {
                continue;
            }
            vars.push(Variable {
                name,
                symbol: s.name.clone(),
                size: s.size,
                align,
            });
        }
    }
    vars.sort_by(|a, b| a.name.cmp(&b.name));
    vars.dedup_by(|a, b| a.symbol == b.symbol);
    vars
}

fn modspace(spec: &Spec, object: &ObjectInfo) -> Vec<ModspaceUse> {
    let pointer = u64::from(object.pointer_bytes);
    spec.families
        .iter()
        .filter_map(|f| {
            let s = object.section(&f.section)?;
            Some(ModspaceUse {
                set: f.section.clone(),
                size: s.size.div_ceil(pointer) * pointer,
                limit: f.modspace,
                kernels: if f.virtualized { "vimage" } else { "all" },
            })
        })
        .collect()
}

/// Undefined symbols that one kind of kernel has and the other lacks.
fn needs(spec: &Spec, object: &ObjectInfo, detect: Detect) -> Vec<Need> {
    let vimage = KernelModel::new(spec, KernelConfig::Vimage, detect);
    let novimage = KernelModel::new(spec, KernelConfig::Novimage, detect);
    let own_bound = |name: &str| {
        name.strip_prefix("__start_")
            .or_else(|| name.strip_prefix("__stop_"))
            .is_some_and(|set| object.section(set).is_some())
    };
    object
        .undefined()
        .filter(|u| !own_bound(&u.name))
        .filter_map(|u| {
            let only_in = match (vimage.provides(&u.name), novimage.provides(&u.name)) {
                (true, false) => KernelConfig::Vimage,
                (false, true) => KernelConfig::Novimage,
                _ => return None,
            };
            Some(Need {
                symbol: u.name.clone(),
                strong: u.binding != Binding::Weak,
                only_in,
            })
        })
        .collect()
}

/// The report as text.
pub fn text(report: &InspectReport) -> String {
    let mut out = String::new();
    if let Some(k) = &report.kernel {
        let _ = writeln!(
            out,
            "kernel {}: {} ({} symbols in {}; {})",
            k.file,
            if k.vimage { "VIMAGE" } else { "no VIMAGE" },
            k.symbols,
            k.table,
            k.evidence.join("; ")
        );
    }
    for m in &report.modules {
        let linker = if m.elf_type == "ET_REL" {
            "link_elf_obj"
        } else {
            "link_elf"
        };
        let _ = writeln!(
            out,
            "{}: {} {} module ({linker})",
            m.file, m.arch, m.elf_type
        );
        let detect = m
            .detect
            .map(|d| format!(" (detect: {d})"))
            .unwrap_or_default();
        let _ = writeln!(out, "  build: {}{detect}", m.build);
        for e in &m.evidence {
            let _ = writeln!(out, "    {}: {}", e.kind, e.detail);
        }
        if m.build == "neutral" {
            let _ = writeln!(
                out,
                "    no VNET storage and no VNET kernel reference (a build without VIMAGE \
                 that references no kernel VNET variable looks the same)"
            );
        }
        for (title, vars) in [("VNET", &m.vnet_vars), ("DPCPU", &m.dpcpu_vars)] {
            if vars.is_empty() {
                continue;
            }
            let _ = writeln!(out, "  {title} variables:");
            let width = vars.iter().map(|v| v.name.len()).max().unwrap_or(0);
            for v in vars {
                let _ = writeln!(
                    out,
                    "    {:<width$}  {:>6} bytes  align {}",
                    v.name, v.size, v.align
                );
            }
        }
        for u in &m.modspace {
            let on = if u.kernels == "vimage" {
                "in each vnet of a VIMAGE kernel"
            } else {
                "in each CPU"
            };
            let _ = writeln!(
                out,
                "  module space: {} uses {} of {} bytes {on}",
                u.set, u.size, u.limit
            );
        }
        if !m.needs.is_empty() {
            let _ = writeln!(out, "  kernel symbols that one kind of kernel lacks:");
            let width = m.needs.iter().map(|n| n.symbol.len()).max().unwrap_or(0);
            for n in &m.needs {
                let _ = writeln!(
                    out,
                    "    {:<width$}  {:<6}  only in {} kernels",
                    n.symbol,
                    if n.strong { "strong" } else { "weak" },
                    n.only_in
                );
            }
        }
        for (kernel, load) in &m.loads {
            let on = match &report.kernel {
                Some(k) => format!("on {} ({kernel})", k.file),
                None => format!("on a {kernel} kernel"),
            };
            if load.ok {
                let _ = writeln!(out, "  {on}: loads");
            } else {
                let _ = writeln!(out, "  {on}: FAILS");
                for r in &load.messages {
                    let _ = writeln!(out, "    {r}");
                }
            }
        }
    }
    out
}

pub fn json(report: &InspectReport) -> String {
    let mut s = serde_json::to_string_pretty(report).unwrap_or_default();
    s.push('\n');
    s
}
