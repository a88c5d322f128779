//! A sliding hour, counted per minute: how many messages (or API calls) a
//! tenant made in the last hour, checked and counted in one step.
//!
//! A count made during minute `m` stops counting when minute `m + 61`
//! begins, so between 60 and 61 minutes after it was made. Keeping the
//! partial minute too means no stretch of 60 minutes ever holds more
//! than the limit, and a tenant needs 61 small counters, not one entry
//! per message.

/// Milliseconds in a minute.
pub const MINUTE_MS: i64 = 60_000;

/// Minutes a count stays: the current one and the 60 before it.
const SPAN: i64 = 61;

/// One tenant's counts over the last [`SPAN`] minutes.
#[derive(Debug, Clone)]
pub struct HourWindow {
    /// Counts by minute, at `minute % SPAN`.
    counts: [u32; SPAN as usize],
    /// The newest minute the counts have been moved up to.
    newest: i64,
    /// The sum of `counts`.
    total: u64,
}

/// Why [`HourWindow::try_take`] refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Full {
    /// What the window held.
    pub used: u64,
    /// Milliseconds until enough counts expire for the request; `None`
    /// when the request is larger than the limit itself.
    pub wait_ms: Option<i64>,
}

fn slot(minute: i64) -> usize {
    minute.rem_euclid(SPAN) as usize
}

/// The minute (since the Unix epoch) `at_ms` falls in.
pub fn minute_of(at_ms: i64) -> i64 {
    at_ms.div_euclid(MINUTE_MS)
}

impl Default for HourWindow {
    fn default() -> Self {
        HourWindow {
            counts: [0; SPAN as usize],
            newest: i64::MIN / 2,
            total: 0,
        }
    }
}

impl HourWindow {
    /// Drops the minutes that have left the window by `minute`. A clock
    /// that went back leaves the window as it is.
    fn advance(&mut self, minute: i64) {
        if minute <= self.newest {
            return;
        }
        if minute - self.newest >= SPAN {
            self.counts = [0; SPAN as usize];
            self.total = 0;
        } else {
            for m in self.newest + 1..=minute {
                self.total -= u64::from(std::mem::take(&mut self.counts[slot(m)]));
            }
        }
        self.newest = minute;
    }

    /// Whether `minute` is still counted.
    fn holds(&self, minute: i64) -> bool {
        minute <= self.newest && minute > self.newest - SPAN
    }

    /// Adds `n` counts made in `minute`, if that minute is still in the
    /// window at `now_ms` (rebuilding the window from stored times).
    pub fn add(&mut self, now_ms: i64, minute: i64, n: u32) {
        self.advance(minute_of(now_ms));
        if self.holds(minute) {
            self.counts[slot(minute)] = self.counts[slot(minute)].saturating_add(n);
            self.total += u64::from(n);
        }
    }

    /// How many the window holds at `now_ms`.
    pub fn used(&mut self, now_ms: i64) -> u64 {
        self.advance(minute_of(now_ms));
        self.total
    }

    /// Counts `n` if the window would then hold at most `max`; answers the
    /// minute they were counted in (to give them back). Refuses whole.
    pub fn try_take(&mut self, now_ms: i64, n: u32, max: u32) -> Result<i64, Full> {
        self.advance(minute_of(now_ms));
        // After a clock went back, counts go to the newest minute.
        let minute = self.newest;
        let wanted = self.total + u64::from(n);
        if wanted <= u64::from(max) {
            self.counts[slot(minute)] = self.counts[slot(minute)].saturating_add(n);
            self.total = wanted;
            return Ok(minute);
        }
        let wait_ms = (n <= max).then(|| self.wait_ms(now_ms, wanted - u64::from(max)));
        Err(Full {
            used: self.total,
            wait_ms,
        })
    }

    /// Gives back `n` counted in `minute`, when a request was counted but
    /// then not carried out. Nothing to do once the minute has left.
    pub fn give_back(&mut self, minute: i64, n: u32) {
        if self.holds(minute) {
            let back = self.counts[slot(minute)].min(n);
            self.counts[slot(minute)] -= back;
            self.total -= u64::from(back);
        }
    }

    /// When the oldest count stops counting, in ms since the epoch;
    /// `None` when the window is empty.
    pub fn frees_at(&mut self, now_ms: i64) -> Option<i64> {
        self.advance(minute_of(now_ms));
        self.expiries().next().map(|(at, _)| at)
    }

    /// Milliseconds until at least `need` counts have expired.
    fn wait_ms(&self, now_ms: i64, need: u64) -> i64 {
        let mut freed = 0;
        for (at, n) in self.expiries() {
            freed += u64::from(n);
            if freed >= need {
                return (at - now_ms).max(1);
            }
        }
        SPAN * MINUTE_MS
    }

    /// Non-empty minutes, oldest first, with when each stops counting.
    fn expiries(&self) -> impl Iterator<Item = (i64, u32)> + '_ {
        (self.newest - SPAN + 1..=self.newest)
            .map(|m| ((m + SPAN) * MINUTE_MS, self.counts[slot(m)]))
            .filter(|(_, n)| *n > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_700_000_000_000 / MINUTE_MS * MINUTE_MS;

    fn at(minutes: i64, seconds: i64) -> i64 {
        T0 + minutes * MINUTE_MS + seconds * 1000
    }

    #[test]
    fn takes_up_to_the_limit_then_refuses_whole() {
        let mut w = HourWindow::default();
        assert!(w.try_take(at(0, 0), 2, 3).is_ok());
        let full = w.try_take(at(0, 10), 2, 3).unwrap_err();
        assert_eq!(full.used, 2);
        assert!(w.try_take(at(0, 20), 1, 3).is_ok());
        assert_eq!(w.used(at(0, 30)), 3);
        assert!(w.try_take(at(1, 0), 1, 3).is_err());
        assert_eq!(w.used(at(1, 0)), 3, "a refused request counts nothing");
    }

    #[test]
    fn counts_stay_between_60_and_61_minutes() {
        let mut w = HourWindow::default();
        w.try_take(at(0, 59), 1, 1).unwrap();
        // Minute 0's count leaves when minute 61 begins.
        let full = w.try_take(at(60, 59), 1, 1).unwrap_err();
        assert_eq!(full.wait_ms, Some(1000));
        assert_eq!(w.frees_at(at(60, 59)), Some(at(61, 0)));
        assert!(w.try_take(at(61, 0), 1, 1).is_ok());
        assert_eq!(w.used(at(61, 0)), 1);
    }

    #[test]
    fn wait_is_until_enough_minutes_expire() {
        let mut w = HourWindow::default();
        w.try_take(at(0, 0), 2, 10).unwrap();
        w.try_take(at(5, 0), 3, 10).unwrap();
        w.try_take(at(9, 0), 5, 10).unwrap();
        // 4 more need minutes 0 and 5 gone: minute 5 leaves at minute 66.
        let full = w.try_take(at(30, 0), 4, 10).unwrap_err();
        assert_eq!(full.wait_ms, Some(at(66, 0) - at(30, 0)));
        // More than the limit itself never fits.
        assert_eq!(w.try_take(at(30, 0), 11, 10).unwrap_err().wait_ms, None);
    }

    #[test]
    fn give_back_and_rebuild() {
        let mut w = HourWindow::default();
        let minute = w.try_take(at(3, 0), 4, 10).unwrap();
        w.give_back(minute, 4);
        assert_eq!(w.used(at(3, 1)), 0);
        assert_eq!(w.frees_at(at(3, 1)), None);

        let mut rebuilt = HourWindow::default();
        rebuilt.add(at(70, 0), minute_of(at(3, 0)), 5); // gone already
        rebuilt.add(at(70, 0), minute_of(at(20, 0)), 6);
        rebuilt.add(at(70, 0), minute_of(at(69, 30)), 1);
        assert_eq!(rebuilt.used(at(70, 0)), 7);
        assert_eq!(rebuilt.used(at(81, 0)), 1);
        assert_eq!(rebuilt.used(at(200, 0)), 0);
    }

    #[test]
    fn a_clock_going_back_changes_nothing() {
        let mut w = HourWindow::default();
        w.try_take(at(10, 0), 1, 5).unwrap();
        w.try_take(at(9, 0), 1, 5).unwrap();
        assert_eq!(w.used(at(10, 0)), 2);
    }
}
