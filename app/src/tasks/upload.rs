//! The upload form of a task's page. Without JavaScript it is a plain multipart form that
//! posts every chosen file to `/api/attachments/<task>` and comes back with the outcome. As an
//! island it sends each file on its own request, so that each gets a real progress bar and its
//! own message, accepts files dropped on it, and reloads the page when all are stored.

use leptos::prelude::*;

pub const ACCEPT: &str = ".jpg,.jpeg,.png,.gif,.webp,.pdf,.doc,.docx,.xls,.xlsx,.ppt,.pptx,.txt";

#[island]
pub fn UploadForm(task_id: String) -> impl IntoView {
    let action = format!("/api/attachments/{task_id}");
    let form_ref = NodeRef::<leptos::html::Form>::new();
    Effect::new(move |_| {
        #[cfg(not(feature = "ssr"))]
        if let Some(form) = form_ref.get() {
            browser::enhance(form);
        }
    });
    view! {
        <form node_ref=form_ref method="post" enctype="multipart/form-data" action=action class="upload" data-upload="">
            <div class="dropzone">
                <label for="upload-files">"Choose files, or drop them here"</label>
                <input id="upload-files" type="file" name="files" multiple=true accept=ACCEPT aria-describedby="upload-hint" />
                <p class="field__hint" id="upload-hint">
                    "Up to 10 files at a time, 10 MB each: images, PDF, Word, Excel, PowerPoint or text. Images are resized and stripped of their metadata."
                </p>
            </div>
            <button class="button" type="submit">"Upload"</button>
            <ul class="upload__progress" aria-live="polite"></ul>
        </form>
    }
}

#[cfg(not(feature = "ssr"))]
mod browser {
    use std::{cell::Cell, rc::Rc};

    use leptos::prelude::*;
    use wasm_bindgen::{closure::Closure, JsCast};
    use web_sys::{
        DragEvent, Element, Event, File, FormData, HtmlFormElement, HtmlInputElement,
        ProgressEvent, XmlHttpRequest,
    };

    pub fn enhance(form: HtmlFormElement) {
        let Some(input) = form
            .query_selector("input[type=file]")
            .ok()
            .flatten()
            .and_then(|i| i.dyn_into::<HtmlInputElement>().ok())
        else {
            return;
        };
        let _ = form.set_attribute("data-enhanced", "true");

        let on_drag = Closure::<dyn FnMut(DragEvent)>::new(|e: DragEvent| e.prevent_default());
        let _ = form.add_event_listener_with_callback("dragover", on_drag.as_ref().unchecked_ref());
        on_drag.forget();

        let drop_input = input.clone();
        let on_drop = Closure::<dyn FnMut(DragEvent)>::new(move |e: DragEvent| {
            e.prevent_default();
            if let Some(files) = e.data_transfer().and_then(|d| d.files()) {
                drop_input.set_files(Some(&files));
            }
        });
        let _ = form.add_event_listener_with_callback("drop", on_drop.as_ref().unchecked_ref());
        on_drop.forget();

        let submit_form = form.clone();
        let on_submit = Closure::<dyn FnMut(Event)>::new(move |e: Event| {
            let Some(files) = input.files() else { return };
            if files.length() == 0 {
                return;
            }
            e.prevent_default();
            let action = submit_form.action();
            let Some(list) = submit_form
                .query_selector(".upload__progress")
                .ok()
                .flatten()
            else {
                return;
            };
            list.set_inner_html("");
            let total = files.length();
            let left = Rc::new(Cell::new(total));
            let failed = Rc::new(Cell::new(0u32));
            for i in 0..total {
                if let Some(file) = files.get(i) {
                    send(&action, file, &list, left.clone(), failed.clone());
                }
            }
        });
        let _ = form.add_event_listener_with_callback("submit", on_submit.as_ref().unchecked_ref());
        on_submit.forget();
    }

    fn element(tag: &str) -> Option<Element> {
        document().create_element(tag).ok()
    }

    /// Sends one file with its own progress bar and message.
    fn send(action: &str, file: File, list: &Element, left: Rc<Cell<u32>>, failed: Rc<Cell<u32>>) {
        let (Some(item), Some(name), Some(bar), Some(status)) = (
            element("li"),
            element("span"),
            element("progress"),
            element("span"),
        ) else {
            return;
        };
        name.set_text_content(Some(&file.name()));
        let _ = bar.set_attribute("max", "100");
        let _ = bar.set_attribute("value", "0");
        let _ = bar.set_attribute("aria-label", &format!("Uploading {}", file.name()));
        status.set_class_name("upload__status");
        let _ = item.append_child(&name);
        let _ = item.append_child(&bar);
        let _ = item.append_child(&status);
        let _ = list.append_child(&item);

        let (Ok(xhr), Ok(data)) = (XmlHttpRequest::new(), FormData::new()) else {
            return;
        };
        let _ = data.append_with_blob_and_filename("files", &file, &file.name());
        let _ = xhr.open("POST", action);
        let _ = xhr.set_request_header("Accept", "application/json");

        let progress_bar = bar.clone();
        let on_progress = Closure::<dyn FnMut(ProgressEvent)>::new(move |e: ProgressEvent| {
            if e.length_computable() && e.total() > 0.0 {
                let pct = (e.loaded() / e.total() * 100.0).round();
                let _ = progress_bar.set_attribute("value", &pct.to_string());
            }
        });
        if let Ok(upload) = xhr.upload() {
            let _ = upload
                .add_event_listener_with_callback("progress", on_progress.as_ref().unchecked_ref());
        }
        on_progress.forget();

        let done_xhr = xhr.clone();
        let on_done = Closure::<dyn FnMut(Event)>::new(move |_| {
            let ok = done_xhr.status().is_ok_and(|s| s == 201);
            if ok {
                let _ = bar.set_attribute("value", "100");
                status.set_text_content(Some("Uploaded"));
            } else {
                failed.set(failed.get() + 1);
                let message = done_xhr
                    .response_text()
                    .ok()
                    .flatten()
                    .and_then(|t| {
                        js_sys::JSON::parse(&t)
                            .ok()
                            .and_then(|v| js_sys::Reflect::get(&v, &"message".into()).ok())
                            .and_then(|m| m.as_string())
                    })
                    .unwrap_or_else(|| "The upload failed; try again.".into());
                status.set_class_name("upload__status upload__status--error");
                let _ = status.set_attribute("role", "alert");
                status.set_text_content(Some(&message));
            }
            left.set(left.get().saturating_sub(1));
            if left.get() == 0 && failed.get() == 0 {
                let _ = window().location().reload();
            }
        });
        let _ = xhr.add_event_listener_with_callback("loadend", on_done.as_ref().unchecked_ref());
        on_done.forget();
        let _ = xhr.send_with_opt_form_data(Some(&data));
    }
}
