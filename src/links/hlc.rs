//! The hybrid logical clock that orders messages the same way on every linked site.
//!
//! A value is `wall_ms << 16 | counter`. It never goes backwards in this process, it moves past
//! every value heard from a peer (so a reply always sorts after what it answers, whatever either
//! site's clock says), and it stays at physical time while clocks agree.

use std::sync::atomic::{AtomicI64, Ordering};

static LAST: AtomicI64 = AtomicI64::new(0);

/// Bits of the logical counter below the milliseconds.
const COUNTER_BITS: u32 = 16;

fn physical() -> i64 {
    crate::store::now_ms() << COUNTER_BITS
}

/// A new value, later than every value this process made or heard before.
pub fn now() -> i64 {
    let wall = physical();
    let mut last = LAST.load(Ordering::Relaxed);
    loop {
        let next = if wall > last { wall } else { last + 1 };
        match LAST.compare_exchange_weak(last, next, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => return next,
            Err(seen) => last = seen,
        }
    }
}

/// Moves the clock past a value a peer made.
pub fn observe(remote: i64) {
    LAST.fetch_max(remote, Ordering::Relaxed);
}

/// More than a week ahead of this process's clock: clocks may be wrong by hours, but a key that
/// far ahead would pin a message below everything written for years. Never observed.
pub fn is_far_future(value: i64) -> bool {
    const WEEK_MS: i64 = 7 * 24 * 3_600_000;
    wall_ms(value) > crate::store::now_ms() + WEEK_MS
}

/// The milliseconds part of a value.
pub fn wall_ms(value: i64) -> i64 {
    value >> COUNTER_BITS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moves_forward_and_past_what_it_hears() {
        let a = now();
        let b = now();
        assert!(b > a);
        let future = a + (3_600_000 << COUNTER_BITS);
        observe(future);
        let c = now();
        assert!(c > future, "a value heard from a peer is passed");
        assert!(wall_ms(c) >= wall_ms(a));
        // A value from the past changes nothing.
        observe(a);
        assert!(now() > c);
    }
}
