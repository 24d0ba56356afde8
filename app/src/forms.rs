//! What a form's server function answers: success, or a message with field errors that the
//! page shows next to each field. Unexpected failures stay `ServerFnError`s.

use std::collections::BTreeMap;

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FormResult {
    pub ok: bool,
    pub message: String,
    /// Field name -> the first problem with it.
    pub fields: BTreeMap<String, String>,
}

impl FormResult {
    pub fn success(message: impl Into<String>) -> Self {
        Self {
            ok: true,
            message: message.into(),
            fields: BTreeMap::new(),
        }
    }

    pub fn field(&self, name: &str) -> Option<String> {
        self.fields.get(name).cloned()
    }
}

/// Turns a domain error into what the form shows; internal causes are logged, never shown.
#[cfg(feature = "ssr")]
pub fn from_error(error: spacedly_server::AppError) -> Result<FormResult, ServerFnError> {
    use spacedly_server::AppError;
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        if let AppError::RateLimited { retry_after } = &error {
            if let Ok(v) = http::HeaderValue::from_str(&retry_after.as_secs().to_string()) {
                response.insert_header(http::header::RETRY_AFTER, v);
            }
        }
    }
    match error {
        AppError::Validation { message, fields } => Ok(FormResult {
            ok: false,
            // Each problem is shown next to its field; the form-level line only points there.
            message: if fields.is_empty() {
                message
            } else {
                "Please correct the highlighted fields".to_string()
            },
            fields: fields
                .into_iter()
                .filter_map(|(k, v)| v.into_iter().next().map(|m| (k, m)))
                .collect(),
        }),
        AppError::Internal(cause) => {
            tracing::error!(error = ?cause, "form failed");
            Err(ServerFnError::new(
                "Something went wrong on our side; please try again",
            ))
        }
        AppError::RateLimited { retry_after } => Ok(FormResult {
            ok: false,
            message: format!(
                "Too many attempts. Try again in {} minute(s).",
                retry_after.as_secs().div_ceil(60).max(1)
            ),
            ..Default::default()
        }),
        other => Ok(FormResult {
            ok: false,
            message: other.public_message(),
            ..Default::default()
        }),
    }
}

/// The latest answer of a form's action, flattened for the page.
pub fn latest(
    value: MappedSignal<Option<Result<FormResult, ServerFnError>>>,
) -> Signal<Option<FormResult>> {
    Signal::derive(move || {
        value.get().map(|r| match r {
            Ok(result) => result,
            Err(e) => FormResult {
                ok: false,
                message: server_error_message(&e),
                ..Default::default()
            },
        })
    })
}

/// The message of a server function error, without the framework's prefixes.
pub fn server_error_message(e: &ServerFnError) -> String {
    match e {
        ServerFnError::ServerError(m) => m.clone(),
        _ => "We could not reach the server; check your connection and try again".into(),
    }
}

/// A labelled input with its error underneath, wired for screen readers.
#[component]
pub fn Field(
    #[prop(into)] name: String,
    #[prop(into)] label: String,
    /// Defaults to `field-<name>`; set it when a page has two forms with the same field name.
    #[prop(into, optional)]
    id: Option<String>,
    #[prop(into, default = "text".to_string())] kind: String,
    #[prop(into, optional)] autocomplete: Option<String>,
    #[prop(into, optional)] value: Option<String>,
    #[prop(into, optional)] hint: Option<String>,
    #[prop(optional)] required: bool,
    #[prop(into)] result: Signal<Option<FormResult>>,
) -> impl IntoView {
    let id = id.unwrap_or_else(|| format!("field-{name}"));
    let error_id = format!("{id}-error");
    let hint_id = format!("{id}-hint");
    let field = name.clone();
    let error = Signal::derive(move || result.get().and_then(|r| r.field(&field)));
    let described_by = {
        let (error_id, hint_id, has_hint) = (error_id.clone(), hint_id.clone(), hint.is_some());
        move || {
            let mut ids = vec![];
            if has_hint {
                ids.push(hint_id.clone());
            }
            if error.get().is_some() {
                ids.push(error_id.clone());
            }
            (!ids.is_empty()).then(|| ids.join(" "))
        }
    };
    view! {
        <div class="field" class:field--invalid=move || error.get().is_some()>
            <label for=id.clone()>{label}</label>
            {hint.map(|h| view! { <p class="field__hint" id=hint_id.clone()>{h}</p> })}
            <input
                id=id
                name=name
                type=kind
                autocomplete=autocomplete
                value=value
                required=required
                aria-invalid=move || error.get().is_some().then_some("true")
                aria-describedby=described_by
            />
            <p class="field__error" id=error_id role="alert">
                {move || error.get()}
            </p>
        </div>
    }
}

/// The form-level message (success or failure) of the latest submission.
#[component]
pub fn FormMessage(#[prop(into)] result: Signal<Option<FormResult>>) -> impl IntoView {
    move || {
        result.get().filter(|r| !r.message.is_empty()).map(|r| {
            let class = if r.ok {
                "notice notice--ok"
            } else {
                "notice notice--error"
            };
            let role = if r.ok { "status" } else { "alert" };
            view! { <p class=class role=role>{r.message}</p> }
        })
    }
}
