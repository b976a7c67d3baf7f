//! dual: one `.ko` carrying the VIMAGE and the non-VIMAGE build of a
//! module, and a dispatcher that hands the kernel one side.  What the
//! joined object shows the kernel is checked here; that it loads and runs
//! on both kinds of kernel is `tests/kld/dual*.kld`, in the emulator and
//! on the real kernels (`tests/vm.rs`).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use object::{Object, ObjectSection, ObjectSymbol};
use vnetgen::build::dual::{join, DualError, SideInput};
use vnetgen::lab::{build_dual_module, LabOptions};
use vnetgen::spec::Spec;

fn lab_options() -> LabOptions {
    let spec = Spec::default_spec().expect("default spec");
    LabOptions {
        archs: vec!["amd64".into()],
        variants: Vec::new(),
        kernels: Vec::new(),
        kmods: common::repo().join("tests/kmods"),
        jobs: 1,
        cache: common::repo().join("target/vnetgen-dual-tests"),
        sysroot: vnetgen::build::cflags::stub_sysroot(),
        progress: false,
        release: spec.newest_release().cloned(),
    }
}

#[test]
fn the_kernel_sees_the_dispatchers_sets_and_each_side_renamed_apart() {
    common::toolchain();
    let spec = Spec::default_spec().expect("default spec");
    let ko = build_dual_module(
        &spec,
        &lab_options(),
        &common::repo().join("tests/kmods/vnet_full"),
        "amd64",
        None,
        &[],
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let data = std::fs::read(&ko).expect("read the module");
    let file = object::File::parse(&*data).expect("an ELF object");
    let sections: Vec<&str> = file.sections().filter_map(|s| s.name().ok()).collect();
    for side in ["v", "n"] {
        for set in [
            "sysinit_set",
            "sysuninit_set",
            "sysctl_set",
            "modmetadata_set",
        ] {
            assert!(
                sections.contains(&format!(".vnetgen.dual.{side}.{set}").as_str()),
                "{side} {set}: {sections:?}"
            );
        }
    }
    // The kernel's sets are the dispatcher's: one MDT_MODULE, and one proxy
    // per rank of a side's SYSINITs, plus the sysctl registration.
    assert!(sections.contains(&"set_sysinit_set") && sections.contains(&"set_modmetadata_set"));
    assert!(
        !sections.contains(&"set_sysctl_set"),
        "the sides' sysctls are registered by the dispatcher: {sections:?}"
    );
    let size = |name: &str| {
        file.sections()
            .find(|s| s.name() == Ok(name))
            .map_or(0, |s| s.size())
    };
    let v = size(".vnetgen.dual.v.sysinit_set") / 8;
    let n = size(".vnetgen.dual.n.sysinit_set") / 8;
    // vnet_full's sides have SYSINITs of equal rank: fewer proxies than
    // entries, one for each DATA_WSET of the dispatcher.
    let shim = std::fs::read_to_string(ko.with_file_name("dual_shim.c")).expect("the dispatcher");
    let proxies = shim.matches("DATA_WSET(sysinit_set, ").count() as u64;
    assert_eq!(size("set_sysinit_set") / 8, proxies);
    assert!(
        proxies > 1 && proxies < v + n + 1,
        "{proxies} proxies for {v} + {n} SYSINITs"
    );
    // The VIMAGE side's VNET storage stays where the kernel finds it.
    assert!(sections.contains(&"set_vnet"), "{sections:?}");

    let symbol = |name: &str| file.symbols().find(|s| s.name() == Ok(name));
    let trampolines = file
        .section_by_name(".text.vnetgen.dual")
        .map(|s| s.index())
        .expect("the trampolines' section");
    for defined in ["vnet_full_init_calls_get", "vnet_full_add"] {
        // Under its own name, a function of both sides is its trampoline.
        let exported = symbol(defined).unwrap_or_else(|| panic!("{defined} is not exported"));
        assert_eq!(
            exported.section(),
            object::SymbolSection::Section(trampolines),
            "{defined}"
        );
        for side in ["v", "n"] {
            let renamed = format!("__vnetgen_dual_{side}_{defined}");
            assert!(
                symbol(&renamed).is_some_and(|s| s.is_definition()),
                "{renamed}"
            );
        }
    }
    // What one kind of kernel lacks is referenced weakly: the VIMAGE
    // side's VNET variable of the kernel, the other side's plain one, and
    // the dispatcher's probe.
    for weak in ["vnet_entry_ip_defttl", "ip_defttl", "vnet0"] {
        let s = symbol(weak).unwrap_or_else(|| panic!("no reference to {weak}"));
        assert!(
            s.is_undefined() && s.is_weak(),
            "{weak} must be a weak reference"
        );
    }
    // ...and each side needs its own on its own kind of kernel: the
    // dispatcher checks them before anything of the side runs.
    for need in [
        "__vnetgen_dual_need_v_vnet_entry_ip_defttl",
        "__vnetgen_dual_need_n_ip_defttl",
    ] {
        assert!(symbol(need).is_some(), "{need}");
    }
    let printf = symbol("printf").expect("printf");
    assert!(printf.is_undefined() && !printf.is_weak());

    // `vnetgen inspect` tells a dual module, and that it loads on both.
    let module = &inspect_json(&ko)["modules"][0];
    assert_eq!(module["build"], "dual");
    assert_eq!(module["loads"]["vimage"]["ok"], true);
    assert_eq!(module["loads"]["novimage"]["ok"], true);
}

/// What a dependent needs of a dual module is exported under its own
/// name: a function of both sides as a trampoline that jumps to the active
/// side's (`movq $vnet0, %r11; testq; je N; jmp V`), a variable of both
/// sides as one copy, a name of one side alone as that side's; the sides'
/// DPCPU storage, laid out alike, is one `set_pcpu`.
#[test]
fn a_dual_module_exports_each_name_once_and_shares_what_the_sides_hold_alike() {
    common::toolchain();
    let spec = Spec::default_spec().expect("default spec");
    let build = |kmod: &str| {
        build_dual_module(&spec, &lab_options(), &kmod_dir(kmod), "amd64", None, &[])
            .unwrap_or_else(|e| panic!("{e}"))
    };
    let ko = build("export_owner");
    let data = std::fs::read(&ko).expect("read the module");
    let file = object::File::parse(&*data).expect("an ELF object");
    let symbol = |name: &str| {
        file.symbols()
            .find(|s| s.name() == Ok(name))
            .unwrap_or_else(|| panic!("no symbol {name}"))
    };
    let place = |name: &str| {
        let s = symbol(name);
        assert!(s.is_definition(), "{name} is not defined");
        (s.section(), s.address())
    };
    let section_of = |name: &str| match symbol(name).section() {
        object::SymbolSection::Section(i) => file
            .section_by_index(i)
            .ok()
            .and_then(|s| s.name().ok().map(str::to_string))
            .unwrap_or_default(),
        other => panic!("{name}: {other:?}"),
    };
    for f in ["export_owner_add", "export_owner_vimage"] {
        assert_eq!(section_of(f), ".text.vnetgen.dual", "{f}");
        assert!(symbol(f).is_global(), "{f} is exported");
    }
    let trampolines = file
        .section_by_name(".text.vnetgen.dual")
        .expect("the trampolines");
    let code = trampolines.data().expect("code");
    assert_eq!(&code[..3], &[0x49, 0xc7, 0xc3], "movq $imm32, %r11");
    let targets: Vec<(u64, String)> = trampolines
        .relocations()
        .filter_map(|(at, r)| match r.target() {
            object::RelocationTarget::Symbol(i) => file
                .symbol_by_index(i)
                .ok()
                .map(|s| (at, s.name().unwrap_or("").to_string())),
            _ => None,
        })
        .collect();
    let add = symbol("export_owner_add").address();
    for (at, target) in [
        (3, "vnet0"),
        (12, "__vnetgen_dual_n_export_owner_add"),
        (17, "__vnetgen_dual_v_export_owner_add"),
    ] {
        assert!(
            targets.contains(&(add + at, target.to_string())),
            "{target} at +{at}: {targets:?}"
        );
    }
    // One copy of each variable both sides define, the VIMAGE side's.
    for v in ["export_owner_hits", "export_owner_ops"] {
        assert_eq!(place(v), place(&format!("__vnetgen_dual_v_{v}")), "{v}");
        assert_eq!(
            place(&format!("__vnetgen_dual_n_{v}")),
            place(&format!("__vnetgen_dual_v_{v}")),
            "the non-VIMAGE side's {v} is the VIMAGE side's copy"
        );
    }
    // The table's pointer to a static function goes through a trampoline.
    let ops = file
        .section_by_name(".rodata")
        .expect(".rodata")
        .relocations()
        .filter_map(|(_, r)| match r.target() {
            object::RelocationTarget::Symbol(i) => file.symbol_by_index(i).ok(),
            _ => None,
        })
        .filter_map(|s| s.name().ok().map(str::to_string))
        .collect::<Vec<_>>();
    assert!(
        ops.iter()
            .any(|n| n == "__vnetgen_dual_t_export_owner_twice"),
        "{ops:?}"
    );
    // A VNET variable: `vnet_entry_` in the VIMAGE build, plain in the other.
    assert_eq!(section_of("vnet_entry_export_owner_count"), "set_vnet");
    assert_eq!(
        place("export_owner_count"),
        place("__vnetgen_dual_n_export_owner_count")
    );

    // DPCPU storage laid out alike by both builds is one set_pcpu.
    let ko = build("dpcpu_stats");
    let data = std::fs::read(&ko).expect("read the module");
    let file = object::File::parse(&*data).expect("an ELF object");
    let sides = std::fs::read(ko.with_file_name("v").join("dpcpu_stats.ko")).expect("side v");
    let side = object::File::parse(&*sides).expect("an ELF object");
    let size = |f: &object::File<'_>| {
        f.section_by_name("set_pcpu")
            .map(|s| s.size())
            .expect("set_pcpu")
    };
    assert_eq!(size(&file), size(&side), "set_pcpu is paid once");
    // `vnetgen inspect` lists each DPCPU variable once and reports the one
    // copy's module space.
    let module = &inspect_json(&ko)["modules"][0];
    let names: Vec<&str> = module["dpcpu_vars"]
        .as_array()
        .expect("dpcpu_vars")
        .iter()
        .filter_map(|v| v["name"].as_str())
        .collect();
    assert_eq!(
        names,
        ["dpcpu_stats_count", "dpcpu_stats_pair", "dpcpu_stats_ring"]
    );
    let pcpu = module["modspace"]
        .as_array()
        .expect("modspace")
        .iter()
        .find(|u| u["set"] == "set_pcpu")
        .expect("set_pcpu's module space");
    assert_eq!(pcpu["size"], size(&side));
    assert_eq!(pcpu["limit"], 2048, "DPCPU_MODMIN");
}

/// `vnetgen inspect --format json` of a module: the report (its exit code
/// says whether the module loads everywhere, 4 where it does not).
fn inspect_json(ko: &Path) -> serde_json::Value {
    let out = Command::new(env!("CARGO_BIN_EXE_vnetgen"))
        .arg("inspect")
        .arg(ko)
        .args(["--format", "json"])
        .output()
        .expect("run vnetgen inspect");
    assert!(
        matches!(out.status.code(), Some(0 | 4)),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("json")
}

/// export_owner built dual for `arch`, whose modules are shared objects:
/// the module's path and bytes.
fn shared_dual_export_owner(spec: &Spec, arch: &str) -> (PathBuf, Vec<u8>) {
    common::toolchain();
    let ko = build_dual_module(
        spec,
        &lab_options(),
        &kmod_dir("export_owner"),
        arch,
        None,
        &[],
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let data = std::fs::read(&ko).expect("read the module");
    let file = object::File::parse(&*data).expect("an ELF object");
    assert_eq!(file.kind(), object::ObjectKind::Dynamic, "{arch}");
    (ko, data)
}

/// i386 modules are shared objects: the sides' relocatable objects are
/// joined (REL: the addends are in the data), the trampolines are i386
/// code, and the module is linked as a shared object.
#[test]
fn an_i386_dual_module_is_a_shared_object_with_i386_trampolines() {
    let spec = Spec::default_spec().expect("default spec");
    let (ko, data) = shared_dual_export_owner(&spec, "i386");
    let file = object::File::parse(&*data).expect("an ELF object");
    assert_eq!(file.architecture(), object::Architecture::I386);
    let trampolines = file
        .section_by_name(".text.vnetgen.dual")
        .expect("the trampolines");
    let code = trampolines.data().expect("code");
    // movl $vnet0, %eax; testl %eax, %eax; je; jmp
    assert_eq!(&code[..1], &[0xb8]);
    assert_eq!(&code[5..9], &[0x85, 0xc0, 0x0f, 0x84]);
    assert_eq!(code[13], 0xe9);
    let exported: Vec<String> = file
        .dynamic_symbols()
        .filter(|s| s.is_definition())
        .filter_map(|s| s.name().ok().map(str::to_string))
        .collect();
    // 15.1's kmod.mk builds i386 modules -fPIC: the table of names the
    // exported table points to is const data in .data.rel.ro, as alike
    // on both sides as if it were read-only.
    let side = std::fs::read(ko.with_file_name("v").join("export_owner.kld")).expect("side v");
    let side = object::File::parse(&*side).expect("an ELF object");
    assert!(side.section_by_name(".data.rel.ro").is_some());
    for name in [
        "export_owner_add",
        "export_owner_ops",
        "export_owner_hits",
        "vnet_entry_export_owner_count",
        "export_owner_count",
    ] {
        assert!(exported.iter().any(|n| n == name), "{name}: {exported:?}");
    }
}

/// aarch64 modules are shared objects too: the sides' `.kld` joined (RELA),
/// aarch64 trampolines (`ldr x16, =vnet0; cbnz x16; b N; b V`) whose jumps
/// the link resolves to each side's function, and whose probe is a dynamic
/// relocation against the weak `vnet0` for the kernel linker.
#[test]
fn an_aarch64_dual_module_is_a_shared_object_with_aarch64_trampolines() {
    let spec = Spec::default_spec().expect("default spec");
    let (_, data) = shared_dual_export_owner(&spec, "aarch64");
    let file = object::File::parse(&*data).expect("an ELF object");
    assert_eq!(file.architecture(), object::Architecture::Aarch64);
    // The link merges the trampolines' section into .text.
    let address = |name: &str| {
        file.symbols()
            .find(|s| s.name() == Ok(name))
            .unwrap_or_else(|| panic!("{name} is not in the module"))
            .address()
    };
    let trampoline = address("export_owner_add");
    let section = file
        .sections()
        .find(|s| (s.address()..s.address() + s.size()).contains(&trampoline))
        .expect("the trampoline's section");
    let code = section.data().expect("code");
    let word = |at: usize| u32::from_le_bytes([code[at], code[at + 1], code[at + 2], code[at + 3]]);
    let at = usize::try_from(trampoline - section.address()).expect("an offset");
    assert_eq!(word(at), 0x5800_0090, "ldr x16, #16");
    assert_eq!(word(at + 4), 0xb500_0050, "cbnz x16, #8");
    // b imm26: the target is the instruction's address plus imm26 * 4.
    let target = |k: usize| {
        let w = word(at + k);
        assert_eq!(w >> 26, 0b000101, "b at +{k}: {w:#x}");
        let imm = ((w & 0x03ff_ffff) << 6) as i32 >> 6;
        (trampoline + k as u64).wrapping_add_signed(i64::from(imm) * 4)
    };
    // A shared module reaches its global functions through its PLT, as a
    // stock aarch64 module calls its own: lld's entry k (after a 32-byte
    // header, 16 bytes each) jumps where the k-th JUMP_SLOT relocation says.
    use object::ObjectSymbolTable;
    let dynsym = |index| {
        file.dynamic_symbol_table()
            .and_then(|t| t.symbol_by_index(index).ok())
            .and_then(|s| s.name().ok().map(str::to_string))
    };
    let slots: Vec<Option<String>> = file
        .dynamic_relocations()
        .expect("dynamic relocations")
        .filter(|(_, r)| {
            r.flags()
                == object::RelocationFlags::Elf {
                    r_type: object::elf::R_AARCH64_JUMP_SLOT,
                }
        })
        .map(|(_, r)| match r.target() {
            object::RelocationTarget::Symbol(index) => dynsym(index),
            _ => None,
        })
        .collect();
    let plt = file.section_by_name(".plt");
    let reaches = |to: u64, function: &str| {
        if to == address(function) {
            return true;
        }
        let Some(plt) = &plt else { return false };
        let Some(k) = to.checked_sub(plt.address() + 32).map(|d| d / 16) else {
            return false;
        };
        slots.get(k as usize).cloned().flatten().as_deref() == Some(function)
    };
    assert!(reaches(target(8), "__vnetgen_dual_n_export_owner_add"));
    assert!(reaches(target(12), "__vnetgen_dual_v_export_owner_add"));
    // The literal is relocated at load time against the weak vnet0.
    let literal = trampoline + 16;
    let probe = file
        .dynamic_relocations()
        .expect("dynamic relocations")
        .find(|(offset, _)| *offset == literal)
        .expect("a dynamic relocation of the probe's literal");
    match probe.1.target() {
        object::RelocationTarget::Symbol(index) => {
            assert_eq!(dynsym(index).as_deref(), Some("vnet0"))
        }
        other => panic!("the probe's literal is relocated against {other:?}"),
    }
    let vnet0 = file
        .dynamic_symbols()
        .find(|s| s.name() == Ok("vnet0"))
        .expect("vnet0 among the dynamic symbols");
    assert!(vnet0.is_undefined() && vnet0.is_weak());

    // Every module the dual scenarios load (tests/kld/**/*.kld, `variant=dual`)
    // and the lab's own join for aarch64, and `vnetgen inspect` tells a
    // dual module that loads on both kinds of kernel.
    let repo = common::repo();
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(repo.join("tests/kmods"))
        .expect("the lab's modules")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    let mut scenarios = vec![repo.join("tests/kld"), repo.join("tests/kld/preload")];
    while let Some(dir) = scenarios.pop() {
        for path in std::fs::read_dir(&dir)
            .expect("the scenarios")
            .flatten()
            .map(|e| e.path())
        {
            if path.extension().is_none_or(|x| x != "kld") {
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("a scenario");
            for line in text.lines().map(|l| l.split('#').next().unwrap_or("")) {
                if !line.contains("variant=dual") {
                    continue;
                }
                for word in line.split_whitespace().filter(|w| w.contains("kmods/")) {
                    let module = dir.join(word).canonicalize().expect("a module directory");
                    if !dirs.contains(&module) {
                        dirs.push(module);
                    }
                }
            }
        }
    }
    dirs.sort();
    assert!(dirs.len() >= 8, "{dirs:?}");
    // export_user needs export_owner's exports, which inspect alone cannot
    // see.
    for dir in &dirs {
        let name = dir.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let built = build_dual_module(&spec, &lab_options(), dir, "aarch64", None, &[]);
        let ko = built.unwrap_or_else(|e| panic!("{name}: {e}"));
        let module = &inspect_json(&ko)["modules"][0];
        assert_eq!(module["build"], "dual", "{name}");
        assert_eq!(module["arch"], "aarch64", "{name}");
        if name != "export_user" {
            for kernel in ["vimage", "novimage"] {
                assert_eq!(
                    module["loads"][kernel]["ok"], true,
                    "{name} on {kernel}: {module}"
                );
            }
        }
    }
    // An architecture without trampolines is refused, by name.
    let refused = build_dual_module(
        &spec,
        &lab_options(),
        &kmod_dir("vnet_full"),
        "riscv64",
        None,
        &[],
    )
    .expect_err("no riscv64 dual modules");
    assert!(refused.to_string().contains("riscv64 is not"), "{refused}");
}

/// An i386 relocatable object as an `ld -r` of `-fPIC` objects can leave
/// it: an exported table whose string pointer is relocated against one of
/// several local labels named `.L.str` (REL: the addend in the data), the
/// string at `at` in the merged string section.
fn i386_object_with_labels(dir: &Path, name: &str, strings: &[u8], at: u64) -> PathBuf {
    use object::write::{Object as Writer, Relocation, Symbol, SymbolSection};
    use object::{
        elf, Architecture, BinaryFormat, Endianness, RelocationFlags, SectionKind, SymbolFlags,
        SymbolKind, SymbolScope,
    };
    let mut w = Writer::new(BinaryFormat::Elf, Architecture::I386, Endianness::Little);
    let rodata = w.add_section(
        Vec::new(),
        b".rodata.str1.1".to_vec(),
        SectionKind::ReadOnlyString,
    );
    w.append_section_data(rodata, strings, 1);
    let mut label = None;
    for (k, offset) in [0, at].into_iter().enumerate() {
        let id = w.add_symbol(Symbol {
            name: b".L.str".to_vec(),
            value: offset,
            size: 0,
            kind: SymbolKind::Data,
            scope: SymbolScope::Compilation,
            weak: false,
            section: SymbolSection::Section(rodata),
            flags: SymbolFlags::None,
        });
        if k == 1 {
            label = Some(id);
        }
    }
    let data = w.add_section(Vec::new(), b".data".to_vec(), SectionKind::Data);
    w.append_section_data(data, &[0, 0, 0, 0, 1, 0, 0, 0], 4);
    w.add_symbol(Symbol {
        name: b"exported_table".to_vec(),
        value: 0,
        size: 8,
        kind: SymbolKind::Data,
        scope: SymbolScope::Dynamic,
        weak: false,
        section: SymbolSection::Section(data),
        flags: SymbolFlags::None,
    });
    w.add_relocation(
        data,
        Relocation {
            offset: 0,
            symbol: label.expect("the label"),
            addend: 0,
            flags: RelocationFlags::Elf {
                r_type: elf::R_386_32,
            },
        },
    )
    .expect("relocation");
    let path = dir.join(format!("{name}.o"));
    std::fs::write(&path, w.write().expect("write the object")).expect("write");
    path
}

/// A pointer relocated against a local label is what lies at the label:
/// the two sides' tables are alike where their strings are, wherever each
/// side's string section holds them, and the table is one copy.
#[test]
fn a_pointer_through_a_local_label_is_compared_by_what_it_reaches() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let none = Default::default();
    let v = i386_object_with_labels(dir.path(), "v", b"other\0name\0", 6);
    let n = i386_object_with_labels(dir.path(), "n", b"more text\0name\0", 10);
    let out = dir.path().join("joined.o");
    join(
        [
            SideInput {
                tag: "v",
                path: &v,
                weak: &none,
            },
            SideInput {
                tag: "n",
                path: &n,
                weak: &none,
            },
        ],
        &out,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let data = std::fs::read(&out).expect("the joined object");
    let file = object::File::parse(&*data).expect("an ELF object");
    let place = |name: &str| {
        file.symbols()
            .find(|s| s.name() == Ok(name))
            .map(|s| (s.section(), s.address()))
            .unwrap_or_else(|| panic!("no {name}"))
    };
    assert_eq!(
        place("__vnetgen_dual_n_exported_table"),
        place("__vnetgen_dual_v_exported_table")
    );
    // A string that differs is refused.
    let other = i386_object_with_labels(dir.path(), "other", b"more text\0nope\0", 10);
    let err = join(
        [
            SideInput {
                tag: "v",
                path: &v,
                weak: &none,
            },
            SideInput {
                tag: "n",
                path: &other,
                weak: &none,
            },
        ],
        &out,
    )
    .expect_err("different strings");
    assert!(err.to_string().contains("exported_table"), "{err}");
}

fn kmod_dir(name: &str) -> PathBuf {
    let kld = common::repo().join("tests/kld/kmods").join(name);
    if kld.is_dir() {
        kld
    } else {
        common::repo().join("tests/kmods").join(name)
    }
}

fn compile(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let toolchain = common::toolchain();
    let src = dir.join(format!("{name}.c"));
    std::fs::write(&src, text).expect("write");
    let obj = dir.join(format!("{name}.o"));
    let ok = Command::new(&toolchain.clang)
        .args([
            "--target=x86_64-unknown-freebsd15.1",
            "-mcmodel=kernel",
            "-O2",
            "-c",
        ])
        .arg(&src)
        .arg("-o")
        .arg(&obj)
        .status()
        .expect("clang")
        .success();
    assert!(ok);
    obj
}

#[test]
fn what_cannot_be_joined_stops_the_build_naming_object_section_and_symbol() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let none = Default::default();
    let good = compile(dir.path(), "good", "int good(void) { return 1; }\n");
    let set = compile(
        dir.path(),
        "set",
        "static int x;\n\
         __attribute__((section(\"set_foo_set\"), used)) static void *entry = &x;\n",
    );
    let common_sym = {
        let toolchain = common::toolchain();
        let src = dir.path().join("common.c");
        std::fs::write(&src, "int shared_counter;\n").expect("write");
        let obj = dir.path().join("common.o");
        assert!(Command::new(&toolchain.clang)
            .args(["--target=x86_64-unknown-freebsd15.1", "-fcommon", "-c"])
            .arg(&src)
            .arg("-o")
            .arg(&obj)
            .status()
            .expect("clang")
            .success());
        obj
    };
    // An exported variable the two builds define differently: no one copy
    // serves a dependent on both kinds of kernel.
    let differs_v = compile(dir.path(), "differs_v", "long exported_limit = 1;\n");
    let differs_n = compile(dir.path(), "differs_n", "long exported_limit = 2;\n");
    let out = dir.path().join("joined.o");
    let err = join(
        [
            SideInput {
                tag: "v",
                path: &differs_v,
                weak: &none,
            },
            SideInput {
                tag: "n",
                path: &differs_n,
                weak: &none,
            },
        ],
        &out,
    )
    .expect_err("must be refused");
    assert!(
        matches!(&err, DualError::Join { object, section, symbol, message }
            if object == &differs_n.display().to_string()
                && section == ".data"
                && symbol == "exported_limit"
                && message.contains("EXPORT_SYMS")),
        "{err}"
    );
    assert!(!out.exists(), "nothing may be written");
    for (bad, section, symbol, words) in [
        (
            &set,
            "set_foo_set",
            "",
            "a linker set the dispatcher cannot hand to the kernel",
        ),
        (
            &common_sym,
            "COMMON",
            "shared_counter",
            "build with -fno-common",
        ),
    ] {
        let err = join(
            [
                SideInput {
                    tag: "v",
                    path: &good,
                    weak: &none,
                },
                SideInput {
                    tag: "n",
                    path: bad,
                    weak: &none,
                },
            ],
            &out,
        )
        .expect_err("must be refused");
        let DualError::Join {
            object,
            section: s,
            symbol: y,
            message,
        } = &err
        else {
            panic!("{err}");
        };
        assert_eq!(object, &bad.display().to_string());
        assert_eq!((s.as_str(), y.as_str()), (section, symbol), "{err}");
        assert!(message.contains(words), "{err}");
        assert!(!out.exists(), "nothing may be written");
    }
}

/// `vnetgen dual` joins two builds made elsewhere; a side that is no
/// object is refused with its path, and the output is not written.
#[test]
fn the_dual_command_joins_two_builds_and_refuses_what_it_cannot() {
    let toolchain = common::toolchain();
    let spec = Spec::default_spec().expect("default spec");
    let generated = common::generate(&spec);
    let dir = tempfile::tempdir().expect("temporary directory");
    let side = |variant, kernel, name: &str| {
        common::build_kmod(
            &toolchain,
            &spec,
            generated.path(),
            "amd64",
            variant,
            kernel,
            "vnet_full",
            &dir.path().join(name),
        )
    };
    use vnetgen::spec::variant::{KernelConfig, Variant};
    let v = side(Variant::Vimage, KernelConfig::Vimage, "v");
    // A tied build declares another dependency (on the kernel itself):
    // the sides must be untied, and a tied one is refused.
    let tied = side(Variant::KldTied, KernelConfig::Novimage, "tied");
    let sources = common::kmod_sources("vnet_full");
    let sysroot = vnetgen::build::cflags::stub_sysroot();
    let untied = ["-UKLD_TIED".to_string()];
    let n = vnetgen::build::kmod::ModuleBuild {
        spec: &spec,
        target: vnetgen::build::cflags::Target {
            variant: Variant::KldTied,
            kernel: KernelConfig::Novimage,
            arch: spec.arch("amd64").expect("amd64"),
            release: None,
        },
        name: "vnet_full",
        sources: &sources,
        generated: generated.path(),
        sysroot: &sysroot,
        out_dir: &dir.path().join("n"),
        extra_cflags: &untied,
    }
    .build(&toolchain)
    .unwrap_or_else(|e| panic!("{e}"));
    let out = dir.path().join("vnet_full.ko");
    let run = |novimage: &Path| {
        Command::new(env!("CARGO_BIN_EXE_vnetgen"))
            .args(["dual", "--vimage"])
            .arg(&v)
            .arg("--novimage")
            .arg(novimage)
            .arg("-o")
            .arg(&out)
            .arg("--headers")
            .arg(generated.path())
            .output()
            .expect("run vnetgen dual")
    };
    let refused = run(&tied);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(
            "section set_modmetadata_set: the VIMAGE and non-VIMAGE builds declare different"
        ),
        "{stderr}"
    );
    assert!(!out.exists(), "nothing may be written");
    let ok = run(&n);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let data = std::fs::read(&out).expect("the dual module");
    let file = object::File::parse(&*data).expect("an ELF object");
    assert!(file
        .symbols()
        .any(|s| s.name() == Ok("__vnetgen_dual_n_vnet_full_add")));

    std::fs::remove_file(&out).expect("remove");
    let not_elf = dir.path().join("not.ko");
    std::fs::write(&not_elf, "not an object").expect("write");
    let bad = run(&not_elf);
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert_eq!(bad.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(&not_elf.display().to_string()), "{stderr}");
    assert!(!out.exists(), "nothing may be written");
}
