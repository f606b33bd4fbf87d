//! Answers to repeated requests for the same data can come back out of order (a slow first load,
//! a refetch when the stream opens): the newest request's answer stands, an older one arriving
//! after it is dropped.

/// Numbers requests as they leave and remembers the newest one whose answer was applied.
#[derive(Debug, Default)]
pub struct Latest {
    sent: u64,
    applied: u64,
}

impl Latest {
    /// The number of a request that leaves now.
    pub fn send(&mut self) -> u64 {
        self.sent += 1;
        self.sent
    }

    /// The number of the last request that left (none yet: 0).
    pub fn last_sent(&self) -> u64 {
        self.sent
    }

    /// Whether the answer to request `n` is newer than what was applied; if so, it now is.
    pub fn accept(&mut self, n: u64) -> bool {
        let newer = self.is_fresh(n);
        if newer {
            self.applied = n;
        }
        newer
    }

    /// Whether request `n` is newer than what was applied, without applying it: a failure is
    /// told while it is, but an older request's answer that comes after it still applies
    /// (it holds what the failed one would have brought, or some of it).
    pub fn is_fresh(&self, n: u64) -> bool {
        n > self.applied
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_older_answer_after_a_newer_one_is_dropped() {
        let mut latest = Latest::default();
        let first = latest.send();
        let second = latest.send();
        assert!(latest.accept(second));
        assert!(
            !latest.accept(first),
            "the first request's late answer is stale"
        );
        let third = latest.send();
        assert!(latest.accept(third));
        assert!(!latest.accept(third), "an answer counts once");
    }

    #[test]
    fn a_newer_failure_leaves_an_older_answer_to_apply() {
        let mut latest = Latest::default();
        let (first, second) = (latest.send(), latest.send());
        // The second failed first: told, not applied.
        assert!(latest.is_fresh(second));
        assert!(latest.accept(first), "the first's answer still applies");
        assert!(
            latest.is_fresh(second),
            "and the second's failure is still news"
        );
    }

    #[test]
    fn answers_in_order_all_apply() {
        let mut latest = Latest::default();
        let (a, b) = (latest.send(), latest.send());
        assert!(latest.accept(a));
        assert!(latest.accept(b));
    }
}
