//! Opaque prefixed identifiers (`conv_`, `msg_`, `evt_`, `req_`).
//!
//! Runtime ids come from a counter scrambled by splitmix64: unique, lock-free, random-looking
//! and reproducible for a given seed and order of requests.

use rand::Rng;
use std::sync::atomic::{AtomicU64, Ordering};

const ALPHABET: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";

pub struct IdGen {
    counter: AtomicU64,
    salt: u64,
}

impl IdGen {
    pub fn new(seed: u64) -> Self {
        Self {
            counter: AtomicU64::new(1),
            salt: splitmix64(seed ^ 0x05ee_d1d5),
        }
    }

    pub fn next(&self, prefix: &str) -> String {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let a = splitmix64(n ^ self.salt);
        let b = splitmix64(a);
        let mut out = String::with_capacity(prefix.len() + 16);
        out.push_str(prefix);
        push_base36(&mut out, a, 8);
        push_base36(&mut out, b, 8);
        out
    }
}

pub fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn push_base36(out: &mut String, mut v: u64, digits: usize) {
    for _ in 0..digits {
        out.push(ALPHABET[(v % 36) as usize] as char);
        v /= 36;
    }
}

/// `n` random lowercase alphanumerics from a seeded generator (seed data).
pub fn random_alnum(rng: &mut impl Rng, n: usize) -> String {
    (0..n)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn ids_are_prefixed_unique_and_reproducible() {
        let a = IdGen::new(42);
        let b = IdGen::new(42);
        let ids: Vec<String> = (0..1000).map(|_| a.next("msg_")).collect();
        let again: Vec<String> = (0..1000).map(|_| b.next("msg_")).collect();
        assert_eq!(ids, again);
        assert!(ids
            .iter()
            .all(|id| id.starts_with("msg_") && id.len() == 20));
        assert_eq!(ids.iter().collect::<HashSet<_>>().len(), 1000);
        assert_ne!(IdGen::new(7).next("msg_"), IdGen::new(42).next("msg_"));
    }
}
