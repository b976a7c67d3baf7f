//! What kind of build an object is, from its symbols and sections alone:
//! the evidence that both the rules and `vnetgen inspect` rely on.

use crate::inspect::{Binding, ObjectInfo};
use crate::spec::variant::Detect;
use crate::spec::Spec;

/// How a module keeps its virtualized storage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// No virtualized storage and no reference to the family's kernel API.
    Neutral,
    /// Plain globals: built without VIMAGE.
    Novimage,
    /// VIMAGE layout with the base added unconditionally.
    Vimage,
    /// VIMAGE layout with a run-time choice.
    Runtime(Detect),
    /// Both compiled-in builds, joined (`vnetgen dual`): the VIMAGE side
    /// runs on VIMAGE kernels, the other elsewhere.
    Dual,
}

impl Layout {
    pub fn name(self) -> &'static str {
        match self {
            Layout::Neutral => "neutral",
            Layout::Novimage => "novimage",
            Layout::Vimage => "vimage",
            Layout::Runtime(_) => "vimage-runtime",
            Layout::Dual => "dual",
        }
    }
}

/// The layout and the evidence that decided it.
#[derive(Debug, Clone)]
pub struct Classification {
    pub layout: Layout,
    pub evidence: Vec<String>,
}

/// Classifies an object.  `uses_virtualized` says, where the caller knows it
/// from elsewhere (the lab knows its sources), that the module has
/// virtualized variables even when the object shows no trace of them.
pub fn classify(spec: &Spec, object: &ObjectInfo, uses_virtualized: bool) -> Classification {
    let mut evidence = Vec::new();
    // A dual module keeps each side's sets under sections of its own.
    let sides: Vec<&str> = ["v", "n"]
        .into_iter()
        .filter(|side| {
            let prefix = format!(".vnetgen.dual.{side}.");
            object.sections.iter().any(|s| s.name.starts_with(&prefix))
        })
        .collect();
    if sides.len() == 2 {
        evidence.push(
            "sections .vnetgen.dual.v.* and .vnetgen.dual.n.*: a dual module; its VIMAGE side \
             (__vnetgen_dual_v_*) runs on VIMAGE kernels, the other (__vnetgen_dual_n_*) elsewhere"
                .to_string(),
        );
        return Classification {
            layout: Layout::Dual,
            evidence,
        };
    }
    let virtualized: Vec<_> = spec.families.iter().filter(|f| f.virtualized).collect();
    let mut vimage_layout = false;
    // i386's module link script pads every set, an empty one too: a set no
    // larger than the pad holds no variable (FreeBSD's non-VIMAGE i386
    // modules have a 4-byte set_vnet).
    let pad = spec.arch(object.arch).map_or(0, |a| u64::from(a.set_pad));
    for f in &virtualized {
        if let Some(s) = object.section(&f.section) {
            if s.size > pad {
                evidence.push(format!("section {} ({} bytes)", s.name, s.size));
                vimage_layout = true;
            }
        }
        for v in &f.kernel_variables {
            let prefixed = format!("{}{v}", f.prefix);
            if object.undefined().any(|u| u.name == prefixed) {
                evidence.push(format!("reference to {prefixed}"));
                vimage_layout = true;
            }
        }
    }
    if vimage_layout {
        if object.undefined().any(|u| u.name == spec.flag) {
            evidence.push(format!("reference to {}", spec.flag));
            return Classification {
                layout: Layout::Runtime(Detect::Kernel),
                evidence,
            };
        }
        let vimage_only = virtualized
            .iter()
            .flat_map(|f| f.kernel_symbols.iter())
            .filter(|s| s.only_in == crate::spec::OnlyIn::Vimage)
            .map(|s| s.name.as_str());
        let mut weak = Vec::new();
        let mut strong = Vec::new();
        for name in vimage_only {
            if let Some(u) = object.undefined().find(|u| u.name == name) {
                if u.binding == Binding::Weak {
                    weak.push(name);
                } else {
                    strong.push(name);
                }
            }
        }
        if strong.is_empty() && !weak.is_empty() {
            evidence.push(format!("weak references to {}", weak.join(", ")));
            return Classification {
                layout: Layout::Runtime(Detect::Probe),
                evidence,
            };
        }
        if !strong.is_empty() {
            evidence.push(format!("strong references to {}", strong.join(", ")));
        }
        return Classification {
            layout: Layout::Vimage,
            evidence,
        };
    }
    for f in &virtualized {
        for v in &f.kernel_variables {
            if object.undefined().any(|u| &u.name == v) {
                evidence.push(format!("reference to the plain kernel variable {v}"));
            }
        }
    }
    if !evidence.is_empty() {
        return Classification {
            layout: Layout::Novimage,
            evidence,
        };
    }
    if uses_virtualized {
        evidence.push("the module's sources use VNET, and the object has no set_vnet".to_string());
        return Classification {
            layout: Layout::Novimage,
            evidence,
        };
    }
    Classification {
        layout: Layout::Neutral,
        evidence,
    }
}
