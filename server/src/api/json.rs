//! Fast JSON writing for the values every list answer repeats: instants.
//!
//! chrono's serde writes an instant through `Display`, and serde_json escapes each piece of it
//! as its own string; on GET /api/tasks (five instants per task, one per attachment and
//! reminder) that was an eighth of the server's CPU. Here chrono writes the instant into one
//! string first (`to_rfc3339_opts`, in the very format its serde uses: RFC 3339, `Z`, and 0,
//! 3, 6 or 9 fraction digits), which is written whole, so the answers do not change.
//!
//! Use with `#[serde(serialize_with = "crate::api::json::utc")]` (or `utc_opt`).

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serializer;

/// serde `serialize_with` for a `DateTime<Utc>`.
pub fn utc<S: Serializer>(dt: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&dt.to_rfc3339_opts(SecondsFormat::AutoSi, true))
}

/// serde `serialize_with` for an `Option<DateTime<Utc>>` (`null` when absent).
pub fn utc_opt<S: Serializer>(
    dt: &Option<DateTime<Utc>>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match dt {
        Some(dt) => utc(dt, serializer),
        None => serializer.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{NaiveDate, TimeZone};
    use serde::Serialize;

    fn ours(dt: DateTime<Utc>) -> String {
        #[derive(Serialize)]
        struct W(#[serde(serialize_with = "utc")] DateTime<Utc>);
        serde_json::to_string(&W(dt)).unwrap()
    }

    #[test]
    fn instants_are_written_exactly_as_chrono_writes_them() {
        let mut cases = vec![
            Utc.with_ymd_and_hms(2026, 11, 26, 5, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(1, 1, 1, 0, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(0, 1, 1, 0, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(999, 12, 31, 23, 59, 59).unwrap(),
            Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59).unwrap(),
            Utc.with_ymd_and_hms(10000, 1, 1, 0, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(-44, 3, 15, 12, 0, 0).unwrap(),
            // A leap second, as chrono represents it.
            NaiveDate::from_ymd_opt(2016, 12, 31)
                .unwrap()
                .and_hms_nano_opt(23, 59, 59, 1_500_000_000)
                .unwrap()
                .and_utc(),
        ];
        // Every fraction shape: none, milli, micro (what Postgres keeps), nano.
        let base = Utc.with_ymd_and_hms(2024, 2, 29, 13, 7, 9).unwrap();
        for nanos in [
            1,
            10,
            999,
            1_000,
            120_000,
            123_456_000,
            5_000_000,
            999_999_999,
        ] {
            cases.push(base + chrono::Duration::nanoseconds(nanos));
        }
        // A spread of instants over four centuries, stepping by odd amounts.
        let mut t = Utc.with_ymd_and_hms(1800, 1, 1, 0, 0, 0).unwrap();
        for i in 0..5_000i64 {
            t += chrono::Duration::seconds(2_524_607 + i) + chrono::Duration::microseconds(i * 7);
            cases.push(t);
        }
        for dt in cases {
            assert_eq!(ours(dt), serde_json::to_string(&dt).unwrap(), "{dt:?}");
        }
    }

    #[test]
    fn instants_are_written_in_utc_with_the_fraction_they_have() {
        let at = Utc.with_ymd_and_hms(2026, 11, 26, 5, 0, 0).unwrap();
        let cases = [
            (at, r#""2026-11-26T05:00:00Z""#),
            (
                at + chrono::Duration::milliseconds(120),
                r#""2026-11-26T05:00:00.120Z""#,
            ),
            (
                at + chrono::Duration::microseconds(123_456),
                r#""2026-11-26T05:00:00.123456Z""#,
            ),
            (
                at + chrono::Duration::nanoseconds(1),
                r#""2026-11-26T05:00:00.000000001Z""#,
            ),
            (
                Utc.with_ymd_and_hms(10000, 1, 1, 0, 0, 0).unwrap(),
                r#""+10000-01-01T00:00:00Z""#,
            ),
        ];
        for (dt, written) in cases {
            assert_eq!(ours(dt), written);
        }
    }

    #[test]
    fn absent_instants_are_null() {
        #[derive(Serialize)]
        struct W(#[serde(serialize_with = "utc_opt")] Option<DateTime<Utc>>);
        assert_eq!(serde_json::to_string(&W(None)).unwrap(), "null");
        let dt = Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap();
        assert_eq!(
            serde_json::to_string(&W(Some(dt))).unwrap(),
            "\"2026-01-02T03:04:05Z\""
        );
    }
}
