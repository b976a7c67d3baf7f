//! The kld loader on arbitrary bytes: read the object, then link it into a
//! freshly booted emulated kernel of each configuration (mapping, module
//! space, symbol resolution, relocation), without running any of its code.
//! An error is fine; a panic, a hang or a wild write is a finding.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vnetgen::kld::elf;
use vnetgen::kld::kernel::{Kernel, KernelOptions, VnetCopy};
use vnetgen::kld::link::link;
use vnetgen::spec::Spec;
use vnetgen::spec::variant::{Detect, KernelConfig};

fuzz_target!(|data: &[u8]| {
    let Ok(object) = elf::read("fuzz.ko", data) else {
        return;
    };
    let Ok(spec) = Spec::default_spec() else {
        return;
    };
    for config in [KernelConfig::Vimage, KernelConfig::Novimage] {
        let options = KernelOptions {
            config,
            detect: Detect::Probe,
            cpus: 2,
            vnet_copy: VnetCopy::AfterRelocation,
        };
        let Ok(mut kernel) = Kernel::boot(&spec, options, vnetgen::kld::kpi::function) else {
            return;
        };
        let _ = link(&mut kernel, &object);
    }
});
