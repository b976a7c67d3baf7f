//! `vnetgen::inspect` on modules built with clang-19 and ld.lld-19 from the
//! generated headers, and on broken input, which must be an error that
//! names the file, never a panic.

use std::path::{Path, PathBuf};
use std::process::Command;

use object::{Object, ObjectSection};
use vnetgen::build::cflags::{self, stub_sysroot, Target};
use vnetgen::build::toolchain::Toolchain;
use vnetgen::inspect::{
    inspect_bytes, inspect_file, inspect_file_with, known_relocation_type_name, Binding,
    InspectError, InspectOptions, ObjectInfo, ObjectKind, SymbolKind,
};
use vnetgen::spec::variant::{KernelConfig, ModuleFormat, Variant};
use vnetgen::spec::Spec;

const SOURCE: &str = r#"
#include <sys/param.h>
#include <sys/systm.h>
#include <sys/kernel.h>
#include <sys/pcpu.h>

#include <net/vnet.h>

VNET_DEFINE(int, inspect_counter) = 3;
#define	V_inspect_counter	VNET(inspect_counter)

DPCPU_DEFINE_STATIC(long, inspect_pcpu);

int	inspect_bump(void);

int
inspect_bump(void)
{
	DPCPU_SET(inspect_pcpu, DPCPU_GET(inspect_pcpu) + 1);
	return (++V_inspect_counter);
}
"#;

const VNET_ENTRY: &str = "vnet_entry_inspect_counter";
const PCPU_ENTRY: &str = "pcpu_entry_inspect_pcpu";

fn toolchain() -> Toolchain {
    match Toolchain::locate() {
        Ok(t) => t,
        Err(e) => panic!("{e}"),
    }
}

fn run(cmd: &mut Command) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{:?}: {e}", cmd.get_program()));
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
}

/// A module of the test source for `arch` (vimage-runtime): the compiled
/// `.o` and the linked `.ko`, in `dir`.
struct Built {
    object: PathBuf,
    module: PathBuf,
}

fn build(dir: &Path, arch_name: &str) -> Built {
    let toolchain = toolchain();
    let spec = Spec::default_spec().expect("default spec");
    let arch = spec.arch(arch_name).expect("arch in the default spec");
    let generated = Path::new(env!("CARGO_MANIFEST_DIR")).join("generated");
    let flags = cflags::cflags(
        &spec,
        &Target {
            variant: Variant::VimageRuntime,
            kernel: KernelConfig::Vimage,
            arch,
            release: None,
        },
        &generated,
        &stub_sysroot(),
        true,
    );
    let source = dir.join("inspect_mod.c");
    std::fs::write(&source, SOURCE).expect("write the test source");
    let object = dir.join(format!("{arch_name}.o"));
    let module = dir.join(format!("{arch_name}.ko"));
    run(Command::new(&toolchain.clang)
        .args(&flags)
        .args(["-O2", "-c"])
        .arg(&source)
        .arg("-o")
        .arg(&object));
    run(Command::new(&toolchain.lld)
        .args(match arch.module_format {
            ModuleFormat::Relocatable => &["-r"][..],
            ModuleFormat::Shared => &["-shared", "-z", "notext"][..],
        })
        .arg("-o")
        .arg(&module)
        .arg(&object));
    Built { object, module }
}

fn inspect(path: &Path) -> ObjectInfo {
    inspect_file(path).unwrap_or_else(|e| panic!("{e}"))
}

/// What every module of the test source has, whatever the format.
fn check_common(info: &ObjectInfo, arch: &str, pointer_bytes: u32) {
    assert_eq!(info.arch, arch);
    assert_eq!(info.pointer_bytes, pointer_bytes);
    assert!(info.freebsd, "{}: {}", info.name, info.os);
    assert_eq!(info.os_abi, object::elf::ELFOSABI_FREEBSD.0);

    let set_vnet = info.section("set_vnet").expect("set_vnet section");
    assert!(set_vnet.size > 0 && set_vnet.align > 0, "{set_vnet:?}");
    assert!(set_vnet.alloc && set_vnet.writable && !set_vnet.executable);
    let entry = info.defined(VNET_ENTRY).expect("the VNET entry is defined");
    assert_eq!(entry.section.as_deref(), Some("set_vnet"));
    assert_eq!(entry.kind, SymbolKind::Data);
    assert!(info.symbols_in("set_vnet").any(|s| s.name == VNET_ENTRY));
    assert!(info.section("set_pcpu").is_some_and(|s| s.size > 0));
    assert!(info.symbols_in("set_pcpu").any(|s| s.name == PCPU_ENTRY));

    // The vimage-runtime build probes for VIMAGE with a weak vnet0.
    let vnet0: Vec<_> = info.undefined().filter(|s| s.name == "vnet0").collect();
    assert_eq!(vnet0.len(), 1, "{vnet0:?}");
    assert_eq!(vnet0[0].binding, Binding::Weak);

    let bounds = info.set_bound("set_vnet").expect("set_vnet bounds");
    assert!(bounds.present && bounds.referenced_start && bounds.referenced_stop);
}

/// `.text` relocations of the entry, by type name.
fn text_types(info: &ObjectInfo, symbol: &str) -> Vec<String> {
    let mut types: Vec<String> = info
        .relocations_in(".text")
        .filter(|r| r.symbol.as_deref() == Some(symbol))
        .map(|r| r.type_name.clone())
        .collect();
    types.sort();
    types.dedup();
    types
}

#[test]
fn amd64_module_is_relocatable() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let built = build(dir.path(), "amd64");
    for path in [&built.object, &built.module] {
        let info = inspect(path);
        assert_eq!(info.kind, ObjectKind::Relocatable);
        check_common(&info, "amd64", 8);
        assert_eq!(text_types(&info, VNET_ENTRY), ["R_X86_64_32S"]);
        let r = info
            .relocations_to(VNET_ENTRY)
            .next()
            .expect("a relocation");
        assert_eq!(r.target_section.as_deref(), Some("set_vnet"));
        assert_eq!(r.relocation_section, ".rela.text");
        assert!(!r.dynamic && r.addend_known);
        // The static DPCPU variable is reached through the section symbol.
        let pcpu: Vec<_> = info.relocations_to("set_pcpu").collect();
        assert!(!pcpu.is_empty());
        assert!(pcpu.iter().all(|r| r.type_name == "R_X86_64_32S"
            && r.section == ".text"
            && r.target_section.as_deref() == Some("set_pcpu")));
        assert_eq!(
            info.symbol(PCPU_ENTRY).map(|s| s.binding),
            Some(Binding::Local)
        );
        // ld -r leaves the bounds to the kernel linker.
        let bounds = info.set_bound("set_vnet").expect("set_vnet bounds");
        assert!(!bounds.defined && !bounds.exported, "{bounds:?}");
        let start = info.symbol("__start_set_vnet").expect("__start_set_vnet");
        // Weak in the run-time variant: a kernel without VIMAGE has no set_vnet.
        assert!(
            !start.defined && start.binding == Binding::Weak,
            "{start:?}"
        );
    }
}

/// Checks a shared-object module and the `.o` it was linked from.
fn check_shared(arch: &str, pointer_bytes: u32, text: &[&str], glob_dat: &str) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let built = build(dir.path(), arch);

    let object = inspect(&built.object);
    assert_eq!(object.kind, ObjectKind::Relocatable);
    check_common(&object, arch, pointer_bytes);
    // Before linking, code reaches the entry through the GOT.
    assert_eq!(text_types(&object, VNET_ENTRY), text);

    let module = inspect(&built.module);
    assert_eq!(module.kind, ObjectKind::Shared);
    check_common(&module, arch, pointer_bytes);
    // After linking, only the dynamic relocations that fill the GOT remain.
    assert_eq!(text_types(&module, VNET_ENTRY), Vec::<String>::new());
    let r = module
        .relocations_to(VNET_ENTRY)
        .find(|r| r.dynamic)
        .expect("a dynamic relocation against the VNET entry");
    assert_eq!(r.type_name, glob_dat);
    assert_eq!(r.section, ".got");
    assert_eq!(r.target_section.as_deref(), Some("set_vnet"));
    let entry = module.defined(VNET_ENTRY).expect("entry");
    assert_eq!(r.target_value, Some(entry.value));
    assert!(r.addend_known && r.addend == 0, "{r:?}");
    assert!(module
        .symbols
        .iter()
        .any(|s| s.dynamic && s.name == VNET_ENTRY && s.defined));

    let bounds = module.set_bound("set_vnet").expect("set_vnet bounds");
    assert!(bounds.defined && bounds.exported, "{bounds:?}");
    let start = module
        .symbols
        .iter()
        .find(|s| s.dynamic && s.name == "__start_set_vnet")
        .expect("__start_set_vnet in .dynsym");
    assert_eq!(start.section.as_deref(), Some("set_vnet"));
    assert!(!start.visibility_default, "lld makes the bounds protected");
}

#[test]
fn aarch64_module_is_shared() {
    check_shared(
        "aarch64",
        8,
        &["R_AARCH64_ADR_GOT_PAGE", "R_AARCH64_LD64_GOT_LO12_NC"],
        "R_AARCH64_GLOB_DAT",
    );
}

#[test]
fn i386_module_is_shared() {
    check_shared(
        "i386",
        4,
        &["R_386_GOT32", "R_386_GOT32X"],
        "R_386_GLOB_DAT",
    );
}

#[test]
fn every_arch_is_recognised() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let spec = Spec::default_spec().expect("default spec");
    for arch in &spec.archs {
        let built = build(dir.path(), &arch.name);
        for path in [&built.object, &built.module] {
            let info = inspect(path);
            check_common(&info, &arch.name, arch.pointer_bytes);
            for r in &info.relocations {
                assert_eq!(
                    known_relocation_type_name(object::elf::Machine(info.machine), r.r_type),
                    Some(r.type_name.as_str()),
                    "{}: {r:?}",
                    info.name
                );
            }
        }
    }
}

// ---- broken input ----

/// Writes `data` to `name` in `dir` and inspects it, expecting an error
/// whose message names the file.
fn expect_error(dir: &Path, name: &str, data: &[u8]) -> InspectError {
    let path = dir.join(name);
    std::fs::write(&path, data).expect("write the test input");
    match inspect_file(&path) {
        Ok(info) => panic!("{name}: inspected without error: {info:?}"),
        Err(e) => {
            let message = e.to_string();
            eprintln!("{message}");
            assert!(
                message.contains(name),
                "message does not name {name}: {message}"
            );
            assert_eq!(e.object(), path.display().to_string());
            e
        }
    }
}

/// Deterministic noise.
fn noise(len: usize, mut seed: u64) -> Vec<u8> {
    (0..len)
        .map(|_| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 56) as u8
        })
        .collect()
}

#[test]
fn empty_and_random_input() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let e = expect_error(dir.path(), "empty.ko", &[]);
    assert!(matches!(e, InspectError::NotElf { .. }), "{e}");
    let e = expect_error(dir.path(), "random.ko", &noise(4096, 7));
    assert!(matches!(e, InspectError::NotElf { .. }), "{e}");
    // Noise behind a valid-looking identification.
    let mut fake = noise(4096, 11);
    fake[..8].copy_from_slice(&[0x7f, b'E', b'L', b'F', 2, 1, 1, 9]);
    expect_error(dir.path(), "noise-after-magic.ko", &fake);
    let e = expect_error(dir.path(), "magic-only.ko", b"\x7fEL");
    assert!(matches!(e, InspectError::Truncated { .. }), "{e}");
}

#[test]
fn missing_file() {
    let path = Path::new("/nonexistent/inspect-missing.ko");
    let e = inspect_file(path).expect_err("a missing file");
    assert!(matches!(e, InspectError::Read { .. }));
    assert!(e.to_string().contains("inspect-missing.ko"), "{e}");
}

#[test]
fn truncated_header() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let built = build(dir.path(), "amd64");
    let data = std::fs::read(&built.module).expect("read the module");
    let e = expect_error(dir.path(), "header40.ko", &data[..40]);
    assert!(matches!(e, InspectError::Truncated { .. }), "{e}");
}

#[test]
fn linux_gcc_object_is_rejected() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let source = dir.path().join("linux.c");
    std::fs::write(
        &source,
        "int linux_counter;\nint linux_get(void) { return linux_counter; }\n",
    )
    .expect("write source");
    let object = dir.path().join("linux-gcc.o");
    run(Command::new("gcc")
        .args(["-O2", "-c"])
        .arg(&source)
        .arg("-o")
        .arg(&object));
    let e = inspect_file(&object).expect_err("a Linux object");
    assert!(matches!(e, InspectError::NotFreeBsd { .. }), "{e}");
    let message = e.to_string();
    assert!(
        message.contains("linux-gcc.o") && message.contains("not FreeBSD"),
        "{message}"
    );

    // Read anyway, it is an amd64 object that is not FreeBSD's.
    let info = inspect_file_with(
        &object,
        &InspectOptions {
            allow_other_os: true,
        },
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert!(!info.freebsd);
    assert_eq!(info.arch, "amd64");
    assert_eq!(info.os_abi, 0);
    assert!(info.defined("linux_get").is_some());
}

#[test]
fn section_headers_past_the_end() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let built = build(dir.path(), "aarch64");
    let mut data = std::fs::read(&built.module).expect("read the module");
    // e_shoff of an ELF64 little-endian header: bytes 0x28..0x30.
    let past = (data.len() as u64 + 0x1000).to_le_bytes();
    data[0x28..0x30].copy_from_slice(&past);
    let e = expect_error(dir.path(), "shoff.ko", &data);
    assert!(matches!(e, InspectError::Truncated { .. }), "{e}");
}

#[test]
fn relocation_symbol_out_of_range() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let built = build(dir.path(), "amd64");
    let mut data = std::fs::read(&built.module).expect("read the module");
    let (start, _) = {
        let file = object::File::parse(&*data).expect("parse the module");
        let rela = file
            .section_by_name(".rela.text")
            .expect("a .rela.text section");
        rela.file_range().expect("file range")
    };
    // The first Elf64_Rela: r_offset (8 bytes), then r_info, whose high
    // 32 bits (little-endian: bytes 12..16) are the symbol index.
    let at = start as usize + 12;
    data[at..at + 4].copy_from_slice(&0x00ff_ff00u32.to_le_bytes());
    let e = expect_error(dir.path(), "badsym.ko", &data);
    assert!(matches!(e, InspectError::SymbolIndex { .. }), "{e}");
    let message = e.to_string();
    assert!(
        message.contains("16776960") && message.contains(".text+0x"),
        "{message}"
    );
}

#[test]
fn class_byte_flipped() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let built = build(dir.path(), "i386");
    let mut data = std::fs::read(&built.module).expect("read the module");
    assert_eq!(data[4], 1, "an ELFCLASS32 object");
    data[4] = 2;
    expect_error(dir.path(), "class.ko", &data);
}

/// Truncations and corruptions of a real module: errors or not, never a
/// panic, and every error names the object.
#[test]
fn damaged_modules_never_panic() {
    let dir = tempfile::tempdir().expect("temporary directory");
    for arch in ["amd64", "i386", "powerpc64"] {
        let built = build(dir.path(), arch);
        let data = std::fs::read(&built.module).expect("read the module");
        let name = format!("{arch}-damaged.ko");
        let check = |bytes: &[u8]| {
            if let Err(e) = inspect_bytes(&name, bytes) {
                assert!(e.to_string().starts_with(&name), "{e}");
            }
        };
        for len in (0..data.len()).step_by(7) {
            check(&data[..len]);
        }
        let mut seed = 3u64;
        for i in 0..2000 {
            let mut copy = data.clone();
            for _ in 0..4 {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let at = (seed >> 33) as usize % copy.len();
                copy[at] = (seed >> 24) as u8 ^ (i as u8);
            }
            check(&copy);
        }
    }
}

/// FreeBSD's i386 module link script pads every set, an empty one too: a
/// module built without VIMAGE has a `set_vnet` of one pad word, which is
/// no evidence of a VIMAGE build.
#[test]
fn an_i386_set_of_padding_only_is_no_vimage_storage() {
    let toolchain = toolchain();
    let spec = Spec::default_spec().expect("default spec");
    let dir = tempfile::tempdir().expect("temporary directory");
    let source = dir.path().join("pad.c");
    let padded = |bytes: usize| {
        format!(
            "static unsigned char pad[{bytes}] __attribute__((section(\"set_vnet\"), used)) = {{ 0x90 }};\n\
             int pad_probe(void);\nint pad_probe(void) {{ return (0); }}\n"
        )
    };
    for (bytes, vimage) in [(4, false), (8, true)] {
        std::fs::write(&source, padded(bytes)).expect("write the source");
        let object = dir.path().join("pad.o");
        let module = dir.path().join("pad.ko");
        run(Command::new(&toolchain.clang)
            .args(["--target=i386-unknown-freebsd13.2", "-O2", "-c"])
            .arg(&source)
            .arg("-o")
            .arg(&object));
        run(Command::new(&toolchain.lld)
            .args(["-shared", "-z", "notext", "-o"])
            .arg(&module)
            .arg(&object));
        let info = inspect(&module);
        let layout = vnetgen::inspect::classify::classify(&spec, &info, false).layout;
        assert_eq!(
            layout == vnetgen::inspect::classify::Layout::Vimage,
            vimage,
            "a {bytes}-byte set_vnet on i386: {layout:?}"
        );
    }
}
