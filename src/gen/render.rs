//! Rendering: the validated spec, through the askama templates, into the
//! text of every output file.  Nothing here touches the file system.

use std::collections::BTreeMap;

use askama::Template;

use crate::gen::cformat::{self, Entry};
use crate::gen::stamp::stamp;
use crate::spec::variant::{BodyVariant, Variant};
use crate::spec::{Header, Item, ItemKind, MacroForm, Spec};

/// One generated file: its path under the output directory and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputFile {
    pub path: String,
    pub contents: String,
}

#[derive(Debug, thiserror::Error)]
#[error("rendering template {template}: {source}")]
pub struct RenderError {
    pub(crate) template: &'static str,
    #[source]
    pub(crate) source: askama::Error,
}

struct Branch {
    directive: String,
    comment: String,
    text: String,
}

#[derive(Template)]
#[template(path = "header.h", escape = "none")]
struct HeaderTemplate<'a> {
    doc: String,
    guard: &'a str,
    userland_cond: Option<&'a str>,
    userland: String,
    selection: bool,
    common: String,
    branches: Vec<Branch>,
    closing: &'static str,
}

struct FunctionView {
    comment: String,
    returns: String,
    name: String,
    params: String,
    body: String,
}

#[derive(Template)]
#[template(path = "support.c", escape = "none")]
struct SupportTemplate {
    doc: String,
    code: String,
    functions: Vec<FunctionView>,
}

/// Macro bodies that replace the spec's in the drop-in header, for
/// `vnetgen vendor`'s intermediate step: keyed by (macro, variant, for
/// shared-object module builds), each a `#define` head and body.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub bodies: BTreeMap<(String, BodyVariant, bool), (String, String)>,
    /// Macros the spec does not define in a variant, kept at the end of
    /// that variant's branch: (head, body).
    pub extra: BTreeMap<BodyVariant, Vec<(String, String)>>,
    /// Macros left out of a variant.
    pub omit: std::collections::BTreeSet<(String, BodyVariant)>,
}

/// The spec, and the overrides (none for `generate`).
struct Renderer<'a> {
    spec: &'a Spec,
    overrides: &'a Overrides,
}

/// How a header is laid out: the drop-in one selects among all variants;
/// the flattened ones, for review, show one variant each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    DropIn,
    Flattened(Variant),
}

/// Renders every output file of a spec, sorted by path.
pub fn render(spec: &Spec) -> Result<Vec<OutputFile>, RenderError> {
    let none = Overrides::default();
    let r = &Renderer {
        spec,
        overrides: &none,
    };
    let mut files = Vec::new();
    for header in &spec.headers {
        files.push(OutputFile {
            path: header.path.clone(),
            contents: stamp(
                &spec.source,
                None,
                &render_header(r, header, Layout::DropIn)?,
            ),
        });
        for variant in Variant::ALL {
            let note = format!("Variant {variant}, flattened for review and diffing.");
            files.push(OutputFile {
                path: format!("variants/{variant}/{}", header.path),
                contents: stamp(
                    &spec.source,
                    Some(&note),
                    &render_header(r, header, Layout::Flattened(variant))?,
                ),
            });
        }
    }
    if let Some(support) = &spec.support {
        files.push(OutputFile {
            path: support.path.clone(),
            contents: stamp(&spec.source, None, &render_support(spec)?),
        });
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(files)
}

/// The drop-in header at `path`, stamped, with some macro bodies replaced:
/// the intermediate step of a vendoring patch series.
pub fn render_drop_in_with(
    spec: &Spec,
    path: &str,
    overrides: &Overrides,
) -> Result<Option<String>, RenderError> {
    let r = &Renderer { spec, overrides };
    let Some(header) = spec.headers.iter().find(|h| h.path == path) else {
        return Ok(None);
    };
    Ok(Some(stamp(
        &spec.source,
        None,
        &render_header(r, header, Layout::DropIn)?,
    )))
}

/// The items of a header, in order: family by family, each sorted.
fn header_items<'s>(spec: &'s Spec, header: &Header) -> Vec<&'s Item> {
    spec.families
        .iter()
        .filter(|f| f.header == header.path)
        .flat_map(|f| f.items.iter())
        .collect()
}

fn macro_head(item: &Item) -> String {
    match &item.kind {
        ItemKind::Macro {
            params: Some(params),
            ..
        } => format!("{}({})", item.name, params.join(", ")),
        _ => item.name.clone(),
    }
}

fn define(item: &Item, doc: Option<String>, body: &str) -> Entry {
    let statement = matches!(
        item.kind,
        ItemKind::Macro {
            form: MacroForm::Statement,
            ..
        }
    );
    Entry::Define {
        doc,
        head: macro_head(item),
        lines: cformat::body_lines(body, statement),
        statement,
    }
}

/// The entries one item contributes to one variant (none where it has no
/// body), under its release condition if it serves only some releases.
/// With `docs` false the item's comment is left out: the drop-in header
/// shows each comment once, in the first branch that has the item.
fn item_entries(r: &Renderer<'_>, item: &Item, variant: BodyVariant, docs: bool) -> Vec<Entry> {
    let entries = variant_entries(r, item, variant, docs);
    match &item.release_condition {
        Some(cond) if !entries.is_empty() => {
            let mut wrapped = vec![Entry::Directive(cformat::directive("#if", cond))];
            wrapped.extend(entries);
            wrapped.push(Entry::Directive("#endif".to_string()));
            wrapped
        }
        _ => entries,
    }
}

fn variant_entries(r: &Renderer<'_>, item: &Item, variant: BodyVariant, docs: bool) -> Vec<Entry> {
    let spec = r.spec;
    let Some(body) = item.body.resolve(variant, spec.detect) else {
        return Vec::new();
    };
    if r.overrides.omit.contains(&(item.name.clone(), variant)) {
        return Vec::new();
    }
    let doc = if docs { item.doc.clone() } else { None };
    if item.kind == ItemKind::Code {
        return vec![Entry::Code {
            doc,
            text: body.to_string(),
        }];
    }
    let ours = |body: &str| define(item, None, body);
    let overridden = |shared: bool| {
        r.overrides
            .bodies
            .get(&(item.name.clone(), variant, shared))
            .map(|(head, body)| Entry::Define {
                doc: None,
                head: head.clone(),
                lines: vec![body.clone()],
                statement: false,
            })
    };
    let main = overridden(false).unwrap_or_else(|| ours(body));
    let alternative = overridden(true)
        .or_else(|| {
            item.shared_module
                .as_ref()
                .and_then(|s| s.resolve(variant, spec.detect))
                .map(ours)
        })
        .filter(|alt| {
            cformat::layout(std::slice::from_ref(alt))
                != cformat::layout(std::slice::from_ref(&main))
        });
    let with_doc = |entry: Entry, doc: Option<String>| match entry {
        Entry::Define {
            head,
            lines,
            statement,
            ..
        } => Entry::Define {
            doc,
            head,
            lines,
            statement,
        },
        other => other,
    };
    match alternative {
        None => vec![with_doc(main, doc)],
        Some(alt) => {
            let mut entries = Vec::new();
            if let Some(doc) = doc {
                entries.push(Entry::Comment(doc));
            }
            entries.push(Entry::Directive(cformat::directive(
                "#if",
                &spec.shared_module_condition(),
            )));
            entries.push(alt);
            entries.push(Entry::Directive("#else".to_string()));
            entries.push(main);
            entries.push(Entry::Directive("#endif".to_string()));
            entries
        }
    }
}

/// Macros that the overrides keep in a variant although the spec has none.
fn extra_entries(r: &Renderer<'_>, variant: BodyVariant) -> Vec<Entry> {
    r.overrides
        .extra
        .get(&variant)
        .into_iter()
        .flatten()
        .map(|(head, body)| Entry::Define {
            doc: None,
            head: head.clone(),
            lines: vec![body.clone()],
            statement: false,
        })
        .collect()
}

fn entries_for(r: &Renderer<'_>, items: &[&Item], variant: BodyVariant) -> Vec<Entry> {
    items
        .iter()
        .flat_map(|i| item_entries(r, i, variant, true))
        .collect()
}

/// The entries of one branch of a conditional; comments already shown in an
/// earlier branch (`shown`) are not repeated.
fn branch_entries(
    r: &Renderer<'_>,
    items: &[&Item],
    variant: BodyVariant,
    shown: &mut Vec<String>,
) -> Vec<Entry> {
    let mut entries = Vec::new();
    for item in items {
        let first = !shown.contains(&item.name);
        let these = item_entries(r, item, variant, first);
        if first && !these.is_empty() {
            shown.push(item.name.clone());
        }
        entries.extend(these);
    }
    entries
}

/// Splits items into those that read the same in every given variant and
/// those that do not.
fn split_common<'i>(
    r: &Renderer<'_>,
    items: &[&'i Item],
    variants: &[BodyVariant],
) -> (Vec<&'i Item>, Vec<&'i Item>) {
    items.iter().partition(|item| {
        let first = cformat::layout(&item_entries(r, item, variants[0], false));
        variants[1..]
            .iter()
            .all(|v| cformat::layout(&item_entries(r, item, *v, false)) == first)
    })
}

fn branches(r: &Renderer<'_>, items: &[&Item], arms: &[(&str, &str, BodyVariant)]) -> Vec<Branch> {
    let mut shown = Vec::new();
    arms.iter()
        .map(|(directive, comment, variant)| Branch {
            directive: directive.to_string(),
            comment: cformat::block_comment(comment),
            text: {
                let mut entries = branch_entries(r, items, *variant, &mut shown);
                entries.extend(extra_entries(r, *variant));
                cformat::layout(&entries)
            },
        })
        .collect()
}

const RUNTIME_NOTE: &str = "VIMAGE_RUNTIME: the VIMAGE storage layout, with the base of the\n\
    current vnet added only when the running kernel has VIMAGE.  Every\n\
    VIMAGE-only kernel symbol is referenced weakly.";
const VIMAGE_NOTE: &str = "VIMAGE compiled in.";
const NOVIMAGE_NOTE: &str = "No VIMAGE: virtualized variables are plain globals, and per-vnet\n\
    constructors plain SYSINITs.";

fn render_header(r: &Renderer<'_>, header: &Header, layout: Layout) -> Result<String, RenderError> {
    let spec = r.spec;
    let items = header_items(spec, header);
    let (userland, kernel): (Vec<&Item>, Vec<&Item>) = items.iter().partition(|i| i.userland);
    let userland = cformat::layout(&entries_for(r, &userland, BodyVariant::Vimage));
    let (selection, common, branches, closing) = match layout {
        Layout::DropIn => {
            let (common, specific) = split_common(r, &kernel, &BodyVariant::ALL);
            let branches = branches(
                r,
                &specific,
                &[
                    (
                        "#if defined(VIMAGE_RUNTIME)",
                        RUNTIME_NOTE,
                        BodyVariant::Runtime,
                    ),
                    ("#elif defined(VIMAGE)", VIMAGE_NOTE, BodyVariant::Vimage),
                    ("#else", NOVIMAGE_NOTE, BodyVariant::Novimage),
                ],
            );
            (
                true,
                entries_for(r, &common, BodyVariant::Vimage),
                branches,
                "VIMAGE_RUNTIME",
            )
        }
        Layout::Flattened(Variant::KldTied) => {
            let both = [BodyVariant::Vimage, BodyVariant::Novimage];
            let (common, specific) = split_common(r, &kernel, &both);
            let branches = branches(
                r,
                &specific,
                &[
                    ("#ifdef VIMAGE", VIMAGE_NOTE, BodyVariant::Vimage),
                    ("#else", NOVIMAGE_NOTE, BodyVariant::Novimage),
                ],
            );
            (
                false,
                entries_for(r, &common, BodyVariant::Vimage),
                branches,
                "VIMAGE",
            )
        }
        Layout::Flattened(variant) => {
            let body = if variant == Variant::Vimage {
                BodyVariant::Vimage
            } else {
                BodyVariant::Runtime
            };
            (false, entries_for(r, &kernel, body), Vec::new(), "")
        }
    };
    let template = HeaderTemplate {
        doc: cformat::block_comment(header.doc.as_deref().unwrap_or(&header.path)),
        guard: &header.guard,
        userland_cond: Some(header.userland.as_str()).filter(|c| c.trim() != "1"),
        userland,
        selection,
        common: cformat::layout(&common),
        branches,
        closing,
    };
    template.render().map_err(|source| RenderError {
        template: "header.h",
        source,
    })
}

fn render_support(spec: &Spec) -> Result<String, RenderError> {
    let Some(support) = &spec.support else {
        return Ok(String::new());
    };
    let runtime = BodyVariant::Runtime;
    let code: Vec<Entry> = support
        .code
        .iter()
        .flat_map(|i| {
            item_entries(
                &Renderer {
                    spec,
                    overrides: &Overrides::default(),
                },
                i,
                runtime,
                true,
            )
        })
        .collect();
    let functions = support
        .functions
        .iter()
        .filter_map(|f| {
            let body = f.body.resolve(runtime, spec.detect)?;
            Some(FunctionView {
                comment: f
                    .doc
                    .as_deref()
                    .map(cformat::block_comment)
                    .unwrap_or_default(),
                returns: f.returns.clone(),
                name: f.name.clone(),
                params: f.params.clone(),
                body: body
                    .trim_matches('\n')
                    .lines()
                    .map(|l| {
                        if l.trim().is_empty() {
                            String::new()
                        } else {
                            format!("\t{}", l.trim_end())
                        }
                    })
                    .collect::<Vec<_>>()
                    .join("\n"),
            })
        })
        .collect();
    let template = SupportTemplate {
        doc: cformat::block_comment(support.doc.as_deref().unwrap_or(&support.path)),
        code: cformat::layout(&code),
        functions,
    };
    template.render().map_err(|source| RenderError {
        template: "support.c",
        source,
    })
}
