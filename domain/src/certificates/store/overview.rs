//! The overview page: counts by state, the expiry timeline and the latest scans.

use super::*;

/// Each distinct certificate (days left, worst state) placed on the year ahead.
pub(in crate::certificates) fn timeline<'a>(
    certs: impl Iterator<Item = (i64, &'a str)>,
    now: i64,
) -> Timeline {
    let today = OffsetDateTime::from_unix_timestamp(now)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
        .date();
    let day = |offset: i64| today + time::Duration::days(offset);
    let mut timeline = Timeline {
        weeks: (0..53)
            .map(|w| TimelineWeek {
                starts: day(w * 7).to_string(),
                counts: [0; 3],
            })
            .collect(),
        ..Timeline::default()
    };
    for offset in 1..365 {
        let date = day(offset);
        if date.day() == 1 {
            let label = format!("{} {}", &date.month().to_string()[..3], date.year());
            timeline.months.push((offset as u32, label));
        }
    }
    for (days, state) in certs {
        if state == "expired" {
            timeline.expired += 1;
            continue;
        }
        for (slot, limit) in timeline.within.iter_mut().zip([30, 90, 365]) {
            if days < limit {
                *slot += 1;
            }
        }
        if days >= 365 {
            timeline.later += 1;
            continue;
        }
        let week = usize::try_from(days.max(0) / 7).unwrap_or_default().min(52);
        let slot = match state {
            "critical" => 0,
            "warning" => 1,
            _ => 2,
        };
        timeline.weeks[week].counts[slot] += 1;
    }
    timeline
}

pub(in crate::certificates) fn rank(state: &str) -> u8 {
    match state {
        "expired" => 3,
        "critical" => 2,
        "warning" => 1,
        _ => 0,
    }
}
