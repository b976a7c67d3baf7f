//! The kernel's printf(9) formatting, for the integer and pointer arguments
//! a module passes in registers: `%d %i %u %x %X %o %p %s %c %%`, with flags
//! `-` and `0`, a width, and the `l`, `ll`, `j`, `z`, `t`, `h`, `hh` sizes.
//! On amd64 a variadic call passes its first six integer arguments in the
//! same registers as a fixed one, so the emulated printf takes them as
//! plain arguments; `%al` (the count of vector registers) is ignored.

/// Formats `fmt`; `arg` yields the next argument, `string` reads a C string
/// at an address (`None` for a NULL pointer).
pub fn format(
    fmt: &[u8],
    arg: &mut dyn FnMut() -> u64,
    string: &dyn Fn(u64) -> Option<Vec<u8>>,
) -> String {
    let mut out = Vec::new();
    let mut i = 0;
    while i < fmt.len() {
        let c = fmt[i];
        i += 1;
        if c != b'%' {
            out.push(c);
            continue;
        }
        let start = i - 1;
        let mut left = false;
        let mut zero = false;
        while i < fmt.len() && (fmt[i] == b'-' || fmt[i] == b'0' || fmt[i] == b'#') {
            left |= fmt[i] == b'-';
            zero |= fmt[i] == b'0';
            i += 1;
        }
        let mut width = 0usize;
        while i < fmt.len() && fmt[i].is_ascii_digit() {
            width = width
                .saturating_mul(10)
                .saturating_add(usize::from(fmt[i] - b'0'));
            i += 1;
        }
        let mut bits = 32;
        while i < fmt.len() && b"lqjzthL".contains(&fmt[i]) {
            bits = match fmt[i] {
                b'h' => {
                    if bits == 16 {
                        8
                    } else {
                        16
                    }
                }
                _ => 64,
            };
            i += 1;
        }
        let Some(&conv) = fmt.get(i) else {
            out.extend_from_slice(&fmt[start..]);
            break;
        };
        i += 1;
        let truncate = |v: u64| match bits {
            8 => v & 0xff,
            16 => v & 0xffff,
            32 => v & 0xffff_ffff,
            _ => v,
        };
        let signed = |v: u64| -> i64 {
            match bits {
                8 => v as u8 as i8 as i64,
                16 => v as u16 as i16 as i64,
                32 => v as u32 as i32 as i64,
                _ => v as i64,
            }
        };
        let (text, numeric) = match conv {
            b'%' => ("%".to_string(), false),
            b'd' | b'i' => (signed(arg()).to_string(), true),
            b'u' => (truncate(arg()).to_string(), true),
            b'x' => (format!("{:x}", truncate(arg())), true),
            b'X' => (format!("{:X}", truncate(arg())), true),
            b'o' => (format!("{:o}", truncate(arg())), true),
            b'p' => (format!("{:#x}", arg()), false),
            b'c' => ((arg() as u8 as char).to_string(), false),
            b's' => {
                let p = arg();
                let s = string(p).unwrap_or_else(|| b"(null)".to_vec());
                (String::from_utf8_lossy(&s).into_owned(), false)
            }
            _ => {
                // Unknown: copy it as written, as a reader would want to see it.
                out.extend_from_slice(&fmt[start..i]);
                continue;
            }
        };
        let pad = width.saturating_sub(text.chars().count());
        if left {
            out.extend_from_slice(text.as_bytes());
            out.extend(std::iter::repeat(b' ').take(pad));
        } else if zero && numeric {
            let (sign, digits) = match text.strip_prefix('-') {
                Some(d) => ("-", d),
                None => ("", text.as_str()),
            };
            out.extend_from_slice(sign.as_bytes());
            out.extend(std::iter::repeat(b'0').take(pad));
            out.extend_from_slice(digits.as_bytes());
        } else {
            out.extend(std::iter::repeat(b' ').take(pad));
            out.extend_from_slice(text.as_bytes());
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(f: &str, args: &[u64]) -> String {
        let mut it = args.iter().copied();
        format(f.as_bytes(), &mut || it.next().unwrap_or(0), &|p| {
            (p == 1).then(|| b"str".to_vec())
        })
    }

    #[test]
    fn conversions_sizes_flags_and_widths() {
        assert_eq!(
            fmt("%d %u %ld", &[u64::MAX, u64::MAX, u64::MAX]),
            "-1 4294967295 -1"
        );
        assert_eq!(
            fmt("%lu %x %#lx", &[u64::MAX, 255, 255]),
            "18446744073709551615 ff ff"
        );
        assert_eq!(fmt("%s %s %c %%", &[1, 0, 65]), "str (null) A %");
        assert_eq!(
            fmt("[%5d|%-4s|%05d]", &[42, 1, u64::MAX]),
            "[   42|str |-0001]"
        );
        assert_eq!(fmt("%p", &[0x1000]), "0x1000");
        assert_eq!(fmt("%b %", &[]), "%b %");
    }
}
