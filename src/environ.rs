//! The environment, read straight from `environ`: sexton's own variables (`SEXTON_*`,
//! `TINI_*`) and those `activation` rewrites. std's lookup takes a lock and copies the name
//! for every variable asked for, which on a start of sexton costs more than all of sexton's
//! own work.
//!
//! Sound because sexton has one thread while it reads them and never changes its environment.

use std::ffi::{CStr, c_char};

unsafe extern "C" {
    static environ: *const *const c_char;
}

/// One `NAME=value` string of the environment.
#[derive(Clone, Copy)]
pub struct Var(*const c_char);

impl Var {
    /// The C string itself, for an `envp` array.
    pub fn as_ptr(self) -> *const c_char {
        self.0
    }

    /// Whether it starts with `prefix`, reading no further than its NUL.
    pub fn starts_with(self, prefix: &[u8]) -> bool {
        prefix.iter().enumerate().all(|(i, &byte)| {
            // SAFETY: `self.0` is a C string and every byte before this one matched `prefix`,
            // so none was its NUL: `self.0 + i` is within the string.
            unsafe { *self.0.add(i) as u8 == byte }
        })
    }

    /// Its `(name, value)`; `None` without `=`.
    pub fn split(self) -> Option<(&'static [u8], &'static [u8])> {
        // SAFETY: `self.0` comes from `environ`: a C string that lives as long as the process.
        let var = unsafe { CStr::from_ptr(self.0) }.to_bytes();
        let equals = var.iter().position(|&b| b == b'=')?;
        Some((&var[..equals], &var[equals + 1..]))
    }
}

/// The environment as the C library holds it, for execve.
pub fn envp() -> *const *const c_char {
    // SAFETY: reading the pointer itself; see `all` for what it points to.
    unsafe { environ }
}

/// Every variable of the environment, in order.
pub fn all() -> impl Iterator<Item = Var> {
    // SAFETY: `environ` is a NULL-terminated array of NUL-terminated strings that nothing in
    // sexton changes, so they live as long as the process.
    let mut entry = unsafe { environ };
    std::iter::from_fn(move || {
        // SAFETY: as above; `entry` never steps past the terminating NULL.
        let var = unsafe { entry.as_ref() }
            .copied()
            .filter(|var| !var.is_null())?;
        // SAFETY: as above.
        entry = unsafe { entry.add(1) };
        Some(Var(var))
    })
}

/// The `(name, value)` of each variable named `SEXTON_*` or `TINI_*`.
pub fn ours() -> impl Iterator<Item = (&'static [u8], &'static [u8])> {
    all()
        .filter(|var| var.starts_with(b"SEXTON_") || var.starts_with(b"TINI_"))
        .filter_map(Var::split)
}

/// The value of our variable `name`, if it is set and is text.
pub fn get(name: &str) -> Option<&'static str> {
    let (_, value) = ours().find(|(var, _)| *var == name.as_bytes())?;
    std::str::from_utf8(value).ok()
}
