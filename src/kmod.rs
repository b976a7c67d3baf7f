//! Building a kernel module from its sources for one (variant, kernel,
//! architecture) cell, the way FreeBSD's kmod.mk does: amd64 modules are
//! `ld -r` objects, the others shared objects.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::cflags::{self, Target};
use crate::spec::{Arch, Spec};
use crate::toolchain::Toolchain;
use crate::variant::{Detect, ModuleFormat, Variant};

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("{tool} could not run: {source}")]
    Spawn {
        tool: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{step} failed for {what}:\n{output}")]
    Failed {
        step: &'static str,
        what: String,
        output: String,
    },
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Does a module of this variant compile `vnet_support.c` into itself?
pub fn needs_support_file(spec: &Spec, variant: Variant) -> bool {
    variant == Variant::VimageRuntime && spec.detect == Detect::Probe && spec.support.is_some()
}

/// The linker arguments that make a module of `arch` out of objects.
pub fn link_args(arch: &Arch) -> Vec<String> {
    let mut args = match arch.module_format {
        ModuleFormat::Relocatable => vec!["-r".to_string()],
        // -Bshareable, as kmod.mk links them; text relocations are the kernel linker's business.
        ModuleFormat::Shared => ["-shared", "-z", "notext"].map(String::from).to_vec(),
    };
    args.extend(arch.ldflags.iter().cloned());
    args
}

/// One module build.
pub struct ModuleBuild<'a> {
    pub spec: &'a Spec,
    pub target: Target<'a>,
    pub name: &'a str,
    pub sources: &'a [PathBuf],
    /// Directory of the generated headers (with `sys/` below it).
    pub generated: &'a Path,
    pub sysroot: &'a Path,
    pub out_dir: &'a Path,
    pub extra_cflags: &'a [String],
}

fn run(mut cmd: Command, step: &'static str, what: &str) -> Result<(), BuildError> {
    let tool = cmd.get_program().to_string_lossy().into_owned();
    let out = cmd
        .output()
        .map_err(|source| BuildError::Spawn { tool, source })?;
    if out.status.success() && out.stderr.is_empty() {
        return Ok(());
    }
    let mut output = String::from_utf8_lossy(&out.stderr).into_owned();
    output.push_str(&String::from_utf8_lossy(&out.stdout));
    Err(BuildError::Failed {
        step,
        what: what.to_string(),
        output,
    })
}

impl ModuleBuild<'_> {
    /// The sources compiled into the module, `vnet_support.c` included where
    /// the variant needs it.
    pub fn all_sources(&self) -> Vec<PathBuf> {
        let mut sources = self.sources.to_vec();
        if let (true, Some(support)) = (
            needs_support_file(self.spec, self.target.variant),
            &self.spec.support,
        ) {
            sources.push(self.generated.join(&support.path));
        }
        sources
    }

    /// Compiles and links; returns the `.ko`.  Any diagnostic is a failure.
    pub fn build(&self, toolchain: &Toolchain) -> Result<PathBuf, BuildError> {
        std::fs::create_dir_all(self.out_dir).map_err(|source| BuildError::Io {
            path: self.out_dir.to_path_buf(),
            source,
        })?;
        let flags = cflags::cflags(self.spec, &self.target, self.generated, self.sysroot, true);
        let mut objects = Vec::new();
        for source in self.all_sources() {
            let stem = source
                .file_stem()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            let object = self.out_dir.join(format!("{stem}.o"));
            let mut cmd = Command::new(&toolchain.clang);
            cmd.args(&flags)
                .args(self.extra_cflags)
                .arg("-O2")
                .arg("-c")
                .arg(&source)
                .arg("-o")
                .arg(&object);
            run(
                cmd,
                "compile",
                &format!("{} ({})", source.display(), self.describe()),
            )?;
            objects.push(object);
        }
        let ko = self.out_dir.join(format!("{}.ko", self.name));
        let mut cmd = Command::new(&toolchain.lld);
        cmd.args(link_args(self.target.arch))
            .arg("-o")
            .arg(&ko)
            .args(&objects);
        run(
            cmd,
            "link",
            &format!("{}.ko ({})", self.name, self.describe()),
        )?;
        Ok(ko)
    }

    fn describe(&self) -> String {
        format!(
            "{} {} kernel={}",
            self.target.arch.name, self.target.variant, self.target.kernel
        )
    }
}
