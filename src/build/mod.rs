//! Building one kernel module the way FreeBSD's kmod.mk does: the clang
//! arguments of a cell ([`cflags`]), the Debian toolchain ([`toolchain`]),
//! and compiling and linking a module's sources ([`kmod`]).
//!
//! Uses: `spec`, `gen` (the headers a build includes).

pub mod cflags;
pub mod kmod;
pub mod toolchain;
