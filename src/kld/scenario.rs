//! Scenario files: one command a line, `#` to the end of a line a comment,
//! double quotes around an argument with spaces (`\"` and `\\` inside).
//!
//! ```text
//! kernel vimage|novimage [detect=probe|kernel] [vnet-copy=after-relocation|before-relocation] [arch=amd64|i386]
//! cpus N
//! preload FILE... [variant=V|dual] [built-for=vimage|novimage] [define=NAME[,NAME...]]
//! load FILE... [variant=V|dual] [built-for=vimage|novimage] [define=NAME[,NAME...]]
//! expect-load-error "TEXT" [errno=ENOEXEC|N]
//! vnet create
//! vnet destroy N
//! call FUNC [INT...] [vnet=N] [cpu=C] [expect=INT]
//! sysctl NAME [set=INT] [vnet=N] [cpu=C] [expect=INT]
//! expect-output "TEXT"
//! unload [FILE]
//! ifconfig IFNAME [ACTION] [vnet=N] [expect=INT] [errno=E]
//! ```
//!
//! `ifconfig` works an interface as ifconfig(8) does, by its ioctls, on a
//! real kernel only (the emulator has no network stack); ACTION is one of
//! `create`, `destroy`, `vnet N` (move it into vnet N), `-vnet N` (take it
//! back), `addm IFNAME` (a bridge member), `vlan TAG vlandev IFNAME` (a
//! vlan's parent), `vlan` (read the vlan's tag: `expect=` compares it),
//! or none (the interface exists).  `errno=E` says the step must fail
//! with that errno (`EPERM` or a number).
//!
//! `preload` names files the loader loads with the kernel (right after
//! `kernel` and `cpus`, before any other step, on every kind of kernel):
//! `vnetgen vm` boots the kernel with them (GRUB's `kfreebsd_module_elf`),
//! the emulator links them as it links a `load`.
//!
//! A line may start with `vimage:` or `novimage:`, and then runs only on
//! that kind of kernel.  `$NAME` and `${NAME}` are replaced by the values
//! the runner sets (`--set NAME=VALUE`; the lab sets `kernel`, `detect`
//! and `module` for each cell).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::spec::variant::{Detect, KernelConfig, Variant};

use super::kernel::VnetCopy;

/// A scenario that cannot be read; names the file and line.
#[derive(Debug, thiserror::Error)]
#[error("{file}:{line}: {message}")]
pub struct ScenarioError {
    pub file: String,
    pub line: usize,
    pub message: String,
}

/// What `load` takes: a built module, or a module's sources to build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoadItem {
    /// An `.ko` (or `.o`), loaded as it is.
    Object(PathBuf),
    /// A directory of `.c` files, built for amd64 as `variant` (for the
    /// kernel `built_for`, which matters to kld-tied) through the lab's cache.
    Sources {
        dir: PathBuf,
        variant: Variant,
        built_for: KernelConfig,
        /// Macros the build defines besides the variant's (`INVARIANTS`).
        defines: Vec<String>,
    },
    /// A directory of `.c` files, built for amd64 as one dual module
    /// (`variant=dual`): both compiled-in builds, and the dispatcher.
    Dual { dir: PathBuf, defines: Vec<String> },
}

impl LoadItem {
    /// The compiler arguments of a source build's own `define=`s.
    pub fn extra_cflags(&self) -> Vec<String> {
        match self {
            LoadItem::Sources { defines, .. } | LoadItem::Dual { defines, .. } => {
                defines.iter().map(|d| format!("-D{d}")).collect()
            }
            LoadItem::Object(_) => Vec::new(),
        }
    }
}

impl LoadItem {
    pub fn display_name(&self) -> String {
        let path = match self {
            LoadItem::Object(p)
            | LoadItem::Sources { dir: p, .. }
            | LoadItem::Dual { dir: p, .. } => p,
        };
        let stem = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| path.display().to_string());
        match self {
            LoadItem::Object(_) => stem,
            LoadItem::Sources { .. } | LoadItem::Dual { .. } => format!("{stem}.ko"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Kernel {
        config: KernelConfig,
        detect: Option<Detect>,
        /// `None`: the release's copy order.
        vnet_copy: Option<VnetCopy>,
        /// The architecture the scenario is for (`vnetgen vm` runs it only
        /// on kernels of it); `None`: any.
        arch: Option<String>,
    },
    Cpus(u32),
    /// Files the loader loads with the kernel, before it starts.
    Preload(Vec<LoadItem>),
    Load(Vec<LoadItem>),
    /// The preceding load failed with a message containing `text` (and,
    /// when given, with this errno).
    ExpectLoadError {
        text: String,
        errno: Option<i32>,
    },
    VnetCreate,
    VnetDestroy(u32),
    Call {
        function: String,
        args: Vec<i64>,
        vnet: Option<u32>,
        cpu: Option<u32>,
        expect: Option<i64>,
    },
    Sysctl {
        name: String,
        /// A new value to write before reading.
        set: Option<i64>,
        vnet: Option<u32>,
        cpu: Option<u32>,
        expect: Option<i64>,
    },
    ExpectOutput(String),
    Unload(Option<String>),
    Ifconfig {
        interface: String,
        action: IfAction,
        vnet: Option<u32>,
        /// The tag `vlan` must read.
        expect: Option<i64>,
        /// The step must fail with this errno.
        errno: Option<i32>,
    },
}

/// What an `ifconfig` step does to its interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IfAction {
    /// Nothing: the interface must exist (SIOCGIFFLAGS).
    Exists,
    /// SIOCIFCREATE2.
    Create,
    /// SIOCIFDESTROY.
    Destroy,
    /// `vnet N`: moved into vnet N from the host (SIOCSIFVNET).
    MoveTo(u32),
    /// `-vnet N`: taken back from vnet N by the host (SIOCSIFRVNET).
    Reclaim(u32),
    /// `addm IFNAME`: a member added to a bridge (BRDGADD).
    AddMember(String),
    /// `vlan TAG vlandev IFNAME`: a vlan's tag and parent (SIOCSETVLAN).
    SetVlan { tag: u16, parent: String },
    /// `vlan`: the vlan's tag read (SIOCGETVLAN).
    GetVlan,
}

impl IfAction {
    /// The guest's words for it (the plan's), the vnet of `vnet N` and
    /// `-vnet N` given by `jail`.
    pub fn plan_words(&self, jail: impl Fn(u32) -> String) -> String {
        match self {
            IfAction::Exists => "exists".into(),
            IfAction::Create => "create".into(),
            IfAction::Destroy => "destroy".into(),
            IfAction::MoveTo(n) => format!("vnet {}", jail(*n)),
            IfAction::Reclaim(n) => format!("-vnet {}", jail(*n)),
            IfAction::AddMember(m) => format!("addm {m}"),
            IfAction::SetVlan { tag, parent } => format!("vlan {tag} vlandev {parent}"),
            IfAction::GetVlan => "getvlan".into(),
        }
    }
}

/// An `errno=` option: a name (`example`) or a number.
fn errno_option(e: &str, example: &str) -> Result<i32, String> {
    super::layout::errno_number(e)
        .or_else(|| e.parse().ok())
        .ok_or_else(|| format!("errno=`{e}`: a number or a name ({example})"))
}

/// An interface name as the kernel takes it: 1 to 15 characters
/// (IFNAMSIZ less its NUL), letters, digits, `.`, `_` and `-`.
fn interface_name(name: &str) -> Result<String, String> {
    let ok = (1..16).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(name.to_string())
    } else {
        Err(format!(
            "`{name}`: an interface name is 1 to 15 letters, digits, `.`, `_` or `-`"
        ))
    }
}

#[derive(Debug, Clone)]
pub struct Step {
    pub line: usize,
    /// The line as written (after substitution), for the transcript.
    pub text: String,
    pub only_on: Option<KernelConfig>,
    pub command: Command,
}

#[derive(Debug, Clone)]
pub struct Scenario {
    /// How the file is named in messages.
    pub name: String,
    pub steps: Vec<Step>,
}

impl Scenario {
    /// The kernel the scenario boots: its first step.
    pub fn kernel(&self) -> Option<KernelConfig> {
        match self.steps.first().map(|s| &s.command) {
            Some(Command::Kernel { config, .. }) => Some(*config),
            _ => None,
        }
    }
}

/// Splits a line into words; quotes group, `#` outside quotes ends it.
fn words(line: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut cur: Option<String> = None;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '#' => break,
            '"' => {
                let mut s = cur.take().unwrap_or_default();
                loop {
                    match chars.next() {
                        None => return Err("unterminated quote".into()),
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(e @ ('"' | '\\')) => s.push(e),
                            Some('n') => s.push('\n'),
                            Some(e) => {
                                s.push('\\');
                                s.push(e);
                            }
                            None => return Err("unterminated quote".into()),
                        },
                        Some(ch) => s.push(ch),
                    }
                }
                cur = Some(s);
            }
            c if c.is_whitespace() => {
                if let Some(w) = cur.take() {
                    out.push(w);
                }
            }
            c => cur.get_or_insert_with(String::new).push(c),
        }
    }
    if let Some(w) = cur {
        out.push(w);
    }
    Ok(out)
}

fn substitute(line: &str, vars: &BTreeMap<String, String>) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = line;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let (name, tail) = if let Some(braced) = after.strip_prefix('{') {
            let end = braced.find('}').ok_or("unterminated ${")?;
            (&braced[..end], &braced[end + 1..])
        } else {
            let end = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            (&after[..end], &after[end..])
        };
        match vars.get(name) {
            Some(v) => out.push_str(v),
            None => {
                return Err(format!(
                    "${name} is not set (set it with --set {name}=VALUE)"
                ))
            }
        }
        rest = tail;
    }
    out.push_str(rest);
    Ok(out)
}

fn number<T: std::str::FromStr>(what: &str, s: &str) -> Result<T, String> {
    let parsed = if let Some(hex) = s.strip_prefix("0x").or_else(|| s.strip_prefix("-0x")) {
        i128::from_str_radix(hex, 16)
            .ok()
            .map(|v| if s.starts_with('-') { -v } else { v })
            .and_then(|v| v.to_string().parse().ok())
    } else {
        s.parse().ok()
    };
    parsed.ok_or_else(|| format!("{what}: `{s}` is not a number"))
}

/// Reads a scenario file.
pub fn parse(
    name: &str,
    text: &str,
    base: &Path,
    vars: &BTreeMap<String, String>,
) -> Result<Scenario, ScenarioError> {
    let mut steps = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let err = |message: String| ScenarioError {
            file: name.to_string(),
            line,
            message,
        };
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let substituted = substitute(trimmed, vars).map_err(err)?;
        let mut w = words(&substituted).map_err(err)?;
        if w.is_empty() {
            continue;
        }
        let only_on = match w[0].strip_suffix(':').and_then(KernelConfig::from_name) {
            Some(k) => {
                w.remove(0);
                Some(k)
            }
            None => None,
        };
        let text = substituted
            .split('#')
            .next()
            .unwrap_or("")
            .trim()
            .to_string();
        let command = command(&w, base).map_err(err)?;
        if steps.is_empty() && !matches!(command, Command::Kernel { .. }) {
            return Err(err(
                "the first command must be `kernel vimage|novimage`".into()
            ));
        }
        if matches!(command, Command::Kernel { .. }) && (!steps.is_empty() || only_on.is_some()) {
            return Err(err("`kernel` comes once, first".into()));
        }
        if matches!(command, Command::Preload(_))
            && (only_on.is_some()
                || steps.iter().any(|s: &Step| {
                    !matches!(
                        s.command,
                        Command::Kernel { .. } | Command::Cpus(_) | Command::Preload(_)
                    )
                }))
        {
            return Err(err(
                "`preload` comes right after `kernel` and `cpus`, on every kind of kernel: \
                 the loader loads the files before the kernel starts"
                    .into(),
            ));
        }
        steps.push(Step {
            line,
            text,
            only_on,
            command,
        });
    }
    if steps.is_empty() {
        return Err(ScenarioError {
            file: name.to_string(),
            line: 1,
            message: "empty scenario: the first command must be `kernel vimage|novimage`".into(),
        });
    }
    Ok(Scenario {
        name: name.to_string(),
        steps,
    })
}

/// `key=value` options after the positional words.
fn options<'w>(
    words: &'w [String],
    allowed: &[&str],
) -> Result<(Vec<&'w str>, BTreeMap<&'w str, &'w str>), String> {
    let mut positional = Vec::new();
    let mut opts = BTreeMap::new();
    for w in words {
        match w.split_once('=') {
            Some((k, v)) if allowed.contains(&k) => {
                opts.insert(k, v);
            }
            Some((k, _)) => {
                return Err(format!(
                    "unknown option `{k}` (known: {})",
                    allowed.join(", ")
                ))
            }
            None => positional.push(w.as_str()),
        }
    }
    Ok((positional, opts))
}

fn command(w: &[String], base: &Path) -> Result<Command, String> {
    let rest = &w[1..];
    let one = |what: &str| -> Result<String, String> {
        match rest {
            [x] => Ok(x.clone()),
            _ => Err(format!("{what} takes one argument")),
        }
    };
    Ok(match w[0].as_str() {
        "kernel" => {
            let (pos, opts) = options(rest, &["detect", "vnet-copy", "arch"])?;
            let [config] = pos.as_slice() else {
                return Err("kernel vimage|novimage [detect=probe|kernel] [vnet-copy=...]".into());
            };
            let config = KernelConfig::from_name(config)
                .ok_or_else(|| format!("kernel `{config}`: vimage or novimage"))?;
            let detect = match opts.get("detect") {
                Some(d) => Some(
                    Detect::from_name(d).ok_or_else(|| format!("detect=`{d}`: probe or kernel"))?,
                ),
                None => None,
            };
            let vnet_copy = match opts.get("vnet-copy") {
                Some(c) => Some(VnetCopy::from_name(c).ok_or_else(|| {
                    format!("vnet-copy=`{c}`: after-relocation or before-relocation")
                })?),
                None => None,
            };
            let arch = match opts.get("arch").copied() {
                Some(a @ ("amd64" | "i386")) => Some(a.to_string()),
                Some(a) => return Err(format!("arch=`{a}`: amd64 or i386")),
                None => None,
            };
            Command::Kernel {
                config,
                detect,
                vnet_copy,
                arch,
            }
        }
        "cpus" => Command::Cpus(number("cpus", &one("cpus")?)?),
        "load" | "preload" => {
            let (pos, opts) = options(rest, &["variant", "built-for", "define"])?;
            if pos.is_empty() {
                return Err(format!("{} FILE...", w[0]));
            }
            let dual = opts.get("variant").is_some_and(|v| *v == "dual");
            let variant = match opts.get("variant").filter(|_| !dual) {
                Some(v) => Some(Variant::from_name(v).ok_or_else(|| {
                    format!("variant=`{v}`: kld-tied, vimage, vimage-runtime or dual")
                })?),
                None => None,
            };
            let built_for = match opts.get("built-for") {
                Some(k) => KernelConfig::from_name(k)
                    .ok_or_else(|| format!("built-for=`{k}`: vimage or novimage"))?,
                None => KernelConfig::Vimage,
            };
            let defines: Vec<String> = match opts.get("define") {
                Some(d) => {
                    let names: Vec<String> = d.split(',').map(str::to_string).collect();
                    if let Some(bad) = names.iter().find(|n| {
                        n.is_empty() || !n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                    }) {
                        return Err(format!("define=`{bad}`: a macro name"));
                    }
                    names
                }
                None => Vec::new(),
            };
            let mut items = Vec::new();
            for p in pos {
                let path = base.join(p);
                let is_object = p.ends_with(".ko") || p.ends_with(".o");
                items.push(match (is_object, variant) {
                    (false, None) if dual => LoadItem::Dual {
                        dir: path,
                        defines: defines.clone(),
                    },
                    (true, None) if dual => {
                        return Err(format!("{p}: variant= is for module sources, not a built object"))
                    }
                    (true, None) => LoadItem::Object(path),
                    (true, Some(_)) => return Err(format!("{p}: variant= is for module sources, not a built object")),
                    (false, Some(variant)) => LoadItem::Sources {
                        dir: path,
                        variant,
                        built_for,
                        defines: defines.clone(),
                    },
                    (false, None) => {
                        return Err(format!("{p}: a module's sources need variant=kld-tied|vimage|vimage-runtime (or name a .ko)"))
                    }
                });
            }
            if w[0] == "preload" {
                Command::Preload(items)
            } else {
                Command::Load(items)
            }
        }
        "expect-load-error" => {
            let (pos, opts) = options(rest, &["errno"])?;
            let [text] = pos.as_slice() else {
                return Err("expect-load-error \"TEXT\" [errno=ENOEXEC|N]".into());
            };
            let errno = opts
                .get("errno")
                .map(|e| errno_option(e, "ENOEXEC"))
                .transpose()?;
            Command::ExpectLoadError {
                text: text.to_string(),
                errno,
            }
        }
        "expect-output" => Command::ExpectOutput(one("expect-output")?),
        "vnet" => match rest {
            [c] if c == "create" => Command::VnetCreate,
            [d, n] if d == "destroy" => Command::VnetDestroy(number("vnet destroy", n)?),
            _ => return Err("vnet create | vnet destroy N".into()),
        },
        "call" | "sysctl" => {
            let allowed: &[&str] = if w[0] == "sysctl" {
                &["set", "vnet", "cpu", "expect"]
            } else {
                &["vnet", "cpu", "expect"]
            };
            let (pos, opts) = options(rest, allowed)?;
            let Some((name, args)) = pos.split_first() else {
                return Err(format!("{} NAME ...", w[0]));
            };
            let vnet = opts.get("vnet").map(|v| number("vnet", v)).transpose()?;
            let cpu = opts.get("cpu").map(|v| number("cpu", v)).transpose()?;
            let expect = opts
                .get("expect")
                .map(|v| number("expect", v))
                .transpose()?;
            if w[0] == "sysctl" {
                if !args.is_empty() {
                    return Err("sysctl NAME [set=INT] [vnet=N] [cpu=C] [expect=INT]".into());
                }
                Command::Sysctl {
                    name: name.to_string(),
                    set: opts.get("set").map(|v| number("set", v)).transpose()?,
                    vnet,
                    cpu,
                    expect,
                }
            } else {
                if args.len() > 6 {
                    return Err("call takes at most six arguments".into());
                }
                Command::Call {
                    function: name.to_string(),
                    args: args
                        .iter()
                        .map(|a| number("argument", a))
                        .collect::<Result<_, _>>()?,
                    vnet,
                    cpu,
                    expect,
                }
            }
        }
        "ifconfig" => {
            const USAGE: &str = "ifconfig IFNAME [create | destroy | vnet N | -vnet N | addm IFNAME | vlan TAG vlandev IFNAME | vlan] [vnet=N] [expect=INT] [errno=E]";
            let (pos, opts) = options(rest, &["vnet", "expect", "errno"])?;
            let Some((name, words)) = pos.split_first() else {
                return Err(USAGE.into());
            };
            let action = match words {
                [] => IfAction::Exists,
                ["create"] => IfAction::Create,
                ["destroy"] => IfAction::Destroy,
                ["vnet", n] => IfAction::MoveTo(number("vnet", n)?),
                ["-vnet", n] => IfAction::Reclaim(number("-vnet", n)?),
                ["addm", m] => IfAction::AddMember(interface_name(m)?),
                ["vlan", tag, "vlandev", parent] => IfAction::SetVlan {
                    tag: number("vlan", tag)?,
                    parent: interface_name(parent)?,
                },
                ["vlan"] => IfAction::GetVlan,
                _ => return Err(USAGE.into()),
            };
            let vnet = opts.get("vnet").map(|v| number("vnet", v)).transpose()?;
            if matches!(action, IfAction::MoveTo(_) | IfAction::Reclaim(_))
                && vnet.is_some_and(|n| n != 0)
            {
                return Err(
                    "ifconfig ... vnet N and -vnet N run in the host: no vnet= for them".into(),
                );
            }
            let expect = opts
                .get("expect")
                .map(|v| number("expect", v))
                .transpose()?;
            if expect.is_some() && action != IfAction::GetVlan {
                return Err("ifconfig: expect= is for `vlan` (the tag it reads)".into());
            }
            let errno = opts
                .get("errno")
                .map(|e| errno_option(e, "EPERM"))
                .transpose()?
                .filter(|n| *n > 0);
            if opts.contains_key("errno") && errno.is_none() {
                return Err("errno=0: a step that fails has an errno".into());
            }
            if expect.is_some() && errno.is_some() {
                return Err("ifconfig: expect= and errno= exclude each other".into());
            }
            Command::Ifconfig {
                interface: interface_name(name)?,
                action,
                vnet,
                expect,
                errno,
            }
        }
        "unload" => match rest {
            [] => Command::Unload(None),
            [f] => Command::Unload(Some(f.clone())),
            _ => return Err("unload [FILE]".into()),
        },
        other => return Err(format!("unknown command `{other}`")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preload_comes_right_after_kernel_and_cpus() {
        let vars = BTreeMap::new();
        let s = parse(
            "p.kld",
            "kernel vimage\ncpus 2\npreload a.ko b.ko\npreload c.ko\ncall f\n",
            Path::new("/d"),
            &vars,
        )
        .expect("parses");
        assert_eq!(
            s.steps[2].command,
            Command::Preload(vec![
                LoadItem::Object("/d/a.ko".into()),
                LoadItem::Object("/d/b.ko".into())
            ])
        );
        for late in [
            "kernel vimage\nload a.ko\npreload b.ko\n",
            "kernel vimage\nvimage: preload b.ko\n",
        ] {
            let e = parse("p.kld", late, Path::new("/d"), &vars).expect_err(late);
            assert!(
                e.to_string().starts_with("p.kld:") && e.message.contains("right after `kernel`"),
                "{e}"
            );
        }
    }

    #[test]
    fn ifconfig_takes_ifconfig_words_and_refuses_what_the_kernel_would() {
        let vars = BTreeMap::new();
        let s = parse(
            "i.kld",
            "kernel vimage\nifconfig vlan5 vlan 5 vlandev epair0b\nifconfig vlan5 vlan vnet=1 errno=EPERM\nifconfig bridge0 vnet 2\nifconfig lo9\n",
            Path::new("/d"),
            &vars,
        )
        .expect("parses");
        assert_eq!(
            s.steps[1].command,
            Command::Ifconfig {
                interface: "vlan5".into(),
                action: IfAction::SetVlan {
                    tag: 5,
                    parent: "epair0b".into()
                },
                vnet: None,
                expect: None,
                errno: None
            }
        );
        assert_eq!(
            s.steps[2].command,
            Command::Ifconfig {
                interface: "vlan5".into(),
                action: IfAction::GetVlan,
                vnet: Some(1),
                expect: None,
                errno: Some(1)
            }
        );
        assert!(matches!(
            s.steps[3].command,
            Command::Ifconfig {
                action: IfAction::MoveTo(2),
                ..
            }
        ));
        assert!(matches!(
            s.steps[4].command,
            Command::Ifconfig {
                action: IfAction::Exists,
                ..
            }
        ));
        for (bad, says) in [
            ("ifconfig averyverylongname0 create", "1 to 15"),
            ("ifconfig bridge0 vnet 1 vnet=1", "run in the host"),
            ("ifconfig bridge0 create expect=3", "expect= is for `vlan`"),
            ("ifconfig bridge0 errno=EWHAT", "errno=`EWHAT`"),
            ("ifconfig bridge0 up", "ifconfig IFNAME ["),
        ] {
            let e = parse(
                "i.kld",
                &format!("kernel vimage\n{bad}\n"),
                Path::new("/d"),
                &vars,
            )
            .expect_err(bad);
            assert!(
                e.to_string().starts_with("i.kld:2: ") && e.message.contains(says),
                "{bad}: {e}"
            );
        }
    }

    #[test]
    fn parses_commands_conditions_quotes_and_variables() {
        let vars = BTreeMap::from([("kernel".to_string(), "novimage".to_string())]);
        let s = parse(
            "t.kld",
            "# c\nkernel $kernel detect=kernel\nvimage: vnet create\ncall f 1 -2 0x10 vnet=1 expect=-1 # x\nexpect-output \"a \\\"b\\\" # c\"\nload m.ko\n",
            Path::new("/d"),
            &vars,
        )
        .expect("parses");
        assert_eq!(s.kernel(), Some(KernelConfig::Novimage));
        assert_eq!(s.steps[1].only_on, Some(KernelConfig::Vimage));
        assert_eq!(
            s.steps[2].command,
            Command::Call {
                function: "f".into(),
                args: vec![1, -2, 16],
                vnet: Some(1),
                cpu: None,
                expect: Some(-1)
            }
        );
        assert_eq!(
            s.steps[3].command,
            Command::ExpectOutput("a \"b\" # c".into())
        );
        assert_eq!(
            s.steps[4].command,
            Command::Load(vec![LoadItem::Object("/d/m.ko".into())])
        );
        let e = parse(
            "t.kld",
            "kernel vimage\nfrobnicate\n",
            Path::new("/"),
            &vars,
        )
        .unwrap_err();
        assert_eq!(e.to_string(), "t.kld:2: unknown command `frobnicate`");
        let e = parse("t.kld", "cpus 2\n", Path::new("/"), &vars).unwrap_err();
        assert!(e.to_string().starts_with("t.kld:1: the first command"));
        let e = parse("t.kld", "kernel $nope\n", Path::new("/"), &vars).unwrap_err();
        assert!(e.to_string().contains("$nope is not set"));
    }
}
