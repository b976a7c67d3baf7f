//! What a kernel offers a module, derived from the spec: the symbols a
//! kernel of one configuration (and detection mode) exports, and the module
//! space of each linker set it copies per instance.

use std::collections::{BTreeMap, BTreeSet};

use crate::spec::variant::{Detect, KernelConfig};
use crate::spec::{OnlyIn, Spec};

/// One kind of kernel, as modules meet it.
#[derive(Debug, Clone)]
pub struct KernelModel {
    pub config: KernelConfig,
    pub detect: Detect,
    /// Every symbol the kernel exports to modules.
    pub symbols: BTreeSet<String>,
    /// Module space in bytes, by the section of each set the kernel copies
    /// per instance.  A set that is not here is ordinary data to the kernel.
    pub modspace: BTreeMap<String, u64>,
    /// Symbols that exist in one configuration only, with that configuration.
    pub only_in: BTreeMap<String, KernelConfig>,
}

impl KernelModel {
    pub fn new(spec: &Spec, config: KernelConfig, detect: Detect) -> KernelModel {
        let has = |only_in: OnlyIn| match only_in {
            OnlyIn::All => true,
            OnlyIn::Vimage => config == KernelConfig::Vimage,
            OnlyIn::Novimage => config == KernelConfig::Novimage,
        };
        let mut symbols: BTreeSet<String> = spec.kernel_symbols.iter().cloned().collect();
        let mut modspace = BTreeMap::new();
        let mut only_in = BTreeMap::new();
        for family in &spec.families {
            let instanced = !family.virtualized || config == KernelConfig::Vimage;
            if instanced {
                modspace.insert(family.section.clone(), family.modspace);
                // The kernel's own set: a module that references its bounds
                // without having the set gets the kernel's.
                symbols.insert(format!("__start_{}", family.section));
                symbols.insert(format!("__stop_{}", family.section));
            }
            for s in &family.kernel_symbols {
                if has(s.only_in) {
                    symbols.insert(s.name.clone());
                }
                match s.only_in {
                    OnlyIn::Vimage => {
                        only_in.insert(s.name.clone(), KernelConfig::Vimage);
                    }
                    OnlyIn::Novimage => {
                        only_in.insert(s.name.clone(), KernelConfig::Novimage);
                    }
                    OnlyIn::All => {}
                }
            }
            for v in &family.kernel_variables {
                let prefixed = format!("{}{v}", family.prefix);
                if family.virtualized {
                    only_in.insert(prefixed.clone(), KernelConfig::Vimage);
                    only_in.insert(v.clone(), KernelConfig::Novimage);
                }
                symbols.insert(if instanced { prefixed } else { v.clone() });
            }
        }
        // With detect = "kernel", every kernel carries vnet_support.c.
        if detect == Detect::Kernel {
            if let Some(support) = &spec.support {
                symbols.extend(support.functions.iter().map(|f| f.name.clone()));
                symbols.insert(spec.flag.clone());
            }
        }
        KernelModel {
            config,
            detect,
            symbols,
            modspace,
            only_in,
        }
    }

    pub fn provides(&self, symbol: &str) -> bool {
        self.symbols.contains(symbol)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vimage_only_symbols_and_variables_follow_the_configuration() {
        let spec = Spec::default_spec().expect("default spec");
        let vimage = KernelModel::new(&spec, KernelConfig::Vimage, Detect::Probe);
        let novimage = KernelModel::new(&spec, KernelConfig::Novimage, Detect::Probe);
        assert!(
            vimage.provides("vnet_register_sysinit") && !novimage.provides("vnet_register_sysinit")
        );
        assert!(vimage.provides("vnet_entry_ip_defttl") && !vimage.provides("ip_defttl"));
        assert!(novimage.provides("ip_defttl") && !novimage.provides("vnet_entry_ip_defttl"));
        assert!(vimage.provides("dpcpu_off") && novimage.provides("dpcpu_off"));
        assert_eq!(vimage.modspace.get("set_vnet"), Some(&32768));
        assert_eq!(novimage.modspace.get("set_vnet"), None);
        assert_eq!(novimage.modspace.get("set_pcpu"), Some(&2048));
        assert!(!novimage.provides("vimage_configured"));
        let kernel_mode = KernelModel::new(&spec, KernelConfig::Novimage, Detect::Kernel);
        assert!(
            kernel_mode.provides("vimage_configured")
                && kernel_mode.provides("vnet_runtime_register_sysinit")
        );
    }
}

/// Symbol tables of real kernels, recorded by `vnetgen facts
/// kernel-symbols` into `facts/kernels/` and embedded at build time.
pub mod recorded {
    use std::collections::BTreeSet;

    use crate::spec::variant::KernelConfig;

    include!(concat!(env!("OUT_DIR"), "/kernel_symbol_files.rs"));

    /// The symbols a real kernel of `release`, `arch` and `config` exports
    /// to modules, when one was recorded.
    pub fn symbols(release: &str, arch: &str, config: KernelConfig) -> Option<BTreeSet<String>> {
        let wanted = config.to_string();
        KERNEL_SYMBOL_FILES
            .iter()
            .find(|(r, a, c, _)| *r == release && *a == arch && *c == wanted)
            .map(|(_, _, _, text)| parse(text))
    }

    /// The symbol names of a recorded file: one a line, `#` comments.
    pub fn parse(text: &str) -> BTreeSet<String> {
        text.lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(str::to_string)
            .collect()
    }
}
