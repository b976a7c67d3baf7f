//! `sys/conf/files`: the kernel's list of source files.  vnetgen adds one
//! line, `net/vnet_support.c standard`, once, in sorted place and in the
//! file's own column layout, and refuses a file of an unexpected shape.

use crate::gen::cformat::visual_width;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfFilesError {
    #[error("sys/conf/files:{line}: unexpected shape: `{text}` is neither an entry (`path standard|optional|mandatory ...`), a continuation nor a comment")]
    Shape { line: usize, text: String },
    #[error(
        "sys/conf/files:{line}: {path} is already listed as `{rest}`; vnetgen needs it `standard`"
    )]
    Conflict {
        line: usize,
        path: String,
        rest: String,
    },
    #[error(
        "sys/conf/files has no entries: it does not look like FreeBSD's list of kernel sources"
    )]
    Empty,
}

const KINDS: &[&str] = &["standard", "optional", "mandatory"];

/// An entry line: its path and what follows it.
fn entry(line: &str) -> Option<(&str, &str)> {
    if line.starts_with(char::is_whitespace) || line.starts_with('#') {
        return None;
    }
    let path_end = line.find(char::is_whitespace)?;
    let (path, rest) = line.split_at(path_end);
    let rest = rest.trim_start();
    let kind = rest.split_whitespace().next()?;
    KINDS.contains(&kind).then_some((path, rest))
}

/// Adds `path standard` to the file's text.  `None` when it is there already.
pub fn add_standard(text: &str, path: &str) -> Result<Option<String>, ConfFilesError> {
    let lines: Vec<&str> = text.lines().collect();
    let mut entries = Vec::new();
    let mut continued = false;
    for (n, line) in lines.iter().enumerate() {
        let blank_or_comment = line.trim().is_empty() || line.trim_start().starts_with('#');
        if continued || blank_or_comment || line.starts_with(char::is_whitespace) {
            continued = line.trim_end().ends_with('\\') && !blank_or_comment;
            continue;
        }
        match entry(line) {
            Some((p, rest)) => {
                if p == path {
                    if rest.split_whitespace().next() == Some("standard") {
                        return Ok(None);
                    }
                    return Err(ConfFilesError::Conflict {
                        line: n + 1,
                        path: path.to_string(),
                        rest: rest.to_string(),
                    });
                }
                entries.push((n, p));
            }
            None => {
                return Err(ConfFilesError::Shape {
                    line: n + 1,
                    text: line.to_string(),
                })
            }
        }
        continued = line.trim_end().ends_with('\\');
    }
    let Some(&(last, _)) = entries.last() else {
        return Err(ConfFilesError::Empty);
    };
    // Before the first entry that sorts after ours; else after the last one
    // (and its continuation lines).
    let at = match entries.iter().find(|(_, p)| *p > path) {
        Some(&(n, _)) => n,
        None => {
            let mut n = last + 1;
            while n < lines.len() && lines[n - 1].trim_end().ends_with('\\') {
                n += 1;
            }
            n
        }
    };
    // The column of the keyword in the neighbouring entry.
    let neighbour = lines
        .get(at)
        .filter(|l| entry(l).is_some())
        .or_else(|| lines.get(last))
        .copied()
        .unwrap_or("");
    let column = entry(neighbour)
        .map(|(p, rest)| visual_width(&neighbour[..neighbour.len() - rest.len()]).max(p.len() + 1))
        .unwrap_or(40);
    let mut new = path.to_string();
    while visual_width(&new) < column {
        new.push('\t');
        if visual_width(&new) > column {
            break;
        }
    }
    if visual_width(&new) == path.len() {
        new.push('\t');
    }
    new.push_str("standard");
    let mut out: Vec<&str> = lines[..at].to_vec();
    out.push(&new);
    out.extend_from_slice(&lines[at..]);
    let mut text_out = out.join("\n");
    if text.ends_with('\n') {
        text_out.push('\n');
    }
    Ok(Some(text_out))
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILES: &str = "# The kernel's sources.\n\
        kern/kern_linker.c\t\tstandard\n\
        net/if.c\t\t\tstandard\n\
        net/vnet.c\t\t\toptional vimage\n\
        netinet/ip_input.c\t\toptional inet \\\n\
        \tcompile-with \"${NORMAL_C}\"\n\
        vm/vm_page.c\t\t\tstandard\n";

    #[test]
    fn the_line_goes_in_sorted_place_once() {
        let added = add_standard(FILES, "net/vnet_support.c")
            .expect("shape")
            .expect("added");
        let lines: Vec<&str> = added.lines().collect();
        let at = lines
            .iter()
            .position(|l| l.starts_with("net/vnet_support.c"))
            .expect("line");
        assert!(
            lines[at - 1].starts_with("net/vnet.c")
                && lines[at + 1].starts_with("netinet/ip_input.c")
        );
        assert!(lines[at].ends_with("\tstandard"));
        assert_eq!(add_standard(&added, "net/vnet_support.c"), Ok(None));
    }

    #[test]
    fn an_unexpected_shape_or_a_conflict_is_refused() {
        assert!(matches!(
            add_standard("this is not a files list\n", "net/x.c"),
            Err(ConfFilesError::Shape { line: 1, .. })
        ));
        assert!(matches!(
            add_standard(
                "net/vnet_support.c\toptional vimage\n",
                "net/vnet_support.c"
            ),
            Err(ConfFilesError::Conflict { .. })
        ));
        assert_eq!(
            add_standard("# nothing\n", "net/x.c"),
            Err(ConfFilesError::Empty)
        );
    }
}
