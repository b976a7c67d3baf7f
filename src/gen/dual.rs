//! The dispatcher of a dual module (`templates/dual_shim.c`): the C file
//! that hands the kernel one side of a module carrying both compiled-in
//! builds.  What goes in it (every SYSINIT of each side, its sysctls, its
//! module metadata) is read from the two builds' objects by the build
//! stage; this renders it.

use askama::Template;

use crate::gen::render::RenderError;
use crate::gen::stamp::stamp;

/// One SYSINIT or SYSUNINIT of a side, by the symbol the joined object
/// defines at its slot in the side's moved set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetEntry {
    pub slot: String,
    pub subsystem: u32,
    pub order: u32,
}

/// One `DECLARE_MODULE` of a side: the module's name, and the symbols of
/// its event handler and private argument (`None`: NULL).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModuleEntry {
    pub name: String,
    pub evhand: Option<String>,
    pub private: Option<String>,
}

/// What one side hands the kernel.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Side {
    pub sysinits: Vec<SetEntry>,
    pub sysuninits: Vec<SetEntry>,
    /// The slots of its `sysctl_set`, in order.
    pub sysctls: Vec<String>,
    pub modules: Vec<ModuleEntry>,
    /// `MODULE_VERSION`: (module, version).
    pub versions: Vec<(String, i32)>,
    /// `MODULE_DEPEND`: (module depended on, minimum, preferred, maximum).
    pub depends: Vec<(String, i32, i32, i32)>,
    /// What the side references weakly only because the other kind of
    /// kernel lacks it: on its own kind of kernel each must be there.
    pub needs: Vec<String>,
}

struct Proxy {
    name: String,
    set: &'static str,
    slot: String,
    vimage: u8,
    subsystem: String,
    order: String,
}

struct ModuleView {
    index: usize,
    name: String,
    evhand_v: Option<String>,
    evhand_n: Option<String>,
    priv_v: Option<String>,
    priv_n: Option<String>,
    call_v: String,
    call_n: String,
}

struct NeedView {
    alias: String,
    name: String,
}

struct VersionView {
    index: usize,
    name: String,
    version: i32,
}

struct DependView {
    index: usize,
    name: String,
    min: i32,
    pref: i32,
    max: i32,
}

#[derive(Template)]
#[template(path = "dual_shim.c", escape = "none")]
struct ShimTemplate {
    module: String,
    proxies: Vec<Proxy>,
    sysctl_slots: Vec<String>,
    sysctls_v: Vec<String>,
    sysctls_n: Vec<String>,
    modules: Vec<ModuleView>,
    versions: Vec<VersionView>,
    depends: Vec<DependView>,
    needs_v: Vec<NeedView>,
    needs_n: Vec<NeedView>,
}

fn call(module: &ModuleEntry) -> String {
    match &module.evhand {
        Some(h) => format!(
            "{h}(mod, type, {})",
            module.private.as_deref().unwrap_or("NULL")
        ),
        None => "0".to_string(),
    }
}

/// The dispatcher's text.  The sides must declare the same modules,
/// versions and dependencies (the build stage checks it); `vimage`'s are
/// the ones declared.
pub fn shim(module: &str, vimage: &Side, novimage: &Side) -> Result<String, RenderError> {
    let mut proxies = Vec::new();
    for (side, tag, flag) in [(vimage, "v", 1u8), (novimage, "n", 0u8)] {
        for (entries, set, kind) in [
            (&side.sysinits, "sysinit_set", "init"),
            (&side.sysuninits, "sysuninit_set", "uninit"),
        ] {
            for (i, e) in entries.iter().enumerate() {
                proxies.push(Proxy {
                    name: format!("dual_{tag}_{kind}_{i}"),
                    set,
                    slot: e.slot.clone(),
                    vimage: flag,
                    subsystem: format!("{:#x}", e.subsystem),
                    order: format!("{:#x}", e.order),
                });
            }
        }
    }
    let modules = vimage
        .modules
        .iter()
        .enumerate()
        .map(|(index, v)| {
            let n = novimage.modules.iter().find(|n| n.name == v.name);
            ModuleView {
                index,
                name: v.name.clone(),
                evhand_v: v.evhand.clone(),
                evhand_n: n.and_then(|n| n.evhand.clone()),
                priv_v: v.private.clone(),
                priv_n: n.and_then(|n| n.private.clone()),
                call_v: call(v),
                call_n: n.map_or_else(|| "0".to_string(), call),
            }
        })
        .collect();
    let needs = |side: &Side, tag: &str| -> Vec<NeedView> {
        side.needs
            .iter()
            .enumerate()
            .map(|(i, name)| NeedView {
                alias: format!("dual_need_{tag}_{i}"),
                name: name.clone(),
            })
            .collect()
    };
    let template = ShimTemplate {
        needs_v: needs(vimage, "v"),
        needs_n: needs(novimage, "n"),
        module: module.to_string(),
        proxies,
        sysctl_slots: vimage
            .sysctls
            .iter()
            .chain(&novimage.sysctls)
            .cloned()
            .collect(),
        sysctls_v: vimage.sysctls.clone(),
        sysctls_n: novimage.sysctls.clone(),
        modules,
        versions: vimage
            .versions
            .iter()
            .enumerate()
            .map(|(index, (name, version))| VersionView {
                index,
                name: name.clone(),
                version: *version,
            })
            .collect(),
        depends: vimage
            .depends
            .iter()
            .enumerate()
            .map(|(index, (name, min, pref, max))| DependView {
                index,
                name: name.clone(),
                min: *min,
                pref: *pref,
                max: *max,
            })
            .collect(),
    };
    let body = template.render().map_err(|source| RenderError {
        template: "dual_shim.c",
        source,
    })?;
    Ok(stamp(
        "the objects of a dual build",
        Some(&format!("The dispatcher of the dual module {module}.")),
        &body,
    ))
}
