//! Patches in `git format-patch` form, which `git apply`, `git am` and
//! `patch -p1` all take.

use std::fmt::Write;

use similar::TextDiff;

/// One file's change: `old` is `None` for a new file.
#[derive(Debug, Clone)]
pub struct FileChange {
    pub path: String,
    pub old: Option<String>,
    pub new: String,
}

/// The diff of one file, with git's headers.
pub fn file_diff(change: &FileChange) -> String {
    let old = change.old.as_deref().unwrap_or("");
    let diff = TextDiff::from_lines(old, &change.new);
    let mut out = format!("diff --git a/{0} b/{0}\n", change.path);
    if change.old.is_none() {
        out.push_str("new file mode 100644\n--- /dev/null\n");
    } else {
        let _ = writeln!(out, "--- a/{}", change.path);
    }
    let _ = writeln!(out, "+++ b/{}", change.path);
    for hunk in diff.unified_diff().context_radius(3).iter_hunks() {
        out.push_str(&hunk.to_string());
    }
    if !out.ends_with('\n') {
        out.push_str("\n\\ No newline at end of file\n");
    }
    out
}

fn stat(changes: &[FileChange]) -> String {
    let mut out = String::new();
    let width = changes.iter().map(|c| c.path.len()).max().unwrap_or(0);
    let (mut files, mut plus, mut minus) = (0, 0, 0);
    for c in changes {
        let diff = TextDiff::from_lines(c.old.as_deref().unwrap_or(""), &c.new);
        let (mut p, mut m) = (0, 0);
        for op in diff.iter_all_changes() {
            match op.tag() {
                similar::ChangeTag::Insert => p += 1,
                similar::ChangeTag::Delete => m += 1,
                similar::ChangeTag::Equal => {}
            }
        }
        // Bars scaled to 50 columns at most, as git does.
        let total = p + m;
        let scale = |n: usize| {
            if total > 50 {
                (n * 50).div_ceil(total)
            } else {
                n
            }
        };
        let _ = writeln!(
            out,
            " {:<width$} | {:>4} {}{}",
            c.path,
            total,
            "+".repeat(scale(p)),
            "-".repeat(scale(m))
        );
        files += 1;
        plus += p;
        minus += m;
    }
    let _ = writeln!(
        out,
        " {files} files changed, {plus} insertions(+), {minus} deletions(-)"
    );
    out
}

/// Refills each paragraph of `text` to `width` columns.
pub fn wrap(text: &str, width: usize) -> String {
    let mut out = String::new();
    for (n, paragraph) in text.trim().split("\n\n").enumerate() {
        if n > 0 {
            out.push_str("\n\n");
        }
        let mut line = String::new();
        for word in paragraph.split_whitespace() {
            if !line.is_empty() && line.len() + 1 + word.len() > width {
                out.push_str(&line);
                out.push('\n');
                line.clear();
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
        out.push_str(&line);
    }
    out
}

/// One patch of a series.
pub fn format_patch(
    number: usize,
    total: usize,
    subject: &str,
    body: &str,
    changes: &[FileChange],
) -> String {
    let mut out = String::new();
    out.push_str("From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001\n");
    out.push_str("From: vnetgen <vnetgen@localhost>\n");
    out.push_str("Date: Thu, 1 Jan 1970 00:00:00 +0000\n");
    let _ = writeln!(out, "Subject: [PATCH {number}/{total}] {subject}\n");
    out.push_str(&wrap(body, 72));
    out.push_str("\n---\n");
    out.push_str(&stat(changes));
    out.push('\n');
    for c in changes {
        out.push_str(&file_diff(c));
    }
    let _ = writeln!(out, "-- \nvnetgen {}\n", env!("CARGO_PKG_VERSION"));
    out
}

/// A file name for a patch, as git gives them: `0001-subject-words.patch`.
pub fn patch_file_name(number: usize, subject: &str) -> String {
    let mut slug = String::new();
    for c in subject.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.ends_with('-') {
            slug.push('-');
        }
    }
    let slug: String = slug.trim_matches('-').chars().take(52).collect();
    format!("{number:04}-{}.patch", slug.trim_end_matches('-'))
}
