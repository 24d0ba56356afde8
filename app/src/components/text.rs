//! User text in the two places where Leptos writes it without escaping.
//!
//! Leptos escapes text children and attribute values everywhere except in `<title>` (leptos_meta
//! writes the formatted title into the head as it is) and in `<textarea>` (tachys treats its
//! children like those of `<script>`). Both are RCDATA in HTML: entities are decoded there, so
//! escaping is exactly right, and a `</title>` or `</textarea>` typed by a user would otherwise
//! end the element and let the rest of their text become markup. Pages never use `leptos_meta`'s
//! formatter or a `<textarea>` directly: the root [`page_title`] formatter and [`TextArea`] do.

use leptos::prelude::*;

/// The document title for a page's `<Title text=…>`: escaped, with the site name. The pages are
/// rendered only on the server (islands), so no browser ever sets `document.title` from it.
pub fn page_title(title: String) -> String {
    let title = html_escape::encode_text(&title);
    if title.is_empty() {
        "Spacedly".to_string()
    } else {
        format!("{title} · Spacedly")
    }
}

/// The children of a `<textarea>` showing `value` exactly: escaped, and after a newline, because
/// the HTML parser drops a newline that comes right after `<textarea>` (a value starting with one
/// would lose it).
pub fn textarea_html(value: &str) -> String {
    format!("\n{}", html_escape::encode_text(value))
}

/// A `<textarea>` whose value is user text.
#[component]
pub fn TextArea(
    #[prop(into)] id: String,
    #[prop(into)] name: String,
    #[prop(into)] value: String,
    rows: u32,
    maxlength: u32,
    #[prop(optional)] invalid: bool,
    /// The id of the error (or hint) that describes it, when there is one.
    #[prop(default = None)]
    described_by: Option<String>,
) -> impl IntoView {
    view! {
        <textarea
            id=id
            name=name
            rows=rows
            maxlength=maxlength
            aria-invalid=invalid.then_some("true")
            aria-describedby=described_by
            inner_html=textarea_html(&value)
        ></textarea>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_are_escaped_and_named() {
        assert_eq!(page_title(String::new()), "Spacedly");
        assert_eq!(
            page_title("</title><meta http-equiv=refresh>".into()),
            "&lt;/title&gt;&lt;meta http-equiv=refresh&gt; · Spacedly"
        );
        // Already escaped text stays literal.
        assert_eq!(page_title("&lt;".into()), "&amp;lt; · Spacedly");
    }

    #[test]
    fn textarea_values_are_escaped_after_a_newline() {
        assert_eq!(
            textarea_html("</textarea><b>x</b>"),
            "\n&lt;/textarea&gt;&lt;b&gt;x&lt;/b&gt;"
        );
        assert_eq!(textarea_html("\nfirst line"), "\n\nfirst line");
    }
}
