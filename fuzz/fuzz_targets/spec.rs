//! The spec parser, validator and renderer on arbitrary text: an error is
//! fine, a panic, a hang or a huge allocation is a finding.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(spec) = vnetgen::spec::Spec::parse("fuzz.toml", text) {
        // Whatever validates must render (or fail with an error).
        let _ = vnetgen::gen::render::render(&spec);
    }
});
