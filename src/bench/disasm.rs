//! Instructions on the paths through a small function, from the
//! disassembly of `llvm-objdump -d`.
//!
//! The walk starts at the function's first instruction and follows every
//! branch whose target lies inside the function: a conditional branch forks
//! the path, an unconditional one jumps, and a return, an indirect jump or a
//! jump out of the function (a tail call) ends it.  Each path's count is the
//! number of instructions executed along it, the return included.  The probe
//! functions have no loops; a path that comes back to an instruction it has
//! already executed is cut there, so the walk always ends.

use std::collections::BTreeMap;

/// One instruction: its address, mnemonic and operands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Insn {
    pub offset: u64,
    pub mnemonic: String,
    pub operands: String,
}

/// What an instruction does to the flow of control.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flow {
    Next,
    /// A conditional branch to the offset, or out of the function (`None`).
    Cond(Option<u64>),
    Jump(Option<u64>),
    /// A conditional return (powerpc's `beqlr`): ends the path or falls through.
    CondReturn,
    End,
}

/// One path: its instructions, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Path {
    pub insns: Vec<Insn>,
}

impl Path {
    pub fn len(&self) -> usize {
        self.insns.len()
    }

    pub fn is_empty(&self) -> bool {
        self.insns.is_empty()
    }

    /// Does any instruction match the architecture's thread-pointer read?
    pub fn reads_thread_pointer(&self, arch: &str) -> bool {
        self.insns.iter().any(|i| thread_pointer_read(arch, i))
    }
}

/// Parses `llvm-objdump -d --no-show-raw-insn` output into functions, each
/// a list of instructions with their addresses.  Local labels (`.L...`,
/// which riscv64 objects keep) continue the function they are in.
pub fn parse_objdump(text: &str) -> BTreeMap<String, Vec<Insn>> {
    let mut out: BTreeMap<String, Vec<Insn>> = BTreeMap::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        // "0000000000000010 <name>:"
        if let Some((addr, rest)) = line.split_once(" <") {
            if let (Ok(_), Some(name)) = (
                u64::from_str_radix(addr.trim(), 16),
                rest.strip_suffix(">:"),
            ) {
                if !name.starts_with(".L") {
                    current = Some(name.to_string());
                    out.entry(name.to_string()).or_default();
                }
                continue;
            }
        }
        let Some(name) = &current else {
            continue;
        };
        // "      10: \tmovq\t%gs:0x0, %rax"
        let Some((addr, insn)) = line.split_once(':') else {
            continue;
        };
        let Ok(addr) = u64::from_str_radix(addr.trim(), 16) else {
            continue;
        };
        let insn = insn.trim();
        if insn.is_empty() || insn.starts_with('<') || insn.starts_with("...") {
            continue;
        }
        let (mnemonic, operands) = match insn.split_once(['\t', ' ']) {
            Some((m, o)) => (m.trim(), o.trim()),
            None => (insn, ""),
        };
        if let Some(f) = out.get_mut(name) {
            f.push(Insn {
                offset: addr,
                mnemonic: mnemonic.to_string(),
                operands: operands.to_string(),
            });
        }
    }
    out
}

/// Every path from the function's entry to an end.
pub fn paths(arch: &str, insns: &[Insn]) -> Vec<Path> {
    let mut out = Vec::new();
    let mut stack: Vec<(usize, Vec<Insn>)> = vec![(0, Vec::new())];
    while let Some((mut i, mut path)) = stack.pop() {
        loop {
            let Some(insn) = insns.get(i) else {
                out.push(Path { insns: path });
                break;
            };
            if path.iter().any(|p| p.offset == insn.offset) || path.len() > 4096 {
                out.push(Path { insns: path });
                break;
            }
            path.push(insn.clone());
            let index_of =
                |target: Option<u64>| target.and_then(|t| insns.iter().position(|x| x.offset == t));
            match flow(arch, insn) {
                Flow::Next => i += 1,
                Flow::End => {
                    out.push(Path { insns: path });
                    break;
                }
                Flow::Jump(target) => match index_of(target) {
                    Some(t) => i = t,
                    None => {
                        out.push(Path { insns: path });
                        break;
                    }
                },
                Flow::Cond(target) => {
                    match index_of(target) {
                        Some(t) => stack.push((t, path.clone())),
                        None => out.push(Path {
                            insns: path.clone(),
                        }),
                    }
                    i += 1;
                }
                Flow::CondReturn => {
                    out.push(Path {
                        insns: path.clone(),
                    });
                    i += 1;
                }
            }
        }
    }
    out
}

/// The address a branch goes to: objdump prints it before the symbol,
/// `0x1c <function+0x1c>`.  A target that is not an instruction of the
/// function leaves it (a tail call).
fn target(operands: &str) -> Option<u64> {
    let before = &operands[..operands.find(" <")?];
    let token = before.rsplit([' ', ',']).next()?;
    u64::from_str_radix(token.strip_prefix("0x")?, 16).ok()
}

fn flow(arch: &str, insn: &Insn) -> Flow {
    let m = insn.mnemonic.as_str();
    let t = || target(&insn.operands);
    match arch {
        "amd64" | "i386" => match m {
            "ret" | "retq" | "retl" | "ud2" | "hlt" => Flow::End,
            "jmp" | "jmpq" | "jmpl" if insn.operands.starts_with('*') => Flow::End,
            "jmp" | "jmpq" | "jmpl" => Flow::Jump(t()),
            _ if m.starts_with('j') => Flow::Cond(t()),
            _ => Flow::Next,
        },
        "aarch64" => match m {
            "ret" | "br" | "brk" | "udf" => Flow::End,
            "b" => Flow::Jump(t()),
            "cbz" | "cbnz" | "tbz" | "tbnz" => Flow::Cond(t()),
            _ if m.starts_with("b.") => Flow::Cond(t()),
            _ => Flow::Next,
        },
        "riscv64" => match m {
            "ret" | "jr" | "tail" | "unimp" | "ebreak" => Flow::End,
            "j" => Flow::Jump(t()),
            _ if m.starts_with('b') => Flow::Cond(t()),
            _ => Flow::Next,
        },
        "powerpc64" => match m {
            "blr" | "bctr" | "trap" => Flow::End,
            "b" => Flow::Jump(t()),
            "bl" | "bctrl" | "bla" => Flow::Next,
            _ if m.starts_with('b') && m.ends_with("lr") => Flow::CondReturn,
            _ if m.starts_with('b') => Flow::Cond(t()),
            _ => Flow::Next,
        },
        "armv7" => {
            // ARM instructions carry a condition suffix: `bne`, `bxeq`, `popne`.
            let m = m.trim_end_matches(".w").trim_end_matches(".n");
            let cond = |base: &str| -> Option<bool> {
                let rest = m.strip_prefix(base)?;
                if rest.is_empty() {
                    Some(false)
                } else {
                    ARM_CONDS.contains(&rest).then_some(true)
                }
            };
            let o = insn.operands.as_str();
            let returns = (cond("bx").is_some() && o == "lr")
                || ((cond("pop").is_some() || cond("ldm").is_some()) && o.contains("pc"));
            if returns {
                return if cond("bx") == Some(true) || cond("pop") == Some(true) {
                    Flow::CondReturn
                } else {
                    Flow::End
                };
            }
            if m == "cbz" || m == "cbnz" {
                return Flow::Cond(t());
            }
            if m == "udf" {
                return Flow::End;
            }
            match cond("b") {
                Some(false) => Flow::Jump(t()),
                Some(true) => Flow::Cond(t()),
                None => Flow::Next,
            }
        }
        _ => Flow::Next,
    }
}

const ARM_CONDS: [&str; 16] = [
    "eq", "ne", "cs", "hs", "cc", "lo", "mi", "pl", "vs", "vc", "hi", "ls", "ge", "lt", "gt", "le",
];

/// The instruction that reaches `curthread` (and so the current vnet): the
/// VIMAGE side of a run-time access takes it, the other side does not.
fn thread_pointer_read(arch: &str, insn: &Insn) -> bool {
    let o = insn.operands.as_str();
    match arch {
        "amd64" => o.contains("%gs:"),
        "i386" => o.contains("%fs:"),
        "aarch64" => o.contains("x18"),
        "riscv64" => o.contains("(tp)") || o.split([',', ' ']).any(|r| r == "tp"),
        "powerpc64" => o.contains("(13)") || o.split([',', ' ']).any(|r| r == "13"),
        "armv7" => insn.mnemonic == "mrc" && o.contains("p15"),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const AMD64: &str = "
0000000000000000 <probe>:
       0: \tmovl\t$0x0, %eax
       5: \ttestq\t%rax, %rax
       8: \tje\t0x1a <probe+0x1a>
       a: \tmovq\t%gs:0x0, %rax
      13: \tmovq\t0x10(%rax), %rax
      17: \tretq
      1a: \tmovq\t0x0, %rax
      22: \tretq
";

    #[test]
    fn a_conditional_branch_gives_two_paths_and_the_vimage_one_reads_gs() {
        let f = parse_objdump(AMD64);
        let paths = paths("amd64", &f["probe"]);
        let mut lens: Vec<(usize, bool)> = paths
            .iter()
            .map(|p| (p.len(), p.reads_thread_pointer("amd64")))
            .collect();
        lens.sort();
        assert_eq!(lens, vec![(5, false), (6, true)]);
    }
}
