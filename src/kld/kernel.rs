//! The emulated kernel: what a kernel of one configuration and detection
//! mode offers a module, with FreeBSD's semantics.  It exports exactly the
//! symbols of the spec's [`KernelModel`]; its data lives in low memory, its
//! functions are reached through trampolines ([`super::kpi`]).
//!
//! * CPUs: a `struct pcpu` per CPU, found through `%gs` as on amd64, with a
//!   copy of the kernel's `set_pcpu` each (`dpcpu_off[cpu]`,
//!   `pc_dynamic`), and a zpcpu area after it for counter(9).
//! * VIMAGE: `vnet0` and the vnet list, a copy of `set_vnet` per vnet, the
//!   per-vnet constructors and destructors of `vnet_register_sysinit` and
//!   friends.  Without VIMAGE none of this exists.
//!
//! The kernel lives in the child process that runs a scenario; it is one
//! global, reached by the C-callable functions, and only ever borrowed
//! between calls into module code, never across one.

use std::cell::Cell;
use std::collections::HashMap;
use std::ffi::c_void;

use crate::spec::kernel_model::KernelModel;
use crate::spec::variant::{Detect, KernelConfig};
use crate::spec::Spec;

use super::abi::Layout;
use super::layout::{Pcpu, Thread, Vnet, VnetSysinit, CTLFLAG_VNET, MAXCPU, VNET_MAGIC_N};
use super::memory::{self, Arena, LowMap, TRAMPOLINE_BYTES};
use super::modspace::ModSpace;

/// When a module's `set_vnet` reaches the vnets that exist at load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VnetCopy {
    /// Newer kernels: after relocation, so pointers are relocated.
    AfterRelocation,
    /// Older kernels, and `set_pcpu` always: before relocation, so a
    /// statically initialised pointer is unrelocated in those instances.
    BeforeRelocation,
}

impl VnetCopy {
    pub fn name(self) -> &'static str {
        match self {
            VnetCopy::AfterRelocation => "after-relocation",
            VnetCopy::BeforeRelocation => "before-relocation",
        }
    }

    pub fn from_name(name: &str) -> Option<VnetCopy> {
        [VnetCopy::AfterRelocation, VnetCopy::BeforeRelocation]
            .into_iter()
            .find(|c| c.name() == name)
    }
}

/// Which of FreeBSD's kernel linkers the emulated kernel models.  Modules
/// always run as amd64 code; the linker decides the messages, the errno
/// and when the per-instance sets are copied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Loader {
    /// amd64: `link_elf_obj.c`, relocatable modules.
    LinkElfObj,
    /// i386 (and the other architectures): `link_elf.c`, shared objects.
    LinkElf,
}

impl Loader {
    /// The linker of an architecture's kernels.
    pub fn of_arch(arch: &str) -> Loader {
        if arch == "amd64" {
            Loader::LinkElfObj
        } else {
            Loader::LinkElf
        }
    }
}

/// The kernel a scenario boots.
#[derive(Debug, Clone, Copy)]
pub struct KernelOptions {
    pub config: KernelConfig,
    pub detect: Detect,
    pub cpus: u32,
    pub vnet_copy: VnetCopy,
    /// The release's structure layouts.
    pub layout: &'static Layout,
    pub loader: Loader,
}

/// The most CPUs a scenario may ask for.
pub const MAX_CPUS: u32 = 64;
/// Each CPU's block: its `struct pcpu`, then its zpcpu area (counters).
const PCPU_BLOCK: usize = 64 * 1024;
/// Where the zpcpu area starts in a block.
const ZPCPU_START: u64 = 4096;
/// Bytes of each kernel variable of a family.
const KERNEL_VARIABLE_BYTES: u64 = 16;
/// `IPDEFTTL`.
const IPDEFTTL: u64 = 64;

/// A kernel's per-instance set: `[kernel variables | module space]`.
pub struct SetSpace {
    pub section: String,
    /// VNET (per vnet) rather than DPCPU (per CPU).
    pub virtualized: bool,
    /// `__start_set_X`: the master copy.
    pub start: u64,
    pub size: u64,
    /// Where the module space starts, from `start`.
    pub modspace_offset: u64,
    pub modspace: ModSpace,
}

pub struct VnetInstance {
    pub number: u32,
    pub vnet: u64,
    /// On the vnet list (`VNET_FOREACH` sees it): from the end of its
    /// constructors to the start of its destructors, as in `vnet.c`.
    pub listed: bool,
}

/// A module registered by `module_register_init`.
pub struct RegisteredModule {
    pub name: String,
    pub data: u64,
    pub handle: u64,
    pub file: String,
}

pub struct EventHandler {
    pub event: String,
    pub func: u64,
    pub tag: u64,
    pub per_vnet: bool,
}

pub struct SysctlEntry {
    pub name: String,
    pub oid: u64,
    pub file: String,
}

pub struct Kernel {
    pub options: KernelOptions,
    pub model: KernelModel,
    arena: Arena,
    _trampolines: LowMap,
    /// Every exported symbol and its address.
    pub exports: HashMap<String, u64>,
    pub thread: u64,
    pub pcpus: Vec<u64>,
    pub sets: Vec<SetSpace>,
    /// Each CPU's copy of `set_pcpu`.
    pub dpcpu_copies: Vec<u64>,
    pub vnets: Vec<VnetInstance>,
    next_vnet: u32,
    /// Constructors, sorted by (subsystem, order).
    pub constructors: Vec<u64>,
    /// Destructors, sorted by (subsystem, order); they run last first.
    pub destructors: Vec<u64>,
    pub console: String,
    pub files: Vec<LoadedFile>,
    /// The tunable `debug.link_elf_obj_leak_locals` (`link_elf_leak_locals`
    /// on i386), 1 by default: another file's local and weak definitions
    /// take part in linking a module; with 0, only its global ones (on
    /// i386, its global and weak ones).
    pub leak_locals: bool,
    pub registered: Vec<RegisteredModule>,
    /// The file whose SYSINITs are running.
    pub loading: Option<String>,
    /// Its modules' MOD_LOADs so far, and the messages of those that failed.
    pub module_attempts: usize,
    pub module_failures: Vec<String>,
    pub eventhandlers: Vec<EventHandler>,
    /// Each event's `struct eventhandler_list` stand-in (0 until asked for).
    pub event_lists: HashMap<String, u64>,
    pub sysctls: Vec<SysctlEntry>,
    pub sysctl_nodes: HashMap<u64, String>,
    pub locks: HashMap<u64, i64>,
    zpcpu_next: u64,
    zpcpu_free: Vec<u64>,
    pub panicked: Option<String>,
}

fn write<T>(addr: u64, value: T) {
    // SAFETY: callers pass addresses of kernel data they allocated for T.
    unsafe { std::ptr::write_unaligned(addr as *mut T, value) }
}

/// A `T` at `addr + offset`: a member of a structure the kernel or a
/// module laid out at the release's layout.
pub fn read_at<T: Copy>(addr: u64, offset: u64) -> T {
    // SAFETY: callers pass a structure's address and a member's offset.
    unsafe { std::ptr::read_unaligned(addr.wrapping_add(offset) as *const T) }
}

/// Writes a member, as [`read_at`] reads one.
pub fn write_at<T>(addr: u64, offset: u64, value: T) {
    write(addr.wrapping_add(offset), value)
}

/// A loaded file.
pub struct LoadedFile {
    pub name: String,
    pub image: LowMap,
    /// Defined functions: name, address, size (for calls and faults).
    pub functions: Vec<(String, u64, u64)>,
    /// Its named definitions (address, binding), the first of each name,
    /// which files loaded later link against.
    pub definitions: HashMap<String, (u64, u8)>,
    /// (set index, offset in its module space, size).
    pub set_allocations: Vec<(usize, u64, u64)>,
    /// `struct sysinit` addresses of `sysuninit_set`, in the order to run.
    pub sysuninits: Vec<u64>,
}

impl Kernel {
    /// Boots a kernel: its data, CPUs, sets and (with VIMAGE) vnet0.
    /// `function` gives the address of the emulated function that the
    /// kernel exports under a name (the KPI's table), or `None`.
    pub fn boot(
        spec: &Spec,
        options: KernelOptions,
        function: fn(&str) -> Option<u64>,
    ) -> Result<Kernel, String> {
        if options.cpus == 0 || options.cpus > MAX_CPUS {
            return Err(format!("cpus {}: between 1 and {MAX_CPUS}", options.cpus));
        }
        let model = KernelModel::new(spec, options.config, options.detect);
        let mut arena = Arena::new(64 << 20).map_err(|e| format!("mmap(MAP_32BIT): {e}"))?;
        let functions: Vec<(String, u64)> = model
            .symbols
            .iter()
            .filter_map(|s| function(s).map(|f| (s.clone(), f)))
            .collect();
        let trampolines = LowMap::new(functions.len().max(1) * TRAMPOLINE_BYTES)
            .map_err(|e| format!("mmap(MAP_32BIT): {e}"))?;
        let mut exports = HashMap::new();
        for (i, (name, target)) in functions.iter().enumerate() {
            let at = trampolines.base() + (i * TRAMPOLINE_BYTES) as u64;
            write(at, memory::trampoline(*target));
            exports.insert(name.clone(), at);
        }
        trampolines
            .protect(0, trampolines.len(), libc::PROT_READ | libc::PROT_EXEC)
            .map_err(|e| format!("mprotect: {e}"))?;

        let mut alloc = |size: usize, align: usize| {
            arena
                .alloc(size, align)
                .ok_or_else(|| "the kernel's low memory is exhausted".to_string())
        };
        let cpus = options.cpus as usize;
        let amd64 = options.layout.amd64();
        let thread = alloc(amd64.thread.size as usize, 64)?;
        let mut pcpus = Vec::new();
        for _ in 0..cpus {
            pcpus.push(alloc(PCPU_BLOCK, memory::PAGE)?);
        }
        let dpcpu_off = alloc(MAXCPU * 8, 64)?;
        let cpuid_to_pcpu = alloc(MAXCPU * 8, 64)?;

        // The sets the kernel copies per instance.
        let mut sets = Vec::new();
        let mut variables: Vec<(String, u64)> = Vec::new();
        for family in &spec.families {
            let Some(&modspace) = model.modspace.get(&family.section) else {
                continue;
            };
            let kernel_bytes = family.kernel_variables.len() as u64 * KERNEL_VARIABLE_BYTES;
            let size = kernel_bytes + modspace;
            let start = alloc(size as usize, memory::PAGE)?;
            for (i, v) in family.kernel_variables.iter().enumerate() {
                let at = start + i as u64 * KERNEL_VARIABLE_BYTES;
                if v == "ip_defttl" {
                    write(at, IPDEFTTL as i32);
                }
                variables.push((format!("{}{v}", family.prefix), at));
            }
            sets.push(SetSpace {
                section: family.section.clone(),
                virtualized: family.virtualized,
                start,
                size,
                modspace_offset: kernel_bytes,
                modspace: ModSpace::new(modspace),
            });
        }
        // A kernel without the family's instances has plain variables.
        for family in spec
            .families
            .iter()
            .filter(|f| !model.modspace.contains_key(&f.section))
        {
            for v in &family.kernel_variables {
                let at = alloc(KERNEL_VARIABLE_BYTES as usize, 16)?;
                if v == "ip_defttl" {
                    write(at, IPDEFTTL as i32);
                }
                variables.push((v.clone(), at));
            }
        }

        // CPUs, each with its copy of set_pcpu.
        let mut dpcpu_copies = Vec::new();
        let pcpu_set = sets
            .iter()
            .find(|s| !s.virtualized)
            .map(|s| (s.start, s.size));
        for (cpu, &pc) in pcpus.iter().enumerate() {
            let dynamic = match pcpu_set {
                Some((start, size)) => {
                    let copy = alloc(size as usize, 64)?;
                    // SAFETY: both ranges are kernel data of `size` bytes.
                    unsafe {
                        std::ptr::copy_nonoverlapping(
                            start as *const u8,
                            copy as *mut u8,
                            size as usize,
                        )
                    };
                    dpcpu_copies.push(copy);
                    copy.wrapping_sub(start)
                }
                None => 0,
            };
            // SAFETY: `pc` is a zeroed block of PCPU_BLOCK bytes.
            let p = unsafe { &mut *(pc as *mut Pcpu) };
            p.pc_curthread = thread as *mut Thread;
            p.pc_cpuid = cpu as u32;
            p.pc_dynamic = dynamic as usize;
            p.pc_prvspace = pc as *mut Pcpu;
            p.pc_zpcpu_offset = ZPCPU_START as usize;
            write(dpcpu_off + cpu as u64 * 8, dynamic);
            write(cpuid_to_pcpu + cpu as u64 * 8, pc);
        }

        let mut data: HashMap<&str, u64> = HashMap::new();
        let int = |alloc: &mut dyn FnMut(usize, usize) -> Result<u64, String>,
                   v: i32|
         -> Result<u64, String> {
            let at = alloc(8, 8)?;
            write(at, v);
            Ok(at)
        };
        data.insert("hz", int(&mut alloc, 1000)?);
        data.insert("ticks", int(&mut alloc, 1)?);
        data.insert("mp_ncpus", int(&mut alloc, options.cpus as i32)?);
        data.insert("mp_maxid", int(&mut alloc, options.cpus as i32 - 1)?);
        data.insert(
            "vimage_configured",
            int(
                &mut alloc,
                i32::from(options.config == KernelConfig::Vimage),
            )?,
        );
        let all_cpus = alloc(MAXCPU / 8, 8)?;
        for cpu in 0..cpus {
            let word = all_cpus + (cpu / 64) as u64 * 8;
            // SAFETY: inside the bitset just allocated.
            unsafe { *(word as *mut u64) |= 1 << (cpu % 64) };
        }
        data.insert("all_cpus", all_cpus);
        let pcpup = alloc(8, 8)?;
        write(pcpup, pcpus[0]);
        data.insert("pcpup", pcpup);
        data.insert("dpcpu_off", dpcpu_off);
        data.insert("cpuid_to_pcpu", cpuid_to_pcpu);
        let mut sysctl_nodes = HashMap::new();
        let root = alloc(8, 8)?;
        data.insert("sysctl__children", root);
        sysctl_nodes.insert(root, String::new());
        for (symbol, name) in [
            ("sysctl___debug", "debug\0"),
            ("sysctl___kern", "kern\0"),
            ("sysctl___net", "net\0"),
        ] {
            let l = options.layout.oid_amd64();
            let oid = alloc(l.size as usize + name.len(), 8)?;
            let name_at = oid + l.size;
            // SAFETY: the bytes just allocated for the node and its name.
            unsafe {
                std::ptr::copy_nonoverlapping(name.as_ptr(), name_at as *mut u8, name.len());
            }
            write_at(oid, l.parent, root);
            write_at(oid, l.kind, super::layout::CTLTYPE_NODE);
            write_at(oid, l.name, name_at);
            data.insert(symbol, oid);
            sysctl_nodes.insert(oid, name.trim_end_matches('\0').to_string());
        }
        for lock in ["vnet_rwlock", "vnet_sxlock"] {
            data.insert(lock, alloc(64, 64)?);
        }
        // `cold`: 1 while the boot runs the SYSINITs of preloaded files, 0
        // once the kernel is up (`configure_final`), as a kldload sees it.
        data.insert("cold", alloc(8, 8)?);
        let vnet0_var = alloc(8, 8)?;
        data.insert("vnet0", vnet0_var);
        let vnet_head = alloc(8, 8)?;
        data.insert("vnet_head", vnet_head);
        for s in &sets {
            let (start, stop) = (
                format!("__start_{}", s.section),
                format!("__stop_{}", s.section),
            );
            exports.insert(start, s.start);
            exports.insert(stop, s.start + s.size);
        }
        for (name, at) in variables {
            exports.insert(name, at);
        }
        for sym in &model.symbols {
            if exports.contains_key(sym) {
                continue;
            }
            match data.get(sym.as_str()) {
                Some(&at) => {
                    exports.insert(sym.clone(), at);
                }
                None => return Err(format!("the emulated kernel does not implement `{sym}`, which the kernel model exports")),
            }
        }
        // Exactly the model's symbols, no more.
        exports.retain(|name, _| model.symbols.contains(name));

        let mut kernel = Kernel {
            options,
            model,
            arena,
            _trampolines: trampolines,
            exports,
            thread,
            pcpus,
            sets,
            dpcpu_copies,
            vnets: Vec::new(),
            next_vnet: 0,
            constructors: Vec::new(),
            destructors: Vec::new(),
            console: String::new(),
            files: Vec::new(),
            leak_locals: true,
            registered: Vec::new(),
            loading: None,
            module_attempts: 0,
            module_failures: Vec::new(),
            eventhandlers: Vec::new(),
            event_lists: HashMap::new(),
            sysctls: Vec::new(),
            sysctl_nodes,
            locks: HashMap::new(),
            zpcpu_next: ZPCPU_START,
            zpcpu_free: Vec::new(),
            panicked: None,
        };
        if kernel.vimage() {
            let vnet0 = kernel.new_vnet_instance(true)?;
            write(vnet0_var, vnet0);
        }
        Ok(kernel)
    }

    pub fn vimage(&self) -> bool {
        self.options.config == KernelConfig::Vimage
    }

    pub fn alloc(&mut self, size: usize, align: usize) -> Option<u64> {
        self.arena.alloc(size, align)
    }

    pub fn vnet_set(&self) -> Option<&SetSpace> {
        self.sets.iter().find(|s| s.virtualized)
    }

    /// A vnet with a fresh copy of the master `set_vnet`, listed or not.
    fn new_vnet_instance(&mut self, listed: bool) -> Result<u64, String> {
        let (start, size) = self
            .vnet_set()
            .map(|s| (s.start, s.size))
            .ok_or_else(|| "this kernel has no VIMAGE".to_string())?;
        let oom = || "the kernel's low memory is exhausted".to_string();
        let vnet = self
            .alloc(std::mem::size_of::<Vnet>(), 64)
            .ok_or_else(oom)?;
        let mem = self.alloc(size as usize, 64).ok_or_else(oom)?;
        // SAFETY: both are kernel data of `size` bytes; `vnet` is zeroed.
        unsafe {
            std::ptr::copy_nonoverlapping(start as *const u8, mem as *mut u8, size as usize);
            let v = &mut *(vnet as *mut Vnet);
            v.vnet_magic_n = VNET_MAGIC_N;
            v.vnet_data_mem = mem as *mut c_void;
            v.vnet_data_base = mem.wrapping_sub(start) as usize;
        }
        self.vnets.push(VnetInstance {
            number: self.next_vnet,
            vnet,
            listed,
        });
        self.next_vnet += 1;
        self.relink_vnets();
        Ok(vnet)
    }

    /// Puts a vnet on the list, its constructors having run (`vnet_alloc`).
    pub fn list_vnet(&mut self, number: u32) {
        for v in self.vnets.iter_mut().filter(|v| v.number == number) {
            v.listed = true;
        }
        self.relink_vnets();
    }

    /// The vnets in list order (`VNET_FOREACH`: the newest first).
    pub fn listed_vnets(&self) -> Vec<u64> {
        self.vnets
            .iter()
            .rev()
            .filter(|v| v.listed)
            .map(|v| v.vnet)
            .collect()
    }

    /// Rebuilds the C list `vnet_head`: the newest vnet first, as
    /// `LIST_INSERT_HEAD` leaves it.
    fn relink_vnets(&mut self) {
        let Some(&head) = self.exports.get("vnet_head") else {
            return;
        };
        let mut prev_next = head;
        for inst in self.vnets.iter().rev().filter(|v| v.listed) {
            // SAFETY: `vnet` is a live struct vnet in kernel memory.
            let v = unsafe { &mut *(inst.vnet as *mut Vnet) };
            write(prev_next, inst.vnet);
            v.vnet_le.le_prev = prev_next as *mut *mut Vnet;
            v.vnet_le.le_next = std::ptr::null_mut();
            prev_next = inst.vnet; // le_next is the first member
        }
        write(prev_next, 0u64);
    }

    /// Creates a vnet, not yet listed: [`Kernel::list_vnet`] once its
    /// constructors have run.
    pub fn create_vnet(&mut self) -> Result<(u32, u64), String> {
        if !self.vimage() {
            return Err(
                "vnet create: this kernel has no VIMAGE (options VIMAGE is not configured)".into(),
            );
        }
        let vnet = self.new_vnet_instance(false)?;
        let number = self.next_vnet - 1;
        Ok((number, vnet))
    }

    pub fn vnet(&self, number: u32) -> Option<u64> {
        self.vnets
            .iter()
            .find(|v| v.number == number)
            .map(|v| v.vnet)
    }

    pub fn vnet_number(&self, vnet: u64) -> Option<u32> {
        self.vnets.iter().find(|v| v.vnet == vnet).map(|v| v.number)
    }

    /// Takes a vnet off the list and sets its `vnet_shutdown`
    /// (`vnet_destroy`); its destructors are the caller's to run.
    pub fn unlist_vnet(&mut self, number: u32) {
        for v in self.vnets.iter_mut().filter(|v| v.number == number) {
            v.listed = false;
            // SAFETY: a live struct vnet.
            unsafe { (*(v.vnet as *mut Vnet)).vnet_shutdown = true };
        }
        self.relink_vnets();
    }

    /// Forgets a destroyed vnet.
    pub fn drop_vnet(&mut self, number: u32) {
        self.vnets.retain(|v| v.number != number);
    }

    pub fn vnet_data_base(vnet: u64) -> u64 {
        // SAFETY: a live struct vnet.
        unsafe { (*(vnet as *const Vnet)).vnet_data_base as u64 }
    }

    /// The context of a call into a module: the CPU (its `%gs` base) and,
    /// with VIMAGE, `curthread->td_vnet`.  Without VIMAGE nothing maintains
    /// `td_vnet`, and it stays NULL.
    pub fn enter(&self, cpu: u32, vnet: u64) -> Result<(), String> {
        let Some(&pc) = self.pcpus.get(cpu as usize) else {
            return Err(format!(
                "cpu {cpu}: this kernel has {} CPUs",
                self.pcpus.len()
            ));
        };
        set_gs_base(pc)?;
        self.set_curvnet(if self.vimage() { vnet } else { 0 });
        Ok(())
    }

    /// The list of an event that has had a handler, or 0.
    pub fn event_list(&mut self, event: &str) -> u64 {
        let Some(&at) = self.event_lists.get(event) else {
            return 0;
        };
        if at != 0 {
            return at;
        }
        let at = self.alloc(64, 8).unwrap_or(0);
        self.event_lists.insert(event.to_string(), at);
        at
    }

    /// Checks what module code must never write: each CPU's `pc_curthread`,
    /// `pc_cpuid`, `pc_dynamic` and `pc_prvspace` (a counter(9) used before
    /// its allocation adds to `%gs:0`, which a real kernel does not survive).
    pub fn pcpu_intact(&self) -> Result<(), String> {
        for (cpu, &pc) in self.pcpus.iter().enumerate() {
            // SAFETY: the kernel's struct pcpu of each CPU.
            let p = unsafe { &*(pc as *const Pcpu) };
            let dynamic = self
                .dpcpu_copies
                .get(cpu)
                .zip(self.sets.iter().find(|s| !s.virtualized))
                .map_or(0, |(copy, set)| copy.wrapping_sub(set.start));
            let bad = [
                ("pc_curthread", p.pc_curthread as u64 != self.thread),
                ("pc_cpuid", p.pc_cpuid as usize != cpu),
                ("pc_dynamic", p.pc_dynamic as u64 != dynamic),
                ("pc_prvspace", p.pc_prvspace as u64 != pc),
            ];
            if let Some((member, _)) = bad.iter().find(|(_, b)| *b) {
                return Err(format!(
                    "module code overwrote {member} of CPU {cpu}'s struct pcpu (a write through %gs, \
                     such as a counter(9) used before it is allocated); a real kernel crashes here"
                ));
            }
        }
        Ok(())
    }

    /// The offset of a member of the kernel's `struct thread`.
    pub fn td(&self, member: &str) -> u64 {
        self.options
            .layout
            .amd64()
            .thread_offset(member)
            .unwrap_or_else(|| super::child::die(&format!("struct thread has no {member}")))
    }

    pub fn curvnet(&self) -> u64 {
        read_at(self.thread, self.td("td_vnet"))
    }

    pub fn set_curvnet(&self, vnet: u64) {
        write_at(self.thread, self.td("td_vnet"), vnet);
    }

    /// Sets the kernel's `cold` (an `int`).
    pub fn set_cold(&self, cold: bool) {
        if let Some(&at) = self.exports.get("cold") {
            write(at, i32::from(cold));
        }
    }

    pub fn vnet0(&self) -> u64 {
        self.vnet(0).unwrap_or(0)
    }

    /// Inserts a per-vnet constructor or destructor, sorted by (subsystem,
    /// order), after those with equal keys.
    pub fn insert_sorted(list: &mut Vec<u64>, vs: u64) {
        let key = |p: u64| {
            // SAFETY: a struct vnet_sysinit the module handed over.
            let v = unsafe { &*(p as *const VnetSysinit) };
            (v.subsystem, v.order)
        };
        let k = key(vs);
        let at = list.partition_point(|&p| key(p) <= k);
        list.insert(at, vs);
    }

    /// A counter(9): an offset into every CPU's zpcpu area.
    pub fn counter_alloc(&mut self) -> u64 {
        if let Some(c) = self.zpcpu_free.pop() {
            self.counter_zero(c);
            return c;
        }
        let c = self.zpcpu_next;
        if c + 8 > PCPU_BLOCK as u64 {
            return 0;
        }
        self.zpcpu_next += 8;
        c
    }

    fn counter_valid(&self, c: u64) -> bool {
        (ZPCPU_START..PCPU_BLOCK as u64).contains(&c) && c % 8 == 0
    }

    pub fn counter_fetch(&self, c: u64) -> u64 {
        if !self.counter_valid(c) {
            return 0;
        }
        self.pcpus
            // SAFETY: inside each CPU's block.
            .iter()
            .map(|&pc| unsafe { *((pc + c) as *const u64) })
            .fold(0u64, u64::wrapping_add)
    }

    pub fn counter_zero(&self, c: u64) {
        if self.counter_valid(c) {
            for &pc in &self.pcpus {
                write(pc + c, 0u64);
            }
        }
    }

    pub fn counter_free(&mut self, c: u64) {
        if self.counter_valid(c) {
            self.zpcpu_free.push(c);
        }
    }

    /// Registers the OIDs of a module's `sysctl_set`, parents first.
    pub fn register_sysctls(&mut self, file: &str, oids: &[u64]) -> Vec<String> {
        let mut pending: Vec<u64> = oids.to_vec();
        let mut names = Vec::new();
        loop {
            let before = pending.len();
            let l = self.options.layout.oid_amd64();
            pending.retain(|&oid| {
                // Relocated entries of the module's sysctl_set.
                let parent: u64 = read_at(oid, l.parent);
                let Some(prefix) = self.sysctl_nodes.get(&parent).cloned() else {
                    return true;
                };
                let kind: u32 = read_at(oid, l.kind);
                let leaf = memory::c_string(read_at(oid, l.name)).unwrap_or_default();
                let leaf = String::from_utf8_lossy(&leaf).into_owned();
                let name = if prefix.is_empty() {
                    leaf
                } else {
                    format!("{prefix}.{leaf}")
                };
                if kind & super::layout::CTLTYPE == super::layout::CTLTYPE_NODE {
                    self.sysctl_nodes.insert(oid, name.clone());
                }
                names.push(name.clone());
                self.sysctls.push(SysctlEntry {
                    name,
                    oid,
                    file: file.to_string(),
                });
                false
            });
            if pending.is_empty() || pending.len() == before {
                break;
            }
        }
        names
    }

    /// The handler of a registered OID.
    pub fn sysctl_handler(&self, oid: u64) -> Option<super::layout::SysctlHandler> {
        let handler: u64 = read_at(oid, self.options.layout.oid_amd64().handler);
        if handler == 0 {
            return None;
        }
        // SAFETY: a module's handler, by SYSCTL_HANDLER_ARGS.
        Some(unsafe {
            std::mem::transmute::<usize, super::layout::SysctlHandler>(handler as usize)
        })
    }

    /// The OID, the first argument its handler gets (with the current
    /// vnet's base added for `CTLFLAG_VNET` on a VIMAGE kernel, as
    /// `sysctl_root` does), and the second.
    pub fn sysctl_target(&self, name: &str, vnet: u64) -> Option<(u64, u64, i64, u32)> {
        let entry = self.sysctls.iter().find(|s| s.name == name)?;
        let l = self.options.layout.oid_amd64();
        let kind: u32 = read_at(entry.oid, l.kind);
        let mut arg1: u64 = read_at(entry.oid, l.arg1);
        // sysctl_root: the vnet's base is added to a non-NULL arg1 only.
        if kind & CTLFLAG_VNET != 0 && self.vimage() && vnet != 0 && arg1 != 0 {
            arg1 = arg1.wrapping_add(Kernel::vnet_data_base(vnet));
        }
        Some((entry.oid, arg1, read_at(entry.oid, l.arg2), kind))
    }
}

/// `arch_prctl(ARCH_SET_GS)`: the `%gs` base of this thread.
pub fn set_gs_base(base: u64) -> Result<(), String> {
    const ARCH_SET_GS: libc::c_long = 0x1001;
    // SAFETY: sets a segment base of the calling thread; no memory is touched.
    let r = unsafe { libc::syscall(libc::SYS_arch_prctl, ARCH_SET_GS, base) };
    if r != 0 {
        return Err(format!(
            "arch_prctl(ARCH_SET_GS): {}",
            std::io::Error::last_os_error()
        ));
    }
    Ok(())
}

thread_local! {
    static KERNEL: Cell<*mut Kernel> = const { Cell::new(std::ptr::null_mut()) };
    static BUSY: Cell<bool> = const { Cell::new(false) };
}

/// Makes `kernel` the one the C-callable functions reach (in the child).
pub fn install(kernel: Kernel) {
    KERNEL.with(|k| k.set(Box::into_raw(Box::new(kernel))));
}

/// Runs `f` on the kernel.  Never call into module code inside `f`: a
/// nested borrow is a bug, reported as such.
pub fn with<R>(f: impl FnOnce(&mut Kernel) -> R) -> R {
    let p = KERNEL.with(|k| k.get());
    if p.is_null() || BUSY.with(|b| b.replace(true)) {
        super::child::die("internal error: the emulated kernel was entered twice");
    }
    // SAFETY: installed once, never freed; BUSY keeps borrows exclusive.
    let r = f(unsafe { &mut *p });
    BUSY.with(|b| b.set(false));
    r
}

/// The console output since the last call, if the kernel can be reached
/// (a panic inside a borrow cannot).
pub fn try_console() -> String {
    let p = KERNEL.with(|k| k.get());
    if p.is_null() || BUSY.with(|b| b.get()) {
        return String::new();
    }
    with(|k| std::mem::take(&mut k.console))
}
