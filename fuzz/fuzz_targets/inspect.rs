//! Object inspection on arbitrary bytes, the way the lab reads every module
//! it builds: an error is fine, a panic, a hang or a huge allocation is a
//! finding.  Other systems' objects are read too, to reach the symbol and
//! relocation readers from any seed.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vnetgen::inspect::{inspect_bytes, inspect_bytes_with, InspectOptions};

fuzz_target!(|data: &[u8]| {
    let _ = inspect_bytes("fuzz.o", data);
    let options = InspectOptions {
        allow_other_os: true,
    };
    if let Ok(info) = inspect_bytes_with("fuzz.o", data, &options) {
        // What the checks query.
        let _ = info.set_bounds();
        let _ = info.undefined().count();
        for section in &info.sections {
            let _ = info.symbols_in(&section.name).count();
            let _ = info.relocations_in(&section.name).count();
        }
    }
});
