//! style(9) layout of C text: block comments, `#define` lines with aligned
//! bodies, and line continuations with aligned backslashes.  Rust decides the
//! layout here so that no template has to count columns.

use std::fmt::Write;

/// Column of a continuation backslash (0-based), as in FreeBSD's headers.
const BACKSLASH_COLUMN: usize = 72;
/// Longest line a single-line `#define` may make.
const MAX_LINE: usize = 80;

/// One piece of a header section.
#[derive(Debug, Clone)]
pub enum Entry {
    /// Verbatim C, with an optional comment above it.
    Code { doc: Option<String>, text: String },
    /// A `#define`: `head` is `NAME` or `NAME(a, b)`; `lines` is the body.
    Define {
        doc: Option<String>,
        head: String,
        lines: Vec<String>,
        statement: bool,
    },
    /// A comment that introduces what follows.
    Comment(String),
    /// A preprocessor line of the generator's own (`#if`, `#else`, `#endif`).
    Directive(String),
}

/// Width of `s` on screen, with tabs every 8 columns.
pub fn visual_width(s: &str) -> usize {
    s.chars().fold(0, |col, c| {
        if c == '\t' {
            (col / 8 + 1) * 8
        } else {
            col + 1
        }
    })
}

/// Pads `line` with tabs to `column`, or with one space when it is already past.
fn pad_to(line: &mut String, column: usize) {
    let mut width = visual_width(line);
    if width >= column {
        line.push(' ');
        return;
    }
    while width < column {
        line.push('\t');
        width = (width / 8 + 1) * 8;
    }
}

/// A preprocessor condition wrapped at `||` to stay within 80 columns.
pub fn directive(keyword: &str, condition: &str) -> String {
    let mut out = String::new();
    let mut line = format!("{keyword} ");
    let parts: Vec<&str> = condition.split(" || ").collect();
    for (n, part) in parts.iter().enumerate() {
        let piece = if n + 1 < parts.len() {
            format!("{part} ||")
        } else {
            (*part).to_string()
        };
        if visual_width(&line) + piece.len() > MAX_LINE - 2 && !line.trim_end().ends_with(keyword) {
            out.push_str(line.trim_end());
            out.push_str(" \\\n");
            line = "    ".to_string();
        }
        line.push_str(&piece);
        line.push(' ');
    }
    out.push_str(line.trim_end());
    out
}

/// A style(9) block comment.
pub fn block_comment(text: &str) -> String {
    let mut out = String::from("/*\n");
    for line in text.trim().lines() {
        if line.trim().is_empty() {
            out.push_str(" *\n");
        } else {
            let _ = writeln!(out, " * {}", line.trim_end());
        }
    }
    out.push_str(" */\n");
    out
}

/// The lines of a macro body, wrapped in `do { } while (0)` for statements.
pub fn body_lines(body: &str, statement: bool) -> Vec<String> {
    let lines: Vec<String> = body
        .trim_matches('\n')
        .lines()
        .map(|l| l.trim_end().to_string())
        .collect();
    let empty = lines.iter().all(|l| l.is_empty());
    if !statement {
        return if empty { Vec::new() } else { lines };
    }
    if empty {
        return vec!["do { } while (0)".to_string()];
    }
    let mut out = vec!["do {".to_string()];
    out.extend(
        lines
            .into_iter()
            .map(|l| if l.is_empty() { l } else { format!("\t{l}") }),
    );
    out.push("} while (0)".to_string());
    out
}

/// Lays out a list of entries: comments, code, and runs of `#define`s whose
/// single-line bodies share one column.
pub fn layout(entries: &[Entry]) -> String {
    let mut out = String::new();
    let mut i = 0;
    let mut previous_was_define = false;
    while i < entries.len() {
        match &entries[i] {
            Entry::Comment(text) => {
                if previous_was_define {
                    out.push('\n');
                }
                out.push_str(&block_comment(text));
                previous_was_define = false;
                i += 1;
            }
            Entry::Directive(d) => {
                out.push_str(d);
                out.push('\n');
                previous_was_define = false;
                i += 1;
            }
            Entry::Code { doc, text } => {
                if !out.is_empty() && !out.ends_with("\n\n") && !ends_with_directive(&out) {
                    out.push('\n');
                }
                if let Some(doc) = doc {
                    out.push_str(&block_comment(doc));
                }
                out.push_str(text.trim_matches('\n'));
                out.push_str("\n\n");
                previous_was_define = false;
                i += 1;
            }
            Entry::Define { .. } => {
                // A run: this define and the following ones without a comment.
                let start = i;
                i += 1;
                while i < entries.len() && matches!(&entries[i], Entry::Define { doc: None, .. }) {
                    i += 1;
                }
                let starts_with_doc = matches!(&entries[start], Entry::Define { doc: Some(_), .. });
                if previous_was_define && starts_with_doc {
                    out.push('\n');
                }
                out.push_str(&layout_run(&entries[start..i]));
                previous_was_define = true;
            }
        }
    }
    out
}

fn ends_with_directive(out: &str) -> bool {
    out.trim_end_matches('\n').lines().last().is_some_and(|l| {
        l.starts_with('#') && !l.starts_with("#define") && !l.starts_with("#include")
    })
}

fn define_head(head: &str) -> String {
    format!("#define\t{head}")
}

fn single_line(lines: &[String]) -> Option<&str> {
    match lines {
        [] => Some(""),
        [only] => Some(only.as_str()),
        _ => None,
    }
}

fn layout_run(run: &[Entry]) -> String {
    let heads: Vec<(String, &Vec<String>, bool, &Option<String>)> = run
        .iter()
        .filter_map(|e| match e {
            Entry::Define {
                doc,
                head,
                lines,
                statement,
            } => Some((define_head(head), lines, *statement, doc)),
            _ => None,
        })
        .collect();
    // The body column: one tab stop past the widest head that stays on one line.
    let column = heads
        .iter()
        .filter(|(_, lines, _, _)| single_line(lines).is_some())
        .map(|(head, _, _, _)| (visual_width(head) / 8 + 1) * 8)
        .max()
        .unwrap_or(16);
    let mut out = String::new();
    for (head, lines, statement, doc) in heads {
        if let Some(doc) = doc {
            out.push_str(&block_comment(doc));
        }
        if let Some(body) = single_line(lines) {
            let mut line = head.clone();
            if body.is_empty() {
                out.push_str(&line);
                out.push('\n');
                continue;
            }
            pad_to(&mut line, column);
            if visual_width(&line) + body.len() <= MAX_LINE {
                line.push_str(body);
                out.push_str(&line);
                out.push('\n');
                continue;
            }
        }
        out.push_str(&continued(&head, lines, statement));
    }
    out
}

/// A `#define` over several lines, backslashes aligned.
fn continued(head: &str, lines: &[String], statement: bool) -> String {
    let mut rows: Vec<String> = Vec::new();
    let do_fits = visual_width(head) + " do {".len() < BACKSLASH_COLUMN;
    if statement && do_fits && lines.first().is_some_and(|l| l == "do {") {
        rows.push(format!("{head} do {{"));
        rows.extend(lines[1..].iter().cloned());
    } else {
        rows.push(head.to_string());
        rows.extend(lines.iter().map(|l| {
            if l.is_empty() {
                String::new()
            } else {
                format!("\t{l}")
            }
        }));
    }
    let last = rows.len() - 1;
    let mut out = String::new();
    for (n, mut row) in rows.into_iter().enumerate() {
        if n < last {
            pad_to(&mut row, BACKSLASH_COLUMN);
            row.push('\\');
        }
        out.push_str(&row);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn visual_width_expands_tabs() {
        assert_eq!(visual_width("#define\tX"), 9);
        assert_eq!(visual_width("\t\t"), 16);
    }

    #[test]
    fn statement_bodies_are_wrapped() {
        assert_eq!(body_lines("", true), vec!["do { } while (0)"]);
        assert_eq!(
            body_lines("f();", true),
            vec!["do {", "\tf();", "} while (0)"]
        );
    }

    #[test]
    fn continuation_backslashes_align_at_column_72() {
        let text = continued("#define\tX(a)", &["a +".into(), "    1".into()], false);
        for line in text.lines().take(2) {
            assert!(line.ends_with('\\'));
            assert_eq!(visual_width(&line[..line.len() - 1]), 72, "{line:?}");
        }
        assert!(!text.lines().last().unwrap_or_default().ends_with('\\'));
    }

    #[test]
    fn single_line_defines_in_a_run_share_a_column() {
        let d = |h: &str, b: &str| Entry::Define {
            doc: None,
            head: h.into(),
            lines: vec![b.into()],
            statement: false,
        };
        let text = layout(&[d("A", "1"), d("LONGER_NAME(x)", "(x)")]);
        let cols: Vec<usize> = text
            .lines()
            .map(|l| visual_width(&l[..l.rfind('\t').map_or(0, |i| i + 1)]))
            .collect();
        assert_eq!(cols[0], cols[1]);
    }
}
