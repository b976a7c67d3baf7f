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

/// One entry: the line it starts on, the last line of its continuation, and
/// its path.
struct Entry<'a> {
    first: usize,
    last: usize,
    path: &'a str,
}

/// Adds `path standard` to the file's text.  `None` when it is there already.
pub fn add_standard(text: &str, path: &str) -> Result<Option<String>, ConfFilesError> {
    let lines: Vec<&str> = text.lines().collect();
    let mut entries: Vec<Entry> = Vec::new();
    let mut n = 0;
    while n < lines.len() {
        let line = lines[n];
        let blank_or_comment = line.trim().is_empty() || line.trim_start().starts_with('#');
        if blank_or_comment {
            n += 1;
            continue;
        }
        if line.starts_with(char::is_whitespace) {
            return Err(ConfFilesError::Shape {
                line: n + 1,
                text: line.to_string(),
            });
        }
        // An entry and its continuation lines, as one logical line: the
        // kind may stand on a continuation line (`path \` then `optional ...`).
        let first = n;
        let mut logical = String::new();
        loop {
            let part = lines[n].trim_end();
            let (body, more) = match part.strip_suffix('\\') {
                Some(body) => (body, true),
                None => (part, false),
            };
            logical.push_str(body);
            logical.push(' ');
            if !more || n + 1 >= lines.len() {
                break;
            }
            n += 1;
        }
        let Some((p, rest)) = entry(&logical) else {
            return Err(ConfFilesError::Shape {
                line: first + 1,
                text: line.to_string(),
            });
        };
        if p == path {
            if rest.split_whitespace().next() == Some("standard") {
                return Ok(None);
            }
            return Err(ConfFilesError::Conflict {
                line: first + 1,
                path: path.to_string(),
                rest: rest.trim_end().to_string(),
            });
        }
        let p = &line[..p.len()];
        entries.push(Entry {
            first,
            last: n,
            path: p,
        });
        n += 1;
    }
    if entries.is_empty() {
        return Err(ConfFilesError::Empty);
    }
    // After the entry that precedes ours in sorted order (the file is sorted
    // only in stretches, so its nearest neighbour, not the first larger
    // path); before the first entry when none precedes it.
    let at = match entries
        .iter()
        .filter(|e| e.path < path)
        .max_by(|a, b| a.path.cmp(b.path))
    {
        Some(e) => e.last + 1,
        None => entries[0].first,
    };
    let last = entries[entries.len() - 1].first;
    // The column of the keyword in a neighbouring one-line entry: the one
    // before, else the one after, else the last.
    let before = entries.iter().find(|e| e.last + 1 == at).map(|e| e.first);
    let neighbour = [before, Some(at), Some(last)]
        .into_iter()
        .flatten()
        .filter_map(|i| lines.get(i).copied())
        .find(|l| entry(l).is_some())
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
        dev/ath/ah_eeprom_v14.c \\\n\
        \toptional ath_hal | ath_ar5416 \\\n\
        \tcompile-with \"${NORMAL_C}\"\n\
        net/if.c\t\t\tstandard\n\
        net/vnet.c\t\t\toptional vimage\n\
        netinet/ip_input.c\t\toptional inet \\\n\
        \tcompile-with \"${NORMAL_C}\"\n\
        vm/vm_page.c\t\t\tstandard\n\
        kern/subr_out_of_order.c\tstandard\n";

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
