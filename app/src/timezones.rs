//! IANA time zone names offered in settings, from chrono-tz's database.
//!
//! Server-only, like chrono-tz itself: the settings page is rendered on the server (it is not
//! an island), so the browser bundle carries neither the database nor this list.

/// The regions whose zones are offered: the continents and oceans of the IANA database.
const REGIONS: [&str; 9] = [
    "Africa",
    "America",
    "Antarctica",
    "Asia",
    "Atlantic",
    "Australia",
    "Europe",
    "Indian",
    "Pacific",
];

/// Whether a zone is offered: `UTC`, or a name under one of the [`REGIONS`]. That leaves out
/// the backward-compatible country and legacy names (`US/Eastern`, `Canada/Pacific`, `Japan`,
/// `EST5EDT`), the fixed offsets of `Etc/` (`Etc/GMT+5`, whose sign is the reverse of what
/// people expect) and `Arctic/Longyearbyen` (Europe/Oslo's other name). Old names inside a
/// region (`Asia/Calcutta`) stay, so a user who has one still finds it selected.
fn offered(name: &str) -> bool {
    name == "UTC"
        || name
            .split_once('/')
            .is_some_and(|(region, _)| REGIONS.contains(&region))
}

/// The names offered, in alphabetical order (the database's own).
#[cfg(feature = "ssr")]
pub fn names() -> impl Iterator<Item = &'static str> {
    chrono_tz::TZ_VARIANTS
        .iter()
        .map(|zone| zone.name())
        .filter(|name| offered(name))
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;

    #[test]
    fn the_regions_and_utc_are_offered_and_legacy_names_are_not() {
        let names: Vec<&str> = names().collect();
        for kept in [
            "UTC",
            "Europe/Paris",
            "America/New_York",
            "Asia/Calcutta",
            "Pacific/Ponape",
        ] {
            assert!(names.contains(&kept), "{kept}");
        }
        for left_out in [
            "US/Eastern",
            "Etc/GMT+5",
            "Etc/UTC",
            "GMT",
            "Japan",
            "EST5EDT",
            "Arctic/Longyearbyen",
        ] {
            assert!(!names.contains(&left_out), "{left_out}");
        }
        assert!(names.windows(2).all(|pair| pair[0] < pair[1]));
        // The 489 names of the list kept by hand before, at chrono-tz 0.10.4: a new database
        // version changes this count, and the list is worth a look then.
        assert_eq!(names.len(), 489);
    }
}
