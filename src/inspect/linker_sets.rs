//! Linker sets: the `set_X` sections and their `__start_set_X` /
//! `__stop_set_X` bounds.
//!
//! FreeBSD's `linker_set.h` declares the bounds with `__GLOBL()`, an
//! assembler `.globl`, so an object that uses a set has the two symbols as
//! undefined globals even when no relocation names them.  `ld -r` keeps them
//! undefined (the kernel linker resolves them when it loads an `ET_REL`
//! module); `ld -shared` defines them, because they are referenced, and
//! exports them in `.dynsym` (ld.lld-19 with protected visibility).  So a
//! bound is "referenced" when a symbol of its name is present at all, or a
//! relocation names it.

use std::collections::BTreeMap;

use super::{Binding, ObjectInfo, SetBounds};

const START: &str = "__start_";
const STOP: &str = "__stop_";

#[derive(Default)]
struct Bound {
    referenced: bool,
    defined: bool,
    exported: bool,
}

#[derive(Default)]
struct Seen {
    present: bool,
    start: Bound,
    stop: Bound,
}

pub(super) fn set_bounds(info: &ObjectInfo) -> Vec<SetBounds> {
    let mut sets: BTreeMap<String, Seen> = BTreeMap::new();
    for section in &info.sections {
        if section.name.starts_with("set_") {
            sets.entry(section.name.clone()).or_default().present = true;
        }
    }
    let bound = |name: &str| -> Option<(String, bool)> {
        if let Some(set) = name.strip_prefix(START) {
            set.starts_with("set_").then(|| (set.to_string(), true))
        } else if let Some(set) = name.strip_prefix(STOP) {
            set.starts_with("set_").then(|| (set.to_string(), false))
        } else {
            None
        }
    };
    for symbol in &info.symbols {
        let Some((set, is_start)) = bound(&symbol.name) else {
            continue;
        };
        let seen = sets.entry(set).or_default();
        let b = if is_start {
            &mut seen.start
        } else {
            &mut seen.stop
        };
        b.referenced = true;
        if symbol.defined {
            b.defined = true;
            // Protected visibility still exports; hidden and internal do not.
            if symbol.dynamic
                && symbol.binding != Binding::Local
                && (symbol.visibility_default || symbol.visibility == object::elf::STV_PROTECTED.0)
            {
                b.exported = true;
            }
        }
    }
    for reloc in &info.relocations {
        let Some((set, is_start)) = reloc.symbol.as_deref().and_then(bound) else {
            continue;
        };
        let seen = sets.entry(set).or_default();
        if is_start {
            seen.start.referenced = true;
        } else {
            seen.stop.referenced = true;
        }
    }
    sets.into_iter()
        .map(|(set, seen)| {
            let all = |f: fn(&Bound) -> bool| {
                let wanted = [&seen.start, &seen.stop]
                    .into_iter()
                    .filter(|b| b.referenced);
                let mut any = false;
                for b in wanted {
                    if !f(b) {
                        return false;
                    }
                    any = true;
                }
                any
            };
            SetBounds {
                present: seen.present,
                referenced_start: seen.start.referenced,
                referenced_stop: seen.stop.referenced,
                defined: all(|b| b.defined),
                exported: all(|b| b.exported),
                defined_start: seen.start.defined,
                defined_stop: seen.stop.defined,
                exported_start: seen.start.exported,
                exported_stop: seen.stop.exported,
                set,
            }
        })
        .collect()
}
