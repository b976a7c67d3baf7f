//! The variants a header compiles to, the kernels a module meets, and the
//! architectures it is built for.

use std::fmt;

/// What a module is built as: the `--variant` of `vnetgen cflags`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Variant {
    /// A tied module, or the kernel: follows the kernel's VIMAGE option.
    KldTied,
    /// An untied module with VIMAGE compiled in.
    Vimage,
    /// An untied module that decides at run time (`-DVIMAGE_RUNTIME`).
    VimageRuntime,
}

impl Variant {
    pub const ALL: [Variant; 3] = [Variant::KldTied, Variant::Vimage, Variant::VimageRuntime];

    pub fn name(self) -> &'static str {
        match self {
            Variant::KldTied => "kld-tied",
            Variant::Vimage => "vimage",
            Variant::VimageRuntime => "vimage-runtime",
        }
    }

    pub fn from_name(name: &str) -> Option<Variant> {
        Variant::ALL.into_iter().find(|v| v.name() == name)
    }

    /// The body a module of this variant compiles, built for `kernel`.
    pub fn body_variant(self, kernel: KernelConfig) -> BodyVariant {
        match (self, kernel) {
            (Variant::KldTied, KernelConfig::Vimage) | (Variant::Vimage, _) => BodyVariant::Vimage,
            (Variant::KldTied, KernelConfig::Novimage) => BodyVariant::Novimage,
            (Variant::VimageRuntime, _) => BodyVariant::Runtime,
        }
    }

    /// The preprocessor defines that select this variant.
    pub fn defines(self, kernel: KernelConfig) -> Vec<&'static str> {
        let mut defines = vec!["_KERNEL", "KLD_MODULE"];
        match self {
            Variant::KldTied => {
                defines.push("KLD_TIED");
                if kernel == KernelConfig::Vimage {
                    defines.push("VIMAGE");
                }
            }
            Variant::Vimage => defines.push("VIMAGE"),
            Variant::VimageRuntime => defines.push("VIMAGE_RUNTIME"),
        }
        defines
    }
}

impl fmt::Display for Variant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The macro behaviours a spec describes: what a header expands to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum BodyVariant {
    Novimage,
    Vimage,
    Runtime,
}

impl BodyVariant {
    pub const ALL: [BodyVariant; 3] = [
        BodyVariant::Runtime,
        BodyVariant::Vimage,
        BodyVariant::Novimage,
    ];
}

/// A kernel built with or without `options VIMAGE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum KernelConfig {
    Vimage,
    Novimage,
}

impl KernelConfig {
    pub const ALL: [KernelConfig; 2] = [KernelConfig::Vimage, KernelConfig::Novimage];

    pub fn name(self) -> &'static str {
        match self {
            KernelConfig::Vimage => "vimage",
            KernelConfig::Novimage => "novimage",
        }
    }

    pub fn from_name(name: &str) -> Option<KernelConfig> {
        KernelConfig::ALL.into_iter().find(|k| k.name() == name)
    }
}

impl fmt::Display for KernelConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How an untied module learns whether the kernel has VIMAGE.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Detect {
    /// A weak reference to `vnet0`; works on stock kernels.
    Probe,
    /// A flag exported by `vnet_support.c`, built into every kernel.
    Kernel,
}

impl Detect {
    pub fn name(self) -> &'static str {
        match self {
            Detect::Probe => "probe",
            Detect::Kernel => "kernel",
        }
    }

    pub fn from_name(name: &str) -> Option<Detect> {
        [Detect::Probe, Detect::Kernel]
            .into_iter()
            .find(|d| d.name() == name)
    }
}

/// How modules of an architecture are linked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModuleFormat {
    /// `ld -r` objects (ET_REL), loaded by link_elf_obj.
    Relocatable,
    /// Shared objects (ET_DYN), loaded by link_elf.
    Shared,
}

// Reports name variants and kernels as the command line does.
impl serde::Serialize for Variant {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl serde::Serialize for KernelConfig {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}
