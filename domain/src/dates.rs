//! The one way times are written for people and machines: RFC 3339 in UTC.

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// `2026-12-01T17:42:54Z`; empty for a time RFC 3339 cannot write (years beyond 9999).
pub fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

/// [`rfc3339`] of a Unix time in seconds; empty when out of range.
pub fn unix_rfc3339(seconds: i64) -> String {
    OffsetDateTime::from_unix_timestamp(seconds)
        .map(rfc3339)
        .unwrap_or_default()
}

/// Now, in Unix seconds.
pub fn now() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_written_in_utc_with_a_z() {
        assert_eq!(unix_rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(unix_rfc3339(1_795_000_000), "2026-11-18T11:06:40Z");
        assert_eq!(unix_rfc3339(i64::MAX), "");
    }
}
