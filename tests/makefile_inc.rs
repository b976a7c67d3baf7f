//! Builds tests/bmake/sample, a kmod whose Makefile includes Makefile.inc and
//! then tests/bmake/kmod.mk (a miniature bsd.kmod.mk), with bmake, clang-19
//! and ld.lld-19, in every variant: the module must come out right, a second
//! build must do nothing, and a changed spec must regenerate the headers and
//! rebuild what includes them.  A missing tool fails the test; it never skips.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use filetime::FileTime;
use object::{Architecture, Object, ObjectKind, ObjectSection, ObjectSymbol};
use tempfile::TempDir;
use vnetgen::build::toolchain::{Toolchain, INSTALL_HINT};

const KO: &str = "vnetgen_sample.ko";
const SUPPORT_SYMBOL: &str = "vnet_runtime_register_sysinit";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn vnetgen_bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_vnetgen"))
}

/// A build directory: a copy of the default spec and an object directory.
struct Sample {
    _tmp: TempDir,
    spec: PathBuf,
    objdir: PathBuf,
    toolchain: Toolchain,
    variant: &'static str,
    kernel: &'static str,
    /// `MACHINE_ARCH` on bmake's command line; empty: bmake's own.
    machine_arch: &'static str,
}

impl Sample {
    fn new(variant: &'static str, kernel: &'static str) -> Sample {
        let toolchain = Toolchain::locate().unwrap_or_else(|e| panic!("{e}"));
        match Command::new("bmake")
            .args(["-f", "/dev/null", "-V", "MAKE_VERSION"])
            .output()
        {
            Ok(out) if out.status.success() => {}
            Ok(out) => panic!("bmake does not run ({}); {INSTALL_HINT}", out.status),
            Err(e) => panic!("bmake not found ({e}); {INSTALL_HINT}"),
        }
        let tmp = TempDir::new().expect("create a temporary directory");
        let spec = tmp.path().join("vimage.toml");
        fs::copy(root().join("spec/vimage.toml"), &spec).expect("copy spec/vimage.toml");
        let objdir = tmp.path().join("obj");
        fs::create_dir(&objdir).expect("create the object directory");
        Sample {
            _tmp: tmp,
            spec,
            objdir,
            toolchain,
            variant,
            kernel,
            machine_arch: "",
        }
    }

    /// The same sample, built for `MACHINE_ARCH=arch`.
    fn for_arch(mut self, arch: &'static str) -> Sample {
        self.machine_arch = arch;
        self
    }

    fn bmake_with(&self, variant: &str) -> Output {
        self.command(variant).output().expect("run bmake")
    }

    /// The bmake command of a build of `variant`, not yet run.
    fn command(&self, variant: &str) -> Command {
        let mut cmd = Command::new("bmake");
        cmd.arg("-C")
            .arg(root().join("tests/bmake/sample"))
            .arg(format!("VNETGEN={}", vnetgen_bin().display()))
            .arg(format!("VNETGEN_SPEC={}", self.spec.display()))
            .arg(format!("VNETGEN_VARIANT={variant}"))
            .arg(format!("VNETGEN_KERNEL={}", self.kernel))
            .arg(format!("CC={}", self.toolchain.clang.display()))
            .arg(format!("LD={}", self.toolchain.lld.display()))
            .env("MAKEOBJDIR", &self.objdir);
        if !self.machine_arch.is_empty() {
            cmd.arg(format!("MACHINE_ARCH={}", self.machine_arch));
        }
        // Nothing from the caller's environment: bmake imports it as variables.
        for var in [
            "MAKEFLAGS",
            "MFLAGS",
            "MAKELEVEL",
            "MAKEOBJDIRPREFIX",
            "CFLAGS",
            "CPPFLAGS",
            "VNETGEN_DETECT",
            "VNETGEN_OUT",
            "KMOD_SYSROOT",
        ] {
            cmd.env_remove(var);
        }
        cmd
    }

    /// Runs bmake and returns its stdout; panics with its output on failure.
    fn bmake(&self, step: &str) -> String {
        let out = self.bmake_with(self.variant);
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "{} ({}): bmake failed at {step} ({})\nstdout:\n{stdout}\nstderr:\n{}",
            self.variant,
            self.kernel,
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        stdout
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.objdir.join(rel)
    }

    fn read(&self, rel: &str) -> String {
        fs::read_to_string(self.path(rel)).unwrap_or_else(|e| panic!("read {rel}: {e}"))
    }

    /// Every file under the object directory, with its modification time.
    fn mtimes(&self) -> BTreeMap<PathBuf, SystemTime> {
        let mut map = BTreeMap::new();
        let mut dirs = vec![self.objdir.clone()];
        while let Some(dir) = dirs.pop() {
            for entry in fs::read_dir(&dir).expect("list the object directory") {
                let path = entry.expect("read a directory entry").path();
                let meta = fs::metadata(&path).expect("stat a built file");
                if meta.is_dir() {
                    dirs.push(path);
                } else {
                    let rel = path
                        .strip_prefix(&self.objdir)
                        .expect("a path in objdir")
                        .to_path_buf();
                    map.insert(rel, meta.modified().expect("modification time"));
                }
            }
        }
        map
    }

    /// Runs bmake and asserts that it ran nothing and touched no file.
    fn assert_nothing_to_do(&self, step: &str) {
        let before = self.mtimes();
        let stdout = self.bmake(step);
        let after = self.mtimes();
        let changed: Vec<_> = after
            .iter()
            .filter(|(p, t)| before.get(*p) != Some(*t))
            .map(|(p, _)| p)
            .collect();
        assert!(
            changed.is_empty() && before.len() == after.len(),
            "{}: bmake at {step} should do nothing, but changed {changed:?}\nstdout:\n{stdout}",
            self.variant
        );
        assert!(
            !stdout.contains(" generate "),
            "{}: vnetgen ran at {step}:\n{stdout}",
            self.variant
        );
    }

    /// Sets the times of the spec copy and everything built back to one
    /// moment in the past, so that an edit made now is newer to bmake, which
    /// compares whole seconds, without sleeping a second per step.  The
    /// moment is no earlier than the vnetgen binary, which the depfile
    /// depends on too; only a binary built under a second ago makes it wait.
    fn backdate(&self) -> SystemTime {
        let binary = fs::metadata(vnetgen_bin())
            .and_then(|m| m.modified())
            .expect("stat the vnetgen binary");
        let since = |t: SystemTime| t.duration_since(UNIX_EPOCH).expect("a time after 1970");
        let secs = |t: SystemTime| since(t).as_secs();
        // Whole seconds, rounded up: bmake may not see fractions.
        let then = std::cmp::max(binary, SystemTime::now() - Duration::from_secs(10));
        let then = UNIX_EPOCH
            + Duration::from_secs(secs(then) + u64::from(since(then).subsec_nanos() > 0));
        while secs(SystemTime::now()) <= secs(then) {
            std::thread::sleep(Duration::from_millis(100));
        }
        let stamp = FileTime::from_system_time(then);
        for rel in self.mtimes().keys() {
            filetime::set_file_mtime(self.objdir.join(rel), stamp).expect("backdate a built file");
        }
        filetime::set_file_mtime(&self.spec, stamp).expect("backdate the spec");
        then
    }

    fn edit_spec(&self, from: &str, to: &str) {
        let text = fs::read_to_string(&self.spec).expect("read the spec copy");
        assert_eq!(
            text.matches(from).count(),
            1,
            "the spec should contain `{from}` once"
        );
        fs::write(&self.spec, text.replace(from, to)).expect("write the spec copy");
    }

    fn mtime(&self, rel: &str) -> SystemTime {
        fs::metadata(self.path(rel))
            .and_then(|m| m.modified())
            .unwrap_or_else(|e| panic!("stat {rel}: {e}"))
    }
}

/// What the module must contain.
struct Expect {
    set_vnet: bool,
    support: bool,
}

fn check_module(s: &Sample, expect: &Expect) {
    let data = fs::read(s.path(KO))
        .unwrap_or_else(|e| panic!("{}: no {KO} in the object directory: {e}", s.variant));
    let file = object::File::parse(&*data).expect("parse the module as an object file");
    assert_eq!(
        file.kind(),
        ObjectKind::Relocatable,
        "{}: amd64 modules are ET_REL",
        s.variant
    );
    assert_eq!(
        file.architecture(),
        Architecture::X86_64,
        "{}: not an x86_64 object",
        s.variant
    );
    assert_eq!(
        file.section_by_name("set_vnet").is_some(),
        expect.set_vnet,
        "{} ({}): a set_vnet section is {}expected",
        s.variant,
        s.kernel,
        if expect.set_vnet { "" } else { "not " }
    );
    let defines_support = file
        .symbols()
        .any(|sym| sym.is_definition() && sym.name() == Ok(SUPPORT_SYMBOL));
    assert_eq!(
        defines_support,
        expect.support,
        "{}: {SUPPORT_SYMBOL} (from vnet_support.c) is {}expected in the module",
        s.variant,
        if expect.support { "" } else { "not " }
    );
    assert_eq!(
        s.path("vnet_support.o").exists(),
        expect.support,
        "{}: vnet_support.o built or not as expected",
        s.variant
    );
}

fn build_variant(variant: &'static str, kernel: &'static str, expect: Expect) {
    let s = Sample::new(variant, kernel);

    // The first build generates the headers while bmake reads Makefile.inc,
    // before it compiles anything.
    let stdout = s.bmake("the first build");
    // kld-tied is FreeBSD's own headers in the build kmod.mk makes: an
    // untied build gets no -DKLD_TIED (it would want the kernel build's
    // offset.inc), and VIMAGE only as the kernel has it.
    for line in stdout.lines().filter(|l| l.contains(" -c ")) {
        assert!(
            !line.contains("-DKLD_TIED"),
            "{variant}: Makefile.inc added -DKLD_TIED to an untied build:\n{line}"
        );
        assert_eq!(
            line.contains("-DVIMAGE ") || line.ends_with("-DVIMAGE"),
            variant == "vimage" || (variant == "kld-tied" && kernel == "vimage"),
            "{variant} ({kernel}): -DVIMAGE as the kernel has it:\n{line}"
        );
    }
    for rel in [
        "vnetgen/.depend.vnetgen",
        "vnetgen/sys/net/vnet.h",
        "vnetgen/sys/sys/pcpu.h",
    ] {
        assert!(
            s.path(rel).exists(),
            "{variant}: the first build did not generate {rel}"
        );
    }
    check_module(&s, &expect);
    assert!(
        s.read("vnetgen/sys/sys/pcpu.h").contains("2048"),
        "pcpu.h should have the spec's modspace"
    );

    s.assert_nothing_to_do("the second build");

    // Backdated, the build is still up to date: the binary is not newer.
    let then = s.backdate();
    s.assert_nothing_to_do("a build after backdating");

    // A comment changes no output: vnetgen runs once and nothing is rebuilt.
    let mut text = fs::read_to_string(&s.spec).expect("read the spec copy");
    text.push_str("# a comment changes no output\n");
    fs::write(&s.spec, text).expect("write the spec copy");
    let stdout = s.bmake("the build after a comment");
    assert!(
        stdout.contains(" generate "),
        "{variant}: a newer spec did not run vnetgen:\n{stdout}"
    );
    for rel in [
        KO,
        "vnetgen/sys/net/vnet.h",
        "vnetgen/sys/sys/pcpu.h",
        "vnetgen/sys/net/vnet_support.c",
    ] {
        assert_eq!(
            s.mtime(rel),
            then,
            "{variant}: {rel} was rewritten though the spec's output did not change"
        );
    }
    s.assert_nothing_to_do("the build after the comment's build");

    // A change of output regenerates pcpu.h and rebuilds the module.
    let then = s.backdate();
    s.edit_spec("modspace = 2048", "modspace = 4096");
    s.bmake("the build after changing modspace");
    assert!(
        s.read("vnetgen/sys/sys/pcpu.h").contains("4096"),
        "{variant}: pcpu.h was not regenerated with modspace = 4096"
    );
    assert!(
        s.mtime("vnetgen/sys/sys/pcpu.h") > then,
        "{variant}: pcpu.h was not rewritten"
    );
    assert!(
        s.mtime(KO) > then,
        "{variant}: {KO} was not rebuilt after pcpu.h changed"
    );
    check_module(&s, &expect);
    s.assert_nothing_to_do("the build after the modspace build");
}

#[test]
fn kld_tied_vimage() {
    build_variant(
        "kld-tied",
        "vimage",
        Expect {
            set_vnet: true,
            support: false,
        },
    );
}

#[test]
fn kld_tied_novimage() {
    build_variant(
        "kld-tied",
        "novimage",
        Expect {
            set_vnet: false,
            support: false,
        },
    );
}

#[test]
fn vimage() {
    build_variant(
        "vimage",
        "vimage",
        Expect {
            set_vnet: true,
            support: false,
        },
    );
}

#[test]
fn vimage_runtime() {
    build_variant(
        "vimage-runtime",
        "vimage",
        Expect {
            set_vnet: true,
            support: true,
        },
    );
}

#[test]
fn unknown_variant_is_an_error() {
    let s = Sample::new("vimage", "vimage");
    for bad in ["vimage_runtime", ""] {
        let out = s.bmake_with(bad);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success(),
            "VNETGEN_VARIANT={bad:?} should fail the build"
        );
        assert!(
            stderr.contains("VNETGEN_VARIANT"),
            "the error should name VNETGEN_VARIANT:\n{stderr}"
        );
        assert!(
            stderr.contains("kld-tied, vimage, vimage-runtime or dual"),
            "the error should list the variants:\n{stderr}"
        );
        assert!(
            !s.path(KO).exists(),
            "nothing should be built for VNETGEN_VARIANT={bad:?}"
        );
    }
}

/// Without a built vnetgen beside it and none on PATH, Makefile.inc says
/// how to get one instead of failing later with `exec(vnetgen) failed`.
#[test]
fn a_missing_vnetgen_is_reported_with_the_fix() {
    let work = tempfile::tempdir().expect("temporary directory");
    // A Makefile.inc with no target/release/vnetgen beside it.
    std::fs::copy(
        root().join("Makefile.inc"),
        work.path().join("Makefile.inc"),
    )
    .expect("copy");
    std::fs::write(
        work.path().join("Makefile"),
        "VNETGEN_VARIANT=\tvimage-runtime\n.include \"Makefile.inc\"\nall:\n",
    )
    .expect("write");
    let out = Command::new("bmake")
        .arg("-C")
        .arg(work.path())
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .output()
        .expect("run bmake");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains("vnetgen not found: build it with `cargo build --release`")
            && stderr.contains("or set VNETGEN=/path/to/vnetgen"),
        "{stderr}"
    );
}

/// A module whose own Makefile cannot be changed (FreeBSD's, in the tree)
/// is built through a wrapper that includes Makefile.inc before the
/// module's Makefile sets SRCS: the headers are there before anything
/// compiles all the same, from a clean object directory.
#[test]
fn included_before_srcs_from_a_wrapper() {
    let s = Sample::new("kld-tied", "novimage");
    let wrapper = s.objdir.parent().expect("a parent").join("wrapper.mk");
    fs::write(
        &wrapper,
        format!(
            ".include \"{}\"\n.include \"${{.CURDIR}}/Makefile\"\n",
            root().join("Makefile.inc").display()
        ),
    )
    .expect("write the wrapper");
    let mut cmd = s.command("kld-tied");
    cmd.arg("-f").arg(&wrapper);
    let out = cmd.output().expect("run bmake");
    assert!(
        out.status.success(),
        "bmake -f wrapper failed ({})\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    check_module(
        &s,
        &Expect {
            set_vnet: false,
            support: false,
        },
    );
}

/// VNETGEN_VARIANT=dual: this build is the VIMAGE side, the same module
/// is built again without VIMAGE in an object directory of its own, and
/// `vnetgen dual` joins the two into the module; a second build does
/// nothing.
#[test]
fn dual() {
    let s = Sample::new("dual", "");
    let stdout = s.bmake("the first build");
    let compiles: Vec<&str> = stdout.lines().filter(|l| l.contains(" -c ")).collect();
    let with_vimage = compiles
        .iter()
        .filter(|l| l.contains("-DVIMAGE ") || l.ends_with("-DVIMAGE"))
        .count();
    assert!(
        with_vimage > 0 && with_vimage * 2 == compiles.len(),
        "every source once with VIMAGE and once without:\n{stdout}"
    );
    assert!(
        compiles.iter().all(|l| !l.contains("-DKLD_TIED")),
        "{stdout}"
    );
    assert!(stdout.contains(" dual --vimage "), "{stdout}");
    let data = fs::read(s.path(KO)).expect("the module");
    let file = object::File::parse(&*data).expect("an object");
    for side in ["v", "n"] {
        assert!(
            file.section_by_name(&format!(".vnetgen.dual.{side}.sysinit_set"))
                .is_some(),
            "{KO} is not a dual module"
        );
    }
    // Both sides' DPCPU storage, and the VIMAGE side's VNET storage.
    assert!(
        file.section_by_name("set_pcpu").is_some() && file.section_by_name("set_vnet").is_some()
    );
    s.assert_nothing_to_do("the second build");
}

/// VNETGEN_VARIANT=dual where modules are shared objects (i386): the sides
/// joined are the relocatable `${KMOD}.kld`s, and the module is the shared
/// object linked from the joined object, its sets padded as i386's are.
#[test]
fn dual_i386() {
    let s = Sample::new("dual", "").for_arch("i386");
    let stdout = s.bmake("the first build");
    assert!(
        stdout.contains(" dual --vimage vnetgen-dual-v.o "),
        "{stdout}"
    );
    let data = fs::read(s.path(KO)).expect("the module");
    let file = object::File::parse(&*data).expect("an object");
    assert_eq!(file.architecture(), Architecture::I386);
    assert_eq!(file.kind(), ObjectKind::Dynamic, "a shared object");
    for side in ["v", "n"] {
        assert!(
            file.section_by_name(&format!(".vnetgen.dual.{side}.sysinit_set"))
                .is_some(),
            "{KO} is not a dual module"
        );
    }
    // The VIMAGE side's VNET storage, ending in the release's pad word.
    let vnet = file.section_by_name("set_vnet").expect("set_vnet");
    let bytes = vnet.data().expect("set_vnet's bytes");
    assert_eq!(&bytes[bytes.len() - 4..], &0x9090_9090u32.to_le_bytes());
    s.assert_nothing_to_do("the second build");
}
