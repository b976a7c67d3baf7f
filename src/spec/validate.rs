//! From the raw TOML to a validated [`Spec`]: every check that can point at
//! a place in the file happens here, before anything is rendered.

use std::collections::{BTreeMap, BTreeSet};

use toml::Spanned;

use super::error::{Locator, SpecError, SpecErrorCode as Code};
use super::raw::{RawBodies, RawCode, RawMacro, RawRuntime, RawSpec, RawStrategyItem};
use super::{
    Arch, Bodies, Family, Function, Header, Item, ItemKind, KernelSymbol, MacroForm, OnlyIn,
    Release, Spec, Strategy, Support, SymbolKind, VnetCopyOrder, SCHEMA,
};
use crate::spec::variant::{BodyVariant, Detect, ModuleFormat};

const C_KEYWORDS: &[&str] = &[
    "auto",
    "break",
    "case",
    "char",
    "const",
    "continue",
    "default",
    "do",
    "double",
    "else",
    "enum",
    "extern",
    "float",
    "for",
    "goto",
    "if",
    "inline",
    "int",
    "long",
    "register",
    "restrict",
    "return",
    "short",
    "signed",
    "sizeof",
    "static",
    "struct",
    "switch",
    "typedef",
    "union",
    "unsigned",
    "void",
    "volatile",
    "while",
    "_Bool",
    "_Complex",
    "_Imaginary",
    "_Alignas",
    "_Alignof",
    "_Atomic",
    "_Generic",
    "_Noreturn",
    "_Static_assert",
    "_Thread_local",
];

/// Is `s` an identifier a C compiler accepts (and not a keyword)?
pub fn is_c_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    (first == '_' || first.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
        && !C_KEYWORDS.contains(&s)
}

struct Validator<'a> {
    loc: Locator<'a>,
    text: &'a str,
}

/// `accessor`, when given, replaces the spec's `[runtime] accessor`.
pub fn validate(source: &str, text: &str, accessor: Option<&str>) -> Result<Spec, SpecError> {
    let v = Validator {
        loc: Locator::new(source, text),
        text,
    };
    let raw: RawSpec = toml::from_str(text).map_err(|e| v.toml_error(&e))?;
    v.spec(source, raw, accessor)
}

/// Per family: its placeholders and its groups, for strategy entries.
type FamilyScope<'a> = BTreeMap<String, (BTreeMap<&'a str, String>, Vec<String>)>;

impl Validator<'_> {
    fn toml_error(&self, e: &toml::de::Error) -> SpecError {
        let message = e.message().trim().to_string();
        let code = if message.starts_with("unknown field") {
            if message.contains("`runtime-probe`") {
                Code::UnknownVariant
            } else {
                Code::UnknownKey
            }
        } else if message.starts_with("missing field") || message.starts_with("invalid type") {
            Code::BadValue
        } else if message.starts_with("duplicate key") {
            Code::Duplicate
        } else {
            Code::Syntax
        };
        let offset = e.span().map_or(0, |s| s.start);
        let message = match code {
            Code::UnknownVariant => message.replacen("unknown field", "unknown variant", 1),
            // toml names no key: the span is the key as written.
            Code::Duplicate => match e.span().and_then(|s| self.text.get(s)) {
                Some(key) => format!("duplicate key `{}`", key.trim_matches(['"', '\'', ' '])),
                None => message,
            },
            _ => toml_terms(&message),
        };
        self.loc.error(offset, code, message)
    }

    fn err<T>(
        &self,
        offset: usize,
        code: Code,
        message: impl Into<String>,
    ) -> Result<T, SpecError> {
        Err(self.loc.error(offset, code, message))
    }

    fn ident(&self, value: &Spanned<String>, what: &str) -> Result<String, SpecError> {
        if is_c_identifier(value.get_ref()) {
            Ok(value.get_ref().clone())
        } else if C_KEYWORDS.contains(&value.get_ref().as_str()) {
            self.err(
                value.span().start,
                Code::BadIdentifier,
                format!(
                    "{what} `{}` is a C keyword, not an identifier",
                    value.get_ref()
                ),
            )
        } else {
            self.err(
                value.span().start,
                Code::BadIdentifier,
                format!("{what} `{}` is not a valid C identifier", value.get_ref()),
            )
        }
    }

    fn unique<'s>(
        &self,
        seen: &mut BTreeSet<String>,
        name: &'s Spanned<String>,
        what: &str,
    ) -> Result<&'s str, SpecError> {
        if seen.insert(name.get_ref().clone()) {
            Ok(name.get_ref())
        } else {
            self.err(
                name.span().start,
                Code::Duplicate,
                format!("duplicate {what} `{}`", name.get_ref()),
            )
        }
    }

    fn one_of<T: Copy>(
        &self,
        value: &Spanned<String>,
        what: &str,
        choices: &[(&str, T)],
    ) -> Result<T, SpecError> {
        match choices.iter().find(|(n, _)| n == value.get_ref()) {
            Some((_, t)) => Ok(*t),
            None => {
                let names: Vec<String> = choices.iter().map(|(n, _)| format!("`{n}`")).collect();
                self.err(
                    value.span().start,
                    Code::BadValue,
                    format!(
                        "{what} `{}` is not one of {}",
                        value.get_ref(),
                        names.join(", ")
                    ),
                )
            }
        }
    }

    fn spec(&self, source: &str, raw: RawSpec, accessor: Option<&str>) -> Result<Spec, SpecError> {
        if *raw.schema.get_ref() != SCHEMA {
            return self.err(
                raw.schema.span().start,
                Code::Schema,
                format!(
                    "schema {} is not supported: this vnetgen reads schema {SCHEMA}",
                    raw.schema.get_ref()
                ),
            );
        }
        let detect = self.one_of(
            &raw.runtime.detect,
            "detect",
            &[("probe", Detect::Probe), ("kernel", Detect::Kernel)],
        )?;
        let flag = self.ident(&raw.runtime.flag, "runtime flag")?;

        let mut archs = Vec::new();
        let mut seen = BTreeSet::new();
        for a in &raw.arch {
            self.unique(&mut seen, &a.name, "arch")?;
            let module_format = self.one_of(
                &a.module_format,
                "module_format",
                &[
                    ("relocatable", ModuleFormat::Relocatable),
                    ("shared", ModuleFormat::Shared),
                ],
            )?;
            let pointer_bytes = match *a.pointer_bytes.get_ref() {
                4 => 4,
                8 => 8,
                n => {
                    return self.err(
                        a.pointer_bytes.span().start,
                        Code::BadValue,
                        format!("pointer_bytes must be 4 or 8, not {n}"),
                    )
                }
            };
            archs.push(Arch {
                name: a.name.get_ref().clone(),
                triple: a.triple.clone(),
                machine: a
                    .machine
                    .clone()
                    .unwrap_or_else(|| a.name.get_ref().clone()),
                cpp: self.ident(&a.cpp, "arch macro")?,
                module_format,
                pointer_bytes,
                set_pad: u32::try_from(a.set_pad).unwrap_or(0),
                global_set_storage: a.global_set_storage,
                cflags: a.cflags.clone(),
                ldflags: a.ldflags.clone(),
            });
        }
        archs.sort_by(|a, b| a.name.cmp(&b.name));

        let mut releases = Vec::new();
        let mut seen = BTreeSet::new();
        for r in &raw.release {
            self.unique(&mut seen, &r.name, "release")?;
            let vnet_copy = self.one_of(
                &r.vnet_copy,
                "vnet_copy",
                &[
                    ("before-relocation", VnetCopyOrder::BeforeRelocation),
                    ("after-relocation", VnetCopyOrder::AfterRelocation),
                ],
            )?;
            let freebsd_version = match u32::try_from(*r.freebsd_version.get_ref()) {
                Ok(v) if (1_000_000..10_000_000).contains(&v) => v,
                _ => {
                    return self.err(
                        r.freebsd_version.span().start,
                        Code::BadValue,
                        format!(
                            "freebsd_version {} is not a __FreeBSD_version (seven digits)",
                            r.freebsd_version.get_ref()
                        ),
                    )
                }
            };
            let mut global = Vec::new();
            for a in &r.global_set_storage {
                if !archs.iter().any(|arch| &arch.name == a.get_ref()) {
                    return self.err(
                        a.span().start,
                        Code::UnknownReference,
                        format!("global_set_storage: no arch `{}`", a.get_ref()),
                    );
                }
                global.push(a.get_ref().clone());
            }
            global.sort();
            let mut flags = [BTreeMap::new(), BTreeMap::new()];
            for (table, name, out) in [
                (&r.kmod_cflags, "kmod_cflags", 0),
                (&r.kmod_ldflags, "kmod_ldflags", 1),
            ] {
                for (a, list) in table {
                    if !archs.iter().any(|arch| &arch.name == a.get_ref()) {
                        return self.err(
                            a.span().start,
                            Code::UnknownReference,
                            format!("{name}: no arch `{}`", a.get_ref()),
                        );
                    }
                    flags[out].insert(a.get_ref().clone(), list.clone());
                }
            }
            let [kmod_cflags, kmod_ldflags] = flags;
            releases.push(Release {
                name: r.name.get_ref().clone(),
                tree: r.tree.clone(),
                freebsd_version,
                vnet_copy,
                global_set_storage: global,
                i386_set_pad_value: u32::try_from(r.i386_set_pad_value).unwrap_or(0),
                kmod_cflags,
                kmod_ldflags,
            });
        }
        releases.sort_by_key(|r| r.freebsd_version);

        let mut headers = Vec::new();
        let mut seen = BTreeSet::new();
        for h in &raw.header {
            self.unique(&mut seen, &h.path, "header")?;
            headers.push(Header {
                path: h.path.get_ref().clone(),
                guard: self.ident(&h.guard, "include guard")?,
                userland: h.userland.clone(),
                doc: h.doc.clone(),
                known: h
                    .known
                    .iter()
                    .map(|k| {
                        let hex = k.get_ref();
                        if hex.len() == 64
                            && hex
                                .chars()
                                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
                        {
                            Ok(hex.clone())
                        } else {
                            self.err(
                                k.span().start,
                                Code::BadValue,
                                format!("known `{hex}` is not a SHA-256 in lowercase hex"),
                            )
                        }
                    })
                    .collect::<Result<Vec<_>, _>>()?,
            });
        }
        headers.sort_by(|a, b| a.path.cmp(&b.path));

        // Names that share one C namespace across the whole spec.
        let mut macro_families: BTreeMap<String, Vec<MacroServes>> = BTreeMap::new();
        let mut symbol_names = BTreeSet::new();
        let mut kernel_symbols = Vec::new();
        for s in &raw.kernel.symbols {
            self.unique(&mut symbol_names, s, "kernel symbol")?;
            kernel_symbols.push(self.ident(s, "kernel symbol")?);
        }
        kernel_symbols.sort();
        let mut family_names = BTreeSet::new();
        let mut families = Vec::new();
        let mut scopes: FamilyScope = BTreeMap::new();
        for f in &raw.family {
            self.unique(&mut family_names, &f.name, "family")?;
            let name = self.ident(&f.name, "family name")?;
            if !headers.iter().any(|h| &h.path == f.header.get_ref()) {
                return self.err(
                    f.header.span().start,
                    Code::UnknownReference,
                    format!(
                        "header `{}` of family `{name}` is not declared by any [[header]]",
                        f.header.get_ref()
                    ),
                );
            }
            let prefix = self.ident(&f.prefix, "symbol prefix")?;
            let section = self.ident(&f.section, "section")?;
            let modspace = u64::try_from(*f.modspace.get_ref()).ok().filter(|n| *n > 0);
            let Some(modspace) = modspace else {
                return self.err(
                    f.modspace.span().start,
                    Code::BadValue,
                    "modspace must be a positive number of bytes",
                );
            };
            let mut groups = Vec::new();
            let mut seen_groups = BTreeSet::new();
            for g in &f.groups {
                groups.push(self.unique(&mut seen_groups, g, "group")?.to_string());
            }
            let mut vars = BTreeMap::new();
            vars.insert("prefix", prefix.clone());
            vars.insert("section", section.clone());
            vars.insert("modspace", modspace.to_string());
            vars.insert("base", f.base.clone());
            vars.insert("flag", flag.clone());

            let mut kernel_symbols = Vec::new();
            for s in &f.kernel_symbol {
                self.unique(&mut symbol_names, &s.name, "kernel symbol")?;
                kernel_symbols.push(KernelSymbol {
                    name: self.ident(&s.name, "kernel symbol")?,
                    kind: self.one_of(
                        &s.kind,
                        "kind",
                        &[
                            ("data", SymbolKind::Data),
                            ("function", SymbolKind::Function),
                        ],
                    )?,
                    only_in: self.one_of(
                        &s.only_in,
                        "only_in",
                        &[
                            ("all", OnlyIn::All),
                            ("vimage", OnlyIn::Vimage),
                            ("novimage", OnlyIn::Novimage),
                        ],
                    )?,
                });
            }
            kernel_symbols.sort_by(|a, b| a.name.cmp(&b.name));
            let mut kernel_variables = Vec::new();
            for v in &f.kernel_variables {
                self.unique(&mut symbol_names, v, "kernel symbol")?;
                kernel_variables.push(self.ident(v, "kernel variable")?);
            }
            kernel_variables.sort();

            let mut items = Vec::new();
            let mut code_names = BTreeSet::new();
            for c in &f.code {
                self.unique(&mut code_names, &c.name, "code block")?;
                let Some(group) = &c.group else {
                    return self.err(
                        c.name.span().start,
                        Code::BadValue,
                        format!("code block `{}` needs a group", c.name.get_ref()),
                    );
                };
                let group = self.group(&groups, group)?;
                items.push(self.code(c, group, &vars, &releases)?);
            }
            for m in &f.macros {
                let group = self.group(&groups, &m.group)?;
                let item = self.macro_item(m, group, &vars, &releases)?;
                // A macro may be given more than once when no two entries
                // serve one variant of one release (VNET_FOREACH without
                // VIMAGE differs between releases; with it, it does not).
                let serves = MacroServes {
                    family: name.clone(),
                    releases: match &m.releases {
                        // A spec without releases serves one, unnamed.
                        None => (0..releases.len().max(1)).collect(),
                        Some(list) => list
                            .get_ref()
                            .iter()
                            .filter_map(|n| releases.iter().position(|r| r.name == *n.get_ref()))
                            .collect(),
                    },
                    variants: BodyVariant::ALL
                        .into_iter()
                        .filter(|v| item.body.resolve(*v, detect).is_some())
                        .collect(),
                };
                let earlier = macro_families.entry(m.name.get_ref().clone()).or_default();
                if let Some(other) = earlier.iter().find(|e| e.overlaps(&serves)) {
                    let why = if other.family == serves.family {
                        " for the same variant and release; entries of one macro must differ in `releases` or in the variants they have bodies for"
                    } else {
                        ""
                    };
                    return self.err(
                        m.name.span().start,
                        Code::Duplicate,
                        format!(
                            "duplicate macro `{}` (already defined in family `{}`{why})",
                            m.name.get_ref(),
                            other.family
                        ),
                    );
                }
                earlier.push(serves);
                items.push(item);
            }
            sort_items(&mut items);
            scopes.insert(name.clone(), (vars, groups.clone()));
            families.push(Family {
                name,
                header: f.header.get_ref().clone(),
                prefix,
                section,
                base: f.base.clone(),
                modspace,
                virtualized: f.virtualized,
                kernel_variables,
                groups,
                kernel_symbols,
                items,
            });
        }
        families.sort_by(|a, b| a.name.cmp(&b.name));
        let (accessor, strategies) =
            self.strategies(&raw.runtime, accessor, &mut families, &scopes)?;

        let support = match &raw.support {
            None => None,
            Some(s) => {
                let mut vars = BTreeMap::new();
                vars.insert("flag", flag.clone());
                let mut groups = Vec::new();
                let mut seen_groups = BTreeSet::new();
                for g in &s.groups {
                    groups.push(self.unique(&mut seen_groups, g, "group")?.to_string());
                }
                let mut code = Vec::new();
                let mut seen = BTreeSet::new();
                for c in &s.code {
                    self.unique(&mut seen, &c.name, "code block")?;
                    let Some(group) = &c.group else {
                        return self.err(
                            c.name.span().start,
                            Code::BadValue,
                            format!("code block `{}` needs a group", c.name.get_ref()),
                        );
                    };
                    let group = self.group(&groups, group)?;
                    code.push(self.code(c, group, &vars, &releases)?);
                }
                code.sort_by(|a, b| (a.group, &a.name).cmp(&(b.group, &b.name)));
                let mut functions = Vec::new();
                let mut seen = BTreeSet::new();
                for func in &s.function {
                    self.unique(&mut seen, &func.name, "function")?;
                    functions.push(Function {
                        name: self.ident(&func.name, "function name")?,
                        returns: func.returns.clone(),
                        params: func.params.clone(),
                        doc: func.doc.clone(),
                        body: self.bodies(&func.body, &vars)?,
                    });
                }
                functions.sort_by(|a, b| a.name.cmp(&b.name));
                Some(Support {
                    path: s.path.get_ref().clone(),
                    // Docs are prose: the placeholders they use are the known ones.
                    doc: s.doc.as_ref().map(|d| d.replace("${flag}", &flag)),
                    code,
                    functions,
                })
            }
        };

        Ok(Spec {
            source: source.to_string(),
            detect,
            flag,
            accessor,
            strategies,
            kernel_symbols,
            cflags_common: raw.cflags.common.clone(),
            cflags_warnings: raw.cflags.warnings.clone(),
            archs,
            releases,
            headers,
            families,
            support,
        })
    }

    /// Validates every `[[runtime.strategy]]`, then puts the selected one's
    /// bodies into the families' items.
    fn strategies(
        &self,
        raw: &RawRuntime,
        selected: Option<&str>,
        families: &mut [Family],
        scopes: &FamilyScope,
    ) -> Result<(Option<String>, Vec<Strategy>), SpecError> {
        let mut seen = BTreeSet::new();
        let mut strategies = Vec::new();
        // Per strategy: (family index, item) to add, or (family index, item
        // index, bodies) to replace.
        let mut changes: Vec<Vec<StrategyChange>> = Vec::new();
        for st in &raw.strategies {
            self.unique(&mut seen, &st.name, "strategy")?;
            let name = self.ident(&st.name, "strategy name")?;
            let mut entries = BTreeSet::new();
            let mut change = Vec::new();
            let all = st
                .code
                .iter()
                .map(|e| (e, false))
                .chain(st.macros.iter().map(|e| (e, true)));
            for (entry, is_macro) in all {
                self.unique(&mut entries, &entry.name, "strategy entry")?;
                change.push(self.strategy_entry(&name, entry, is_macro, families, scopes)?);
            }
            strategies.push(Strategy {
                name,
                doc: st.doc.clone(),
            });
            changes.push(change);
        }
        let chosen = match (selected, &raw.accessor) {
            (Some(name), _) => Some((name.to_string(), None)),
            (None, Some(a)) => Some((a.get_ref().clone(), Some(a.span().start))),
            (None, None) if !strategies.is_empty() => {
                let at = raw.strategies.first().map_or(0, |s| s.name.span().start);
                return self.err(
                    at,
                    Code::BadValue,
                    "the spec defines accessor strategies, so `[runtime] accessor` must name one",
                );
            }
            (None, None) => None,
        };
        let Some((chosen, at)) = chosen else {
            strategies.sort_by(|a, b| a.name.cmp(&b.name));
            return Ok((None, strategies));
        };
        let Some(index) = strategies.iter().position(|s| s.name == chosen) else {
            let names: Vec<String> = strategies.iter().map(|s| format!("`{}`", s.name)).collect();
            return self.err(
                at.unwrap_or(0),
                Code::UnknownReference,
                format!(
                    "accessor `{chosen}` is not a [[runtime.strategy]]; defined: {}",
                    if names.is_empty() {
                        "none".to_string()
                    } else {
                        names.join(", ")
                    }
                ),
            );
        };
        let mut touched = BTreeSet::new();
        for c in changes.swap_remove(index) {
            match c {
                StrategyChange::Replace(f, i, bodies) => {
                    if let Some(item) = families.get_mut(f).and_then(|fam| fam.items.get_mut(i)) {
                        item.body.runtime = bodies.runtime;
                        item.body.runtime_probe = bodies.runtime_probe;
                        item.body.runtime_kernel = bodies.runtime_kernel;
                    }
                }
                StrategyChange::Add(f, item) => {
                    if let Some(fam) = families.get_mut(f) {
                        fam.items.push(*item);
                        touched.insert(f);
                    }
                }
            }
        }
        for f in touched {
            if let Some(fam) = families.get_mut(f) {
                sort_items(&mut fam.items);
            }
        }
        strategies.sort_by(|a, b| a.name.cmp(&b.name));
        Ok((Some(chosen), strategies))
    }

    fn strategy_entry(
        &self,
        strategy: &str,
        e: &RawStrategyItem,
        is_macro: bool,
        families: &[Family],
        scopes: &FamilyScope,
    ) -> Result<StrategyChange, SpecError> {
        let table = if is_macro { "macro" } else { "code" };
        // Strategy bodies serve the run-time variant only.
        let raw = e.body.get_ref();
        for (key, body) in [
            ("all", &raw.all),
            ("novimage", &raw.novimage),
            ("vimage", &raw.vimage),
        ] {
            if let Some(b) = body {
                return self.err(
                    b.span().start,
                    Code::BadBody,
                    format!("strategy `{strategy}` gives `{}` a `body.{key}`: a strategy serves the run-time variant only (`runtime`, `runtime-probe`, `runtime-kernel`)", e.name.get_ref()),
                );
            }
        }
        let existing = families.iter().enumerate().find_map(|(f, fam)| {
            fam.items
                .iter()
                .position(|i| {
                    i.name == *e.name.get_ref()
                        && matches!(i.kind, ItemKind::Macro { .. }) == is_macro
                })
                .map(|i| (f, i))
        });
        if let Some((f, i)) = existing {
            let fam = &families[f];
            if let Some(extra) = [&e.family, &e.group, &e.form]
                .into_iter()
                .flatten()
                .next()
                .map(|s| s.span().start)
                .or_else(|| e.params.as_ref().map(|_| e.name.span().start))
            {
                return self.err(
                    extra,
                    Code::BadValue,
                    format!("strategy `{strategy}` replaces the run-time bodies of `{}` of family `{}`: its family, group, params and form are the family's", e.name.get_ref(), fam.name),
                );
            }
            let (vars, _) = scopes.get(&fam.name).ok_or_else(|| {
                self.loc.error(
                    e.name.span().start,
                    Code::UnknownReference,
                    "no such family",
                )
            })?;
            let bodies = self.bodies(&e.body, vars)?;
            if let ItemKind::Macro { form, .. } = fam.items[i].kind {
                if form != MacroForm::Statement {
                    self.check_no_semicolon(e.name.get_ref(), "body", &e.body, &bodies)?;
                }
            }
            return Ok(StrategyChange::Replace(f, i, bodies));
        }
        let (Some(family), Some(group)) = (&e.family, &e.group) else {
            return self.err(
                e.name.span().start,
                Code::UnknownReference,
                format!("strategy `{strategy}`: `{}` is not a {table} of any family; an entry of the strategy's own needs `family` and `group`", e.name.get_ref()),
            );
        };
        let Some(f) = families
            .iter()
            .position(|fam| fam.name == *family.get_ref())
        else {
            return self.err(
                family.span().start,
                Code::UnknownReference,
                format!("family `{}` does not exist", family.get_ref()),
            );
        };
        let (vars, groups) = scopes.get(family.get_ref()).ok_or_else(|| {
            self.loc.error(
                family.span().start,
                Code::UnknownReference,
                "no such family",
            )
        })?;
        let group = self.group(groups, group)?;
        let name = self.ident(&e.name, if is_macro { "macro name" } else { "code name" })?;
        let body = self.bodies(&e.body, vars)?;
        let kind = if is_macro {
            let params = self.params(e.params.as_deref())?;
            let form = self.form(e.form.as_ref())?;
            if form != MacroForm::Statement {
                self.check_no_semicolon(&name, "body", &e.body, &body)?;
            }
            ItemKind::Macro { params, form }
        } else {
            ItemKind::Code
        };
        Ok(StrategyChange::Add(
            f,
            Box::new(Item {
                name,
                kind,
                group,
                userland: false,
                release_condition: None,
                release_rank: 0,
                doc: e.doc.clone(),
                body,
                shared_module: None,
            }),
        ))
    }

    fn group(&self, groups: &[String], group: &Spanned<String>) -> Result<usize, SpecError> {
        match groups.iter().position(|g| g == group.get_ref()) {
            Some(i) => Ok(i),
            None => self.err(
                group.span().start,
                Code::UnknownReference,
                format!("group `{}` is not in the family's groups", group.get_ref()),
            ),
        }
    }

    fn code(
        &self,
        c: &RawCode,
        group: usize,
        vars: &BTreeMap<&str, String>,
        releases: &[Release],
    ) -> Result<Item, SpecError> {
        let body = self.bodies(&c.body, vars)?;
        self.check_userland(c.name.get_ref(), c.userland, &c.body, &body)?;
        Ok(Item {
            name: c.name.get_ref().clone(),
            kind: ItemKind::Code,
            group,
            userland: c.userland,
            release_condition: self.release_condition(c.releases.as_ref(), releases)?,
            release_rank: self.release_rank(c.releases.as_ref(), releases),
            doc: c.doc.clone(),
            body,
            shared_module: None,
        })
    }

    fn macro_item(
        &self,
        m: &RawMacro,
        group: usize,
        vars: &BTreeMap<&str, String>,
        releases: &[Release],
    ) -> Result<Item, SpecError> {
        let name = self.ident(&m.name, "macro name")?;
        let params = self.params(m.params.as_deref())?;
        let form = self.form(m.form.as_ref())?;
        let body = self.bodies(&m.body, vars)?;
        self.check_userland(&name, m.userland, &m.body, &body)?;
        let shared_module = match &m.shared_module {
            None => None,
            Some(raw) => Some(self.bodies(raw, vars)?),
        };
        if !matches!(form, MacroForm::Statement | MacroForm::Verbatim) {
            self.check_no_semicolon(&name, "body", &m.body, &body)?;
            if let (Some(raw), Some(bodies)) = (&m.shared_module, &shared_module) {
                self.check_no_semicolon(&name, "shared_module", raw, bodies)?;
            }
        }
        Ok(Item {
            name,
            kind: ItemKind::Macro { params, form },
            group,
            userland: m.userland,
            release_condition: match (
                self.release_condition(m.releases.as_ref(), releases)?,
                m.only_if
                    .as_deref()
                    .map(str::trim)
                    .filter(|c| !c.is_empty()),
            ) {
                (None, None) => None,
                (Some(r), None) => Some(r),
                (None, Some(c)) => Some(c.to_string()),
                (Some(r), Some(c)) => Some(format!("({r}) && ({c})")),
            },
            release_rank: self.release_rank(m.releases.as_ref(), releases),
            doc: m.doc.clone(),
            body,
            shared_module,
        })
    }

    /// The condition on `__FreeBSD_version` of an entry that serves only
    /// some releases (`releases`, a run of consecutive ones, oldest first in
    /// `known`), or `None` when it serves them all.  A header read without
    /// `sys/param.h` before it has no `__FreeBSD_version`, and is taken to
    /// be of the newest release.
    fn release_condition(
        &self,
        raw: Option<&Spanned<Vec<Spanned<String>>>>,
        known: &[Release],
    ) -> Result<Option<String>, SpecError> {
        let Some(raw) = raw else {
            return Ok(None);
        };
        let mut picked = BTreeSet::new();
        for name in raw.get_ref() {
            let Some(i) = known.iter().position(|r| r.name == *name.get_ref()) else {
                let names: Vec<&str> = known.iter().map(|r| r.name.as_str()).collect();
                return self.err(
                    name.span().start,
                    Code::UnknownReference,
                    format!(
                        "release `{}` is not a [[release]] (known: {})",
                        name.get_ref(),
                        names.join(", ")
                    ),
                );
            };
            if !picked.insert(i) {
                return self.err(
                    name.span().start,
                    Code::Duplicate,
                    format!("release `{}` is listed twice", name.get_ref()),
                );
            }
        }
        let (Some(&first), Some(&last)) = (picked.first(), picked.last()) else {
            return self.err(
                raw.span().start,
                Code::BadValue,
                "releases is empty: leave it out for an entry that serves every release",
            );
        };
        if last - first + 1 != picked.len() {
            return self.err(
                raw.span().start,
                Code::BadValue,
                "releases must be consecutive releases (a range of __FreeBSD_version)",
            );
        }
        let run: Vec<usize> = picked.into_iter().collect();
        Ok(super::release_condition(known, &run))
    }

    /// The index of the oldest of `raw`'s releases (validated already by
    /// [`Self::release_condition`]); 0 for an entry that serves them all.
    fn release_rank(
        &self,
        raw: Option<&Spanned<Vec<Spanned<String>>>>,
        known: &[Release],
    ) -> usize {
        raw.into_iter()
            .flat_map(|list| list.get_ref())
            .filter_map(|n| known.iter().position(|r| r.name == *n.get_ref()))
            .min()
            .unwrap_or(0)
    }

    /// Expression and declaration macros end where the caller's `;` does.
    fn check_no_semicolon(
        &self,
        name: &str,
        table: &str,
        raw: &Spanned<RawBodies>,
        body: &Bodies,
    ) -> Result<(), SpecError> {
        let first = keyed_bodies(raw.get_ref(), body)
            .filter(|(_, _, text)| text.trim_end().ends_with(';'))
            .min_by_key(|(_, raw, _)| raw.span().start);
        let Some((key, raw, _)) = first else {
            return Ok(());
        };
        // Point at the semicolon itself, the last one in the literal.
        let span = raw.span();
        let at = self
            .text
            .get(span.clone())
            .and_then(|src| src.rfind(';'))
            .map_or(span.start, |i| span.start + i);
        self.err(
            at,
            Code::BadBody,
            format!("macro `{name}` is not a statement macro, so its `{table}.{key}` must not end with `;`: the caller's semicolon ends it"),
        )
    }

    /// A macro's parameters: unique C identifiers; `None` for an object-like macro.
    fn params(&self, params: Option<&[Spanned<String>]>) -> Result<Option<Vec<String>>, SpecError> {
        let Some(params) = params else {
            return Ok(None);
        };
        let mut seen = BTreeSet::new();
        let mut out = Vec::new();
        for p in params {
            self.unique(&mut seen, p, "parameter")?;
            out.push(self.ident(p, "parameter")?);
        }
        Ok(Some(out))
    }

    /// A macro's form, an expression unless it says otherwise.
    fn form(&self, form: Option<&Spanned<String>>) -> Result<MacroForm, SpecError> {
        match form {
            None => Ok(MacroForm::Expression),
            Some(f) => self.one_of(
                f,
                "form",
                &[
                    ("expression", MacroForm::Expression),
                    ("statement", MacroForm::Statement),
                    ("declaration", MacroForm::Declaration),
                    ("verbatim", MacroForm::Verbatim),
                ],
            ),
        }
    }

    fn check_userland(
        &self,
        name: &str,
        userland: bool,
        raw: &Spanned<RawBodies>,
        body: &Bodies,
    ) -> Result<(), SpecError> {
        if !userland {
            return Ok(());
        }
        let specific = keyed_bodies(raw.get_ref(), body)
            .filter(|(key, _, _)| *key != "all")
            .min_by_key(|(_, raw, _)| raw.span().start);
        if let Some((key, raw, _)) = specific {
            return self.err(
                raw.span().start,
                Code::BadBody,
                format!("userland entry `{name}` is visible without _KERNEL, where no variant is selected: give it only `body.all`, not `body.{key}`"),
            );
        }
        Ok(())
    }

    fn bodies(
        &self,
        raw: &Spanned<RawBodies>,
        vars: &BTreeMap<&str, String>,
    ) -> Result<Bodies, SpecError> {
        let b = raw.get_ref();
        let one = |v: &Option<Spanned<String>>| -> Result<Option<String>, SpecError> {
            v.as_ref().map(|s| self.expand(s, vars)).transpose()
        };
        let bodies = Bodies {
            all: one(&b.all)?,
            novimage: one(&b.novimage)?,
            vimage: one(&b.vimage)?,
            runtime: one(&b.runtime)?,
            runtime_probe: one(&b.runtime_probe)?,
            runtime_kernel: one(&b.runtime_kernel)?,
        };
        if bodies == Bodies::default() {
            return self.err(raw.span().start, Code::BadBody, "no body for any variant");
        }
        Ok(bodies)
    }

    /// Expands `${name}` placeholders; an unknown one is an error at its place.
    fn expand(
        &self,
        s: &Spanned<String>,
        vars: &BTreeMap<&str, String>,
    ) -> Result<String, SpecError> {
        let text = s.get_ref();
        let mut out = String::with_capacity(text.len());
        let mut rest = text.as_str();
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let Some(end) = after.find('}') else {
                return self.err(
                    s.span().start,
                    Code::BadBody,
                    "unterminated `${` placeholder",
                );
            };
            let name = &after[..end];
            match vars.get(name) {
                Some(value) => out.push_str(value),
                None => {
                    let needle = format!("${{{name}}}");
                    let span = s.span();
                    let at = self
                        .text
                        .get(span.clone())
                        .and_then(|src| src.find(&needle))
                        .map_or(span.start, |i| span.start + i);
                    let known: Vec<String> = vars.keys().map(|k| format!("${{{k}}}")).collect();
                    return self.err(
                        at,
                        Code::UnknownReference,
                        format!(
                            "unknown placeholder `{needle}`; known here: {}",
                            known.join(", ")
                        ),
                    );
                }
            }
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }
}

/// What the selected strategy does to a family (by index).
enum StrategyChange {
    /// Replaces the run-time bodies of an item (by index).
    Replace(usize, usize, Bodies),
    /// Adds an item of the strategy's own.
    Add(usize, Box<Item>),
}

/// What one entry of a macro serves: its family, the releases (indices) and
/// the variants it has bodies for.
struct MacroServes {
    family: String,
    releases: BTreeSet<usize>,
    variants: BTreeSet<BodyVariant>,
}

impl MacroServes {
    /// Two entries clash when they are of different families, or serve one
    /// variant of one release.
    fn overlaps(&self, other: &MacroServes) -> bool {
        self.family != other.family
            || (!self.releases.is_disjoint(&other.releases)
                && !self.variants.is_disjoint(&other.variants))
    }
}

/// Within a group, code before macros, each sorted by name.
fn sort_items(items: &mut [Item]) {
    items.sort_by(|a, b| {
        let rank = |i: &Item| (i.group, matches!(i.kind, ItemKind::Macro { .. }));
        rank(a)
            .cmp(&rank(b))
            .then_with(|| a.name.cmp(&b.name))
            .then_with(|| a.release_rank.cmp(&b.release_rank))
    });
}

/// The bodies present, each with its key as written and its expanded text.
fn keyed_bodies<'b>(
    raw: &'b RawBodies,
    body: &'b Bodies,
) -> impl Iterator<Item = (&'static str, &'b Spanned<String>, &'b String)> {
    [
        ("all", &raw.all, &body.all),
        ("novimage", &raw.novimage, &body.novimage),
        ("vimage", &raw.vimage, &body.vimage),
        ("runtime", &raw.runtime, &body.runtime),
        ("runtime-probe", &raw.runtime_probe, &body.runtime_probe),
        ("runtime-kernel", &raw.runtime_kernel, &body.runtime_kernel),
    ]
    .into_iter()
    .filter_map(|(key, raw, body)| Some((key, raw.as_ref()?, body.as_ref()?)))
}

/// serde's words for TOML's: a key, not a field; an array, not a sequence;
/// a table, not a map or a Rust struct; an integer, not an i64.
fn toml_terms(message: &str) -> String {
    let mut out = message
        .replacen("unknown field", "unknown key", 1)
        .replacen("missing field", "missing key", 1)
        .replace("invalid type: sequence", "invalid type: array")
        .replace("invalid type: map", "invalid type: table")
        .replace("expected a sequence", "expected an array")
        .replace("expected a map", "expected a table")
        .replace("expected i64", "expected an integer")
        .replace(
            "expected struct RawBodies",
            "expected a table of bodies keyed by variant, such as `body.all = \"...\"`",
        );
    if let Some(at) = out.find("expected struct Raw") {
        out.replace_range(at.., "expected a table");
    }
    out
}
