//! The outcome of a browser form, carried in the session from the POST to the page it
//! redirects to (Post/Redirect/Get): a message, field errors under their fields, and the
//! values typed (never passwords). The web UI writes and reads it; handlers that serve both
//! scripts and plain forms (uploads) write it too.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// The session key of the pending flash.
pub const FLASH: &str = "flash";

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Flash {
    /// The form it belongs to (a page may have several).
    pub form: String,
    pub ok: bool,
    pub message: String,
    /// Field name -> the first problem with it.
    pub fields: BTreeMap<String, String>,
    /// What was typed, to fill the form again (never passwords).
    pub values: BTreeMap<String, String>,
    /// A one-time secret to show (a new API token), sealed with the server's key while stored.
    pub sealed_secret: Option<String>,
}

impl Flash {
    pub fn ok(form: &str, message: impl Into<String>) -> Self {
        Self {
            form: form.into(),
            ok: true,
            message: message.into(),
            ..Default::default()
        }
    }

    /// The problem as the user should read it, the one mapping from an error to a form's
    /// message: field problems go under their fields, with a summary line above; a rate limit
    /// says when to try again; internal causes are logged, never shown.
    pub fn error(form: &str, error: &AppError) -> Self {
        let (message, fields) = match error {
            AppError::Validation { message, fields } => (
                if fields.is_empty() {
                    message.clone()
                } else {
                    "Please correct the highlighted fields".to_string()
                },
                fields
                    .iter()
                    .filter_map(|(k, v)| v.first().map(|m| (k.clone(), m.clone())))
                    .collect(),
            ),
            AppError::RateLimited { retry_after } => (
                format!(
                    "Too many attempts. Try again in {} minute(s).",
                    retry_after.as_secs().div_ceil(60).max(1)
                ),
                BTreeMap::new(),
            ),
            AppError::Internal(cause) => {
                tracing::error!(error = ?cause, "form failed");
                (
                    "Something went wrong on our side; please try again".to_string(),
                    BTreeMap::new(),
                )
            }
            other => (other.public_message(), BTreeMap::new()),
        };
        Self {
            form: form.into(),
            ok: false,
            message,
            fields,
            ..Default::default()
        }
    }
}
