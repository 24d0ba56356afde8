//! Where a sign-in may send the browser next (`next=`): only somewhere on our own origin.
//!
//! The check resolves the target the way a browser does (WHATWG URL parsing): tabs, newlines
//! and carriage returns are removed anywhere, a backslash counts as a slash, `/./` and `/../`
//! segments collapse. Comparing raw prefixes is not enough: `/\evil.example`, `/\t/evil.example`
//! and `/.//evil.example` all start with one slash but lead a browser to another host.

/// Longest target we accept; a longer one gets the default page.
const MAX_LEN: usize = 2048;
const BASE: &str = "http://spacedly.invalid/";

/// The target as a root-relative path (`/path?query#fragment`) when it stays on our origin;
/// `None` for anything else, so the caller falls back to its default page. The result is safe
/// to put in a `Location` header (no control characters, non-ASCII percent-encoded).
pub fn safe_local_path(target: &str) -> Option<String> {
    // Browsers drop ASCII tab and newline anywhere in a URL, and trim C0 controls and spaces
    // at both ends; we refuse the latter instead of guessing.
    let cleaned: String = target
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .collect();
    if cleaned.is_empty() || cleaned.len() > MAX_LEN {
        return None;
    }
    if cleaned.chars().any(|c| c.is_control() || c == '\\') {
        return None;
    }
    if cleaned.starts_with(' ') || cleaned.ends_with(' ') {
        return None;
    }
    // Only root-relative paths: no scheme, no `//host`, nothing relative to the current page.
    if !cleaned.starts_with('/') || cleaned.starts_with("//") {
        return None;
    }
    let base = url::Url::parse(BASE).ok()?;
    let resolved = base.join(&cleaned).ok()?;
    if resolved.origin() != base.origin() {
        return None;
    }
    let path = resolved.path();
    // `/.//evil.example` resolves to the path `//evil.example`, which a browser would read
    // as another host.
    if !path.starts_with('/') || path.starts_with("//") {
        return None;
    }
    let mut out = path.to_string();
    if let Some(query) = resolved.query() {
        out.push('?');
        out.push_str(query);
    }
    if let Some(fragment) = resolved.fragment() {
        out.push('#');
        out.push_str(fragment);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::safe_local_path;

    #[test]
    fn local_paths_are_kept() {
        assert_eq!(safe_local_path("/dashboard").as_deref(), Some("/dashboard"));
        assert_eq!(
            safe_local_path("/tasks?status=todo&q=a%20b#top").as_deref(),
            Some("/tasks?status=todo&q=a%20b#top")
        );
        assert_eq!(safe_local_path("/").as_deref(), Some("/"));
        assert_eq!(
            safe_local_path("/a/../tasks/./1").as_deref(),
            Some("/tasks/1")
        );
    }

    #[test]
    fn tabs_and_newlines_are_removed_as_a_browser_does() {
        assert_eq!(
            safe_local_path("/dash\tboard").as_deref(),
            Some("/dashboard")
        );
        assert_eq!(
            safe_local_path("/dash\r\nboard").as_deref(),
            Some("/dashboard")
        );
        // ...which is why these, one slash before cleaning, are refused after.
        assert_eq!(safe_local_path("/\t/evil.example"), None);
        assert_eq!(safe_local_path("/\n/evil.example"), None);
        assert_eq!(safe_local_path("/\r/evil.example/x"), None);
    }

    #[test]
    fn other_hosts_and_schemes_are_refused() {
        for target in [
            "//evil.example",
            "///evil.example",
            "https://evil.example/",
            "http:evil.example",
            "javascript:alert(1)",
            "data:text/html,hi",
            "evil.example",
            "dashboard",
            "?next=x",
            "#top",
            "",
            "/\\evil.example",
            "\\\\evil.example",
            "/.//evil.example",
            "/x/..//evil.example",
            "/%2e//evil.example",
        ] {
            assert_eq!(safe_local_path(target), None, "{target:?}");
        }
    }

    #[test]
    fn control_characters_are_refused_never_passed_on() {
        for target in [
            "/dash\0board",
            "/a\u{7f}",
            "/a\u{85}b",
            "/a\u{1b}[0m",
            " /dashboard",
            "/dashboard ",
            "\u{0}//evil.example",
        ] {
            assert_eq!(safe_local_path(target), None, "{target:?}");
        }
    }

    #[test]
    fn the_result_is_a_valid_header_value() {
        let out = safe_local_path("/tâches/über uns?q=ü").unwrap();
        assert!(out.is_ascii());
        assert!(axum::http::HeaderValue::from_str(&out).is_ok());
        assert!(out.starts_with("/t%C3%A2ches/%C3%BCber%20uns?q="));
    }

    #[test]
    fn very_long_targets_are_refused() {
        assert_eq!(safe_local_path(&format!("/{}", "a".repeat(5000))), None);
    }
}
