//! For reviewers of the generated headers: what a macro expands to in each
//! variant ([`explain`]), the macros of a reference header against the
//! generated one ([`diff`]), the macro tables both read ([`macros`]), the
//! recorded facts of each release's stock headers ([`facts`]), and
//! putting the output into a FreeBSD tree or a patch series ([`vendor`]),
//! and qualifying the headers on FreeBSD's own modules ([`qualify`]).
//!
//! Uses: `spec`, `gen`, `build`; `qualify` also `lab` and `inspect`.

pub mod diff;
pub mod explain;
pub mod facts;
pub mod kmod_flags;
pub mod macros;
pub mod qualify;
pub mod vendor;
