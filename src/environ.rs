//! sexton's own variables (`SEXTON_*`, `TINI_*`) in the environment, read straight from
//! `environ`: std's lookup takes a lock and copies the name for every variable asked for, which
//! on a start of sexton costs more than all of sexton's own work.
//!
//! Sound because sexton has one thread while it reads them and never changes its environment.

use std::ffi::{CStr, c_char};

unsafe extern "C" {
    static environ: *const *const c_char;
}

/// The `(name, value)` of each variable named `SEXTON_*` or `TINI_*`.
pub fn ours() -> impl Iterator<Item = (&'static [u8], &'static [u8])> {
    // SAFETY: `environ` is a NULL-terminated array of NUL-terminated strings that nothing in
    // sexton changes, so they live as long as the process.
    let mut entry = unsafe { environ };
    std::iter::from_fn(move || {
        loop {
            // SAFETY: as above; `entry` never steps past the terminating NULL.
            let var = unsafe { entry.as_ref() }
                .copied()
                .filter(|var| !var.is_null())?;
            // SAFETY: as above.
            entry = unsafe { entry.add(1) };
            if starts_with(var, b"SEXTON_") || starts_with(var, b"TINI_") {
                // SAFETY: `var` is a C string that lives as long as the process.
                let var = unsafe { CStr::from_ptr(var) }.to_bytes();
                if let Some(equals) = var.iter().position(|&b| b == b'=') {
                    return Some((&var[..equals], &var[equals + 1..]));
                }
            }
        }
    })
}

/// Whether the C string `var` starts with `prefix`, reading no further than its NUL.
fn starts_with(var: *const c_char, prefix: &[u8]) -> bool {
    prefix.iter().enumerate().all(|(i, &byte)| {
        // SAFETY: `var` is a C string and every byte before this one matched `prefix`, so
        // none was its NUL: `var + i` is within the string.
        unsafe { *var.add(i) as u8 == byte }
    })
}

/// The value of our variable `name`, if it is set and is text.
pub fn get(name: &str) -> Option<&'static str> {
    let (_, value) = ours().find(|(var, _)| *var == name.as_bytes())?;
    std::str::from_utf8(value).ok()
}
