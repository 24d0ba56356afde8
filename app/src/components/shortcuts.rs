//! Keyboard shortcuts of the signed-in app, as one small island: `q` quick add (anywhere),
//! `j`/`k` move through the task list, Enter opens (the focused link), `x` completes or
//! re-opens the focused task, `←`/`h` and `→`/`l` go to the previous and next page of the
//! calendar, Space shows the answer of the review card and `1`-`4` rate it, `?` shows the list.
//! Keys typed into fields are left alone.

use leptos::prelude::*;

#[island]
pub fn KeyboardShortcuts() -> impl IntoView {
    Effect::new(move |_| {
        #[cfg(not(feature = "ssr"))]
        browser::install();
    });
    view! {
        <dialog id="shortcuts" class="shortcuts" aria-labelledby="shortcuts-title">
            <h2 id="shortcuts-title">"Keyboard shortcuts"</h2>
            <dl>
                <dt><kbd>"q"</kbd></dt><dd>"Add a task"</dd>
                <dt><kbd>"j"</kbd>" / "<kbd>"k"</kbd></dt><dd>"Next / previous task"</dd>
                <dt><kbd>"Enter"</kbd></dt><dd>"Open the task"</dd>
                <dt><kbd>"x"</kbd></dt><dd>"Complete or re-open the task"</dd>
                <dt><kbd>"←"</kbd>" / "<kbd>"h"</kbd></dt><dd>"Calendar: previous month or week"</dd>
                <dt><kbd>"→"</kbd>" / "<kbd>"l"</kbd></dt><dd>"Calendar: next month or week"</dd>
                <dt><kbd>"Space"</kbd></dt><dd>"Review: show the answer"</dd>
                <dt><kbd>"1"</kbd>" – "<kbd>"4"</kbd></dt><dd>"Review: Again, Hard, Good, Easy"</dd>
                <dt><kbd>"?"</kbd></dt><dd>"Show this list"</dd>
            </dl>
            <form method="dialog"><button class="button" type="submit">"Close"</button></form>
        </dialog>
    }
}

#[cfg(not(feature = "ssr"))]
mod browser {
    use leptos::prelude::*;
    use wasm_bindgen::{closure::Closure, JsCast};
    use web_sys::{Element, HtmlElement, KeyboardEvent};

    pub fn install() {
        let handler = Closure::<dyn FnMut(KeyboardEvent)>::new(on_key);
        let _ = document()
            .add_event_listener_with_callback("keydown", handler.as_ref().unchecked_ref());
        handler.forget();
    }

    fn typing(event: &KeyboardEvent) -> bool {
        event
            .target()
            .and_then(|t| t.dyn_into::<Element>().ok())
            .is_some_and(|el| {
                matches!(el.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT")
                    || el.has_attribute("contenteditable")
            })
    }

    fn on_key(event: KeyboardEvent) {
        if event.ctrl_key() || event.meta_key() || event.alt_key() || typing(&event) {
            return;
        }
        let handled = match event.key().as_str() {
            "q" => quick_add(),
            "j" => move_focus(1),
            "k" => move_focus(-1),
            "x" => toggle_focused(),
            "ArrowLeft" | "h" => follow_calendar_link("prev"),
            "ArrowRight" | "l" => follow_calendar_link("next"),
            " " => show_answer(),
            key @ ("1" | "2" | "3" | "4") => rate(key),
            "?" => show_help(),
            _ => false,
        };
        if handled {
            event.prevent_default();
        }
    }

    fn quick_add() -> bool {
        match document().get_element_by_id("quick-add-title") {
            Some(field) => field
                .dyn_into::<HtmlElement>()
                .map(|f| f.focus().is_ok())
                .unwrap_or(false),
            None => window().location().set_href("/tasks/new").is_ok(),
        }
    }

    fn rows() -> Vec<HtmlElement> {
        let Ok(list) = document().query_selector_all("[data-task-row] .task-row__title") else {
            return vec![];
        };
        (0..list.length())
            .filter_map(|i| list.item(i))
            .filter_map(|n| n.dyn_into::<HtmlElement>().ok())
            .collect()
    }

    fn move_focus(step: i32) -> bool {
        let rows = rows();
        if rows.is_empty() {
            return false;
        }
        let active = document().active_element();
        let current = rows
            .iter()
            .position(|r| active.as_ref().is_some_and(|a| a.is_same_node(Some(r))));
        let next = match current {
            None => 0,
            Some(i) => (i as i32 + step).clamp(0, rows.len() as i32 - 1) as usize,
        };
        rows[next].focus().is_ok()
    }

    fn toggle_focused() -> bool {
        let Some(form) = document()
            .active_element()
            .and_then(|a| a.closest("[data-task-row]").ok().flatten())
            .and_then(|row| row.query_selector("form.task-row__toggle").ok().flatten())
            .and_then(|f| f.dyn_into::<web_sys::HtmlFormElement>().ok())
        else {
            return false;
        };
        form.request_submit().is_ok()
    }

    /// Follows the calendar's `rel` link (only on the calendar page: elsewhere the arrow keys
    /// keep scrolling).
    fn follow_calendar_link(rel: &str) -> bool {
        document()
            .query_selector(&format!("[data-calendar] a[rel={rel}]"))
            .ok()
            .flatten()
            .and_then(|a| a.dyn_into::<HtmlElement>().ok())
            .map(|a| {
                a.click();
                true
            })
            .unwrap_or(false)
    }

    /// Opens the review card's answer (Space on a focused control keeps its own meaning).
    fn show_answer() -> bool {
        let focused_control = document()
            .active_element()
            .is_some_and(|a| matches!(a.tag_name().as_str(), "BUTTON" | "A" | "SUMMARY"));
        if focused_control {
            return false;
        }
        document()
            .query_selector("[data-review] details:not([open]) > summary")
            .ok()
            .flatten()
            .and_then(|s| s.dyn_into::<HtmlElement>().ok())
            .map(|s| {
                s.click();
                true
            })
            .unwrap_or(false)
    }

    /// Presses the rating button of key `key` once the answer is shown.
    fn rate(key: &str) -> bool {
        document()
            .query_selector(&format!(
                "[data-review] details[open] button[data-rating=\"{key}\"]"
            ))
            .ok()
            .flatten()
            .and_then(|b| b.dyn_into::<HtmlElement>().ok())
            .map(|b| {
                b.click();
                true
            })
            .unwrap_or(false)
    }

    fn show_help() -> bool {
        document()
            .get_element_by_id("shortcuts")
            .and_then(|d| d.dyn_into::<web_sys::HtmlDialogElement>().ok())
            .map(|d| {
                if d.open() {
                    d.close();
                    true
                } else {
                    d.show_modal().is_ok()
                }
            })
            .unwrap_or(false)
    }
}
