//! Building one kernel module the way FreeBSD's kmod.mk does: the clang
//! arguments of a cell ([`cflags`]), the Debian toolchain ([`toolchain`]),
//! compiling and linking a module's sources ([`kmod`]), and a dual module:
//! both compiled-in builds joined into one, with a dispatcher ([`dual`]).
//!
//! Uses: `spec`, `gen` (the headers a build includes, the dispatcher).

pub mod cflags;
pub mod dual;
pub mod kmod;
pub mod toolchain;
