//! Metric: binary size, and whether the binary is dynamically linked.

use std::fs;

use crate::inits::Init;
use crate::results::{Metric, Results};

pub fn measure(inits: &[Init], results: &mut Results) {
    for (i, init) in inits.iter().enumerate() {
        match fs::read(&init.path) {
            Ok(bytes) => {
                results.add(i, Metric::Size, bytes.len() as f64);
                if has_interpreter(&bytes) {
                    results.dynamic.insert(i);
                }
            }
            Err(e) => results.fail(inits, i, Metric::Size, &e.to_string()),
        }
    }
}

/// Whether a 64-bit little-endian ELF file asks for a program interpreter (`PT_INTERP`), i.e.
/// is dynamically linked.
fn has_interpreter(elf: &[u8]) -> bool {
    const PT_INTERP: u32 = 3;
    let u16_at = |at: usize| {
        elf.get(at..at + 2)
            .map(|b| u16::from_le_bytes([b[0], b[1]]))
    };
    let u32_at = |at: usize| {
        elf.get(at..at + 4)
            .map(|b| u32::from_le_bytes(b.try_into().unwrap()))
    };
    let u64_at = |at: usize| {
        elf.get(at..at + 8)
            .map(|b| u64::from_le_bytes(b.try_into().unwrap()))
    };
    // Magic, ELFCLASS64, ELFDATA2LSB.
    if elf.get(..6) != Some(b"\x7fELF\x02\x01") {
        return false;
    }
    let (Some(phoff), Some(entsize), Some(count)) = (u64_at(0x20), u16_at(0x36), u16_at(0x38))
    else {
        return false;
    };
    (0..usize::from(count))
        .filter_map(|k| u32_at(phoff as usize + k * usize::from(entsize)))
        .any(|p_type| p_type == PT_INTERP)
}
