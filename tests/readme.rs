//! The README's commands are tests: every command in its shell blocks that
//! starts with `vnetgen`, `cargo run` or `./scripts/` runs, exactly as
//! written, from the root of a copy of the tree, with `vnetgen` on `PATH`.
//!
//! `VNETGEN_KERNELS` points at the real kernels beside the original tree
//! (`../shared/freebsd/kernels`), for the `vnetgen vm` commands.
//!
//! A command passes when it exits 0, or with the code its comment announces
//! (`# exits 4: ...`).  The two set-up commands and those whose comment says
//! `(slow)` are left out.  For `vnetgen abi` the report must also say that
//! no cell differs from the expected matrix.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The set-up commands: `./scripts/test` is this suite, and the main job is
/// `generate`, which the suite covers on its own.
const SET_UP: [&str; 2] = ["cargo run --release -- generate", "./scripts/test"];

#[derive(Debug, Clone, PartialEq, Eq)]
struct ReadmeCommand {
    line: usize,
    command: String,
    comment: String,
}

impl ReadmeCommand {
    fn slow(&self) -> bool {
        self.comment.contains("(slow)")
    }

    /// The exit code the comment announces, or 0.
    fn expected_exit(&self) -> i32 {
        let Some(rest) = self.comment.split("exits ").nth(1) else {
            return 0;
        };
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        digits.parse().unwrap_or(0)
    }
}

/// Splits a shell line into the command and its trailing `#` comment (a `#`
/// after whitespace and outside quotes).
fn split_comment(line: &str) -> (String, String) {
    let (mut single, mut double) = (false, false);
    let mut previous = ' ';
    for (i, c) in line.char_indices() {
        match c {
            '\'' if !double => single = !single,
            '"' if !single => double = !double,
            '#' if !single && !double && previous.is_whitespace() => {
                return (
                    line[..i].trim().to_string(),
                    line[i + 1..].trim().to_string(),
                );
            }
            _ => {}
        }
        previous = c;
    }
    (line.trim().to_string(), String::new())
}

/// Every runnable command of the README's shell blocks.
fn readme_commands(readme: &str) -> Vec<ReadmeCommand> {
    let mut commands = Vec::new();
    let mut in_shell = false;
    let mut in_other = false;
    let mut pending: Option<(usize, String)> = None;
    for (index, line) in readme.lines().enumerate() {
        let number = index + 1;
        let trimmed = line.trim_start();
        if trimmed.starts_with("```") {
            if in_shell || in_other {
                in_shell = false;
                in_other = false;
            } else {
                let lang = trimmed.trim_start_matches('`').trim();
                in_shell = matches!(lang, "sh" | "shell" | "bash");
                in_other = !in_shell;
            }
            continue;
        }
        if !in_shell {
            continue;
        }
        let (start, mut text) = pending.take().unwrap_or((number, String::new()));
        if let Some(stripped) = line.trim_end().strip_suffix('\\') {
            text.push_str(stripped.trim());
            text.push(' ');
            pending = Some((start, text));
            continue;
        }
        text.push_str(line.trim());
        let (command, comment) = split_comment(&text);
        if ["vnetgen ", "cargo run", "./scripts/"]
            .iter()
            .any(|p| command.starts_with(p) || command == p.trim())
        {
            commands.push(ReadmeCommand {
                line: start,
                command,
                comment,
            });
        }
    }
    commands
}

fn copy_tree(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).expect("read the tree") {
        let entry = entry.expect("read a directory entry");
        let name = entry.file_name();
        if [".git", "target"].iter().any(|skip| name == *skip) {
            continue;
        }
        let (source, dest) = (entry.path(), to.join(&name));
        let kind = entry.file_type().expect("file type");
        if kind.is_dir() {
            std::fs::create_dir_all(&dest).expect("create a directory of the copy");
            copy_tree(&source, &dest);
        } else if kind.is_file() {
            std::fs::copy(&source, &dest).expect("copy a file of the tree");
        }
    }
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn the_parser_finds_commands_comments_and_continuations() {
    let text = "x\n```sh\nvnetgen a --b 'c # d'   # exits 4: because\n\
                ./scripts/fuzz  # (slow) long\nvnetgen e \\\n    --f g\necho no\n```\n\
                ```\nvnetgen not-shell\n```\n";
    let found = readme_commands(text);
    assert_eq!(found.len(), 3, "{found:?}");
    assert_eq!(found[0].command, "vnetgen a --b 'c # d'");
    assert_eq!(found[0].expected_exit(), 4);
    assert!(found[1].slow());
    assert_eq!(found[2].command, "vnetgen e --f g");
    assert_eq!(found[2].line, 5);
    assert_eq!(found[2].expected_exit(), 0);
}

#[test]
fn every_readme_command_runs_as_written() {
    let readme = std::fs::read_to_string(repo().join("README.md")).expect("read README.md");
    let commands = readme_commands(&readme);
    for set_up in SET_UP {
        assert!(
            commands.iter().any(|c| c.command == set_up),
            "README.md no longer shows the set-up command `{set_up}`"
        );
    }
    let to_run: Vec<&ReadmeCommand> = commands
        .iter()
        .filter(|c| !SET_UP.contains(&c.command.as_str()) && !c.slow())
        .collect();
    assert!(
        to_run.len() >= 10,
        "README.md shows only {} runnable commands",
        to_run.len()
    );
    assert!(
        to_run.iter().any(|c| c.command.starts_with("vnetgen abi")),
        "README.md should show `vnetgen abi`"
    );

    let copy = tempfile::tempdir().expect("temporary directory");
    copy_tree(&repo(), copy.path());
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_vnetgen"))
        .parent()
        .expect("the binary's directory")
        .to_path_buf();
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut dirs = vec![bin_dir];
    dirs.extend(std::env::split_paths(&path));
    let path = std::env::join_paths(dirs).expect("PATH");
    // `vnetgen vm run --kernel 13.2/amd64/VIMAGE` finds the kernels beside
    // the repository (or where VNETGEN_KERNELS says), not beside the copy.
    let kernels = std::env::var_os("VNETGEN_KERNELS")
        .map_or_else(|| repo().join("../shared/freebsd/kernels"), PathBuf::from);

    let mut failures = Vec::new();
    for c in to_run {
        let output = Command::new("sh")
            .arg("-c")
            .arg(&c.command)
            .current_dir(copy.path())
            .env("PATH", &path)
            .env("VNETGEN_KERNELS", &kernels)
            .output()
            .expect("run sh");
        let code = output.status.code().unwrap_or(-1);
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        let mut problems = Vec::new();
        if code != c.expected_exit() {
            problems.push(format!(
                "exit {code}, README announces {}",
                c.expected_exit()
            ));
        }
        if c.command.starts_with("vnetgen abi")
            && !c.command.contains("--format")
            && !stdout.contains(" 0 differ from the expected matrix")
        {
            problems.push("cells differ from the expected matrix".to_string());
        }
        if !problems.is_empty() {
            failures.push(format!(
                "README.md:{}: `{}`: {}\n--- stdout (end)\n{}\n--- stderr (end)\n{}",
                c.line,
                c.command,
                problems.join("; "),
                tail(&stdout),
                tail(&stderr)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

fn tail(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(15)..].join("\n")
}
